"""Diff, delta and trends for the terminal (rich renderables, printed by the CLI), Markdown and JSON."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from stackaudit_reports._format import format_money
from stackaudit_reports.exports import md_code, md_escape

from .model import PARTS, DeltaFinding, FindingsDelta, SnapshotDiff, TrendPoint
from .prose import MARKDOWN, PLAIN, delta_lines, diff_lines, item_sentence, not_comparable_sentence

__all__ = ["delta_markdown", "delta_renderable", "diff_markdown", "diff_renderable", "trends_renderable"]

_PART_TITLES = {
    "tools": "Tools",
    "objects": "Objects",
    "fields": "Fields",
    "fill_rates": "Fill rates",
    "integrations": "Integrations",
    "references": "References",
}
_CHANGE_STYLE = {"added": "green", "removed": "red", "changed": "yellow"}
_TONE_STYLE = {"alert": "bold red", "warn": "yellow", "good": "green", "neutral": ""}


def _when(diff: SnapshotDiff) -> str:
    return (
        f"{diff.old_snapshot_id} ({diff.old_taken_at.date().isoformat()}) -> "
        f"{diff.new_snapshot_id} ({diff.new_taken_at.date().isoformat()})"
    )


def diff_renderable(diff: SnapshotDiff) -> RenderableType:
    """A table of every change (part, change, subject, detail), then the summary and what was not compared."""
    table = Table(title=f"{diff.stack}: {_when(diff)}", title_justify="left")
    for col in ("part", "change", "what"):
        table.add_column(col, overflow="fold")
    for item in diff.items:
        table.add_row(
            _PART_TITLES[item.part],
            Text(item.change.value, style=_CHANGE_STYLE[item.change.value]),
            Text(item_sentence(item, PLAIN)),
        )
    parts: list[RenderableType] = [table] if diff.items else [Text(f"{diff.stack}: {_when(diff)}: no changes")]
    for line in diff_lines(diff, PLAIN):
        parts.append(Text(line.text, style=_TONE_STYLE[line.tone]))
    return Group(*parts)


def diff_markdown(diff: SnapshotDiff) -> str:
    """Every change, part by part, then the parts that were not compared (nothing capped)."""
    lines = [
        f"## Changes: {md_escape(diff.stack)}",
        "",
        f"From {md_code(diff.old_snapshot_id)} ({diff.old_taken_at.date().isoformat()}) to "
        f"{md_code(diff.new_snapshot_id)} ({diff.new_taken_at.date().isoformat()}); fill rates compared at "
        f"{diff.fill_threshold:.0%}.",
        "",
    ]
    lines += [f"- {line.text}" for line in diff_lines(diff, MARKDOWN)]
    lines.append("")
    for part in PARTS:
        items = diff.part(part)
        if items:
            lines += [f"### {_PART_TITLES[part]}", ""]
            lines += [f"- {item.change.value}: {item_sentence(item, MARKDOWN)}" for item in items]
            lines.append("")
    if diff.not_comparable:
        lines += ["### Not compared", ""]
        lines += [f"- {not_comparable_sentence(nc, MARKDOWN)}" for nc in diff.not_comparable]
        lines.append("")
    return "\n".join(lines)


_DELTA_GROUPS = (
    ("new", "new"),
    ("returned", "returned"),
    ("resolved", "resolved"),
    ("unconfirmed", "not re-checked"),
    ("waived_since", "waived since"),
    ("waivers_expired", "waiver expired"),
    ("persisting", "still reported"),
)


def _delta_rows(delta: FindingsDelta) -> list[tuple[str, DeltaFinding]]:
    return [(label, d) for key, label in _DELTA_GROUPS for d in getattr(delta, key)]


def delta_renderable(delta: FindingsDelta) -> RenderableType:
    title = (
        f"findings since {delta.old_snapshot_id} ({delta.old_taken_at.date().isoformat()}): "
        f"{len(delta.new)} new, {len(delta.resolved)} resolved, {len(delta.persisting)} still reported"
    )
    table = Table(title=title, title_justify="left")
    for col in ("delta", "severity", "rule", "title", "first seen", "age"):
        table.add_column(col, overflow="fold")
    for label, d in _delta_rows(delta):
        if label == "still reported":
            continue  # the findings table above lists them; here only what moved
        first = d.first_seen.date().isoformat() if d.first_seen else ""
        age = f"{d.age_days} d" if d.age_days is not None else ""
        table.add_row(label, d.severity.value, d.rule, d.title, first, age)
    lines = [Text(line.text, style=_TONE_STYLE[line.tone]) for line in delta_lines(delta, PLAIN)]
    return Group(table, *lines)


def delta_markdown(delta: FindingsDelta) -> str:
    lines = [
        f"## Findings since {md_code(delta.old_snapshot_id)} ({delta.old_taken_at.date().isoformat()})",
        "",
        *(f"- {line.text}" for line in delta_lines(delta, MARKDOWN)),
        "",
        "| Delta | Severity | Rule | Title | First seen | Age (days) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, d in _delta_rows(delta):
        first = d.first_seen.date().isoformat() if d.first_seen else " "
        age = str(d.age_days) if d.age_days is not None else " "
        lines.append(f"| {label} | {d.severity.value} | {md_escape(d.rule)} | {md_escape(d.title)} | {first} | {age} |")
    return "\n".join(lines) + "\n"


def trends_renderable(points: list[TrendPoint]) -> RenderableType:
    table = Table(title="trends across stored snapshots", title_justify="left")
    for col in ("snapshot", "taken", "completeness", "tools", "spend", "custom fields", "orphaned", "broken syncs"):
        table.add_column(col)
    table.add_column("overlap spend")
    for p in points:
        table.add_row(
            p.snapshot_id,
            p.taken_at.date().isoformat(),
            p.completeness,
            str(p.tools),
            format_money(p.annual_spend, p.currency),
            str(p.custom_fields),
            str(p.orphaned_fields),
            str(p.broken_syncs),
            format_money(p.overlap_spend, p.currency),
        )
    return table
