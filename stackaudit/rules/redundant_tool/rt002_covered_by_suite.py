"""RT002: a point tool whose every capability a suite already in the stack provides."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import Field

from stackaudit_inventory.catalogue import VendorCatalogue
from stackaudit_inventory.models import Origin, Snapshot, Tool
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import FactValue, Rule, RuleContext, RuleParams
from .._common import capability_key, format_money, is_active_tool
from .rt001_same_capability import Params as OverlapParams


class Params(RuleParams):
    ignore_capabilities: list[str] = Field(
        default_factory=lambda: ["ads", "advertising", "crm", "marketing-automation", "data-warehouse", "cdp"],
        description="Primary capabilities of tools never reported as covered: ad channels (one per channel is "
        "normal) and systems of record (replacing a CRM, marketing automation, warehouse or CDP is a migration, not "
        "a cancellation).",
    )
    use_catalogue: bool = Field(
        default=True,
        description="Count what the vendor catalogue says a suite offers, besides the capabilities the stack lists.",
    )


@dataclass(frozen=True)
class Cover:
    """A tool that provides every capability of a point tool, and where each covered capability came from."""

    tool: Tool
    declared: tuple[str, ...]  # capabilities the snapshot lists for the suite
    from_catalogue: tuple[str, ...]  # covered capabilities only the catalogue lists
    catalogue_suite: bool


def _keys(values: list[str] | tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(capability_key(v) for v in values))


def _suite_capabilities(
    tool: Tool, catalogue: VendorCatalogue | None, use_catalogue: bool
) -> tuple[set[str], set[str], bool] | None:
    """The capabilities ``tool`` offers as a possible suite: (listed in the snapshot, added by the catalogue, whether
    the catalogue calls it a suite), or None when it cannot cover anything (not a suite, not declared)."""
    entry = catalogue.by_id(tool.id) if catalogue is not None else None
    is_suite = bool(entry and entry.suite)
    if not is_suite and tool.origin is Origin.discovered:
        return None  # what a discovered, non-suite tool does came from the catalogue, which says it is no suite
    listed = set(_keys(tool.capabilities))
    extra = set(_keys(entry.capabilities)) - listed if entry and is_suite and use_catalogue else set()
    return listed, extra, is_suite


def covering_suites(
    snapshot: Snapshot,
    tool: Tool,
    catalogue: VendorCatalogue | None,
    *,
    use_catalogue: bool = True,
    overlap_ignore: list[str] | tuple[str, ...] = (),
) -> list[Cover]:
    """Active tools that offer every capability ``tool`` lists, and more (strictly more: two tools with the same
    set are alike, not suite and point tool). A suite sharing ``tool``'s primary capability is left out: RT001
    already reports that pair (unless RT001 ignores the capability, as given by ``overlap_ignore``)."""
    wanted = _keys(tool.capabilities)
    if not wanted:
        return []
    rt001_skips = {capability_key(c) for c in overlap_ignore}
    out = []
    for other in sorted(snapshot.tools, key=lambda t: t.id):
        if other.id == tool.id or not is_active_tool(other):
            continue
        caps = _suite_capabilities(other, catalogue, use_catalogue)
        if caps is None:
            continue
        listed, extra, is_suite = caps
        offered = listed | extra
        if not set(wanted) <= offered or offered == set(wanted):
            continue
        other_primary = capability_key(other.primary_capability) if other.primary_capability else None
        if other_primary == wanted[0] and wanted[0] not in rt001_skips:
            continue  # RT001's pair
        out.append(
            Cover(
                other,
                tuple(c for c in wanted if c in listed),
                tuple(c for c in wanted if c not in listed),
                is_suite,
            )
        )
    return out


def redundant_beside_suites(
    snapshot: Snapshot,
    tool: Tool,
    catalogue: VendorCatalogue | None,
    params: Params,
    overlap_ignore: list[str] | tuple[str, ...] = (),
) -> list[Cover]:
    """RT002's verdict for one tool (shared with UT003): the suites covering it, or [] when it is not active, lists
    no capabilities, or has a primary capability the rule ignores."""
    if not is_active_tool(tool) or not tool.capabilities:
        return []
    if capability_key(tool.capabilities[0]) in {capability_key(c) for c in params.ignore_capabilities}:
        return []
    return covering_suites(snapshot, tool, catalogue, use_catalogue=params.use_catalogue, overlap_ignore=overlap_ignore)


class CoveredBySuiteRule(Rule[Params]):
    """An active tool whose capabilities are all provided by a suite already in the stack.

    Why it matters: suites such as HubSpot or Marketo include forms, landing pages, chat or scheduling. A point
    tool bought for one of those jobs before the suite arrived, or by another team, keeps costing a licence and
    an integration to maintain, and splits the data the suite would hold natively. The point tool's job is what
    the stack lists for it (what the team uses it for); a suite's offer is what the stack lists for it, plus, for a
    product the vendor catalogue marks as a suite, what the catalogue says it does (``use_catalogue``). A suite
    must do strictly more than the point tool. A discovered tool counts as a suite only if the catalogue calls it
    one. Tools whose primary capability is in ``ignore_capabilities`` are never reported: ad channels, and systems
    of record such as a CRM beside a suite that also has one (that is a migration decision, not a redundant
    licence). ``cost_at_stake`` is the point tool's annual cost.

    Not double-reported: when the covering tool has the same primary capability as the point tool, RT001 already
    reports the pair (with their combined cost), so RT002 leaves it out and reports only coverage RT001 cannot
    see. A tool with no capabilities listed is inconclusive when a suite is in the stack.

    Example: ``typeform`` (forms, USD 1,200 a year) beside ``hubspot``, which the catalogue lists as a suite with
    forms, landing pages and chat.

    Fix: check that the suite's plan includes the capability and that nothing the point tool does is missing
    (logic, integrations, volume), move its forms or flows into the suite, then cancel it before its notice date.
    If it does something the suite cannot, waive the finding with that reason.
    """

    id = "RT002"
    name = "covered-by-suite"
    title = "Tool's capabilities are all covered by a suite in the stack"
    category = Category.redundant_tool
    severity = Severity.low
    params = Params
    remediation = (
        "Confirm the suite's plan covers the job, move the work into the suite, and cancel the point tool before its "
        "notice date; waive with a reason if it does something the suite cannot."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        overlap_ignore = ctx.params_of("RT001", OverlapParams).ignore_capabilities
        suites = [t for t in snap.tools if is_active_tool(t) and self._could_cover(t, ctx)]
        for tool in sorted(snap.tools, key=lambda t: t.id):
            if is_active_tool(tool) and not tool.capabilities:
                names = ", ".join(s.name for s in suites if s.id != tool.id)
                if names:
                    yield ctx.inconclusive(tool.id, f"no capabilities listed: cannot tell whether {names} covers it")
                continue
            covers = redundant_beside_suites(snap, tool, ctx.catalogue, ctx.params, overlap_ignore)
            if covers:
                yield self._finding(ctx, tool, covers)

    @staticmethod
    def _could_cover(tool: Tool, ctx: RuleContext[Params]) -> bool:
        caps = _suite_capabilities(tool, ctx.catalogue, ctx.params.use_catalogue)
        return caps is not None and len(caps[0] | caps[1]) > 1

    def _finding(self, ctx: RuleContext[Params], tool: Tool, covers: list[Cover]) -> Finding:
        wanted = _keys(tool.capabilities)
        evidence = [f"{tool.name} ({tool.id}) is used for: {', '.join(wanted)}."]
        not_checked = []
        for c in covers:
            parts = []
            if c.declared:
                parts.append(f"the stack lists {', '.join(c.declared)} for it")
            if c.from_catalogue:
                parts.append(f"the vendor catalogue lists {', '.join(c.from_catalogue)} for it as a suite")
            evidence.append(f"{c.tool.name} ({c.tool.id}) covers all of them: " + "; ".join(parts) + ".")
            if c.from_catalogue:
                not_checked.append(
                    f"Whether the team's {c.tool.name} plan includes {', '.join(c.from_catalogue)} is not known: "
                    "the catalogue says what the product offers, not what was bought."
                )
        cost = tool.cost.annual if tool.cost else None
        if tool.cost is not None:
            evidence.append(f"{tool.name} costs {format_money(tool.cost.annual, tool.cost.currency)} a year.")
        else:
            not_checked.append(f"Cost of {tool.name} is not declared, so the money at stake is unknown.")
        renewal = (tool.contract.notice_date or tool.contract.renewal) if tool.contract else None
        if renewal is not None and tool.contract is not None:
            kind = "Notice date" if tool.contract.notice_date else "Renewal"
            evidence.append(f"{kind}: {renewal.isoformat()}.")
        not_checked.append(
            "Features specific to the point tool (logic, integrations, volume limits) cannot be compared from "
            "capabilities alone."
        )
        facts: dict[str, FactValue] = {
            "capabilities": wanted,
            "covered_by": [c.tool.id for c in covers],
            "from_catalogue": sorted({cap for c in covers for cap in c.from_catalogue}),
            "annual_cost": cost,
            "currency": tool.cost.currency if tool.cost else None,
        }
        return ctx.finding(
            [tool.id],
            f"{tool.name} does nothing {' or '.join(c.tool.name for c in covers)} cannot ({', '.join(wanted)})",
            evidence=evidence,
            facts=facts,
            not_checked=not_checked,
            cost_at_stake=cost,
            tools=[tool.id, *(c.tool.id for c in covers)],
        )
