"""OF003: a custom field that has not received a new value for a long time."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, CoverageStatus, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import OUTSIDE_SNAPSHOT, best_coverage, cannot_see, days_since, format_timestamp, is_covered, plural
from .._fields import (
    FieldUse,
    audited_custom_fields,
    claimed_by_empty_rules,
    describe_fill,
    exact_newest_value_at,
    field_use,
    only_inactive_references,
)
from .of001_empty_unreferenced import Params as OF001Params
from .of002_almost_empty_unreferenced import Params as OF002Params
from .of004_inactive_references_only import Params as OF004Params


class Params(RuleParams):
    max_age_days: int = Field(
        default=365,
        ge=1,
        description="Days since the newest value was written after which a field counts as no longer maintained.",
    )


class StaleFieldRule(Rule[Params]):
    """A custom field whose newest value is older than a threshold (a year by default), where the source can tell.

    Why it matters: a field can be well filled and still dead. When nothing has written a value for a year, the
    process that fed it (an import, an enrichment tool, a form) has stopped, and reports and segments built on it
    describe the past. Either the feed broke without anyone noticing, or the field is history and should be
    archived or labelled as such.

    How it is measured: ``FillRate.newest_value_at``, when the newest record holding a value was last modified,
    trusted only with an exact fill count. That date is an upper bound on when the value itself was written (the
    record may have changed for other reasons since), so a field older than the threshold by this measure is at
    least that stale. From a sample it is only the newest *sampled* record (HubSpot samples the oldest records
    first), which can prove a field fresh but never stale, so sampled dates are ignored. Fields without an exact
    date are skipped silently, and a tool whose fill rates were read but where no field has one is reported
    inconclusive once (the HubSpot and Salesforce connectors date the least-filled fields only, within a query
    budget). Active references are listed, not excused: a workflow that still reads a
    field nobody writes is part of the problem.

    One finding per field: fields flagged by OF001 (empty), OF002 (almost empty) or OF004 (referenced only by
    inactive assets) are left to those rules, whose evidence already gives the newest value.

    Example: ``hubspot:contacts.zoominfo_employee_range``, filled on 61% of contacts, newest value written on
    2023-11-02, 577 days ago: the enrichment integration that filled it was switched off.

    Fix: find what used to write the field (its creator, the integration named in its group or prefix). Restore
    the feed if the data is still wanted; otherwise label the field as historical or archive it.
    """

    id = "OF003"
    name = "stale-field"
    title = "Custom field has not received a new value for a long time"
    category = Category.orphaned_field
    severity = Severity.low
    params = Params
    requires = frozenset({Capability.fields, Capability.fill_rates})
    remediation = (
        "Find what used to write the field; restore the feed if the data is still wanted, otherwise mark the field "
        "as historical or archive it."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        for tool, fields in audited_custom_fields(snap).items():
            fill_status, fill_cov = best_coverage(snap, tool, Capability.fill_rates)
            if not is_covered(fill_status):
                yield ctx.inconclusive(tool, cannot_see(tool, Capability.fill_rates, fill_status, fill_cov))
                continue
            dated = [f for f in fields if exact_newest_value_at(f) is not None]
            if not dated:
                yield ctx.inconclusive(
                    tool,
                    f"no source reported when values were last written (over every record) for any of its "
                    f"{plural(len(fields), 'custom field')}",
                )
                continue
            refs_status, refs_cov = best_coverage(snap, tool, Capability.references)
            not_checked = []
            if fill_status is CoverageStatus.partial:
                not_checked.append(cannot_see(tool, Capability.fill_rates, fill_status, fill_cov))
            if not is_covered(refs_status) or refs_status is CoverageStatus.partial:
                not_checked.append(cannot_see(tool, Capability.references, refs_status, refs_cov))
            for fld in dated:
                yield from self._check_field(ctx, fld, is_covered(refs_status), not_checked)

    def _claimed_earlier(self, ctx: RuleContext[Params], fld: FieldDef, use: FieldUse) -> bool:
        """True when OF001, OF002 or OF004 (with the user's thresholds for them) reports the field."""
        p1 = ctx.params_of("OF001", OF001Params)
        p2 = ctx.params_of("OF002", OF002Params)
        p4 = ctx.params_of("OF004", OF004Params)
        return claimed_by_empty_rules(
            ctx.snapshot, fld, use, ctx.now, p1.min_age_days, p2.min_age_days, p2.max_fill_rate
        ) or only_inactive_references(use, ctx.snapshot.assets_by_id, ctx.now, p4.recent_change_days)

    def _check_field(
        self, ctx: RuleContext[Params], fld: FieldDef, refs_known: bool, not_checked: list[str]
    ) -> Iterator[Finding | Inconclusive]:
        fill, newest = fld.fill, exact_newest_value_at(fld)
        if fill is None or newest is None:
            return
        age = days_since(ctx.now, newest)
        if age <= ctx.params.max_age_days:
            return
        use = field_use(ctx.snapshot, ctx.graph, fld.id)
        if refs_known and self._claimed_earlier(ctx, fld, use):
            return
        evidence = [
            f"The newest record holding a value was modified {format_timestamp(newest)}, {age} days "
            f"ago (threshold {ctx.params.max_age_days} days); the value itself may be older.",
        ]
        if filled := describe_fill(fld):
            evidence.append(f"{filled}.")
        if refs_known:
            if use.active_assets:
                evidence.append(
                    f"Still referenced by {plural(len(use.active_assets), 'active asset')}: "
                    f"{', '.join(use.active_assets)}; they see only old values."
                )
            if use.integrations:
                evidence.append(
                    f"Mapped by {plural(len(use.integrations), 'integration')}: {', '.join(use.integrations)}."
                )
            if use.inactive_assets:
                evidence.append(f"Also referenced by inactive assets: {', '.join(use.inactive_assets)}.")
            if not use.active_assets and not use.integrations and not use.inactive_assets:
                evidence.append("Nothing in the stack references or maps it.")
        if fld.created_at:
            evidence.append(
                f"Created {fld.created_at.date().isoformat()}" + (f" by {fld.created_by}." if fld.created_by else ".")
            )
        name = fld.label or fld.name
        yield ctx.finding(
            [fld.id],
            f"Custom field '{name}' ({fld.id}) has had no new value for {age} days",
            evidence=evidence,
            facts={
                "newest_value_at": newest.isoformat(),
                "days_since_newest_value": age,
                "max_age_days": ctx.params.max_age_days,
                "fill_method": fill.method.value,
                "fill_rate": round(fill.rate, 6) if fill.rate is not None else None,
                "active_references": list(use.active_assets) if refs_known else None,
                "inactive_references": list(use.inactive_assets) if refs_known else None,
                "mappings": list(use.integrations),
            },
            not_checked=[*not_checked, OUTSIDE_SNAPSHOT],
            tools=[fld.tool],
        )
