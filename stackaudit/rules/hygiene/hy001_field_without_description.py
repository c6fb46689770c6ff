"""HY001: custom fields nobody has described."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import Capability, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import plural
from .._fields import unread_field_tools

SHOWN = 20


def _described(fld: FieldDef) -> bool:
    return bool(fld.description and fld.description.strip())


class FieldWithoutDescriptionRule(Rule[NoParams]):
    """Custom fields without a description, one finding per object listing them.

    Why it matters: a field without a description is a field nobody can explain a year later: what it means,
    who fills it, whether it is safe to archive. Every orphaned-field review then starts with detective work, and
    the same concept gets created twice because nobody recognised the first field.

    What counts: custom fields that are not archived and whose description is empty. Fields of managed packages
    (a namespace is set) are left out: their descriptions belong to the vendor and cannot be edited. Findings are
    grouped per object (the subjects are the fields), so a portal with 600 undocumented properties gets one
    finding per object rather than 600. A tool where not one field has a description is reported inconclusive
    instead: more likely its source did not read descriptions than nobody ever wrote one.

    Example: ``hubspot:contacts`` with 212 custom properties, 140 of them without a description, including
    ``lead_source_2`` and ``q3_import_flag``.

    Fix: write one sentence per field (what it means, who or what fills it, who owns it), starting with the fields
    reports and workflows use; archive the ones nobody can explain.
    """

    id = "HY001"
    name = "field-without-description"
    title = "Custom fields without a description"
    category = Category.hygiene
    severity = Severity.info
    requires = frozenset({Capability.fields})
    remediation = (
        "Describe each field in one sentence (meaning, what fills it, owner), starting with the most used; archive "
        "those nobody can explain."
    )

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        unread = unread_field_tools(snap)
        for tool, reason in unread.items():
            yield ctx.inconclusive(tool, reason)
        by_tool: dict[str, list[FieldDef]] = {}
        for fld in snap.fields:
            by_tool.setdefault(fld.tool, []).append(fld)
        for tool, fields in sorted(by_tool.items()):
            custom = [f for f in fields if f.custom and not f.archived and not f.namespace]
            if not custom or tool in unread:
                continue
            if not any(_described(f) for f in fields):
                yield ctx.inconclusive(
                    tool,
                    f"none of its {plural(len(fields), 'field')} has a description: the source may not read "
                    "descriptions",
                )
                continue
            by_object: dict[str, list[FieldDef]] = {}
            for f in custom:
                by_object.setdefault(f.object_id, []).append(f)
            for object_id, object_fields in sorted(by_object.items()):
                missing = sorted((f for f in object_fields if not _described(f)), key=lambda f: f.id)
                if missing:
                    yield self._finding(ctx, object_id, missing, len(object_fields))

    def _finding(self, ctx: RuleContext[NoParams], object_id: str, missing: list[FieldDef], custom: int) -> Finding:
        names = [f.name for f in missing]
        shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
        return ctx.finding(
            [f.id for f in missing],
            f"{plural(len(missing), 'custom field')} on {object_id} {'has' if len(missing) == 1 else 'have'} "
            "no description",
            evidence=[
                f"{len(missing):,} of {plural(custom, 'custom field')} on {object_id} "
                f"{'has' if len(missing) == 1 else 'have'} no description "
                f"({len(missing) / custom:.0%}): {shown}.",
            ],
            facts={"object": object_id, "without_description": len(missing), "custom_fields": custom},
            tools=[missing[0].tool],
        )
