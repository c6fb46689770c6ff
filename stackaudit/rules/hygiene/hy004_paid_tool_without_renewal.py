"""HY004: a paid tool whose renewal date nobody recorded."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import ToolStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import format_money


class PaidToolWithoutRenewalRule(Rule[NoParams]):
    """A tool with a cost above zero and no renewal date.

    Why it matters: without a renewal date there is no notice date, so the renewal calendar cannot warn
    anyone, and the contract renews by default. Tools without a declared cost are not judged here (they may be
    free; declaring costs is the manifest's job).

    Example: ``zoominfo`` at USD 30,000 a year with a contract start but no renewal date.

    Fix: add the contract's renewal date (and notice period, and whether it auto-renews) to the manifest.
    """

    id = "HY004"
    name = "paid-tool-without-renewal-date"
    title = "Paid tool without a renewal date"
    category = Category.hygiene
    severity = Severity.low
    remediation = "Add the renewal date, notice period and auto-renewal flag of the contract to the manifest."

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        for tool in sorted(ctx.snapshot.tools, key=lambda t: t.id):
            cost = tool.cost
            if tool.status is ToolStatus.removed or cost is None or cost.amount <= 0:
                continue
            if tool.contract is not None and tool.contract.renewal is not None:
                continue
            evidence = [
                f"{tool.name} ({tool.id}) costs {format_money(cost.annual, cost.currency)} a year "
                f"(billed {'monthly' if cost.period == 'monthly' else 'annually'}).",
                "No contract is declared." if tool.contract is None else "Its contract has no renewal date.",
            ]
            if tool.contract is not None and tool.contract.notice_date is not None:
                evidence.append(f"A notice date is declared ({tool.contract.notice_date.isoformat()}).")
            yield ctx.finding(
                [tool.id],
                f"{tool.name} is paid but has no renewal date",
                evidence=evidence,
                facts={
                    "annual_cost": cost.annual,
                    "currency": cost.currency,
                    "has_contract": tool.contract is not None,
                },
                cost_at_stake=cost.annual,
            )
