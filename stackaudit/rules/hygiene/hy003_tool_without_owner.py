"""HY003: an active tool nobody is accountable for."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import format_money, is_active_tool


class ToolWithoutOwnerRule(Rule[NoParams]):
    """An active (or trial) tool with no named owner.

    Why it matters: a tool without an owner is the one whose integration user gets deactivated, whose renewal
    nobody questions, and whose fields nobody can explain. Every other finding about it lands on nobody's desk.

    Example: ``hotjar`` active at USD 4,800 a year, ``owner`` missing from the manifest.

    Fix: name the person or team accountable for the tool (its configuration, data and renewal) in the manifest.
    """

    id = "HY003"
    name = "tool-without-owner"
    title = "Active tool without an owner"
    category = Category.hygiene
    severity = Severity.low
    remediation = "Name the person or team accountable for the tool, its data and its renewal in the manifest."

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        for tool in sorted(ctx.snapshot.tools, key=lambda t: t.id):
            if not is_active_tool(tool) or (tool.owner and tool.owner.strip()):
                continue
            evidence = [f"{tool.name} ({tool.id}) is {tool.status.value} and has no owner declared."]
            if tool.cost is not None:
                evidence.append(f"It costs {format_money(tool.cost.annual, tool.cost.currency)} a year.")
            flows = sum(1 for i in ctx.snapshot.integrations if tool.id in (i.source, i.target, i.via))
            if flows:
                evidence.append(f"It takes part in {flows} integration{'s' if flows != 1 else ''}.")
            if tool.origin.value == "discovered":
                evidence.append("It was discovered by a connector and is not declared in the manifest.")
            yield ctx.finding(
                [tool.id],
                f"{tool.name} has no owner",
                evidence=evidence,
                facts={"status": tool.status.value, "origin": tool.origin.value, "integrations": flows},
            )
