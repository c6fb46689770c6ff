"""The summary's headline figures: at most five, each linking to the section that holds its evidence.

A figure whose category no rule checked reads "not checked" rather than zero, and inconclusive checks are
counted beside it: silence is never shown as health.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from stackaudit_inventory import (
    AuditResult,
    Capability,
    Category,
    CoverageStatus,
    Finding,
    FindingStatus,
    Snapshot,
    ToolStatus,
)

from ._format import format_money_compact, format_percent

__all__ = [
    "MAX_HEADLINES",
    "CategoryState",
    "Headline",
    "Tone",
    "build_headlines",
    "category_anchor",
    "category_states",
    "money_at_stake",
]

MAX_HEADLINES = 5
Tone = Literal["alert", "warn", "good", "neutral", "unknown"]


@dataclass(frozen=True, slots=True)
class Headline:
    """One of at most five summary figures, linking to the section holding its evidence."""

    key: str
    label: str
    value: str
    detail: str
    anchor: str
    tone: Tone


def category_anchor(category: Category | str) -> str:
    return f"cat-{Category(category).value}"


@dataclass(frozen=True, slots=True)
class CategoryState:
    checked: bool
    inconclusive: int
    open: list[Finding]


def category_states(result: AuditResult) -> dict[Category, CategoryState]:
    """Whether some rule looked at each category, and how many of its checks could not be evaluated."""
    rule_category = {r.id: r.category for r in result.rules}
    enabled = {r.category for r in result.rules if r.enabled}
    inconclusive = Counter(rule_category[i.rule] for i in result.inconclusive if i.rule in rule_category)
    states = {}
    for category in Category:
        members = [f for f in result.findings if f.category is category]
        states[category] = CategoryState(
            checked=category in enabled or bool(members),
            inconclusive=inconclusive[category],
            open=[f for f in members if f.status is FindingStatus.open],
        )
    return states


def _evidence_anchor(category: str, has_findings: bool, inconclusive: int) -> str:
    """Where the evidence is: the category's findings, else the inconclusive checks, else the findings section
    (which lists the categories checked clean and those no rule checked)."""
    if has_findings:
        return category
    return "#inconclusive" if inconclusive else "#findings"


@dataclass(frozen=True, slots=True)
class _CountSpec:
    key: str
    label: str
    category: Category
    none_found: str  # the detail when the figure is a real zero
    needs: Capability  # what some source must have read for a zero to mean anything
    needs_text: str
    bad_tone: Tone


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _count_headline(spec: _CountSpec, count: int, state: CategoryState, covered: set[Capability]) -> Headline:
    anchor = _evidence_anchor("#" + category_anchor(spec.category), bool(state.open), state.inconclusive)
    inconclusive = f" {_plural(state.inconclusive, 'check')} inconclusive (missing data)." if state.inconclusive else ""
    if not state.checked:
        return Headline(spec.key, spec.label, "—", "Not checked: no rule for this ran.", anchor, "unknown")
    if not count and spec.needs not in covered:
        # A rule ran, but over nothing: no source read what it looks at, so zero would be silence, not health.
        detail = f"Not checked: no source read {spec.needs_text}." + inconclusive
        return Headline(spec.key, spec.label, "—", detail, anchor, "unknown")
    if count:
        detail, tone = f"In {_plural(len(state.open), 'open finding')}.", spec.bad_tone
    else:
        detail, tone = spec.none_found, ("unknown" if state.inconclusive else "good")
    return Headline(spec.key, spec.label, str(count), detail + inconclusive, anchor, tone)


def _distinct_subjects(findings: list[Finding], known: set[str] | None = None) -> int:
    """Distinct subjects across findings; with ``known``, subjects outside it count once per finding."""
    seen: set[str] = set()
    for f in findings:
        hits = [s for s in f.subjects if known is None or s in known]
        seen.update(hits or [f"finding:{f.fingerprint}"])
    return len(seen)


def money_at_stake(findings: list[Finding]) -> float:
    """Money at stake across findings, never counting the same tool's money twice.

    ``cost_at_stake`` does not say which tool the money belongs to, so findings sharing a tool (an overlap and
    an unused-tool finding about the same product) are joined and only the largest amount in each group
    counts: the figure is a floor that a reader can trust, not a sum that double counts.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys = []
    for f in findings:
        members = sorted(set(f.tools or f.subjects)) or [f"finding:{f.fingerprint}"]
        for other in members[1:]:
            parent[find(other)] = find(members[0])
        keys.append(members[0])
    best: dict[str, float] = {}
    for f, key in zip(findings, keys, strict=True):
        root = find(key)
        best[root] = max(best.get(root, 0.0), f.cost_at_stake or 0.0)
    return sum(best.values())


