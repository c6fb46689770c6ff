"""Rule cases as data: every ``cases/<RULE_ID>.yaml`` runs through the real engine.

File format::

    rule: OF001
    now: 2025-06-01T00:00:00Z          # optional, default 2025-06-01
    cases:
      - name: what this case shows
        params: {min_age_days: 90}     # optional rule parameters
        select: [SA002, HY003]         # optional; default [the rule]
        waivers: [...]                 # optional waivers (rule, subject, reason, owner, expires)
        snapshot: {...}                # minimal snapshot (see conftest.build_snapshot)
        findings: [[subject, ...], ...]   # expected subjects of this rule's findings (default: none)
        inconclusive: [subject, ...]      # expected inconclusive subjects (default: none)
        check:                         # optional details of findings, matched by subjects
          - subjects: [...]
            severity: medium
            cost_at_stake: 1200
            facts: {key: value}        # a subset of the finding's facts
            evidence_contains: [text]  # each text appears in some evidence line
            not_checked_contains: [text]

A catalogue test fails when a registered rule has no cases file, or lacks a failing case, a passing case, or
(when it requires a capability) an inconclusive case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackaudit.audit.engine import CRASH_PREFIX, run_audit
from stackaudit.audit.registry import default_registry
from stackaudit.audit.settings import build_settings
from stackaudit.audit.waivers import Waiver
from stackaudit_inventory import Snapshot

CASES_DIR = Path(__file__).parent / "cases"
DEFAULT_NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data.get("rule") == path.stem, f"{path.name}: 'rule' must be {path.stem}"
    assert data.get("cases"), f"{path.name}: no cases"
    return data


def _as_datetime(value: Any) -> datetime:
    if value is None:
        return DEFAULT_NOW
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value))


def _all_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = _load(path)
        for i, case in enumerate(data["cases"]):
            name = case.get("name", str(i))
            params.append(pytest.param(data["rule"], _as_datetime(data.get("now")), case, id=f"{path.stem}: {name}"))
    return params


@pytest.mark.parametrize(("rule_id", "now", "case"), _all_cases())
def test_rule_case(rule_id: str, now: datetime, case: dict[str, Any], make_snapshot: Callable[..., Snapshot]) -> None:
    now = _as_datetime(case["now"]) if "now" in case else now
    snapshot = make_snapshot(case.get("snapshot"), now)
    settings = build_settings(select=case.get("select", [rule_id]), rules={rule_id: case.get("params") or {}})
    waivers = [Waiver.model_validate(w) for w in case.get("waivers", [])]
    result = run_audit(snapshot, settings=settings, waivers=waivers, now=now)

    crashed = [i for i in result.inconclusive if i.reason.startswith(CRASH_PREFIX)]
    assert not crashed, crashed
    findings = [f for f in result.findings if f.rule == rule_id]
    got = sorted(f.subjects for f in findings)
    assert got == sorted(sorted(s) for s in case.get("findings", [])), [f.title for f in findings]
    got_inconclusive = sorted(i.subject for i in result.inconclusive if i.rule == rule_id)
    assert got_inconclusive == sorted(case.get("inconclusive", [])), result.inconclusive

    for f in findings:
        assert f.evidence and f.title and f.remediation, f"{rule_id}: finding without evidence or remediation"
        assert f.fingerprint
    by_subjects = {tuple(f.subjects): f for f in findings}
    for detail in case.get("check", []):
        f = by_subjects[tuple(sorted(detail["subjects"]))]
        if "severity" in detail:
            assert f.severity.value == detail["severity"]
        if "cost_at_stake" in detail:
            expected = detail["cost_at_stake"]
            assert f.cost_at_stake == (pytest.approx(expected) if expected is not None else None)
        for key, value in detail.get("facts", {}).items():
            assert f.facts.get(key) == value, (key, f.facts)
        for text in detail.get("evidence_contains", []):
            assert any(text in line for line in f.evidence), (text, f.evidence)
        for text in detail.get("not_checked_contains", []):
            assert any(text in line for line in f.not_checked), (text, f.not_checked)
        if "tools" in detail:
            assert f.tools == sorted(detail["tools"])
        if "status" in detail:
            assert f.status.value == detail["status"]


def test_every_rule_has_cases() -> None:
    """The catalogue test: each registered rule has a cases file with a failing and a passing case, and an
    inconclusive case when it requires a capability."""
    problems = []
    for rule_id, rule in default_registry().rules().items():
        path = CASES_DIR / f"{rule_id}.yaml"
        if not path.exists():
            problems.append(f"{rule_id}: no {path.name}")
            continue
        cases = _load(path)["cases"]
        if not any(c.get("findings") for c in cases):
            problems.append(f"{rule_id}: no failing case")
        if not any(not c.get("findings") and not c.get("inconclusive") for c in cases):
            problems.append(f"{rule_id}: no passing case")
        if rule.requires and not any(c.get("inconclusive") for c in cases):
            problems.append(f"{rule_id}: requires {sorted(rule.requires)} but has no inconclusive case")
    assert not problems, problems


def test_no_orphan_case_files() -> None:
    ids = set(default_registry().ids())
    orphans = [p.name for p in CASES_DIR.glob("*.yaml") if p.stem not in ids]
    assert not orphans, f"cases for unregistered rules: {orphans}"
