"""BS006: a mapping's receiving field is far emptier than the field feeding it."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import best_coverage, cannot_see, is_covered, mapped_pairs, plural, unread_fields_inconclusive


class Params(RuleParams):
    max_gap: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Largest acceptable gap between the sending and receiving ends' fill rates (0.5 = 50 points).",
    )
    min_records: int = Field(
        default=20, ge=1, description="Fewest records (or sampled records) at each end before fill rates are compared."
    )


def _describe(fld: FieldDef, rate: float) -> str:
    fill = fld.fill
    if fill is None or fill.filled is None or fill.total is None:
        return f"{fld.id} is filled on {rate:.0%}"
    counted = f"{fill.filled:,} of {fill.total:,} {fld.object} records, {fill.method.value}"
    return f"{fld.id} is filled on {rate:.0%} ({counted})"


class FillRateDivergenceRule(Rule[Params]):
    """The two ends of a field mapping whose fill rates differ by more than a threshold, the receiving end being
    the emptier one.

    Why it matters: a mapping that works leaves the receiving field about as full as the sending one, among the
    records that sync. When HubSpot's lead source is filled on 80% of contacts and the Salesforce field it maps to
    on 3% of leads, the mapping is not carrying values (a sync filter, a field-level permission, a failed backfill),
    and reports built on the CRM side are wrong. The rule compares the fill rates that connectors measured
    (exact or sampled; never guessed) when each end has at least ``min_records`` records. For a ``forward``
    mapping it flags only a target emptier than its source: a target fuller than its source is filled by other
    writers too, which is not a sync fault. A ``both`` mapping is judged either way. Fields whose fill rate no
    source measured are inconclusive (per tool), as are fields of a tool no source read.

    Example: ``hubspot:contacts.lead_source`` 80% filled (38,400 of 48,000) mapped to
    ``salesforce:Lead.LeadSource`` 3% filled (270 of 9,000).

    Fix: check the integration's sync filters, the integration user's field-level security and the mapping's
    direction, then backfill the receiving field from the source.
    """

    id = "BS006"
    name = "fill-rate-divergence"
    title = "Mapped fields' fill rates diverge"
    category = Category.broken_sync
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.integrations, Capability.fields, Capability.fill_rates})
    remediation = (
        "Check the integration's sync filters, its user's field-level security and the mapping's direction, then "
        "backfill the receiving field from the source."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        p = ctx.params
        pairs, unread = mapped_pairs(ctx.snapshot)
        unmeasured: dict[str, set[str]] = {}
        for pair in pairs:
            ends = (pair.source, pair.target)
            blind = [f for f in ends if f.fill is None or f.fill.rate is None]
            for f in blind:
                unmeasured.setdefault(f.tool, set()).add(f.id)
            if blind:
                continue
            rates = {f.id: f.fill.rate for f in ends if f.fill is not None and f.fill.rate is not None}
            if any(f.fill is None or (f.fill.total or 0) < p.min_records for f in ends):
                continue
            gaps = [
                (src, tgt, rates[src.id] - rates[tgt.id])
                for src, tgt in pair.directions()
                if rates[src.id] - rates[tgt.id] > p.max_gap
            ]
            if not gaps:
                continue
            src, tgt, gap = gaps[0]
            evidence = [
                f"{pair.integration.id} maps {pair.source.id} -> {pair.target.id}"
                + (" (both ways)." if pair.mapping.direction == "both" else "."),
                _describe(src, rates[src.id]) + ".",
                _describe(tgt, rates[tgt.id]) + f": {gap * 100:.0f} points less (threshold {p.max_gap * 100:.0f}).",
            ]
            not_checked = [
                "Fill rates are over all records of each object, not only those the integration syncs; a sync filter "
                "can explain part of the gap."
            ]
            yield ctx.finding(
                [pair.integration.id, pair.source.id, pair.target.id],
                f"{tgt.id} is filled on {rates[tgt.id]:.0%} though {src.id} feeding it is on {rates[src.id]:.0%}",
                evidence=evidence,
                facts={
                    "integration": pair.integration.id,
                    "sending_field": src.id,
                    "receiving_field": tgt.id,
                    "sending_fill_rate": round(rates[src.id], 4),
                    "receiving_fill_rate": round(rates[tgt.id], 4),
                    "gap": round(gap, 4),
                    "max_gap": p.max_gap,
                },
                not_checked=not_checked,
            )
        # One check per tool, whether its fields were not read or their fill rates not measured.
        reasons: dict[str, list[str]] = {}
        for tool, fields in sorted(unmeasured.items()):
            status, cov = best_coverage(ctx.snapshot, tool, Capability.fill_rates)
            head = (
                cannot_see(tool, Capability.fill_rates, status, cov) if not is_covered(status) else "fill rate unknown"
            )
            sample = ", ".join(sorted(fields)[:3])
            reasons.setdefault(tool, []).append(f"{head} for {plural(len(fields), 'mapped field')} (e.g. {sample})")
        for inc in unread_fields_inconclusive(ctx, unread):
            reasons.setdefault(inc.subject, []).append(inc.reason)
        for tool, why in sorted(reasons.items()):
            yield ctx.inconclusive(tool, "; ".join(why))
