"""View-model sections drawn from the snapshot: the tool inventory and the integrations with their health.

Split from :mod:`stackaudit_reports.viewmodel` (which owns findings and headline figures) to keep each module
small; the public names are re-exported there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from stackaudit_inventory import (
    AuditResult,
    FindingStatus,
    Integration,
    IntegrationStatus,
    Snapshot,
    Tool,
    ToolStatus,
)

from ._format import (
    format_age,
    format_date,
    format_datetime,
    format_interval,
    format_money,
    format_percent,
)

__all__ = [
    "HEALTH_ORDER",
    "IntegrationRow",
    "InventoryView",
    "MappingRow",
    "ToolRow",
    "build_integrations",
    "build_inventory",
    "main_currency",
]

# Worst first, so the integrations table opens with what needs fixing.
HEALTH_ORDER = ("broken", "stale", "unknown", "disabled", "ok")
# A notice date this close (in days) is flagged: cancelling needs a decision before it.
NOTICE_SOON_DAYS = 90
# Seat use below this share is flagged as under-used.
LOW_SEAT_USE = 0.5


def main_currency(snapshot: Snapshot) -> str:
    """The currency most tool costs are in (ties broken alphabetically); USD when no tool has a cost."""
    counts = Counter(t.cost.currency.upper() for t in snapshot.tools if t.cost is not None)
    if not counts:
        return "USD"
    return min(counts, key=lambda c: (-counts[c], c))


def _open_findings_by_tool(result: AuditResult) -> Counter[str]:
    return Counter(t for f in result.findings if f.status is FindingStatus.open for t in set(f.tools))


# ------------------------------------------------------------------------------------------- inventory


@dataclass(frozen=True, slots=True)
class ToolRow:
    id: str
    anchor: str
    name: str
    vendor: str | None
    capabilities: tuple[str, ...]
    owner: str | None
    status: str
    annual_cost: str | None
    annual_cost_value: float | None
    seats: str | None
    seat_use: str | None
    seat_use_value: float | None
    seat_use_low: bool
    renewal: str | None
    notice: str | None
    notice_state: str  # "passed", "soon" or ""
    origin: str
    open_findings: int


@dataclass(frozen=True, slots=True)
class InventoryView:
    rows: tuple[ToolRow, ...]
    tool_count: int
    in_use_count: int
    unowned_count: int
    spend: tuple[str, ...]  # annual total per currency, the main currency first
    renewals_soon: int


def _seat_share(tool: Tool) -> float | None:
    seats = tool.seats
    if seats is None or seats.used is None or not seats.bought:
        return None
    return seats.used / seats.bought


def _seat_text(tool: Tool) -> str | None:
    seats = tool.seats
    if seats is None or (seats.bought is None and seats.used is None):
        return None
    used = "?" if seats.used is None else f"{seats.used:,}"
    bought = "?" if seats.bought is None else f"{seats.bought:,}"
    return f"{used} / {bought}"


def _notice_state(tool: Tool, now: datetime) -> str:
    contract = tool.contract
    if contract is None or contract.notice_date is None:
        return ""
    today = now.date()
    if contract.notice_date < today:
        # Passed only matters while the term it guards is still running.
        return "passed" if contract.renewal is None or contract.renewal >= today else ""
    return "soon" if (contract.notice_date - today).days <= NOTICE_SOON_DAYS else ""


def _tool_row(tool: Tool, now: datetime, findings: Counter[str]) -> ToolRow:
    share = _seat_share(tool)
    annual = tool.cost.annual if tool.cost is not None else None
    return ToolRow(
        id=tool.id,
        anchor=f"tool-{tool.id}",
        name=tool.name,
        vendor=tool.vendor,
        capabilities=tuple(tool.capabilities),
        owner=tool.owner.strip() if tool.owner and tool.owner.strip() else None,
        status=tool.status.value,
        annual_cost=format_money(annual, tool.cost.currency) if tool.cost is not None and annual is not None else None,
        annual_cost_value=annual,
        seats=_seat_text(tool),
        seat_use=format_percent(share),
        seat_use_value=share,
        seat_use_low=share is not None and share < LOW_SEAT_USE,
        renewal=format_date(tool.contract.renewal) if tool.contract else None,
        notice=format_date(tool.contract.notice_date) if tool.contract else None,
        notice_state=_notice_state(tool, now),
        origin=tool.origin.value,
        open_findings=findings[tool.id],
    )


def build_inventory(snapshot: Snapshot, result: AuditResult, now: datetime, currency: str) -> InventoryView:
    """Every tool with owner, cost, seats and contract dates, by name; totals per currency."""
    findings = _open_findings_by_tool(result)
    tools = sorted(snapshot.tools, key=lambda t: (t.name.casefold(), t.id))
    rows = tuple(_tool_row(t, now, findings) for t in tools)
    in_use = [t for t in snapshot.tools if t.status is not ToolStatus.removed]
    totals: dict[str, float] = {}
    for t in in_use:
        if t.cost is not None:
            totals[t.cost.currency.upper()] = totals.get(t.cost.currency.upper(), 0.0) + t.cost.annual
    order = sorted(totals, key=lambda c: (c != currency, c))
    return InventoryView(
        rows=rows,
        tool_count=len(rows),
        in_use_count=len(in_use),
        unowned_count=sum(1 for t in in_use if not (t.owner and t.owner.strip())),
        spend=tuple(format_money(totals[c], c) for c in order),
        renewals_soon=sum(1 for r in rows if r.notice_state == "soon"),
    )


# ---------------------------------------------------------------------------------------- integrations


@dataclass(frozen=True, slots=True)
class MappingRow:
    source: str
    source_label: str | None
    target: str
    target_label: str | None
    arrow: str  # "→" or "⇄"
    transform: str | None
    precedence: str | None


@dataclass(frozen=True, slots=True)
class IntegrationRow:
    id: str
    anchor: str
    source: str
    target: str
    via: str | None
    direction: str
    status: str
    health: str
    health_rank: int
    last_success: str | None
    last_success_age: str | None
    last_sync: str | None
    errors: str | None
    error_rate: str | None
    error_samples: tuple[str, ...]
    expected_interval: str | None
    mapped_fields: int
    mappings: tuple[MappingRow, ...]
    origin: str
    open_findings: int


def _flow_health(result: AuditResult) -> dict[str, str]:
    """Health per integration id from the graph export (the audit decided it; the report only shows it)."""
    return {e.id: e.status for e in result.graph.edges if e.kind == "flow" and e.id and e.status}


def _fallback_health(status: IntegrationStatus) -> str:
    # Without the audit's verdict only the vendor's own status can be shown; freshness is not judged here.
    return {IntegrationStatus.disabled: "disabled", IntegrationStatus.error: "broken"}.get(status, "unknown")


def _mapping_rows(integration: Integration, labels: dict[str, str]) -> tuple[MappingRow, ...]:
    return tuple(
        MappingRow(
            source=m.source,
            source_label=labels.get(m.source),
            target=m.target,
            target_label=labels.get(m.target),
            arrow="⇄" if m.direction == "both" else "→",
            transform=m.transform,
            precedence=m.precedence,
        )
        for m in sorted(integration.mappings, key=lambda m: (m.source, m.target))
    )


def build_integrations(snapshot: Snapshot, result: AuditResult, now: datetime) -> tuple[IntegrationRow, ...]:
    """Every flow with its health, worst first."""
    health = _flow_health(result)
    names = {t.id: t.name for t in snapshot.tools}
    labels = {f.id: f.label for f in snapshot.fields if f.label and f.label != f.name}
    findings = Counter(s for f in result.findings if f.status is FindingStatus.open for s in set(f.subjects))
    rows = []
    for i in snapshot.integrations:
        state = health.get(i.id) or _fallback_health(i.status)
        health_name = state if state in HEALTH_ORDER else "unknown"
        errors = None
        if i.error_count is not None:
            total = i.error_count + (i.success_count or 0)
            window = f" in {i.window_days} days" if i.window_days else ""
            errors = f"{i.error_count:,} of {total:,}{window}" if i.success_count is not None else f"{i.error_count:,}"
        rows.append(
            IntegrationRow(
                id=i.id,
                anchor=f"int-{i.id}",
                source=names.get(i.source, i.source),
                target=names.get(i.target, i.target),
                via=names.get(i.via, i.via) if i.via else None,
                direction=i.direction,
                status=i.status.value,
                health=health_name,
                health_rank=HEALTH_ORDER.index(health_name),
                last_success=format_datetime(i.last_success_at),
                last_success_age=format_age(i.last_success_at, now),
                last_sync=format_datetime(i.last_sync_at),
                errors=errors,
                error_rate=format_percent(i.error_rate),
                error_samples=tuple(i.error_samples[:3]),
                expected_interval=format_interval(i.expected_interval_minutes),
                mapped_fields=len(i.mappings),
                mappings=_mapping_rows(i, labels),
                origin=i.origin.value,
                open_findings=findings[i.id],
            )
        )
    rows.sort(key=lambda r: (r.health_rank, r.source.casefold(), r.target.casefold(), r.id))
    return tuple(rows)
