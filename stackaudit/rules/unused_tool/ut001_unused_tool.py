"""UT001: a tool nothing in the stack uses: no data flows, no references, no recent activity."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import Field

from stackaudit_inventory.models import Capability, IntegrationStatus, RunStatus, Snapshot, Tool
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import (
    OUTSIDE_SNAPSHOT,
    days_since,
    format_money,
    format_timestamp,
    is_active_reference,
    is_active_tool,
    latest,
    plural,
)


class Params(RuleParams):
    max_idle_days: int = Field(
        default=90, ge=1, description="Days without any activity after which a tool with no flows counts as unused."
    )


@dataclass
class Usage:
    """What shows a tool in use, and whether any source could have seen it."""

    observed_by: list[str] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    disabled_flows: list[str] = field(default_factory=list)
    references: int = 0
    targeted_by: list[str] = field(default_factory=list)  # assets of other tools sending data to it
    last_activity_at: datetime | None = None
    newest_owned_value_at: datetime | None = None  # newest value in fields it created in other tools
    idle_days: int | None = None  # since the newest of the two above
    recent: bool = False  # some activity within the window

    @property
    def in_use(self) -> bool:
        """A live flow, a live reference, an asset sending to it, or activity within the window."""
        return bool(self.flows or self.references or self.targeted_by or self.recent)


def _targets(target: str) -> set[str]:
    """The labels of a host or URL, so ``hooks.zapier.com/...`` names ``zapier``."""
    host = target.lower().split("://", 1)[-1].split("/", 1)[0]
    return {target.lower(), host, *host.split(".")}


def tool_usage(snapshot: Snapshot, tool: Tool, now: datetime, max_idle_days: int) -> Usage:
    """Collect the evidence that ``tool`` is in use (shared with UT003, which reviews unused tools' renewals)."""
    u = Usage(observed_by=sorted(set(tool.discovered_by)))
    for run in snapshot.runs_for_tool(tool.id):
        if run.status is RunStatus.failed:
            u.failed_sources.append(run.id)
        elif run.id not in u.observed_by:
            u.observed_by.append(run.id)
    for integ in sorted(snapshot.integrations, key=lambda i: i.id):
        if tool.id in (integ.source, integ.target, integ.via):
            (u.disabled_flows if integ.status is IntegrationStatus.disabled else u.flows).append(integ.id)
    u.references = sum(
        1
        for r in snapshot.references
        if tool.id in (r.asset.split(":", 1)[0], r.field.split(":", 1)[0]) and is_active_reference(snapshot, r)
    )
    u.targeted_by = sorted(
        a.id
        for a in snapshot.assets
        if a.active and a.tool != tool.id and any(tool.id in _targets(t) for t in a.external_targets)
    )
    u.last_activity_at = tool.last_activity_at
    u.newest_owned_value_at = latest(
        *(
            f.fill.newest_value_at
            for f in snapshot.fields
            if f.owning_tool == tool.id and f.tool != tool.id and f.fill is not None
        )
    )
    newest = latest(u.last_activity_at, u.newest_owned_value_at)
    if newest is not None:
        u.idle_days = days_since(now, newest)
        u.recent = u.idle_days < max_idle_days
    return u


def is_unused(usage: Usage) -> bool:
    """UT001's verdict on collected evidence: a source observed the tool and nothing shows it in use."""
    return bool(usage.observed_by) and not usage.in_use


class UnusedToolRule(Rule[Params]):
    """An active tool with no data flows, no references and no recent activity.

    Why it matters: tools outlive their purpose: the campaign ended, the champion left, the integration was
    switched off. Nothing breaks when they go, so nobody notices they are still paid for. The rule flags a tool
    only when every kind of evidence agrees: no live integration touches it (as source, target or middleware), no
    active asset reads or writes its fields, no active asset of another tool sends data to it, no field it created
    in another tool received a value recently, and its newest activity (logins, API use, deliveries, as a source
    reported it) is older than ``max_idle_days``. When no source reports its activity the finding says so and is
    ``low``; with activity known to be old it is ``medium``. A tool that no source observed (declared in the
    manifest only, or whose connector failed) is inconclusive: its use cannot be seen. ``cost_at_stake`` is its
    annual cost. Retiring and removed tools are left to UT003 and OF005.

    Example: ``hotjar``, discovered as a Segment destination that was deleted, no flows, last activity 200 days
    ago, USD 4,800 a year.

    Fix: ask the owner (or the team that bought it) whether anyone still uses it, then cancel it before its notice
    date and remove its leftover fields and credentials. If it is used in ways no source sees, waive the finding
    with that reason.
    """

    id = "UT001"
    name = "unused-tool"
    title = "Tool with no data flows, references or recent activity"
    category = Category.unused_tool
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.integrations, Capability.references, Capability.activity})
    remediation = (
        "Confirm with the owner that nobody uses it, cancel before the notice date, and remove its credentials and "
        "leftover fields; waive with a reason if it is used in ways no source sees."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        limit = ctx.params.max_idle_days
        for tool in sorted(ctx.snapshot.tools, key=lambda t: t.id):
            if not is_active_tool(tool):
                continue
            u = tool_usage(ctx.snapshot, tool, ctx.now, limit)
            if u.in_use:
                continue
            if not u.observed_by:
                why = (
                    f"its connector failed ({', '.join(u.failed_sources)})"
                    if u.failed_sources
                    else "it is only declared in the manifest, and no connected source reports its flows or activity"
                )
                yield ctx.inconclusive(tool.id, f"no flows or references recorded, but {why}")
                continue
            yield self._finding(ctx, tool, u)

    def _finding(self, ctx: RuleContext[Params], tool: Tool, u: Usage) -> Finding:
        limit = ctx.params.max_idle_days
        evidence = [
            f"Seen by {', '.join(u.observed_by)}.",
            "No live integration has it as source, target or middleware"
            + (f" (disabled: {', '.join(u.disabled_flows)})." if u.disabled_flows else "."),
            "No active asset reads or writes its fields, and no active asset of another tool sends data to it.",
        ]
        not_checked = [OUTSIDE_SNAPSHOT]
        if u.last_activity_at is not None:
            evidence.append(
                f"Last activity {format_timestamp(u.last_activity_at)}, "
                f"{plural(days_since(ctx.now, u.last_activity_at), 'day')} ago (limit {limit} days)."
            )
        else:
            not_checked.append(
                f"No source reports {tool.name}'s own activity (logins, API use, deliveries): it may be used in ways "
                "the snapshot cannot see."
            )
        if u.newest_owned_value_at is not None:
            evidence.append(
                f"Fields it created in other tools last received a value {format_timestamp(u.newest_owned_value_at)}."
            )
        cost = tool.cost.annual if tool.cost else None
        if tool.cost is not None:
            evidence.append(f"It costs {format_money(tool.cost.annual, tool.cost.currency)} a year.")
        else:
            not_checked.append(f"Cost of {tool.name} is not declared.")
        activity_known = u.last_activity_at is not None
        return ctx.finding(
            [tool.id],
            f"{tool.name} has no data flows, references or recent activity",
            evidence=evidence,
            facts={
                "observed_by": u.observed_by,
                "flows": 0,
                "disabled_flows": u.disabled_flows,
                "references": 0,
                "last_activity_at": u.last_activity_at.isoformat() if u.last_activity_at else None,
                "idle_days": u.idle_days,
                "max_idle_days": limit,
                "activity_known": activity_known,
                "annual_cost": cost,
            },
            not_checked=not_checked,
            severity=Severity.medium if activity_known else Severity.low,
            cost_at_stake=cost,
        )
