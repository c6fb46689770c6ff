"""Trends across the history's five snapshots: each figure moves exactly as the known changes say."""

from __future__ import annotations

import csv
import io

from stackaudit.commands import audit_snapshot
from stackaudit.history.audits import AuditHistory
from stackaudit.history.model import TrendPoint
from stackaudit.history.trends import TREND_COLUMNS, build_trends, overlap_spend, trends_csv
from stackaudit_inventory import Category, Finding, Severity

from .conftest import TIMES, History


def points(history: History) -> list[TrendPoint]:
    return build_trends(AuditHistory(history.store, lambda snap: audit_snapshot(history.config, snap)))


def test_trend_figures_follow_the_known_changes(history: History) -> None:
    pts = points(history)
    assert [p.taken_at for p in pts] == TIMES
    assert [p.completeness for p in pts] == ["complete", "complete", "complete", "partial", "complete"]
    assert [p.result for p in pts] == ["stored", "stored", "stored", "computed", "computed"]
    assert [p.tools for p in pts] == [26, 27, 26, 26, 26]  # + hotjar, - mailchimp
    base = pts[0].annual_spend
    assert [round(p.annual_spend - base) for p in pts] == [0, -13600, -17800, -17800, -17800]
    # 7 custom fields; S1 swaps partner_code for nps_score; S3 loses Salesforce's 3 and adds utm_term;
    # S4 brings Salesforce back without Region__c.
    assert [p.custom_fields for p in pts] == [7, 7, 7, 5, 7]
    # OF001: partner_code and Old_Campaign__c (webinar waived); partner_code archived; the webinar waiver lapses;
    # Salesforce unread; back.
    assert [p.orphaned_fields for p in pts] == [2, 1, 2, 1, 2]
    assert [p.broken_syncs for p in pts] == [3, 3, 2, 2, 2]  # drift->salesforce fixed in S2; hubspot->salesforce paused
    assert [p.overlap_spend for p in pts] == [33840.0] * 5  # calendly/chili-piper 3,840 + drift/intercom 30,000
    assert all(p.currency == "USD" for p in pts)


def test_trends_csv(history: History) -> None:
    pts = points(history)
    text = trends_csv(pts)
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == TREND_COLUMNS
    assert [r["snapshot_id"] for r in rows] == [s.id for s in history.snapshots]
    assert rows[3]["completeness"] == "partial"
    assert rows[1]["tools"] == "27" and rows[2]["orphaned_fields"] == "2"


def _finding(subjects: list[str], cost: float) -> Finding:
    return Finding(
        fingerprint="-".join(subjects),
        rule="RT002",
        category=Category.redundant_tool,
        severity=Severity.medium,
        subjects=subjects,
        title="t",
        remediation="r",
        cost_at_stake=cost,
        tools=[*subjects, "hubspot"],  # the covering suite: must not join unrelated findings
    )


def test_overlap_spend_counts_each_tools_money_once() -> None:
    findings = [_finding(["drift", "intercom"], 30000), _finding(["drift"], 30000), _finding(["mailchimp"], 4200)]
    assert overlap_spend(findings) == 34200
    assert overlap_spend([]) == 0
