"""The report's history section: what changed since the previous snapshot, and small trend charts.

Like :mod:`.changes`, the comparison is made elsewhere (``stackaudit.history``, which needs the snapshot store)
and arrives here as a :class:`HistorySection` of plain sentences and figures. This module only lays it out:
it turns each trend series into an inline SVG sparkline (a polyline and one dot per snapshot, hollow for a
partial snapshot), so the report stays one file with no script, font or image to fetch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ._format import format_money, format_money_compact

__all__ = [
    "HistoryChange",
    "HistoryGroup",
    "HistorySection",
    "HistoryView",
    "Sparkline",
    "TrendSeries",
    "build_history_view",
    "sparkline",
]

SPARK_WIDTH = 160
SPARK_HEIGHT = 36
_PAD = 4


@dataclass(frozen=True, slots=True)
class HistoryChange:
    text: str
    change: Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class HistoryGroup:
    title: str
    changes: tuple[HistoryChange, ...]
    more: int = 0  # changes left out to keep the section short


@dataclass(frozen=True, slots=True)
class TrendSeries:
    key: str
    label: str
    kind: Literal["count", "money"]
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class HistorySection:
    """Input of the section. ``trend_labels`` and ``trend_partial`` hold one entry per snapshot, oldest first."""

    previous_snapshot_id: str | None
    previous_taken_at: str | None
    groups: tuple[HistoryGroup, ...] = ()
    not_comparable: tuple[str, ...] = ()
    trend_labels: tuple[str, ...] = ()
    trend_partial: tuple[bool, ...] = ()
    trends: tuple[TrendSeries, ...] = ()
    currency: str = "USD"
    command: str | None = None  # the command listing every change, shown when groups are capped


@dataclass(frozen=True, slots=True)
class SparkDot:
    x: float
    y: float
    partial: bool
    title: str


@dataclass(frozen=True, slots=True)
class Sparkline:
    label: str
    latest: str
    change: str
    points: str
    dots: tuple[SparkDot, ...]
    aria: str
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


@dataclass(frozen=True, slots=True)
class HistoryView:
    previous_snapshot_id: str | None
    previous_taken_at: str | None
    groups: tuple[HistoryGroup, ...]
    not_comparable: tuple[str, ...]
    charts: tuple[Sparkline, ...]
    snapshots: int
    command: str | None
    has_changes: bool = field(default=False)


def _format(value: float, kind: str, currency: str, compact: bool = True) -> str:
    if kind == "money":
        return format_money_compact(value, currency) if compact else format_money(value, currency)
    return f"{value:,.0f}"


def sparkline(
    series: TrendSeries, labels: tuple[str, ...], partial: tuple[bool, ...], currency: str = "USD"
) -> Sparkline:
    """Coordinates for one series: x spread evenly over the snapshots, y scaled between the series' min and max
    (a flat series is drawn mid-height). Rounded to 0.1 px so the output is stable."""
    values = series.values
    n = len(values)
    lo, hi = (min(values), max(values)) if values else (0.0, 0.0)
    span_x = SPARK_WIDTH - 2 * _PAD
    span_y = SPARK_HEIGHT - 2 * _PAD

    def xy(i: int, v: float) -> tuple[float, float]:
        x = _PAD + (span_x * i / (n - 1) if n > 1 else span_x / 2)
        y = _PAD + (span_y / 2 if hi == lo else span_y * (hi - v) / (hi - lo))
        return round(x, 1), round(y, 1)

    coords = [xy(i, v) for i, v in enumerate(values)]
    dots = tuple(
        SparkDot(
            x,
            y,
            partial[i] if i < len(partial) else False,
            f"{labels[i] if i < len(labels) else ''}: {_format(values[i], series.kind, currency, compact=False)}"
            + (" (partial snapshot)" if i < len(partial) and partial[i] else ""),
        )
        for i, (x, y) in enumerate(coords)
    )
    latest = _format(values[-1], series.kind, currency) if values else "—"
    change = ""
    if n > 1:
        delta = values[-1] - values[0]
        if delta:
            sign = "+" if delta > 0 else "−"
            change = f"{sign}{_format(abs(delta), series.kind, currency)} since {labels[0] if labels else 'first'}"
        else:
            change = f"unchanged since {labels[0] if labels else 'first'}"
    aria = f"{series.label} over {n} snapshot{'s' if n != 1 else ''}, latest {latest}"
    return Sparkline(
        label=series.label,
        latest=latest,
        change=change,
        points=" ".join(f"{x},{y}" for x, y in coords),
        dots=dots,
        aria=aria,
    )


def build_history_view(section: HistorySection) -> HistoryView:
    charts = tuple(
        sparkline(s, section.trend_labels, section.trend_partial, section.currency) for s in section.trends if s.values
    )
    return HistoryView(
        previous_snapshot_id=section.previous_snapshot_id,
        previous_taken_at=section.previous_taken_at,
        groups=section.groups,
        not_comparable=section.not_comparable,
        charts=charts,
        snapshots=len(section.trend_labels),
        command=section.command,
        has_changes=any(g.changes for g in section.groups),
    )
