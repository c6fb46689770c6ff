"""Sentences for people: one per diff item, one per part not compared, and the summary lines of a review.

The same wording serves the terminal, Markdown (``changes.md``, ``diff --format md``) and the HTML report; a
:class:`Style` says how ids and free text are written (escaped for Markdown, as is elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from stackaudit_reports._format import format_money
from stackaudit_reports.exports import md_code, md_escape

from .model import AttrChange, Change, DeltaFinding, DiffItem, FindingsDelta, NotComparable, Part, Scalar, SnapshotDiff

__all__ = [
    "MARKDOWN",
    "PLAIN",
    "Style",
    "SummaryLine",
    "attr_text",
    "delta_lines",
    "diff_lines",
    "item_sentence",
    "not_comparable_sentence",
]

Tone = Literal["alert", "warn", "good", "neutral"]


@dataclass(frozen=True, slots=True)
class Style:
    code: Callable[[str], str]
    text: Callable[[str], str]


def _same(value: str) -> str:
    return value


PLAIN = Style(code=_same, text=_same)
MARKDOWN = Style(code=md_code, text=md_escape)

_ATTR_NAMES = {
    "annual_cost": "annual cost",
    "seats_bought": "seats bought",
    "seats_used": "seats used",
    "notice_date": "notice date",
    "owning_tool": "owning tool",
    "fill_rate": "fill rate",
}
_CAPABILITIES = {"fill_rates": "fill rates", "sync_health": "sync health"}
_COVERAGE = {"not_supported": "not read", "not_pulled": "not pulled"}
_QUOTED = ("name", "owner", "label", "description")
_LONG_TEXT = 60
_TITLES = 3


def _value(attr: AttrChange, value: Scalar, style: Style) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if attr.name == "annual_cost" and isinstance(value, int | float):
        return format_money(float(value), attr.unit or "USD")
    if attr.name == "fill_rate" and isinstance(value, int | float):
        return f"{value:.0%}"
    text = str(value)
    if attr.name in _QUOTED:
        short = text if len(text) <= _LONG_TEXT else text[: _LONG_TEXT - 1] + "…"
        return style.text(f"'{short}'")
    return style.code(text) if attr.name in ("owning_tool", "type", "status") else style.text(text)


def attr_text(attr: AttrChange, style: Style = PLAIN) -> str:
    """``annual cost $64,000 → $48,000``, ``options added: apac; options removed: latam``."""
    name = _ATTR_NAMES.get(attr.name, attr.name)
    if attr.added or attr.removed:
        parts = []
        if attr.added:
            parts.append(f"{name} added: " + ", ".join(style.code(v) for v in attr.added))
        if attr.removed:
            parts.append(f"{name} removed: " + ", ".join(style.code(v) for v in attr.removed))
        return "; ".join(parts)
    return f"{name} {_value(attr, attr.old, style)} → {_value(attr, attr.new, style)}"


def _attrs(item: DiffItem, style: Style) -> str:
    return "; ".join(attr_text(a, style) for a in item.attrs)


def item_sentence(item: DiffItem, style: Style = PLAIN) -> str:
    """One line for one diff item, e.g. ``Field hubspot:contacts.region: type string → enum``."""
    code, text = style.code, style.text
    if item.part == "references":
        verb = "reads" if item.mode == "read" else "writes"
        now = "now" if item.change is Change.added else "no longer"
        return f"{code(item.asset or '?')} {now} {verb} {code(item.id)}"
    if item.part == "fill_rates":
        return f"Fill rate of {code(item.id)}: " + _attrs(item, style).removeprefix("fill rate ")
    if item.part == "tools":
        name = f"{text(item.label)} ({code(item.id)})" if item.label and item.label != item.id else code(item.id)
        if item.change is Change.changed:
            return f"{name}: {_attrs(item, style)}"
        return f"{name} {'added to' if item.change is Change.added else 'removed from'} the stack"
    noun = {"objects": "Object", "fields": "Field", "integrations": "Integration"}[item.part]
    if item.change is Change.changed:
        return f"{noun} {code(item.id)}: {_attrs(item, style)}"
    label = f" ({text(item.label)})" if item.label and item.part != "integrations" else ""
    return f"{noun} {code(item.id)}{label} {item.change.value}"


def not_comparable_sentence(nc: NotComparable, style: Style = PLAIN) -> str:
    """``salesforce fields: complete before, partial now (query timeout); 3 items not compared (e.g. ...)``."""
    cap = _CAPABILITIES.get(nc.capability, nc.capability)
    old, new = _COVERAGE.get(nc.old, nc.old), _COVERAGE.get(nc.new, nc.new)
    line = f"{style.code(nc.source)} {cap}: {old} before, {new} now ({style.text(nc.reason)})"
    if nc.skipped:
        examples = ", ".join(style.code(e) for e in nc.examples)
        noun = "item" if nc.skipped == 1 else "items"
        line += f"; {nc.skipped} {noun} not compared (e.g. {examples})"
    return line


# ------------------------------------------------------------------------------------------- summaries


@dataclass(frozen=True, slots=True)
class SummaryLine:
    text: str
    tone: Tone = "neutral"
    anchor: str | None = None


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _titles(items: list[DeltaFinding], style: Style) -> str:
    shown = "; ".join(style.text(d.title) for d in items[:_TITLES])
    more = f"; and {len(items) - _TITLES} more" if len(items) > _TITLES else ""
    return f": {shown}{more}" if items else ""


def delta_lines(delta: FindingsDelta, style: Style = PLAIN) -> list[SummaryLine]:
    """The findings delta in a few lines, new findings first (the summary leads with them)."""
    lines: list[SummaryLine] = []
    serious = any(d.severity.rank >= 2 for d in delta.new)  # medium or worse
    if delta.new:
        lines.append(
            SummaryLine(
                f"{_plural(len(delta.new), 'new finding')}{_titles(delta.new, style)}",
                "alert" if serious else "warn",
                "#findings",
            )
        )
    else:
        lines.append(SummaryLine("No new findings.", "good", "#findings"))
    if delta.returned:
        n = len(delta.returned)
        lines.append(
            SummaryLine(
                f"{_plural(n, 'finding')} reported again after a gap{_titles(delta.returned, style)}",
                "warn",
                "#findings",
            )
        )
    if delta.resolved:
        lines.append(
            SummaryLine(f"{_plural(len(delta.resolved), 'finding')} resolved{_titles(delta.resolved, style)}", "good")
        )
    if delta.unconfirmed:
        n = len(delta.unconfirmed)
        lines.append(
            SummaryLine(
                f"{_plural(n, 'finding')} no longer reported but not re-checked (a source or rule did not "
                f"run){_titles(delta.unconfirmed, style)}",
                "warn",
            )
        )
    if delta.waived_since:
        lines.append(
            SummaryLine(
                f"{_plural(len(delta.waived_since), 'finding')} waived since{_titles(delta.waived_since, style)}",
                "neutral",
                "#findings",
            )
        )
    if delta.waivers_expired:
        n = len(delta.waivers_expired)
        lines.append(
            SummaryLine(
                f"{_plural(n, 'waiver')} expired, {'its finding is' if n == 1 else 'their findings are'} open "
                f"again{_titles(delta.waivers_expired, style)}",
                "warn",
                "#findings",
            )
        )
    if delta.persisting:
        oldest = min(delta.persisting, key=lambda d: d.first_seen or delta.new_taken_at)
        since = ""
        if oldest.first_seen is not None:
            age = _plural(oldest.age_days or 0, "day")
            since = f"; the oldest first seen {oldest.first_seen.date().isoformat()} ({age} ago)"
        lines.append(SummaryLine(f"{_plural(len(delta.persisting), 'finding')} still reported{since}.", "neutral"))
    return lines


def _counts(added: int, removed: int, changed: int) -> str:
    parts = [f"{n} {w}" for n, w in ((added, "added"), (removed, "removed"), (changed, "changed")) if n]
    return ", ".join(parts)


def _names(items: list[DiffItem], style: Style) -> str:
    shown = ", ".join(style.text(i.label or i.id) for i in items[:_TITLES])
    return f" ({shown}{', ...' if len(items) > _TITLES else ''})" if items else ""


def diff_lines(diff: SnapshotDiff, style: Style = PLAIN) -> list[SummaryLine]:
    """What changed in the stack, one line per part that changed, then the parts that were not compared."""
    lines: list[SummaryLine] = []
    counts = diff.counts()
    tools = counts["tools"]
    if any(tools.values()):
        added, removed = diff.part("tools", Change.added), diff.part("tools", Change.removed)
        text = ", ".join(
            s
            for s in (
                f"{len(added)} added{_names(added, style)}" if added else "",
                f"{len(removed)} removed{_names(removed, style)}" if removed else "",
                f"{tools['changed']} changed" if tools["changed"] else "",
            )
            if s
        )
        lines.append(SummaryLine(f"Tools: {text}.", "neutral", "#history"))
    old_spend, new_spend = diff.old_totals.annual_spend, diff.new_totals.annual_spend
    if round(old_spend) != round(new_spend):
        currency = diff.new_totals.currency
        change = new_spend - old_spend
        sign = "+" if change > 0 else "-"
        lines.append(
            SummaryLine(
                f"Annual licence spend {format_money(old_spend, currency)} → {format_money(new_spend, currency)} "
                f"({sign}{format_money(abs(change), currency)}).",
                "warn" if change > 0 else "good",
                "#procurement",
            )
        )
    named: tuple[tuple[Part, str], ...] = (("objects", "Objects"), ("fields", "Fields"))
    for part, noun in named:
        c = counts[part]
        if any(c.values()):
            tools_hit = sorted({i.tool for i in diff.part(part)})
            where = f" in {', '.join(style.code(t) for t in tools_hit)}"
            lines.append(
                SummaryLine(f"{noun}: {_counts(c['added'], c['removed'], c['changed'])}{where}.", "neutral", "#history")
            )
    fills = counts["fill_rates"]["changed"]
    if fills:
        points = round(diff.fill_threshold * 100)
        text = f"{_plural(fills, 'fill rate')} moved by more than {points} points."
        lines.append(SummaryLine(text, "neutral", "#history"))
    for item in diff.part("integrations", Change.changed):
        status = next((a for a in item.attrs if a.name == "status"), None)
        if status is not None:
            tone: Tone = (
                "alert" if status.new in ("error", "disabled") else "good" if status.new == "active" else "warn"
            )
            lines.append(
                SummaryLine(f"{style.code(item.id)} is now {status.new} (was {status.old}).", tone, "#integrations")
            )
    c = counts["integrations"]
    if c["added"] or c["removed"]:
        lines.append(SummaryLine(f"Integrations: {_counts(c['added'], c['removed'], 0)}.", "neutral", "#integrations"))
    refs = counts["references"]
    if refs["added"] or refs["removed"]:
        text = ", ".join(
            s
            for s in (
                f"{refs['added']} gained" if refs["added"] else "",
                f"{refs['removed']} lost" if refs["removed"] else "",
            )
            if s
        )
        lines.append(SummaryLine(f"References: {text}.", "neutral", "#history"))
    if not diff.items:
        lines.append(SummaryLine("No changes to tools, fields, integrations or references.", "neutral"))
    for nc in diff.not_comparable:
        lines.append(SummaryLine("Not compared: " + not_comparable_sentence(nc, style), "warn", "#history"))
    return lines
