"""Trends: the headline figures of every snapshot in the store, oldest first, as rows or CSV.

Each snapshot is judged by its stored audit, else audited as of its ``taken_at`` with the current config (see
:class:`~.audits.AuditHistory`). A partial snapshot undercounts (its missing connector's fields are not there),
so every row says how complete its snapshot was, and charts mark it.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from stackaudit_inventory import AuditResult, Finding, FindingStatus, Snapshot
from stackaudit_inventory.store import SnapshotEntry

from .audits import AuditHistory, ResultOrigin
from .diff import stack_totals
from .model import TrendPoint

__all__ = ["TREND_COLUMNS", "TREND_METRICS", "build_trends", "overlap_spend", "trend_point", "trends_csv"]

# (attribute, label, kind): the figures a chart draws, in the order the report shows them.
TREND_METRICS: tuple[tuple[str, str, str], ...] = (
    ("tools", "Tools in use", "count"),
    ("annual_spend", "Annual licence spend", "money"),
    ("overlap_spend", "Spend on overlapping tools", "money"),
    ("custom_fields", "Custom fields", "count"),
    ("orphaned_fields", "Orphaned fields", "count"),
    ("broken_syncs", "Broken or stale syncs", "count"),
)
TREND_COLUMNS = (
    "snapshot_id",
    "taken_at",
    "completeness",
    "result",
    "tools",
    "annual_spend",
    "currency",
    "custom_fields",
    "orphaned_fields",
    "broken_syncs",
    "overlap_spend",
    "open_findings",
)


def _open(result: AuditResult, prefix: str) -> list[Finding]:
    return [f for f in result.findings if f.status is FindingStatus.open and f.rule.startswith(prefix)]


def _distinct(findings: list[Finding], known: set[str]) -> int:
    """Distinct known subjects across findings; a finding about none of them counts once."""
    seen: set[str] = set()
    for f in findings:
        hits = [s for s in f.subjects if s in known]
        seen.update(hits or [f"finding:{f.fingerprint}"])
    return len(seen)


def overlap_spend(findings: list[Finding]) -> float:
    """Money at stake in overlap findings, each tool's money counted once.

    Findings are joined when they share a subject tool (an RT001 overlap of drift and intercom and an RT002
    "drift is covered by HubSpot" are about the same money) and only the largest amount in each group counts.
    Subjects, not ``Finding.tools``: RT002 also lists the covering suite there, which would join unrelated
    findings through it and undercount.
    """
    groups: list[tuple[set[str], float]] = []
    for f in findings:
        members = set(f.subjects) or {f"finding:{f.fingerprint}"}
        amount = f.cost_at_stake or 0.0
        for group in [g for g in groups if g[0] & members]:
            groups.remove(group)
            members |= group[0]
            amount = max(amount, group[1])
        groups.append((members, amount))
    return round(sum(amount for _, amount in groups), 2)


def trend_point(entry: SnapshotEntry, snapshot: Snapshot, result: AuditResult, origin: ResultOrigin) -> TrendPoint:
    totals = stack_totals(snapshot)
    fields = set(snapshot.fields_by_id)
    integrations = set(snapshot.integrations_by_id)
    return TrendPoint(
        snapshot_id=snapshot.id,
        taken_at=snapshot.taken_at,
        completeness=entry.completeness,
        result=origin,
        tools=totals.tools,
        annual_spend=totals.annual_spend,
        currency=totals.currency,
        custom_fields=totals.custom_fields,
        orphaned_fields=_distinct(_open(result, "OF"), fields),
        broken_syncs=_distinct(_open(result, "BS"), integrations),
        overlap_spend=overlap_spend(_open(result, "RT")),
        open_findings=sum(1 for f in result.findings if f.status is FindingStatus.open),
    )


def build_trends(history: AuditHistory, *, upto: datetime | None = None) -> list[TrendPoint]:
    """One point per readable snapshot in the store (taken up to ``upto``, when given), oldest first."""
    points = []
    for entry in history.entries() if upto is None else history.up_to(upto):
        snapshot = history.load(entry)
        result, origin = history.result(entry, snapshot)
        points.append(trend_point(entry, snapshot, result, origin))
    return points


def trends_csv(points: list[TrendPoint]) -> str:
    """RFC 4180 CSV, one row per snapshot. Every cell is a figure, an id or a date we wrote: none is vendor text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TREND_COLUMNS)
    for p in points:
        writer.writerow(
            [
                p.snapshot_id,
                p.taken_at.isoformat(),
                p.completeness,
                p.result,
                p.tools,
                f"{p.annual_spend:.2f}",
                p.currency,
                p.custom_fields,
                p.orphaned_fields,
                p.broken_syncs,
                f"{p.overlap_spend:.2f}",
                p.open_findings,
            ]
        )
    return out.getvalue()
