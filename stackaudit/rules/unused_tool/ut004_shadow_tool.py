"""UT004: a tool a source discovered that the manifest does not declare (shadow IT)."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, IntegrationStatus, Origin, ToolStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import blind_sources, format_timestamp, plural


class Params(RuleParams):
    ignore_tools: list[str] = Field(
        default_factory=list,
        description="Tool ids sources discover that need no declaration (internal apps, vendor utilities).",
    )


class ShadowToolRule(Rule[Params]):
    """A tool that a connector discovered in the stack but that the manifest does not declare.

    Why it matters: a Segment destination someone added, a connected app a salesperson authorised, a managed
    package installed for a trial: each receives customer data with no named owner, no contract on file and no
    renewal date, and nobody reviews it. The manifest is the team's declared stack; a tool outside it is invisible
    to procurement, to security reviews and to the quarterly stack review. A shadow tool that data flows to is
    ``medium``; one with no live flow is ``low``. A connector that failed, or could not list tools, is inconclusive:
    the tools it would have discovered are unknown.

    Example: ``hotjar`` found as a Segment destination receiving page events, not in ``stack.yaml``.

    Fix: find who added it; either declare it in the manifest with an owner, its cost and contract, or remove it
    and revoke its access. Tools that need no declaration go in ``ignore_tools``.
    """

    id = "UT004"
    name = "shadow-tool"
    title = "Discovered tool not declared in the manifest"
    category = Category.unused_tool
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.tools})
    remediation = (
        "Find who added it, then declare it in the manifest with an owner, cost and contract, or remove it and "
        "revoke its access."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        ignore = set(ctx.params.ignore_tools)
        for run, why in blind_sources(snap, Capability.tools):
            yield ctx.inconclusive(run.id, f"{why}: tools it would discover are unknown")
        for tool in sorted(snap.tools, key=lambda t: t.id):
            if tool.origin is not Origin.discovered or tool.id in ignore or tool.status is ToolStatus.removed:
                continue
            flows = sorted(
                i.id
                for i in snap.integrations
                if tool.id in (i.source, i.target, i.via) and i.status is not IntegrationStatus.disabled
            )
            sources = ", ".join(tool.discovered_by) or "a connector"
            evidence = [
                f"{tool.name} ({tool.id}) was discovered by {sources} and is not declared in the manifest.",
                f"{plural(len(flows), 'live integration')}" + (f": {', '.join(flows)}." if flows else "."),
                "No owner, cost or contract is on file for it.",
            ]
            if tool.capabilities:
                evidence.append(f"Capabilities (from the vendor catalogue): {', '.join(tool.capabilities)}.")
            if tool.last_activity_at is not None:
                evidence.append(f"Last activity {format_timestamp(tool.last_activity_at)}.")
            yield ctx.finding(
                [tool.id],
                f"{tool.name} is in the stack but not in the manifest",
                evidence=evidence,
                facts={
                    "discovered_by": list(tool.discovered_by),
                    "flows": flows,
                    "capabilities": list(tool.capabilities),
                    "last_activity_at": tool.last_activity_at.isoformat() if tool.last_activity_at else None,
                },
                not_checked=["Who added it, and whether it is paid for, is not visible to any connector."],
                severity=Severity.medium if flows else Severity.low,
            )
