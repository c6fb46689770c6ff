"""The report's view model: every grouping, sort, count and formatted figure, decided once from the artifacts.

``build_report_view(snapshot, result, now)`` is a pure function of the saved snapshot and audit result (time is
passed in), so each section is testable without HTML and templates only format what is here.

Silence is never health: a headline figure whose category no rule checked reads "not checked", inconclusive
checks are counted beside it, and the coverage section shows what each source run could and could not see.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from stackaudit_inventory import AuditResult, Category, Finding, FindingStatus, Severity, Snapshot

from ._format import format_datetime, format_money
from ._headlines import Headline, build_headlines, category_anchor, category_states
from ._sections import (
    CoverageView,
    IntegrationRow,
    InventoryView,
    build_coverage,
    build_integrations,
    build_inventory,
    main_currency,
)

__all__ = [
    "CATEGORY_LABELS",
    "CategoryGroup",
    "FindingView",
    "Headline",
    "InconclusiveGroup",
    "ReportView",
    "SeverityGroup",
    "SubjectView",
    "WaiverView",
    "build_headlines",
    "build_report_view",
    "category_anchor",
    "finding_anchor",
    "group_findings",
    "subject_labels",
]

CATEGORY_LABELS: dict[Category, str] = {
    Category.orphaned_field: "Orphaned fields",
    Category.duplicate_field: "Duplicate fields",
    Category.redundant_tool: "Redundant tools",
    Category.unused_tool: "Unused tools",
    Category.broken_sync: "Broken syncs",
    Category.lifecycle_drift: "Lifecycle drift",
    Category.hygiene: "Hygiene",
}
# Open first: what to act on; baselined (known, accepted for now) before waived (explicitly excused).
_STATUS_ORDER = {FindingStatus.open: 0, FindingStatus.baselined: 1, FindingStatus.waived: 2}
_SEVERITIES_DESC = sorted(Severity, key=lambda s: s.rank, reverse=True)


@dataclass(frozen=True, slots=True)
class SubjectView:
    """A subject id with its human name from the snapshot (field label, tool name...), when it has one."""

    id: str
    label: str | None


@dataclass(frozen=True, slots=True)
class WaiverView:
    rule: str
    subject: str
    reason: str
    owner: str
    expires: str
    expired: bool


@dataclass(frozen=True, slots=True)
class FindingView:
    fingerprint: str
    anchor: str
    rule: str
    rule_title: str | None
    category: str
    severity: str
    status: str
    title: str
    subjects: tuple[SubjectView, ...]
    tools: tuple[str, ...]
    evidence: tuple[str, ...]
    not_checked: tuple[str, ...]
    remediation: str
    cost_at_stake: str | None
    waiver: WaiverView | None


@dataclass(frozen=True, slots=True)
class SeverityGroup:
    severity: str
    findings: tuple[FindingView, ...]


@dataclass(frozen=True, slots=True)
class CategoryGroup:
    category: str
    label: str
    anchor: str
    open_count: int
    total: int
    severity_groups: tuple[SeverityGroup, ...]


@dataclass(frozen=True, slots=True)
class InconclusiveGroup:
    rule: str
    rule_title: str | None
    items: tuple[tuple[str, str], ...]  # (subject, reason)


@dataclass(frozen=True, slots=True)
class ReportView:
    stack: str
    snapshot_id: str
    taken_at: str
    generated_at: str
    rendered_at: str
    generator: str
    headlines: tuple[Headline, ...]
    open_by_severity: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    categories: tuple[CategoryGroup, ...]
    clean_categories: tuple[str, ...]
    unchecked_categories: tuple[str, ...]
    filter_tools: tuple[str, ...]
    finding_index: tuple[dict[str, str | list[str]], ...]
    inventory: InventoryView
    integrations: tuple[IntegrationRow, ...]
    coverage: CoverageView
    inconclusive: tuple[InconclusiveGroup, ...]
    inconclusive_count: int
    rules_ran: int

    @property
    def finding_count(self) -> int:
        return sum(c.total for c in self.categories)


def finding_anchor(fp: str) -> str:
    return f"f-{fp}"


def _finding_sort_key(f: Finding) -> tuple[int, int, str, str]:
    return (-f.severity.rank, _STATUS_ORDER[f.status], f.title.casefold(), f.fingerprint)


@dataclass(frozen=True, slots=True)
class _Context:
    rule_titles: dict[str, str]
    labels: dict[str, str]
    currency: str
    now: datetime


def subject_labels(snapshot: Snapshot) -> dict[str, str]:
    """Id -> the name people know it by, for every tool, object, field, asset and named integration."""
    labels: dict[str, str] = {}
    for tool in snapshot.tools:
        labels[tool.id] = tool.name
    for obj in snapshot.objects:
        if obj.label:
            labels[obj.id] = obj.label
    for fld in snapshot.fields:
        if fld.label:
            labels[fld.id] = fld.label
    for asset in snapshot.assets:
        labels[asset.id] = asset.name
    for integration in snapshot.integrations:
        if integration.name:
            labels[integration.id] = integration.name
    return {k: v for k, v in labels.items() if v and v != k}


def _finding_view(f: Finding, ctx: _Context) -> FindingView:
    waiver = None
    if f.waiver is not None:
        waiver = WaiverView(
            rule=f.waiver.rule,
            subject=f.waiver.subject,
            reason=f.waiver.reason,
            owner=f.waiver.owner,
            expires=f.waiver.expires.isoformat(),
            expired=f.waiver.expires < ctx.now.date(),
        )
    return FindingView(
        fingerprint=f.fingerprint,
        anchor=finding_anchor(f.fingerprint),
        rule=f.rule,
        rule_title=ctx.rule_titles.get(f.rule),
        category=f.category.value,
        severity=f.severity.value,
        status=f.status.value,
        title=f.title,
        subjects=tuple(SubjectView(s, ctx.labels.get(s)) for s in f.subjects),
        tools=tuple(f.tools),
        evidence=tuple(f.evidence),
        not_checked=tuple(f.not_checked),
        remediation=f.remediation,
        cost_at_stake=format_money(f.cost_at_stake, ctx.currency) if f.cost_at_stake is not None else None,
        waiver=waiver,
    )


def group_findings(
    result: AuditResult, currency: str, now: datetime, labels: dict[str, str] | None = None
) -> tuple[CategoryGroup, ...]:
    """Findings by category (catalogue order), then severity (worst first), open before baselined and waived."""
    ctx = _Context({r.id: r.title for r in result.rules}, labels or {}, currency, now)
    groups: list[CategoryGroup] = []
    for category in Category:
        members = sorted((f for f in result.findings if f.category is category), key=_finding_sort_key)
        if not members:
            continue
        severity_groups = []
        for severity in _SEVERITIES_DESC:
            views = tuple(_finding_view(f, ctx) for f in members if f.severity is severity)
            if views:
                severity_groups.append(SeverityGroup(severity=severity.value, findings=views))
        groups.append(
            CategoryGroup(
                category=category.value,
                label=CATEGORY_LABELS[category],
                anchor=category_anchor(category),
                open_count=sum(1 for f in members if f.status is FindingStatus.open),
                total=len(members),
                severity_groups=tuple(severity_groups),
            )
        )
    return tuple(groups)


# --------------------------------------------------------------------------------------------- the view


def _inconclusive_groups(result: AuditResult) -> tuple[InconclusiveGroup, ...]:
    titles = {r.id: r.title for r in result.rules}
    by_rule: dict[str, list[tuple[str, str]]] = {}
    for item in result.inconclusive:
        by_rule.setdefault(item.rule, []).append((item.subject, item.reason))
    return tuple(
        InconclusiveGroup(rule=rule, rule_title=titles.get(rule), items=tuple(sorted(items)))
        for rule, items in sorted(by_rule.items())
    )


def _finding_index(groups: tuple[CategoryGroup, ...]) -> tuple[dict[str, str | list[str]], ...]:
    """The small index the client-side filter reads (embedded once as JSON); text search uses the page itself."""
    return tuple(
        {
            "id": f.anchor,
            "severity": f.severity,
            "category": f.category,
            "status": f.status,
            "rule": f.rule,
            "tools": list(f.tools),
        }
        for group in groups
        for sev in group.severity_groups
        for f in sev.findings
    )


def build_report_view(snapshot: Snapshot, result: AuditResult, now: datetime) -> ReportView:
    """Everything the HTML report shows, decided here; ``now`` dates the report and ages (no clock is read)."""
    currency = main_currency(snapshot)
    categories = group_findings(result, currency, now, subject_labels(snapshot))
    states = category_states(result)
    found = {Category(g.category) for g in categories}
    counts = result.counts_by_severity()
    status_counts = Counter(f.status for f in result.findings)
    return ReportView(
        stack=snapshot.stack,
        snapshot_id=snapshot.id,
        taken_at=format_datetime(snapshot.taken_at) or "",
        generated_at=format_datetime(result.generated_at) or "",
        rendered_at=format_datetime(now) or "",
        generator=result.generator,
        headlines=build_headlines(snapshot, result, currency),
        open_by_severity=tuple((s.value, counts[s.value]) for s in _SEVERITIES_DESC),
        by_status=tuple((s.value, status_counts[s]) for s in FindingStatus),
        categories=categories,
        clean_categories=tuple(CATEGORY_LABELS[c] for c, st in states.items() if st.checked and c not in found),
        unchecked_categories=tuple(CATEGORY_LABELS[c] for c, st in states.items() if not st.checked),
        filter_tools=tuple(sorted({t for f in result.findings for t in f.tools})),
        finding_index=_finding_index(categories),
        inventory=build_inventory(snapshot, result, now, currency),
        integrations=build_integrations(snapshot, result, now),
        coverage=build_coverage(snapshot),
        inconclusive=_inconclusive_groups(result),
        inconclusive_count=len(result.inconclusive),
        rules_ran=sum(1 for r in result.rules if r.enabled),
    )
