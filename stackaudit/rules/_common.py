"""Helpers shared by the built-in rules: what counts as active, coverage and what a source cannot see, money,
dates, and the predicates two rules share (overlapping tools, seat use)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from stackaudit_inventory.models import (
    Capability,
    Coverage,
    CoverageStatus,
    Reference,
    Snapshot,
    Tool,
    ToolStatus,
)

from ..graph import elapsed

__all__ = [
    "ACTIVE_TOOL_STATUSES",
    "OUTSIDE_SNAPSHOT",
    "annual_cost",
    "best_coverage",
    "cannot_see",
    "capability_key",
    "days_since",
    "days_until",
    "format_duration",
    "format_money",
    "format_timestamp",
    "is_active_reference",
    "is_active_tool",
    "is_covered",
    "lifecycle_field_ids",
    "overlap_groups",
    "plural",
    "seat_utilisation",
    "sum_costs",
]

# Tools in use: a trial costs attention and data even before it costs money.
ACTIVE_TOOL_STATUSES = frozenset({ToolStatus.active, ToolStatus.trial})

OUTSIDE_SNAPSHOT = (
    "Uses outside the connected tools (spreadsheets, BI exports, custom code calling the API) cannot be seen."
)


def is_active_tool(tool: Tool) -> bool:
    return tool.status in ACTIVE_TOOL_STATUSES


def capability_key(capability: str) -> str:
    """``"Email Marketing"``, ``email_marketing`` and ``email-marketing`` compare equal."""
    return "-".join(capability.strip().lower().replace("_", " ").replace("-", " ").split())


def is_active_reference(snapshot: Snapshot, ref: Reference) -> bool:
    """A reference counts unless its asset is known and inactive: an asset the snapshot does not describe may
    well be live, and a false "unused" costs more than a miss."""
    asset = snapshot.assets_by_id.get(ref.asset)
    return asset is None or asset.active


def lifecycle_field_ids(snapshot: Snapshot) -> set[str]:
    """Fields the declared lifecycle relies on (stage fields and stage mappings)."""
    lc = snapshot.lifecycle
    if lc is None:
        return set()
    return set(lc.stage_fields) | {m.field for m in lc.mappings}


# ------------------------------------------------------------------------------------------------ coverage

_RANK = {
    CoverageStatus.complete: 0,
    CoverageStatus.partial: 1,
    CoverageStatus.missing: 2,
    CoverageStatus.not_supported: 3,
}


def best_coverage(snapshot: Snapshot, tool: str, capability: Capability) -> tuple[CoverageStatus, Coverage | None]:
    """The best coverage of ``capability`` for ``tool`` from the tool's own runs or stack-wide runs (the
    manifest), with the :class:`Coverage` record that explains it (None when no source even tried)."""
    best: tuple[CoverageStatus, Coverage | None] = (CoverageStatus.not_supported, None)
    for run in snapshot.source_runs:
        if run.tool not in (tool, None):
            continue
        cov = run.coverage.get(capability)
        if cov is not None and _RANK[cov.status] < _RANK[best[0]]:
            best = (cov.status, cov)
    return best


def is_covered(status: CoverageStatus) -> bool:
    return status in (CoverageStatus.complete, CoverageStatus.partial)


def cannot_see(tool: str, capability: Capability, status: CoverageStatus, cov: Coverage | None) -> str:
    """One sentence saying what the sources could not see, e.g. ``hubspot references: partial coverage (reports
    are not covered by the dependency API)``."""
    what = f"{tool} {capability.value.replace('_', ' ')}"
    explain = "; ".join(x for x in (cov.reason if cov else None, cov.detail if cov else None) if x)
    if status is CoverageStatus.partial:
        head = f"{what}: partial coverage"
    elif status is CoverageStatus.missing:
        head = f"{what}: not read"
    else:
        head = f"{what}: no connected source provides it"
    return f"{head} ({explain})" if explain else head


# ------------------------------------------------------------------------------------------ money and dates


def annual_cost(tool: Tool) -> float | None:
    return tool.cost.annual if tool.cost is not None else None


def format_money(amount: float, currency: str = "USD") -> str:
    """``USD 12,000`` (whole units; cents add noise to a review)."""
    return f"{currency} {amount:,.0f}"


def sum_costs(tools: Iterable[Tool]) -> tuple[float | None, str | None, list[str]]:
    """Total annual cost of the tools that have one, its currency, and notes on what could not be added (unknown
    costs, other currencies). The total is None when no tool has a cost or currencies differ."""
    costed = [t for t in tools if t.cost is not None]
    unknown = [t for t in tools if t.cost is None]
    notes = [f"Cost of {t.name} ({t.id}) is not declared." for t in unknown]
    currencies = sorted({t.cost.currency for t in costed if t.cost is not None})
    if not costed:
        return None, None, notes
    if len(currencies) > 1:
        notes.append(f"Costs are in several currencies ({', '.join(currencies)}) and were not added up.")
        return None, None, notes
    return sum(t.cost.annual for t in costed if t.cost is not None), currencies[0], notes


def days_since(now: datetime, then: datetime) -> int:
    return elapsed(now, then).days


def days_until(now: datetime, day: date) -> int:
    return (day - now.date()).days


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# -------------------------------------------------------------------------------------- shared predicates


def overlap_groups(snapshot: Snapshot, ignore: Iterable[str] = ()) -> dict[str, list[Tool]]:
    """Active tools grouped by primary capability, keeping only capabilities held by two or more tools."""
    skip = {capability_key(c) for c in ignore}
    groups: dict[str, list[Tool]] = {}
    for tool in snapshot.tools:
        cap = tool.primary_capability
        if cap and is_active_tool(tool) and capability_key(cap) not in skip:
            groups.setdefault(capability_key(cap), []).append(tool)
    return {cap: sorted(ts, key=lambda t: t.id) for cap, ts in sorted(groups.items()) if len(ts) > 1}


def seat_utilisation(tool: Tool) -> float | None:
    """Seats used / bought, or None when either figure is unknown or nothing was bought."""
    seats = tool.seats
    if seats is None or seats.bought is None or seats.used is None or seats.bought == 0:
        return None
    return seats.used / seats.bought


def format_duration(td: timedelta) -> str:
    """Coarse human duration: ``40 minutes``, ``5 hours``, ``12 days``."""
    minutes = int(td.total_seconds() // 60)
    if minutes < 120:
        return plural(minutes, "minute")
    if minutes < 48 * 60:
        return plural(minutes // 60, "hour")
    return plural(minutes // (24 * 60), "day")


def format_timestamp(ts: datetime) -> str:
    """``2025-05-01 08:00 UTC`` (naive datetimes are read as UTC, like everywhere else)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%d %H:%M UTC")
