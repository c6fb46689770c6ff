"""RT001: two or more active tools bought for the same primary job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pydantic import Field

from stackaudit_inventory.models import Snapshot, Tool
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import FactValue, Rule, RuleContext, RuleParams
from .._common import annual_cost, format_money, overlap_groups, plural, sum_costs


class Params(RuleParams):
    ignore_capabilities: list[str] = Field(
        default_factory=lambda: ["ads", "advertising"],
        description="Primary capabilities where several tools are normal (one ad platform per channel).",
    )


def _flows(snapshot: Snapshot, tool: str) -> int:
    return sum(1 for i in snapshot.integrations if tool in (i.source, i.target, i.via))


def _fields(snapshot: Snapshot, tool: str) -> int | None:
    if not snapshot.tool_fields_known(tool):
        return None
    return sum(1 for f in snapshot.fields if f.tool == tool)


def _renewal(tool: Tool) -> date | None:
    return tool.contract.renewal if tool.contract else None


class SameCapabilityToolsRule(Rule[Params]):
    """Two or more active tools whose primary capability is the same.

    Why it matters: overlapping tools are usually bought by different teams at different times (two email
    platforms, two enrichment vendors, a chat tool beside another). Each costs a licence, splits the data and
    doubles the integrations to keep alive. The finding lists the combined annual cost, which tool carries more
    of the stack's data flows and fields (the natural one to keep), and the nearest renewal, which is when
    consolidating is cheapest. ``cost_at_stake`` is the combined cost minus the most expensive tool: the least
    that consolidating saves.

    Example: ``drift`` and ``intercom`` both active with primary capability ``chat``, USD 30,000 a year together.

    Fix: decide which tool stays (usually the one with more flows and fields), plan the migration, and give
    notice on the other before its notice date. If both are needed (different regions, brands or teams), waive
    the finding with that reason.
    """

    id = "RT001"
    name = "same-capability-tools"
    title = "Several active tools share the same primary capability"
    category = Category.redundant_tool
    severity = Severity.medium
    params = Params
    remediation = (
        "Choose the tool to keep (usually the one carrying more flows and fields), migrate, and give notice on the "
        "others before their notice dates; waive with a reason if both are needed."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        for capability, tools in overlap_groups(snap, ctx.params.ignore_capabilities).items():
            flows = {t.id: _flows(snap, t.id) for t in tools}
            fields = {t.id: _fields(snap, t.id) for t in tools}
            score = {t.id: (flows[t.id], fields[t.id] or 0) for t in tools}
            best = max(score.values())
            leaders = [t for t in tools if score[t.id] == best]
            keep = leaders[0] if len(leaders) == 1 and best > (0, 0) else None
            total, currency, not_checked = sum_costs(tools)
            costs = [c for c in (annual_cost(t) for t in tools) if c is not None]
            at_stake = total - max(costs) if total is not None and costs else None

            evidence = [
                f"{plural(len(tools), 'active tool')} have primary capability '{capability}': "
                + ", ".join(f"{t.name} ({t.id})" for t in tools)
                + "."
            ]
            for t in tools:
                parts = [f"{format_money(t.cost.annual, t.cost.currency)} a year" if t.cost else "cost unknown"]
                parts.append(plural(flows[t.id], "flow"))
                n_fields = fields[t.id]
                parts.append(plural(n_fields, "field") if n_fields is not None else "fields not read")
                if t.seats and t.seats.bought is not None:
                    parts.append(f"{t.seats.used if t.seats.used is not None else '?'}/{t.seats.bought} seats used")
                renewal = _renewal(t)
                parts.append(f"renews {renewal.isoformat()}" if renewal else "renewal date unknown")
                evidence.append(f"{t.name}: " + ", ".join(parts) + ".")
            if total is not None and currency is not None:
                evidence.append(f"Combined annual cost: {format_money(total, currency)}.")
            if keep is not None:
                n_fields = fields[keep.id]
                held = f", {plural(n_fields, 'field')}" if n_fields is not None else ""
                evidence.append(f"{keep.name} carries the most data ({plural(flows[keep.id], 'flow')}{held}).")
            else:
                evidence.append("No single tool carries more flows and fields than the others.")
            dated = sorted((r, t.id, t.name) for t in tools if (r := _renewal(t)) is not None)
            if dated:
                evidence.append(f"Nearest renewal: {dated[0][2]} on {dated[0][0].isoformat()}.")
            for t in tools:
                if fields[t.id] is None:
                    not_checked.append(f"No source read the fields of {t.name} ({t.id}); its field count is unknown.")

            facts: dict[str, FactValue] = {
                "capability": capability,
                "tools": [t.id for t in tools],
                "combined_annual_cost": total,
                "currency": currency,
                "keep_candidate": keep.id if keep is not None else None,
                "nearest_renewal": dated[0][0].isoformat() if dated else None,
                "nearest_renewal_tool": dated[0][1] if dated else None,
            }
            yield ctx.finding(
                [t.id for t in tools],
                f"{len(tools)} active tools do the same job ({capability}): " + ", ".join(t.name for t in tools),
                evidence=evidence,
                facts=facts,
                not_checked=not_checked,
                cost_at_stake=at_stake,
            )
