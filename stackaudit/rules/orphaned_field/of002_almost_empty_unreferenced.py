"""OF002: a custom field that almost nobody fills and that nothing active uses."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, FieldDef, FillMethod
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import OUTSIDE_SNAPSHOT, days_since
from .._fields import (
    almost_empty_and_unused,
    audited_custom_fields,
    describe_fill,
    field_use,
    is_exact_empty,
    judge_tool_fields,
    newest_value_sentence,
)


class Params(RuleParams):
    max_fill_rate: float = Field(
        default=0.01,
        gt=0,
        le=1,
        description="Share of records holding a value below which a field counts as almost empty (0.01 = 1%).",
    )
    min_age_days: int = Field(
        default=90,
        ge=0,
        description="Grace period in days: a younger field may still be filling up after its launch.",
    )


class AlmostEmptyUnreferencedFieldRule(Rule[Params]):
    """A custom field filled on almost no records, used by nothing active, past its grace period.

    Why it matters: a field filled on 0.2% of records is usually a one-off import, a campaign long over or a
    form field removed years ago. It clutters every form, import mapping and report builder, and it counts
    against the object's custom-field limit. Unlike OF001 the field is not empty, so archiving it loses a little
    data: the finding gives the exact figures so the owner can export those values first.

    What counts: a fill rate below ``max_fill_rate``, measured exactly or estimated from a sample (the evidence
    says which; a sample gives an estimate, not proof), no active asset reading or writing it, no integration
    mapping at either end, not a lifecycle field, and created before the grace period. An exact count of zero
    is OF001's (this rule never reports those, so one field is not reported twice); a sample that found no value
    is reported here, as almost empty. Fields referenced only by inactive assets are reported here with those
    assets listed, and left out of OF004 and OF003. A field whose creation date is unknown is inconclusive; a
    tool whose fill rates or references no source read is inconclusive as a whole.

    Example: ``salesforce:Lead.Webinar_Source__c``, filled on 14 of 52,000 leads (0.03%, exact count), created
    in 2021, read by no flow, report type or integration.

    Fix: export the few values if anyone needs them, then archive (HubSpot) or delete (Salesforce) the field.
    If the field is filled by something outside the connected tools, waive the finding with the reason.
    """

    id = "OF002"
    name = "almost-empty-unreferenced-field"
    title = "Almost empty custom field referenced by nothing active"
    category = Category.orphaned_field
    severity = Severity.low
    params = Params
    requires = frozenset({Capability.fields, Capability.fill_rates, Capability.references})
    remediation = (
        "Export the few values if they matter, confirm with the field's creator that nothing outside the stack "
        "fills it, then archive or delete it."
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
        p, fill = ctx.params, fld.fill
        if fill is None or fill.rate is None or is_exact_empty(fill) or fill.rate >= p.max_fill_rate:
            return
        use = field_use(ctx.snapshot, ctx.graph, fld.id)
        if use.in_active_use:
            return
        if fld.created_at is None:
            yield ctx.inconclusive(
                fld.id, f"creation date unknown: cannot tell whether it is past the {p.min_age_days}-day grace period"
            )
            return
        if not almost_empty_and_unused(fld, use, ctx.now, p.min_age_days, p.max_fill_rate):
            return  # within the grace period
        age = days_since(ctx.now, fld.created_at)
        sampled = fill.method is FillMethod.sampled
        evidence = [
            f"{describe_fill(fld)}: below the {p.max_fill_rate:.2%} threshold.",
            "No active asset reads or writes it"
            + (
                f"; referenced only by inactive assets: {', '.join(use.inactive_assets)}."
                if use.inactive_assets
                else "."
            ),
            "No integration mapping reads or writes it.",
            f"Created {fld.created_at.date().isoformat()}"
            + (f" by {fld.created_by}" if fld.created_by else "")
            + f", {age} days ago (grace period {p.min_age_days} days).",
        ]
        if newest := newest_value_sentence(fld, ctx.now):
            evidence.append(newest)
        checks = list(not_checked)
        if sampled:
            checks.append(
                f"The fill rate is estimated from a sample of {fill.total:,} records"
                + (f" ({fill.note})" if fill.note else "")
                + "; the true rate may differ."
            )
        name = fld.label or fld.name
        yield ctx.finding(
            [fld.id],
            f"Custom field '{name}' ({fld.id}) is almost empty ({fill.rate:.2%}) and used by nothing active",
            evidence=evidence,
            facts={
                "fill_method": fill.method.value,
                "filled": fill.filled,
                "total": fill.total,
                "fill_rate": round(fill.rate, 6),
                "max_fill_rate": p.max_fill_rate,
                "newest_value_at": fill.newest_value_at.isoformat() if fill.newest_value_at else None,
                "created_at": fld.created_at.isoformat(),
                "age_days": age,
                "min_age_days": p.min_age_days,
                "inactive_references": list(use.inactive_assets),
                "active_references": 0,
                "mappings": 0,
            },
            not_checked=[*checks, OUTSIDE_SNAPSHOT],
            tools=[fld.tool],
        )
