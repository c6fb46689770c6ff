"""UT003: a contract's notice date is close for a tool that should not simply renew."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, ToolStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import days_until, format_money, is_active_tool, overlap_groups, seat_utilisation
from ..redundant_tool.rt001_same_capability import Params as OverlapParams
from ..redundant_tool.rt002_covered_by_suite import Params as SuiteParams
from ..redundant_tool.rt002_covered_by_suite import redundant_beside_suites
from .ut001_unused_tool import Params as IdleParams
from .ut001_unused_tool import is_unused, tool_usage
from .ut002_unused_seats import Params as SeatParams


class Params(RuleParams):
    window_days: int = Field(
        default=90, ge=1, description="How many days ahead of the notice date (or renewal) to raise the alarm."
    )


class NoticeDateNearRule(Rule[Params]):
    """A contract notice date (or renewal, when no notice date is known) within the window, for a tool that
    procurement should look at before it renews.

    Which tools: those another rule flags (overlapping with another active tool, as RT001; covered by a suite, as
    RT002; unused, as UT001; seats under-used, as UT002; each with that rule's own parameters; or marked
    ``retiring``), and any paid tool whose contract auto-renews, since an auto-renewal is exactly the decision
    that happens when nobody acts. A flagged tool is ``medium``; an auto-renewing tool that nothing else flags is
    ``low``, a calendar reminder. ``cost_at_stake`` is the annual cost the renewal commits. A flagged tool with no
    notice or renewal date is inconclusive: nobody can tell when the decision is due.

    Why it matters: most SaaS contracts renew automatically unless notice is given 30 to 90 days before the
    renewal; miss the notice date and an overlapping tool costs another full year.

    Example: ``drift`` overlaps ``intercom``; notice date in 25 days, USD 18,000 a year, auto-renews.

    Fix: decide now (cancel, downsize or renew) and give notice before the date.
    """

    id = "UT003"
    name = "notice-date-approaching"
    title = "Notice date approaching for a tool to review"
    category = Category.unused_tool
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.costs})
    remediation = "Decide whether to cancel, downsize or renew, and give the vendor notice before the notice date."

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        window = ctx.params.window_days
        overlap = ctx.params_of("RT001", OverlapParams)
        seat_floor = ctx.params_of("UT002", SeatParams).min_utilisation
        suite = ctx.params_of("RT002", SuiteParams)
        idle_days = ctx.params_of("UT001", IdleParams).max_idle_days
        peers = {t.id: g for g in overlap_groups(ctx.snapshot, overlap.ignore_capabilities).values() for t in g}
        for tool in sorted(ctx.snapshot.tools, key=lambda t: t.id):
            if tool.status is ToolStatus.removed:
                continue
            reasons = []
            if tool.id in peers:
                others = ", ".join(t.name for t in peers[tool.id] if t.id != tool.id)
                reasons.append(f"shares its primary capability '{tool.primary_capability}' with {others} (RT001)")
            covers = redundant_beside_suites(ctx.snapshot, tool, ctx.catalogue, suite, overlap.ignore_capabilities)
            if covers:
                reasons.append(f"its capabilities are all covered by {', '.join(c.tool.name for c in covers)} (RT002)")
            if is_active_tool(tool) and is_unused(tool_usage(ctx.snapshot, tool, ctx.now, idle_days)):
                reasons.append("it has no data flows, references or recent activity (UT001)")
            util = seat_utilisation(tool)
            if util is not None and util < seat_floor:
                reasons.append(f"only {util:.0%} of its seats are in use (UT002)")
            if tool.status is ToolStatus.retiring:
                reasons.append("it is being retired")
            contract = tool.contract
            paid = tool.cost is not None and tool.cost.amount > 0
            auto = bool(contract and contract.auto_renew)
            if not reasons and not (paid and auto):
                continue
            deadline = (contract.notice_date or contract.renewal) if contract else None
            if contract is None or deadline is None:
                if reasons:
                    yield ctx.inconclusive(tool.id, "flagged for review but no notice or renewal date is declared")
                continue
            days = days_until(ctx.now, deadline)
            if not 0 <= days <= window:
                continue
            kind = "Notice date" if contract.notice_date else "Renewal (no notice date declared)"
            evidence = [f"{kind} {deadline.isoformat()} is in {days} days (window {window} days)."]
            if contract.notice_date and contract.renewal:
                evidence.append(f"The contract renews {contract.renewal.isoformat()}.")
            renews = {True: "It auto-renews.", False: "It does not auto-renew.", None: "Auto-renewal is not declared."}
            evidence.append(renews[contract.auto_renew])
            evidence += [f"Review: {r}." for r in reasons]
            cost = tool.cost.annual if tool.cost else None
            if tool.cost is not None:
                evidence.append(f"Annual cost {format_money(tool.cost.annual, tool.cost.currency)}.")
            yield ctx.finding(
                [tool.id],
                f"{tool.name}: {'notice' if contract.notice_date else 'renewal'} due in {days} days",
                evidence=evidence,
                facts={
                    "deadline": deadline.isoformat(),
                    "deadline_kind": "notice" if contract.notice_date else "renewal",
                    "days_left": days,
                    "window_days": window,
                    "auto_renew": contract.auto_renew,
                    "reasons": reasons,
                    "flagged": bool(reasons),
                },
                severity=Severity.medium if reasons else Severity.low,
                not_checked=[] if tool.cost else [f"Cost of {tool.name} is not declared."],
                cost_at_stake=cost,
            )
