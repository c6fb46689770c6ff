"""OF001: a custom field that holds no data and that nothing active uses."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, FieldDef, FillMethod
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import (
    OUTSIDE_SNAPSHOT,
    days_since,
    is_active_reference,
)
from .._fields import audited_custom_fields, judge_tool_fields


class Params(RuleParams):
    min_age_days: int = Field(
        default=90,
        ge=0,
        description="Grace period in days: a younger field may simply be waiting for its campaign or import.",
    )


class EmptyUnreferencedFieldRule(Rule[Params]):
    """A custom field with no value on any record, used by nothing active, past its grace period.

    Why it matters: every unused field clutters forms, imports and reports, and custom-field limits are real
    (Salesforce allows 500 or 800 per object, HubSpot portals hit their property limits). But a field that
    looks unused in one system may be written by an integration or read by a workflow, so this rule only
    flags a field when all the evidence agrees: an *exact* count of zero filled records (a sample of zero is
    not proof), no active asset reading or writing it, no integration mapping at either end, not a lifecycle
    field, and created before the grace period. A field whose creation date is unknown is reported
    inconclusive, since nobody can tell it is past its grace period. A tool whose fill rates or references
    no source read is inconclusive as a whole.

    One finding per field: an empty field that only inactive assets reference (a disabled workflow, an archived
    form) is reported here, with those assets listed under ``inactive_references``; OF004 (referenced only by
    inactive assets), OF002 (almost empty) and OF003 (stale) skip every field this rule flags.

    Example: ``hubspot:contacts.webinar_2022_q3_attended``, created in 2022, filled on 0 of 48,000 contacts,
    referenced only by a disabled workflow.

    Fix: confirm with the creator or owner, note the definition, then archive (HubSpot) or delete (Salesforce)
    the field. If something outside the connected tools uses it, waive the finding with the reason.
    """

    id = "OF001"
    name = "empty-unreferenced-field"
    title = "Empty custom field referenced by nothing active"
    category = Category.orphaned_field
    severity = Severity.low
    params = Params
    requires = frozenset({Capability.fields, Capability.fill_rates, Capability.references})
    remediation = (
        "Confirm with the field's creator that nothing outside the stack uses it, record its definition, then "
        "archive or delete it."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        for tool, fields in audited_custom_fields(snap).items():
            inconclusive, not_checked = judge_tool_fields(ctx, tool, fields)
            yield from inconclusive
            if not_checked is None:
                continue
            for fld in fields:
                yield from self._check_field(ctx, fld, not_checked)

    def _check_field(
        self, ctx: RuleContext[Params], fld: FieldDef, not_checked: list[str]
    ) -> Iterator[Finding | Inconclusive]:
        snap, fill = ctx.snapshot, fld.fill
        if fill is None or fill.method is not FillMethod.exact or fill.filled != 0 or fill.total == 0:
            return  # filled, sampled (OF002's job), unmeasured, or an empty object (nothing to learn)
        if ctx.graph.integrations_touching(fld.id):
            return
        refs = snap.references_by_field.get(fld.id, [])
        if any(is_active_reference(snap, r) for r in refs):
            return
        if fld.created_at is None:
            yield ctx.inconclusive(
                fld.id,
                f"creation date unknown: cannot tell whether it is past the {ctx.params.min_age_days}-day grace period",
            )
            return
        age = days_since(ctx.now, fld.created_at)
        if age < ctx.params.min_age_days:
            return
        name = fld.label or fld.name
        records = f"{fill.total:,} {fld.object} records" if fill.total is not None else f"all {fld.object} records"
        inactive = sorted({r.asset for r in refs})
        evidence = [
            f"Filled on 0 of {records} (exact count).",
            "No active asset reads or writes it"
            + (f"; referenced only by inactive assets: {', '.join(inactive)}." if inactive else "."),
            "No integration mapping reads or writes it.",
            f"Created {fld.created_at.date().isoformat()}"
            + (f" by {fld.created_by}" if fld.created_by else "")
            + f", {age} days ago (grace period {ctx.params.min_age_days} days).",
        ]
        yield ctx.finding(
            [fld.id],
            f"Custom field '{name}' ({fld.id}) is empty and used by nothing active",
            evidence=evidence,
            facts={
                "fill_method": fill.method.value,
                "filled": fill.filled,
                "total": fill.total,
                "created_at": fld.created_at.isoformat(),
                "age_days": age,
                "min_age_days": ctx.params.min_age_days,
                "inactive_references": inactive,
                "active_references": 0,
                "mappings": 0,
            },
            not_checked=[*not_checked, OUTSIDE_SNAPSHOT],
        )
