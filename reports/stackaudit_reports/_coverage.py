"""The coverage section: what each source could see, so nobody mistakes silence for health.

Two views of the same source runs: per tool (capabilities × tools: the best coverage any source gave each
capability for that tool, or ``declared`` when only a stack-wide source such as the manifest covered it), and
per source run (status, API calls, errors, quotas and per-capability coverage with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from stackaudit_inventory import Capability, CoverageStatus, Quota, Snapshot, ToolStatus

from ._format import format_datetime, format_duration, format_percent

__all__ = [
    "CoverageCell",
    "CoverageView",
    "RunErrorRow",
    "RunRow",
    "ToolCoverageRow",
    "build_coverage",
]

_BEST_FIRST = (CoverageStatus.complete, CoverageStatus.partial, CoverageStatus.missing)


@dataclass(frozen=True, slots=True)
class CoverageCell:
    capability: str
    status: str  # complete, partial, missing, not_supported
    reason: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class RunErrorRow:
    code: str
    message: str
    capability: str | None
    where: str | None


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    connector_type: str
    tool: str | None
    status: str
    api_calls: int
    started: str
    duration: str
    errors: tuple[RunErrorRow, ...]
    quotas: tuple[str, ...]
    cells: tuple[CoverageCell, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToolCoverageRow:
    tool: str
    name: str
    anchor: str
    sources: tuple[str, ...]  # source runs that read this tool
    cells: tuple[CoverageCell, ...]  # status: complete, partial, missing, declared or not_read


@dataclass(frozen=True, slots=True)
class CoverageView:
    capabilities: tuple[str, ...]
    tools: tuple[ToolCoverageRow, ...]
    runs: tuple[RunRow, ...]
    total_calls: int
    failed_runs: int
    partial_runs: int
    unobserved_tools: tuple[str, ...]  # tools no API source read: known from the manifest alone


def _quota_text(q: Quota) -> str:
    if q.used is not None and q.limit:
        text = f"{q.name}: {q.used:,} of {q.limit:,} ({format_percent(q.used / q.limit)})"
    elif q.used is not None:
        text = f"{q.name}: {q.used:,} used"
    else:
        text = q.name
    return f"{text} per {q.period}" if q.period else text


def _tool_rows(snapshot: Snapshot, capabilities: list[Capability]) -> tuple[ToolCoverageRow, ...]:
    """Per tool in use: the best coverage of each capability by the sources that read it (reasons kept)."""
    stack_wide = {
        cap
        for run in snapshot.source_runs
        if run.tool is None
        for cap, cov in run.coverage.items()
        if cov.status in (CoverageStatus.complete, CoverageStatus.partial)
    }
    rows = []
    tools = sorted(
        (t for t in snapshot.tools if t.status is not ToolStatus.removed), key=lambda t: (t.name.casefold(), t.id)
    )
    for tool in tools:
        runs = snapshot.runs_for_tool(tool.id)
        cells = []
        for cap in capabilities:
            found = [(run.coverage[cap], run.id) for run in runs if cap in run.coverage]
            best = next((c for status in _BEST_FIRST for c in found if c[0].status is status), None)
            if best is not None:
                cov, source = best
                cells.append(CoverageCell(cap.value, cov.status.value, cov.reason, cov.detail or f"by {source}"))
            elif cap in stack_wide:
                cells.append(CoverageCell(cap.value, "declared", None, "declared in a stack-wide source"))
            else:
                cells.append(CoverageCell(cap.value, "not_read", None, None))
        rows.append(ToolCoverageRow(tool.id, tool.name, f"tool-{tool.id}", tuple(r.id for r in runs), tuple(cells)))
    # Tools an API source read come first: their columns say the most.
    return tuple(sorted(rows, key=lambda r: (not r.sources, r.name.casefold(), r.tool)))


def build_coverage(snapshot: Snapshot) -> CoverageView:
    """What each source run could see, per capability, with its calls and errors."""
    seen = {cap for run in snapshot.source_runs for cap in run.coverage}
    capabilities = [c for c in Capability if c in seen]
    runs = []
    for run in sorted(snapshot.source_runs, key=lambda r: (r.id, r.started_at)):
        cells = []
        for cap in capabilities:
            cov = run.coverage.get(cap)
            status = cov.status.value if cov else CoverageStatus.not_supported.value
            cells.append(CoverageCell(cap.value, status, cov.reason if cov else None, cov.detail if cov else None))
        runs.append(
            RunRow(
                id=run.id,
                connector_type=run.connector_type,
                tool=run.tool,
                status=run.status.value,
                api_calls=run.api_calls,
                started=format_datetime(run.started_at) or "",
                duration=format_duration((run.ended_at - run.started_at).total_seconds()),
                errors=tuple(
                    RunErrorRow(e.code, e.message, e.capability.value if e.capability else None, e.where)
                    for e in run.errors
                ),
                quotas=tuple(_quota_text(q) for q in run.quota),
                cells=tuple(cells),
                notes=tuple(run.notes),
            )
        )
    read = {run.tool for run in snapshot.source_runs if run.tool}
    unobserved = sorted(
        (t for t in snapshot.tools if t.status is not ToolStatus.removed and t.id not in read),
        key=lambda t: (t.name.casefold(), t.id),
    )
    return CoverageView(
        capabilities=tuple(c.value for c in capabilities),
        tools=_tool_rows(snapshot, capabilities),
        runs=tuple(runs),
        total_calls=sum(r.api_calls for r in runs),
        failed_runs=sum(1 for r in runs if r.status == "failed"),
        partial_runs=sum(1 for r in runs if r.status == "partial"),
        unobserved_tools=tuple(t.name for t in unobserved),
    )
