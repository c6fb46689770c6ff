"""The orphaned-field rules together: one field gets at most one finding among OF001-OF004, whichever thresholds
the user sets, and the rule that reports it is the expected one."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from stackaudit.audit.engine import run_audit
from stackaudit.audit.settings import build_settings
from stackaudit_inventory import Snapshot

NOW = datetime(2025, 6, 1, tzinfo=UTC)
RULES = ["OF001", "OF002", "OF003", "OF004"]

FILLS = {
    "empty": {"method": "exact", "filled": 0, "total": 1000},
    "sampled_empty": {"method": "sampled", "filled": 0, "total": 500},
    "almost": {"method": "exact", "filled": 3, "total": 1000},
    "three_pct": {"method": "exact", "filled": 30, "total": 1000},
    "full": {"method": "exact", "filled": 700, "total": 1000},
    "none": None,
}
USES = ["nothing", "inactive", "active", "mapped", "inactive_recent"]
AGES = {"old": "2021-01-01T00:00:00Z", "young": "2025-05-15T00:00:00Z", "unknown": None}
NEWEST = {"stale": "2022-01-01T00:00:00Z", "fresh": "2025-05-01T00:00:00Z", "unknown": None}


def _snapshot_data() -> dict[str, Any]:
    fields, refs = [], []
    for fill, use, age, newest in itertools.product(FILLS, USES, AGES, NEWEST):
        name = f"{fill}__{use}__{age}__{newest}"
        f: dict[str, Any] = {"id": f"hubspot:contacts.{name}", "custom": True}
        if AGES[age]:
            f["created_at"] = AGES[age]
        if FILLS[fill] is not None:
            f["fill"] = dict(FILLS[fill] or {})
            if NEWEST[newest] and fill != "empty":
                f["fill"]["newest_value_at"] = NEWEST[newest]
        fields.append(f)
        asset = {
            "inactive": "hubspot:workflow/off",
            "active": "hubspot:workflow/on",
            "inactive_recent": "hubspot:workflow/draft",
        }.get(use)
        if asset:
            refs.append({"asset": asset, "field": f["id"], "mode": "read"})
    mapped = [{"source": f["id"], "target": "salesforce:Lead.X__c"} for f in fields if "__mapped__" in f["id"]]
    return {
        "tools": [{"id": "hubspot"}, {"id": "salesforce"}],
        "source_runs": [
            {"id": "hubspot", "coverage": {"fields": "complete", "fill_rates": "complete", "references": "complete"}}
        ],
        "fields": fields,
        "assets": [
            {"id": "hubspot:workflow/off", "active": False, "last_modified_at": "2022-01-01T00:00:00Z"},
            {"id": "hubspot:workflow/draft", "active": False, "last_modified_at": "2025-05-28T00:00:00Z"},
            {"id": "hubspot:workflow/on", "active": True},
        ],
        "references": refs,
        "integrations": [{"id": "hubspot->salesforce", "mappings": mapped}],
    }


def _flagged(snapshot: Snapshot, rules: dict[str, Any]) -> dict[str, list[str]]:
    settings = build_settings(select=RULES, rules=rules)
    result = run_audit(snapshot, settings=settings, now=NOW)
    out: dict[str, list[str]] = {}
    for finding in result.findings:
        for subject in finding.subjects:
            out.setdefault(subject.split(".", 1)[1], []).append(finding.rule)
    return out


@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"OF002": {"max_fill_rate": 0.05}},
        {"OF001": {"min_age_days": 0}, "OF002": {"min_age_days": 0}},
        {"OF004": {"recent_change_days": 0}, "OF003": {"max_age_days": 30}},
    ],
)
def test_one_field_gets_at_most_one_orphaned_field_finding(
    rules: dict[str, Any], make_snapshot: Callable[..., Snapshot]
) -> None:
    flagged = _flagged(make_snapshot(_snapshot_data(), NOW), rules)
    twice = {name: found for name, found in flagged.items() if len(found) > 1}
    assert not twice
    assert {r for found in flagged.values() for r in found} == set(RULES)


def test_each_kind_of_orphan_goes_to_its_rule(make_snapshot: Callable[..., Snapshot]) -> None:
    flagged = {name: found[0] for name, found in _flagged(make_snapshot(_snapshot_data(), NOW), {}).items()}
    assert flagged["empty__nothing__old__unknown"] == "OF001"
    assert flagged["empty__inactive__old__unknown"] == "OF001"
    assert flagged["almost__nothing__old__stale"] == "OF002"
    assert flagged["sampled_empty__inactive__old__unknown"] == "OF002"
    assert flagged["full__inactive__old__stale"] == "OF004"
    assert flagged["three_pct__inactive__young__unknown"] == "OF004"
    assert flagged["full__nothing__old__stale"] == "OF003"
    assert flagged["full__active__old__stale"] == "OF003"
    assert flagged["full__mapped__unknown__stale"] == "OF003"
    # used, fresh, in their grace period, or waiting on a draft: nobody reports them
    for name in (
        "full__active__old__fresh",
        "empty__active__old__unknown",
        "empty__mapped__old__unknown",
        "almost__nothing__young__unknown",
        "full__inactive_recent__old__fresh",
        "none__nothing__old__unknown",
    ):
        assert name not in flagged, name


def test_a_user_threshold_for_an_earlier_rule_moves_the_field_there(make_snapshot: Callable[..., Snapshot]) -> None:
    snapshot = make_snapshot(_snapshot_data(), NOW)
    name = "three_pct__inactive__old__stale"
    assert _flagged(snapshot, {})[name] == ["OF004"]
    assert _flagged(snapshot, {"OF002": {"max_fill_rate": 0.05}})[name] == ["OF002"]
