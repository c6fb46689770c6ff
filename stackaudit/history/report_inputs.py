"""The report's inputs from the history: the summary's "since the last snapshot" lines and the history section.

The report package renders from artifacts alone, so it cannot compare snapshots; this module hands it the
outcome as its own plain input types (:class:`SnapshotChanges`, :class:`HistorySection`).
"""

from __future__ import annotations

from stackaudit_inventory import Snapshot
from stackaudit_reports._format import format_datetime
from stackaudit_reports.changes import ChangeItem, SnapshotChanges
from stackaudit_reports.history import HistoryChange, HistoryGroup, HistorySection, TrendSeries

from .model import FindingsDelta, Part, SnapshotDiff, TrendPoint
from .prose import PLAIN, delta_lines, diff_lines, item_sentence, not_comparable_sentence
from .trends import TREND_METRICS

__all__ = ["MAX_REPORT_CHANGES", "build_history_section", "build_snapshot_changes"]

MAX_REPORT_CHANGES = 50
_GROUPS: tuple[tuple[str, Part], ...] = (
    ("Tools", "tools"),
    ("Objects", "objects"),
    ("Fields", "fields"),
    ("Fill rates", "fill_rates"),
    ("Integrations", "integrations"),
    ("References", "references"),
)


def build_snapshot_changes(
    previous: Snapshot | None, diff: SnapshotDiff | None, delta: FindingsDelta | None
) -> SnapshotChanges | None:
    """The summary slot: the findings delta first (the review leads with it), then what changed in the stack.
    None when there is no previous snapshot."""
    if previous is None:
        return None
    lines = (delta_lines(delta, PLAIN) if delta is not None else []) + (diff_lines(diff, PLAIN) if diff else [])
    return SnapshotChanges(
        previous_snapshot_id=previous.id,
        previous_taken_at=format_datetime(previous.taken_at) or "",
        items=tuple(ChangeItem(text=line.text, tone=line.tone, anchor=line.anchor) for line in lines),
    )


def _trend_series(points: list[TrendPoint]) -> tuple[TrendSeries, ...]:
    if len(points) < 2:
        return ()
    return tuple(
        TrendSeries(
            key=key,
            label=label,
            kind="money" if kind == "money" else "count",
            values=tuple(float(getattr(p, key)) for p in points),
        )
        for key, label, kind in TREND_METRICS
    )


def build_history_section(
    previous: Snapshot | None, diff: SnapshotDiff | None, trends: list[TrendPoint]
) -> HistorySection:
    """The history section: every change (capped per part) and a sparkline per headline figure."""
    groups = []
    if diff is not None:
        for title, part in _GROUPS:
            items = diff.part(part)
            if not items:
                continue
            changes = tuple(HistoryChange(item_sentence(i, PLAIN), i.change.value) for i in items[:MAX_REPORT_CHANGES])
            groups.append(HistoryGroup(title, changes, more=max(0, len(items) - MAX_REPORT_CHANGES)))
    return HistorySection(
        previous_snapshot_id=previous.id if previous is not None else None,
        previous_taken_at=format_datetime(previous.taken_at) if previous is not None else None,
        groups=tuple(groups),
        not_comparable=tuple(not_comparable_sentence(nc, PLAIN) for nc in diff.not_comparable) if diff else (),
        trend_labels=tuple(p.taken_at.date().isoformat() for p in trends),
        trend_partial=tuple(p.completeness != "complete" for p in trends),
        trends=_trend_series(trends),
        currency=trends[-1].currency if trends else "USD",
        command=f"stackaudit diff {diff.old_snapshot_id} {diff.new_snapshot_id}" if diff else None,
    )
