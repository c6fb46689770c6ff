"""UT002: a tool paying for far more seats than people use."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import format_money, is_active_tool, plural, seat_utilisation


class Params(RuleParams):
    min_utilisation: float = Field(
        default=0.6, gt=0, le=1, description="Lowest acceptable share of bought seats in use (0.6 = 60%)."
    )


class UnusedSeatsRule(Rule[Params]):
    """An active tool whose seat utilisation (seats used / seats bought) is below a threshold.

    Why it matters: seats are bought for a launch or a team that later shrinks, and renew at the same count
    every year. The unused share is money that can be reclaimed at the next renewal, often without touching
    anything else. ``cost_at_stake`` is the annual cost times the unused share, which assumes the price scales
    with seats (platform fees often do not, so treat it as an upper bound). A tool that declares seats bought
    but not seats used is inconclusive.

    Example: ``gong`` with 40 seats bought and 14 used (35%), USD 48,000 a year: 26 seats, about USD 31,200.

    Fix: remove inactive users, then reduce the seat count at the next renewal (give notice before the notice
    date), or reassign seats to people waiting for one.
    """

    id = "UT002"
    name = "unused-seats"
    title = "Seat utilisation below threshold"
    category = Category.unused_tool
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.seats})
    remediation = (
        "Remove inactive users, then lower the seat count at the next renewal (before the notice date) or reassign "
        "the spare seats."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        threshold = ctx.params.min_utilisation
        for tool in sorted(ctx.snapshot.tools, key=lambda t: t.id):
            seats = tool.seats
            if not is_active_tool(tool) or seats is None or not seats.bought:
                continue
            if seats.used is None:
                yield ctx.inconclusive(tool.id, f"{seats.bought} seats bought but seats in use are unknown")
                continue
            util = seat_utilisation(tool)
            if util is None or util >= threshold:
                continue
            unused = max(seats.bought - seats.used, 0)
            share = unused / seats.bought
            evidence = [
                f"{seats.used} of {plural(seats.bought, 'seat')} in use ({util:.0%}); threshold {threshold:.0%}.",
                f"{plural(unused, 'seat')} unused.",
            ]
            not_checked = []
            reclaim = None
            if tool.cost is not None:
                reclaim = tool.cost.annual * share
                evidence.append(
                    f"Annual cost {format_money(tool.cost.annual, tool.cost.currency)}; the unused share is about "
                    f"{format_money(reclaim, tool.cost.currency)} (if the price scales with seats)."
                )
            else:
                not_checked.append(f"Cost of {tool.name} is not declared, so the money to reclaim is unknown.")
            if seats.source:
                evidence.append(f"Seats in use reported by {seats.source}.")
            else:
                not_checked.append("Where the seats-in-use figure came from is not recorded.")
            if tool.contract and tool.contract.renewal:
                evidence.append(f"Renews {tool.contract.renewal.isoformat()}.")
            yield ctx.finding(
                [tool.id],
                f"{tool.name} uses {seats.used} of {seats.bought} seats ({util:.0%})",
                evidence=evidence,
                facts={
                    "seats_bought": seats.bought,
                    "seats_used": seats.used,
                    "utilisation": round(util, 4),
                    "min_utilisation": threshold,
                    "seats_unused": unused,
                    "reclaimable_annual": round(reclaim, 2) if reclaim is not None else None,
                    "currency": tool.cost.currency if tool.cost else None,
                },
                not_checked=not_checked,
                cost_at_stake=reclaim,
            )
