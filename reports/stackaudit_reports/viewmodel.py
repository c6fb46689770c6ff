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
from stackaudit_inventory.ids import is_tool_slug, parse_field_id
from stackaudit_inventory.results import FieldImpactExport

from ._coverage import CoverageView, build_coverage
from ._fields import FieldExplorerView, build_field_explorer
from ._format import format_datetime, format_money
from ._headlines import Headline, build_headlines, category_anchor, category_states
from ._lifecycle import LifecycleView, build_lifecycle
from ._procurement import ProcurementView, build_procurement
from ._sections import IntegrationRow, InventoryView, build_integrations, build_inventory, main_currency
from .changes import SnapshotChanges

__all__ = [
    "CATEGORY_LABELS",
    "MAX_FINDINGS_PER_CATEGORY",
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
# A category with thousands of findings (orphaned fields in a 100,000-field org) shows its worst this many in
# full; the rest are counted, and remain in the field explorer and in the JSON, CSV and Markdown exports.
MAX_FINDINGS_PER_CATEGORY = 200


@dataclass(frozen=True, slots=True)
class SubjectView:
    """A subject id with its human name from the snapshot (field label, tool name...), when it has one."""

    id: str
    label: str | None
    is_field: bool = False  # a field id: the report can show its impact


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
    objects: tuple[str, ...]  # object ids the subjects belong to, for the object filter
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
    not_shown: int  # findings past MAX_FINDINGS_PER_CATEGORY, counted but not rendered


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
    filter_rules: tuple[tuple[str, str], ...]  # (rule id, "OF001 · title")
    filter_objects: tuple[str, ...]
    finding_index: tuple[dict[str, str | list[str]], ...]
    changes: SnapshotChanges | None
    inventory: InventoryView
    procurement: ProcurementView
    integrations: tuple[IntegrationRow, ...]
    fields: FieldExplorerView
    lifecycle: LifecycleView
    coverage: CoverageView
    inconclusive: tuple[InconclusiveGroup, ...]
    inconclusive_count: int
    rules_ran: int

    @property
    def finding_count(self) -> int:
        return sum(c.total for c in self.categories)

    @property
    def findings_not_shown(self) -> int:
        return sum(c.not_shown for c in self.categories)


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
    object_ids: frozenset[str] = frozenset()


def _field_object(subject: str) -> str | None:
    """The object id of a field id (``hubspot:contacts``), or None when ``subject`` is no field id."""
    try:
        parsed = parse_field_id(subject)
    except ValueError:
        return None
    return f"{parsed.tool}:{parsed.object}" if is_tool_slug(parsed.tool) else None


def _objects_of(subjects: list[str], object_ids: frozenset[str]) -> tuple[str, ...]:
    found = {obj for s in subjects if (obj := _field_object(s) or (s if s in object_ids else None))}
    return tuple(sorted(found))


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
        subjects=tuple(SubjectView(s, ctx.labels.get(s), _field_object(s) is not None) for s in f.subjects),
        tools=tuple(f.tools),
        objects=_objects_of(f.subjects, ctx.object_ids),
        evidence=tuple(f.evidence),
        not_checked=tuple(f.not_checked),
        remediation=f.remediation,
        cost_at_stake=format_money(f.cost_at_stake, ctx.currency) if f.cost_at_stake is not None else None,
        waiver=waiver,
    )


def group_findings(
    result: AuditResult,
    currency: str,
    now: datetime,
    labels: dict[str, str] | None = None,
    object_ids: frozenset[str] = frozenset(),
) -> tuple[CategoryGroup, ...]:
    """Findings by category (catalogue order), then severity (worst first), open before baselined and waived;
    at most :data:`MAX_FINDINGS_PER_CATEGORY` per category are rendered, the worst first."""
    ctx = _Context({r.id: r.title for r in result.rules}, labels or {}, currency, now, object_ids)
    groups: list[CategoryGroup] = []
    for category in Category:
        members = sorted((f for f in result.findings if f.category is category), key=_finding_sort_key)
        if not members:
            continue
        shown = members[:MAX_FINDINGS_PER_CATEGORY]
        severity_groups = []
        for severity in _SEVERITIES_DESC:
            views = tuple(_finding_view(f, ctx) for f in shown if f.severity is severity)
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
                not_shown=len(members) - len(shown),
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
            "objects": list(f.objects),
        }
        for group in groups
        for sev in group.severity_groups
        for f in sev.findings
    )


def _rule_options(result: AuditResult) -> tuple[tuple[str, str], ...]:
    titles = {r.id: r.title for r in result.rules}
    rules = sorted({f.rule for f in result.findings})
    return tuple((r, f"{r} · {titles[r]}" if r in titles else r) for r in rules)


def build_report_view(
    snapshot: Snapshot,
    result: AuditResult,
    now: datetime,
    *,
    impact: FieldImpactExport | None = None,
    changes: SnapshotChanges | None = None,
) -> ReportView:
    """Everything the HTML report shows, decided here; ``now`` dates the report and ages (no clock is read).

    ``impact`` (computed from the stack graph outside this package) fills the field impact panel; without it the
    panel says impact was not computed. ``changes`` fills the summary's "since the last snapshot" slot.
    """
    currency = main_currency(snapshot)
    categories = group_findings(result, currency, now, subject_labels(snapshot), frozenset(snapshot.objects_by_id))
    anchors = {f.fingerprint: f.anchor for g in categories for sev in g.severity_groups for f in sev.findings}
    index = _finding_index(categories)
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
        filter_rules=_rule_options(result),
        filter_objects=tuple(sorted({o for entry in index for o in entry["objects"]})),
        finding_index=index,
        changes=changes,
        inventory=build_inventory(snapshot, result, now, currency),
        procurement=build_procurement(snapshot, result, now, currency, anchors),
        integrations=build_integrations(snapshot, result, now),
        fields=build_field_explorer(snapshot, result, impact, anchors),
        lifecycle=build_lifecycle(snapshot, result, anchors),
        coverage=build_coverage(snapshot),
        inconclusive=_inconclusive_groups(result),
        inconclusive_count=len(result.inconclusive),
        rules_ran=sum(1 for r in result.rules if r.enabled),
    )
