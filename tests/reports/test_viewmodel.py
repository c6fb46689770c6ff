"""The view model: headline figures, grouping and sorting, inventory, integrations and coverage sections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stackaudit_inventory import (
    AuditResult,
    Capability,
    Coverage,
    CoverageStatus,
    Finding,
    GraphExport,
    Snapshot,
    fingerprint,
)
from stackaudit_reports._format import (
    format_age,
    format_interval,
    format_money,
    format_money_compact,
    format_percent,
)
from stackaudit_reports._headlines import MAX_HEADLINES, money_at_stake
from stackaudit_reports.viewmodel import build_report_view


def test_headlines_are_at_most_five_and_correct(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    view = build_report_view(snapshot, result, now)
    assert len(view.headlines) <= MAX_HEADLINES == 5
    got = {h.key: (h.value, h.tone, h.anchor) for h in view.headlines}
    assert got == {
        # The waived orphaned field is not counted.
        "orphaned-fields": ("1", "warn", "#cat-orphaned-field"),
        # Drift is in both the overlap and the unused finding: its $18k counts once.
        "spend-at-stake": ("$18k", "warn", "#cat-redundant-tool"),
        # The baselined drift->hubspot failure is not open.
        "broken-syncs": ("1", "alert", "#cat-broken-sync"),
        # No source read lifecycle stages and one check was inconclusive: not a zero, linked to that check.
        "lifecycle-gaps": ("—", "unknown", "#inconclusive"),
        # The removed tool is ignored: 3 of HubSpot, Salesforce, Drift, Intercom have owners.
        "owned-tools": ("75%", "warn", "#inventory"),
    }
    lifecycle = next(h for h in view.headlines if h.key == "lifecycle-gaps")
    assert lifecycle.detail == "Not checked: no source read lifecycle stages. 1 check inconclusive (missing data)."


def _covering(snapshot: Snapshot, *caps: Capability) -> Snapshot:
    manifest = snapshot.source_runs[0]
    coverage = {**manifest.coverage, **{c: Coverage(status=CoverageStatus.complete) for c in caps}}
    runs = [manifest.model_copy(update={"coverage": coverage}), *snapshot.source_runs[1:]]
    return snapshot.model_copy(update={"source_runs": runs})


def test_a_zero_counts_only_when_a_source_read_the_data(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    covered = _covering(snapshot, Capability.lifecycle)
    lifecycle = next(h for h in build_report_view(covered, result, now).headlines if h.key == "lifecycle-gaps")
    # Read, nothing found, but one check inconclusive: a zero, still not shown as good.
    assert (lifecycle.value, lifecycle.tone) == ("0", "unknown")
    clean = result.model_copy(update={"inconclusive": []})
    lifecycle = next(h for h in build_report_view(covered, clean, now).headlines if h.key == "lifecycle-gaps")
    assert (lifecycle.value, lifecycle.tone, lifecycle.anchor) == ("0", "good", "#findings")
    assert lifecycle.detail == "No lifecycle mismatches found."

    # No source read any fields: an orphaned-field rule that found nothing proves nothing.
    no_fields = result.model_copy(update={"findings": [f for f in result.findings if f.rule != "OF001"]})
    bare = snapshot.model_copy(update={"source_runs": snapshot.source_runs[:1]})
    orphaned = next(h for h in build_report_view(bare, no_fields, now).headlines if h.key == "orphaned-fields")
    assert (orphaned.value, orphaned.tone) == ("—", "unknown")
    assert orphaned.detail == "Not checked: no source read any tool's fields."


def test_every_headline_anchor_names_a_section_in_the_view(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    view = build_report_view(snapshot, result, now)
    anchors = {"#" + c.anchor for c in view.categories} | {"#inventory", "#findings", "#inconclusive"}
    assert {h.anchor for h in view.headlines} <= anchors


def test_headline_reads_not_checked_when_no_rule_ran(snapshot: Snapshot, now: datetime) -> None:
    bare = AuditResult(generated_at=now, snapshot_id=snapshot.id, stack=snapshot.stack)
    view = build_report_view(snapshot, bare, now)
    values = {h.key: (h.value, h.tone) for h in view.headlines}
    assert values["orphaned-fields"] == ("—", "unknown")
    assert values["spend-at-stake"] == ("—", "unknown")
    assert values["broken-syncs"] == ("—", "unknown")
    assert len(view.unchecked_categories) == 7
    assert view.categories == ()


def _f(rule: str, tools: list[str], cost: float | None) -> Finding:
    return Finding(
        fingerprint=fingerprint(rule, tools),
        rule=rule,
        category="redundant-tool",
        severity="high",
        subjects=tools,
        title="t",
        remediation="r",
        tools=tools,
        cost_at_stake=cost,
    )


def test_money_at_stake_counts_tools_shared_between_findings_once() -> None:
    findings = [_f("RT1", ["a", "b"], 100), _f("UT1", ["b"], 80), _f("UT2", ["c"], 50), _f("UT3", ["d", "c"], 70)]
    # {a,b} joined with {b}: max 100; {c} joined with {c,d}: max 70.
    assert money_at_stake(findings) == 170
    assert money_at_stake([]) == 0


def test_findings_grouped_by_category_then_severity_with_waived_marked(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    view = build_report_view(snapshot, result, now)
    assert [c.category for c in view.categories] == ["orphaned-field", "redundant-tool", "unused-tool", "broken-sync"]
    orphaned = view.categories[0]
    assert (orphaned.open_count, orphaned.total) == (1, 2)
    findings = orphaned.severity_groups[0].findings
    assert [f.status for f in findings] == ["open", "waived"]
    waived = findings[1]
    assert waived.waiver is not None and waived.waiver.expired  # expired 2025-01-01, report dated 2025-01-15
    assert waived.waiver.owner == "Jane"

    syncs = view.categories[3]
    assert [g.severity for g in syncs.severity_groups] == ["critical", "high"]
    assert syncs.severity_groups[0].findings[0].status == "baselined"
    assert view.by_status == (("open", 4), ("waived", 1), ("baselined", 1))
    assert dict(view.open_by_severity) == {"critical": 0, "high": 2, "medium": 2, "low": 0, "info": 0}


def test_finding_view_carries_evidence_labels_and_money(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    view = build_report_view(snapshot, result, now)
    of = view.categories[0].severity_groups[0].findings[0]
    assert of.subjects[0].id == "hubspot:contacts.legacy_score"
    assert of.subjects[0].label == "Legacy Score"
    assert of.not_checked == ("Reports could not be read (scope)",)
    assert of.rule_title == "Orphaned custom field"
    rt = view.categories[1].severity_groups[0].findings[0]
    assert rt.cost_at_stake == "$18,000"
    assert [s.label for s in rt.subjects] == ["Drift", "Intercom"]


def test_checked_and_unchecked_categories(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    view = build_report_view(snapshot, result, now)
    assert view.clean_categories == ("Duplicate fields", "Lifecycle drift")
    assert view.unchecked_categories == ("Hygiene",)
    assert [(g.rule, g.items) for g in view.inconclusive] == [("LD001", (("salesforce", "lifecycle not covered"),))]


def test_finding_index_is_in_page_order(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    view = build_report_view(snapshot, result, now)
    ids = [f.anchor for c in view.categories for g in c.severity_groups for f in g.findings]
    assert [entry["id"] for entry in view.finding_index] == ids
    assert view.filter_tools == ("drift", "hubspot", "intercom", "salesforce")


def test_inventory_rows(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    inv = build_report_view(snapshot, result, now).inventory
    assert [r.name for r in inv.rows] == ["Drift", "HubSpot", "Intercom", "Salesforce", "Typeform"]
    drift = inv.rows[0]
    assert drift.owner is None
    assert drift.annual_cost == "$18,000"  # 1,500 a month
    assert (drift.seats, drift.seat_use, drift.seat_use_low) == ("3 / 10", "30%", True)
    assert (drift.renewal, drift.notice, drift.notice_state) == ("2025-03-01", "2025-02-01", "soon")
    assert drift.open_findings == 2  # overlap + unused; the baselined sync does not count
    hubspot = inv.rows[1]
    assert (hubspot.seat_use, hubspot.seat_use_low, hubspot.notice_state) == ("80%", False, "")
    assert inv.spend == ("$198,000",)
    assert (inv.tool_count, inv.in_use_count, inv.unowned_count, inv.renewals_soon) == (5, 4, 1, 1)


def test_integrations_worst_first_with_health_from_the_graph(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    rows = build_report_view(snapshot, result, now).integrations
    assert [(r.id, r.health) for r in rows] == [("drift->hubspot", "broken"), ("hubspot->salesforce", "stale")]
    hs = rows[1]
    assert (hs.source, hs.target, hs.direction) == ("HubSpot", "Salesforce", "two-way")
    assert (hs.errors, hs.error_rate) == ("5 of 105 in 7 days", "5%")
    assert (hs.last_success_age, hs.expected_interval, hs.mapped_fields) == ("3 days ago", "every 15 min", 2)
    assert hs.open_findings == 1


def test_integration_health_falls_back_to_vendor_status(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    no_graph = result.model_copy(update={"graph": GraphExport()})
    rows = build_report_view(snapshot, no_graph, now).integrations
    assert [(r.id, r.health) for r in rows] == [("drift->hubspot", "broken"), ("hubspot->salesforce", "unknown")]


def test_coverage_per_source_run(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    cov = build_report_view(snapshot, result, now).coverage
    assert cov.capabilities == ("tools", "costs", "fields", "references")
    assert [r.id for r in cov.runs] == ["hubspot", "manifest"]
    hubspot = cov.runs[0]
    assert [c.status for c in hubspot.cells] == ["not_supported", "not_supported", "complete", "missing"]
    assert hubspot.cells[3].reason == "no scope"
    assert (hubspot.api_calls, hubspot.status, hubspot.duration) == (42, "partial", "3 min")
    assert hubspot.errors[0].code == "scope"
    assert (cov.total_calls, cov.partial_runs, cov.failed_runs) == (42, 1, 0)
    # No API source read these: the report must say so rather than imply they are healthy.
    assert cov.unobserved_tools == ("Drift", "Intercom", "Salesforce")


def test_view_does_not_read_the_clock(snapshot: Snapshot, result: AuditResult) -> None:
    later = datetime(2025, 6, 1, tzinfo=UTC)
    view = build_report_view(snapshot, result, later)
    assert view.rendered_at == "2025-06-01 00:00 UTC"
    assert view.integrations[1].last_success_age == "140 days ago"


@pytest.mark.parametrize(
    ("amount", "currency", "full", "compact"),
    [
        (18000, "USD", "$18,000", "$18k"),
        (1250, "EUR", "€1,250", "€1.2k"),
        (2_400_000, "GBP", "£2,400,000", "£2.4M"),
        (950, "CHF", "950 CHF", "950 CHF"),
        (0, "USD", "$0", "$0"),
    ],
)
def test_money_formatting(amount: float, currency: str, full: str, compact: str) -> None:
    assert format_money(amount, currency) == full
    assert format_money_compact(amount, currency) == compact


def test_small_formatters() -> None:
    now = datetime(2025, 1, 15, tzinfo=UTC)
    assert format_percent(0.004) == "<1%"
    assert format_percent(None) is None
    assert format_age(now - timedelta(minutes=20), now) == "20 min ago"
    assert format_age(now + timedelta(hours=5), now) == "in 5 h"
    assert format_interval(1440) == "every day"
    assert format_interval(360) == "every 6 h"
