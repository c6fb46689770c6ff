"""LC002: the lead-management process has no written MQL or handoff definition."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import ToolStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import capability_key


class Params(RuleParams):
    lifecycle_capabilities: list[str] = Field(
        default_factory=lambda: ["crm", "marketing-automation"],
        description="Capabilities of tools that carry a lead lifecycle; the rule applies when one is in the stack.",
    )


_DEFINITIONS = (
    ("mql_definition", "lifecycle:mql-definition", "MQL definition", "what makes a lead marketing-qualified"),
    ("handoff_definition", "lifecycle:handoff-definition", "handoff definition", "how a lead passes to sales"),
)


class MissingLifecycleDefinitionRule(Rule[Params]):
    """No declared MQL definition, or no declared handoff definition.

    Why it matters: when "MQL" is not written down, each system and each team scores and routes leads its own
    way, the numbers disagree, and the argument about lead quality never ends; a two-page written definition
    improves consistency at once. The rule applies when the manifest has a lifecycle section or the stack holds
    a CRM or marketing-automation tool (``lifecycle_capabilities``). Each missing definition is its own finding
    (subjects ``lifecycle:mql-definition`` and ``lifecycle:handoff-definition``).

    Example: HubSpot and Salesforce in the stack, a ``lifecycle`` section listing stages, no ``mql_definition``.

    Fix: agree the definition with sales, write it (criteria, score threshold, SLA) in the manifest's
    ``lifecycle`` section, and align each system's stage mapping to it.
    """

    id = "LC002"
    name = "missing-lifecycle-definition"
    title = "No declared MQL or handoff definition"
    category = Category.lifecycle_drift
    severity = Severity.medium
    params = Params
    remediation = (
        "Agree the definition with sales and write it (criteria, threshold, SLA) in the manifest's lifecycle section."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        wanted = {capability_key(c) for c in ctx.params.lifecycle_capabilities}
        lead_tools = sorted(
            (
                t
                for t in snap.tools
                if t.status is not ToolStatus.removed and wanted & {capability_key(c) for c in t.capabilities}
            ),
            key=lambda t: t.id,
        )
        lc = snap.lifecycle
        if lc is None and not lead_tools:
            return
        context = (
            "Lead-carrying tools in the stack: " + ", ".join(f"{t.name} ({t.id})" for t in lead_tools) + "."
            if lead_tools
            else "The manifest declares a lifecycle section."
        )
        for attr, subject, label, meaning in _DEFINITIONS:
            text = getattr(lc, attr) if lc is not None else None
            if text and text.strip():
                continue
            where = "The manifest has no lifecycle section." if lc is None else f"The lifecycle section has no {label}."
            yield ctx.finding(
                [subject],
                f"No {label} declared ({meaning})",
                evidence=[where, context],
                facts={
                    "definition": attr,
                    "lifecycle_declared": lc is not None,
                    "stages": [s.id for s in lc.stages] if lc else [],
                    "lead_tools": [t.id for t in lead_tools],
                },
                tools=[t.id for t in lead_tools],
            )
