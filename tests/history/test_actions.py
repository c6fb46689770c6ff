"""actions.csv: one row per recommended action, merged per subject, with formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime

from stackaudit.history.actions import ACTION_COLUMNS, action_kind, actions_csv, build_actions
from stackaudit_inventory import (
    AuditResult,
    Category,
    Contract,
    Cost,
    Finding,
    FindingStatus,
    Severity,
    Snapshot,
    Tool,
    fingerprint,
)

from .conftest import History


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_rules_map_to_the_reviews_actions() -> None:
    assert [action_kind(r) for r in ("OF003", "DF001", "BS009", "RT002", "UT001", "UT003", "UT002", "LC002")] == [
        "archive field",
        "merge fields",
        "fix sync",
        "cancel tool",
        "cancel tool",
        "cancel tool",
        "downsize tool",
        "align definition",
    ]
    assert action_kind("HY003") is None and action_kind("SA001") is None


def test_actions_of_the_history_s2_audit(history: History, loaded: Callable[[int], Snapshot]) -> None:
    s2 = loaded(2)
    rows = table(actions_csv(build_actions(s2, history.results[s2.id])))
    assert tuple(rows[0]) == ACTION_COLUMNS
    got = [(r["action"], r["subject"], r["owner"], r["estimated_saving"], r["due"]) for r in rows]
    assert got == [
        ("cancel tool", "drift or intercom", "Marcus Lee (Demand Generation); Grace Okafor (Customer Support)",
         "30000.00", "2027-01-01"),
        ("cancel tool", "calendly or chili-piper", "Marcus Lee (Demand Generation)", "3840.00", "2027-05-10"),
        ("downsize tool", "gong", "Ivy Chen (Sales Enablement)", "31200.00", "2027-04-01"),
        ("fix sync", "hubspot->salesforce", "Priya Raman (Marketing Operations)", "", ""),
        ("fix sync", "typeform->hubspot:demo-request", "Sofia Nguyen (Growth Marketing)", "", ""),
        ("archive field", "hubspot:contacts.webinar_2023", "Priya Raman (Marketing Operations)", "", ""),
        ("archive field", "salesforce:Lead.Old_Campaign__c", "Dana Whitfield (Revenue Operations)", "", ""),
    ]  # fmt: skip
    assert rows[6]["finding fingerprint"] == fingerprint("OF001", ["salesforce:Lead.Old_Campaign__c"])
    assert rows[6]["evidence"].startswith("Filled on 0 of 1,000 Lead records (exact count).")
    # Waived (HY003 calendly) and housekeeping (SA001) findings are not actions.
    assert not any(r["subject"] == "calendly" for r in rows)


def _finding(rule: str, subjects: list[str], **kw: object) -> Finding:
    category = {"UT": Category.unused_tool, "RT": Category.redundant_tool, "OF": Category.orphaned_field}[rule[:2]]
    return Finding(
        fingerprint=fingerprint(rule, subjects),
        rule=rule,
        category=category,
        severity=kw.pop("severity", Severity.medium),  # type: ignore[arg-type]
        subjects=subjects,
        title=f"{rule} {subjects}",
        remediation="fix it",
        **kw,  # type: ignore[arg-type]
    )


def _stack(*findings: Finding) -> tuple[Snapshot, AuditResult]:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    tools = [
        Tool(id="drift", name="Drift", owner="@owner", cost=Cost(amount=30000),
             contract=Contract(renewal=date(2027, 2, 15), notice_date=date(2027, 1, 1))),
        Tool(id="hubspot", name="HubSpot", owner="=cmd|' /C calc'!A0"),
    ]  # fmt: skip
    snapshot = Snapshot(id="20261130T000000Z-0001", taken_at=now, stack="Acme", tools=tools)
    return snapshot, AuditResult(generated_at=now, snapshot_id=snapshot.id, stack="Acme", findings=list(findings))


def test_findings_asking_for_the_same_action_make_one_row() -> None:
    notice = _finding("UT003", ["drift"], cost_at_stake=30000.0, evidence=["Notice date in 32 days."])
    suite = _finding("RT002", ["drift"], cost_at_stake=28000.0, severity=Severity.low, evidence=["HubSpot has chat."])
    waived = _finding("UT001", ["drift"], status=FindingStatus.waived)
    snapshot, result = _stack(suite, notice, waived)
    [action] = build_actions(snapshot, result)
    assert (action.action, action.subject, action.due, action.estimated_saving) == (
        "cancel tool",
        "drift",
        date(2027, 1, 1),
        30000.0,
    )
    assert action.fingerprints == [notice.fingerprint, suite.fingerprint]  # worst first
    assert action.evidence == "Notice date in 32 days. Also: HubSpot has chat."
    [row] = table(actions_csv([action]))
    assert row["finding fingerprint"] == f"{notice.fingerprint};{suite.fingerprint}"


def test_spreadsheet_formulas_are_neutralised() -> None:
    field = _finding("OF001", ['hubspot:contacts.=HYPERLINK("http://x")'], evidence=["+SUM(A1:A9)", "-1"])
    tool = _finding("UT003", ["drift"], evidence=["@IMPORTXML(x)"], cost_at_stake=1.5)
    snapshot, result = _stack(field, tool)
    rows = {r["action"]: r for r in table(actions_csv(build_actions(snapshot, result)))}
    archive, cancel = rows["archive field"], rows["cancel tool"]
    assert archive["subject"].startswith("'hubspot:") is False  # starts with a letter: left alone
    assert archive["evidence"] == "'+SUM(A1:A9) -1"
    assert archive["owner"] == "'=cmd|' /C calc'!A0"
    assert cancel["owner"] == "'@owner" and cancel["evidence"] == "'@IMPORTXML(x)"
    assert cancel["estimated_saving"] == "1.50"  # a number we wrote stays a number
