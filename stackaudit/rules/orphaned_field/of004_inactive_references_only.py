"""OF004: a custom field that only switched-off assets still use."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Asset, Capability, CoverageStatus, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import OUTSIDE_SNAPSHOT, best_coverage, cannot_see, format_timestamp, is_covered, plural
from .._fields import (
    audited_custom_fields,
    claimed_by_empty_rules,
    describe_fill,
    field_use,
    newest_value_sentence,
    only_inactive_references,
)
from .of001_empty_unreferenced import Params as OF001Params
from .of002_almost_empty_unreferenced import Params as OF002Params


class Params(RuleParams):
    recent_change_days: int = Field(
        default=30,
        ge=0,
        description="An inactive asset modified within this many days may be a draft about to go live or a "
        "workflow paused for a fix; fields it references are left alone.",
    )


def _describe(asset: Asset) -> str:
    parts = [f"{asset.kind} '{asset.name}'" if asset.name != asset.id else asset.kind, "inactive"]
    if asset.last_modified_at:
        parts.append(f"last modified {format_timestamp(asset.last_modified_at)}")
    if asset.last_run_at:
        parts.append(f"last run {format_timestamp(asset.last_run_at)}")
    return f"{asset.id} ({', '.join(parts)})"


class InactiveReferencesOnlyFieldRule(Rule[Params]):
    """A custom field referenced only by inactive assets (disabled workflows, archived forms, inactive flows) and
    mapped by no integration.

    Why it matters: tools that judge fields by references alone call such a field "used", because a workflow
    still names it; but the workflow is off, so nothing reads or writes the field any more. Either the assets
    are dead and the field can go with them, or someone switched off a process that should still run.

    What counts: at least one reference, every referencing asset known to be inactive, no integration mapping at
    either end, not a lifecycle field. An asset the snapshot does not describe counts as active. Inactive assets
    modified within ``recent_change_days`` may be drafts about to go live, so their fields are left alone. The
    finding lists the inactive assets with their last change and last run.

    One finding per field: an empty field (OF001) or an almost-empty one (OF002) that only inactive assets
    reference is reported by those rules, which list the inactive assets in their evidence, and skipped here.
    So this rule mostly reports fields that still hold data. (If you turn OF001 or OF002 off, the fields they
    would report are still skipped here.)

    Example: ``marketo:lead.webinarScore`` filled on 38% of leads, referenced only by the deactivated smart
    campaign ``marketo:campaign/2231`` and the archived form ``marketo:form/1044``.

    Fix: confirm the assets are retired for good, delete or archive them, then archive the field (export its
    values if they matter). If the process should still run, reactivate the asset instead.
    """

    id = "OF004"
    name = "inactive-references-only-field"
    title = "Custom field used only by inactive assets"
    category = Category.orphaned_field
    severity = Severity.low
    params = Params
    requires = frozenset({Capability.fields, Capability.references})
    remediation = (
        "Confirm the inactive assets are retired for good and remove them, then archive the field (export its "
        "values first if they matter); reactivate the asset instead if the process should still run."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        for tool, fields in audited_custom_fields(snap).items():
            status, cov = best_coverage(snap, tool, Capability.references)
            if not is_covered(status):
                yield ctx.inconclusive(tool, cannot_see(tool, Capability.references, status, cov))
                continue
            not_checked = (
                [cannot_see(tool, Capability.references, status, cov)] if status is CoverageStatus.partial else []
            )
            for fld in fields:
                yield from self._check_field(ctx, fld, not_checked)

    def _check_field(self, ctx: RuleContext[Params], fld: FieldDef, not_checked: list[str]) -> Iterator[Finding]:
        snap, p = ctx.snapshot, ctx.params
        use = field_use(snap, ctx.graph, fld.id)
        if not only_inactive_references(use, snap.assets_by_id, ctx.now, p.recent_change_days):
            return
        p1, p2 = ctx.params_of("OF001", OF001Params), ctx.params_of("OF002", OF002Params)
        if claimed_by_empty_rules(snap, fld, use, ctx.now, p1.min_age_days, p2.min_age_days, p2.max_fill_rate):
            return
        assets = [snap.assets_by_id[a] for a in use.inactive_assets]
        evidence = [
            f"Referenced only by {plural(len(assets), 'inactive asset')}: "
            + "; ".join(_describe(a) for a in assets)
            + ".",
            "No active asset reads or writes it, and no integration mapping reads or writes it.",
        ]
        if filled := describe_fill(fld):
            evidence.append(f"{filled}.")
        if newest := newest_value_sentence(fld, ctx.now):
            evidence.append(newest)
        checks = list(not_checked)
        undated = [a.id for a in assets if a.last_modified_at is None]
        if undated:
            checks.append(
                f"When {', '.join(undated)} last changed is unknown, so a draft about to go live cannot be ruled out."
            )
        name = fld.label or fld.name
        fill = fld.fill
        yield ctx.finding(
            [fld.id],
            f"Custom field '{name}' ({fld.id}) is used only by {plural(len(assets), 'inactive asset')}",
            evidence=evidence,
            facts={
                "inactive_references": list(use.inactive_assets),
                "inactive_kinds": sorted({a.kind for a in assets}),
                "active_references": 0,
                "mappings": 0,
                "fill_method": fill.method.value if fill else None,
                "fill_rate": round(fill.rate, 6) if fill and fill.rate is not None else None,
            },
            not_checked=[*checks, OUTSIDE_SNAPSHOT],
            tools=[fld.tool],
        )
