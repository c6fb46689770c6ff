"""BS005: picklist options of a mapping's source that its target does not have."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import mapped_pairs, plural, unread_fields_inconclusive

_PICKLISTS = frozenset({"enum", "multienum"})


class Params(RuleParams):
    ignore_case: bool = Field(
        default=False,
        description="Treat options differing only in letter case as the same (some integrations match that way).",
    )


class PicklistDriftRule(Rule[Params]):
    """A picklist mapped to another picklist whose options do not include all of the source's options.

    Why it matters: picklists drift apart one edit at a time: marketing adds ``Webinar - Partner`` to HubSpot's
    lead source, nobody adds it to Salesforce. Every record carrying the new value then fails to sync (restricted
    picklists) or lands with a value reports do not know (unrestricted ones), and the two systems count leads
    differently. The rule compares the option values at both ends of every mapping between two picklists (both
    ways for a ``both`` mapping). Hidden options of the source are included, since records may still hold them;
    the evidence marks them. A mapping that declares a ``transform`` (a value map) is trusted to translate and is
    not compared. A picklist end whose options no source read is inconclusive, as are fields of a tool no source
    read.

    Example: ``hubspot:contacts.lead_source`` has ``Webinar``, ``Partner``, ``Event``; the mapped
    ``salesforce:Lead.LeadSource`` has ``Webinar`` and ``Event`` only.

    Fix: add the missing values to the target picklist (or retire them in the source), or add a value map to the
    integration and declare it as the mapping's ``transform``; then re-sync the records that failed.
    """

    id = "BS005"
    name = "picklist-drift"
    title = "Mapped picklist is missing some of its source's options"
    category = Category.broken_sync
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.integrations, Capability.fields})
    remediation = (
        "Add the missing values to the target picklist (or retire them in the source), or add and declare a value "
        "map; then re-sync the records that failed."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        pairs, unread = mapped_pairs(ctx.snapshot)
        ignore_case = ctx.params.ignore_case
        unknown: set[str] = set()
        for pair in pairs:
            if pair.mapping.transform:
                continue
            if pair.source.type not in _PICKLISTS or pair.target.type not in _PICKLISTS:
                continue  # picklist into text or the reverse is BS004's
            blind = [f for f in (pair.source, pair.target) if f.options is None]
            if blind:
                unknown.update(f.id for f in blind)
                continue
            drift = [
                (src, tgt, missing) for src, tgt in pair.directions() if (missing := _missing(src, tgt, ignore_case))
            ]
            if not drift:
                continue
            evidence = []
            missing_values: list[str] = []
            for src, tgt, missing in drift:
                hidden = {o.value for o in src.options or [] if o.hidden}
                shown = [f"{v} (hidden in the source)" if v in hidden else v for v in missing]
                evidence.append(
                    f"{plural(len(missing), 'option')} of {src.id} ({len(src.options or [])} options) "
                    f"are not options of {tgt.id} ({len(tgt.options or [])} options): {', '.join(shown)}."
                )
                missing_values += missing
            evidence.append(
                f"Records holding {'them' if len(missing_values) > 1 else 'it'} fail to sync or arrive with a value "
                "the target does not list."
            )
            yield ctx.finding(
                [pair.integration.id, pair.source.id, pair.target.id],
                f"{pair.integration.id}: {plural(len(missing_values), 'option')} of {drift[0][0].id} missing in "
                f"{drift[0][1].id}",
                evidence=evidence,
                facts={
                    "integration": pair.integration.id,
                    "missing_values": sorted(set(missing_values)),
                    "missing_count": len(set(missing_values)),
                    "direction": pair.mapping.direction,
                },
            )
        for fid in sorted(unknown):
            yield ctx.inconclusive(fid, "picklist options not read, so the mapped options cannot be compared")
        yield from unread_fields_inconclusive(ctx, unread)


def _missing(src: FieldDef, tgt: FieldDef, ignore_case: bool) -> list[str]:
    """Source option values the target lacks, in the source's order."""

    def norm(value: str) -> str:
        return value.casefold() if ignore_case else value

    have = {norm(o.value) for o in tgt.options or []}
    return [o.value for o in src.options or [] if norm(o.value) not in have]
