"""``changes.md``: what changed since the last review, written for a manager with two minutes.

It opens with a short paragraph and the lines that matter (new findings first), then lists every change once,
part by part, each part capped so the page stays short (the full list is one ``stackaudit diff`` away), then the
parts that could not be compared, and what to do next. Every vendor-supplied string is escaped for Markdown.
"""

from __future__ import annotations

from datetime import datetime

from stackaudit_reports._format import format_money
from stackaudit_reports.exports import md_code, md_escape

from .model import Action, DeltaFinding, DiffItem, FindingsDelta, Part, SnapshotDiff
from .prose import MARKDOWN, delta_lines, diff_lines, item_sentence, not_comparable_sentence

__all__ = ["MAX_PER_SECTION", "changes_markdown"]

MAX_PER_SECTION = 25
_SECTIONS: tuple[tuple[str, tuple[Part, ...]], ...] = (
    ("Tools", ("tools",)),
    ("Objects and fields", ("objects", "fields")),
    ("Fill rates", ("fill_rates",)),
    ("Integrations", ("integrations",)),
    ("References", ("references",)),
)
_NEXT_ACTIONS = 5


def _date(value: datetime) -> str:
    return value.date().isoformat()


def _bullets(items: list[DiffItem], diff: SnapshotDiff) -> list[str]:
    lines = [f"- {item_sentence(i, MARKDOWN)}" for i in items[:MAX_PER_SECTION]]
    if len(items) > MAX_PER_SECTION:
        lines.append(
            f"- and {len(items) - MAX_PER_SECTION} more: run "
            f"{md_code(f'stackaudit diff {diff.old_snapshot_id} {diff.new_snapshot_id}')}"
        )
    return lines


def _finding_line(d: DeltaFinding, *, age: bool = False) -> str:
    extra = ""
    if age and d.first_seen is not None:
        extra = f", first seen {d.first_seen.date().isoformat()} ({d.age_days} days)"
    if d.waiver is not None and d.status.value == "waived":
        extra += f", waived by {md_escape(d.waiver.owner)} until {d.waiver.expires.isoformat()}"
    elif d.waiver is not None:
        extra += f", waiver expired {d.waiver.expires.isoformat()}"
    if d.reason:
        extra += f"; {md_escape(d.reason)}"
    return f"- **{d.severity.value}** {md_escape(d.title)} ({md_code(d.fingerprint)}{extra})"


def _findings_section(delta: FindingsDelta) -> list[str]:
    lines = ["## Findings", ""]
    groups = (
        ("New", delta.new, False),
        ("Reported again after a gap", delta.returned, True),
        ("Resolved", delta.resolved, False),
        ("No longer reported, not re-checked", delta.unconfirmed, False),
        ("Waived since", delta.waived_since, False),
        ("Waivers expired", delta.waivers_expired, False),
    )
    for title, items, age in groups:
        if not items:
            continue
        lines += [f"**{title} ({len(items)})**", ""]
        lines += [_finding_line(d, age=age) for d in items[:MAX_PER_SECTION]]
        if len(items) > MAX_PER_SECTION:
            lines.append(f"- and {len(items) - MAX_PER_SECTION} more (see findings.json)")
        lines.append("")
    if delta.persisting:
        lines += [f"**Still reported ({len(delta.persisting)})**, oldest first:", ""]
        lines += [_finding_line(d, age=True) for d in delta.persisting[:5]]
        if len(delta.persisting) > 5:
            lines.append(f"- and {len(delta.persisting) - 5} more (see findings.json)")
        lines.append("")
    return lines


def _actions_section(actions: list[Action]) -> list[str]:
    if not actions:
        return ["## Next", "", "No actions: nothing open calls for a decision.", ""]
    saving = sum(a.estimated_saving or 0 for a in actions)
    lines = [
        "## Next",
        "",
        f"{len(actions)} recommended action{'s' if len(actions) != 1 else ''} in actions.csv"
        + (f", up to {format_money(saving)} a year at stake" if saving else "")
        + ". First:",
        "",
    ]
    for a in actions[:_NEXT_ACTIONS]:
        due = f", by {a.due.isoformat()}" if a.due else ""
        owner = f", owner {md_escape(a.owner)}" if a.owner else ""
        lines.append(f"- {md_escape(a.action)} {md_code(a.subject)}{owner}{due}")
    lines.append("")
    return lines


def changes_markdown(
    stack: str,
    new_snapshot_id: str,
    new_taken_at: datetime,
    diff: SnapshotDiff | None,
    delta: FindingsDelta | None,
    actions: list[Action],
) -> str:
    """The whole ``changes.md``. Without ``diff`` (the first snapshot) it says there is nothing to compare."""
    lines = [f"# What changed: {md_escape(stack)}", ""]
    if diff is None:
        lines += [
            f"Snapshot {md_code(new_snapshot_id)} taken {_date(new_taken_at)} is the first in the store: there is "
            "nothing to compare it with yet. The next review will list what changed since today.",
            "",
        ]
        return "\n".join(lines + _actions_section(actions)).rstrip("\n") + "\n"
    lines += [
        f"Snapshot {md_code(diff.new_snapshot_id)} taken {_date(diff.new_taken_at)}, compared with "
        f"{md_code(diff.old_snapshot_id)} taken {_date(diff.old_taken_at)}.",
        "",
        "## In short",
        "",
    ]
    summary = (delta_lines(delta, MARKDOWN) if delta is not None else []) + diff_lines(diff, MARKDOWN)
    lines += [f"- {s.text}" for s in summary]
    lines.append("")
    if delta is not None:
        lines += _findings_section(delta)
    lines += ["## What changed in the stack", ""]
    if not diff.items:
        lines += ["Nothing: no tool, object, field, fill rate, integration or reference changed.", ""]
    for title, parts in _SECTIONS:
        items = [i for p in parts for i in diff.part(p)]
        if items:
            lines += [f"### {title}", "", *_bullets(items, diff), ""]
    if diff.not_comparable:
        lines += [
            "## Not compared",
            "",
            "These parts were not read completely in both snapshots, so what appeared or disappeared there is not "
            "counted as added or removed:",
            "",
            *(f"- {not_comparable_sentence(nc, MARKDOWN)}" for nc in diff.not_comparable),
            "",
        ]
    lines += _actions_section(actions)
    return "\n".join(lines).rstrip("\n") + "\n"