def _spend_headline(states: dict[Category, CategoryState], currency: str) -> Headline:
    label = "Annual spend on overlapping or unused tools"
    cats = (Category.redundant_tool, Category.unused_tool)
    first = next((c for c in cats if states[c].open), cats[0])
    inconclusive = sum(states[c].inconclusive for c in cats)
    anchor = _evidence_anchor("#" + category_anchor(first), bool(states[first].open), inconclusive)
    if not any(states[c].checked for c in cats):
        return Headline("spend-at-stake", label, "—", "Not checked: no rule for this ran.", anchor, "unknown")
    findings = [f for c in cats for f in states[c].open]
    costed = [f for f in findings if f.cost_at_stake is not None]
    unknown = len(findings) - len(costed)
    total = money_at_stake(costed)
    if not findings:
        detail = "No overlapping or unused tools found."
    else:
        detail = f"From {len(findings)} open finding{'s' if len(findings) != 1 else ''}"
        detail += f"; {unknown} without a known cost." if unknown else "."
        if len(costed) > 1:
            detail += " Tools in several findings are counted once."
    if inconclusive:
        detail += f" {inconclusive} check{'s' if inconclusive != 1 else ''} inconclusive."
    tone: Tone = "warn" if total or findings else ("unknown" if inconclusive else "good")
    return Headline("spend-at-stake", label, format_money_compact(total, currency), detail, anchor, tone)


def _owner_headline(snapshot: Snapshot) -> Headline:
    label = "Tools with a named owner"
    tools = [t for t in snapshot.tools if t.status is not ToolStatus.removed]
    if not tools:
        return Headline("owned-tools", label, "—", "No tools in the inventory.", "#inventory", "unknown")
    owned = sum(1 for t in tools if t.owner and t.owner.strip())
    share = owned / len(tools)
    tone: Tone = "good" if owned == len(tools) else ("warn" if share >= 0.75 else "alert")
    detail = f"{owned} of {len(tools)} tools in use have an accountable person or team."
    return Headline("owned-tools", label, format_percent(share) or "—", detail, "#inventory", tone)


_ORPHANED = _CountSpec(
    "orphaned-fields",
    "Custom fields flagged as orphaned",
    Category.orphaned_field,
    "No orphaned fields found.",
    Capability.fields,
    "any tool's fields",
    "warn",
)
_SYNCS = _CountSpec(
    "broken-syncs",
    "Integrations broken or stale",
    Category.broken_sync,
    "No broken or stale syncs found.",
    Capability.sync_health,
    "sync health",
    "alert",
)
_LIFECYCLE = _CountSpec(
    "lifecycle-gaps",
    "Lifecycle definition gaps",
    Category.lifecycle_drift,
    "No lifecycle mismatches found.",
    Capability.lifecycle,
    "lifecycle stages",
    "warn",
)


def build_headlines(snapshot: Snapshot, result: AuditResult, currency: str) -> tuple[Headline, ...]:
    """The five figures leadership reads, each linking to its evidence. Never more than five."""
    states = category_states(result)
    covered = {
        cap
        for run in snapshot.source_runs
        for cap, cov in run.coverage.items()
        if cov.status in (CoverageStatus.complete, CoverageStatus.partial)
    }
    orphaned = states[Category.orphaned_field]
    syncs = states[Category.broken_sync]
    lifecycle = states[Category.lifecycle_drift]
    headlines = (
        _count_headline(_ORPHANED, _distinct_subjects(orphaned.open), orphaned, covered),
        _spend_headline(states, currency),
        _count_headline(_SYNCS, _distinct_subjects(syncs.open, set(snapshot.integrations_by_id)), syncs, covered),
        _count_headline(_LIFECYCLE, len(lifecycle.open), lifecycle, covered),
        _owner_headline(snapshot),
    )
    return headlines[:MAX_HEADLINES]
