"""The audit engine: isolation, selection, severity overrides, waivers, baseline, ordering, fingerprints, exit
codes; and the registry and settings it relies on."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from stackaudit.audit.engine import CRASH_PREFIX, fail_exit_code, run_audit, sort_findings
from stackaudit.audit.registry import (
    RuleRegistry,
    UnknownRuleError,
    default_registry,
    describe_rule,
    explain_rule,
    rule_catalogue,
)
from stackaudit.audit.rule import NoParams, Rule, RuleContext, RuleDefinitionError, RuleParams, validate_rule_class
from stackaudit.audit.settings import AuditSettings, RuleSettingsError, build_settings, validate_rule_settings
from stackaudit.audit.waivers import ExpiredWaiverRule, UnusedWaiverRule, Waiver, load_waivers
from stackaudit_connectors.files import FileError
from stackaudit_inventory import (
    AuditResult,
    Category,
    Finding,
    FindingStatus,
    Inconclusive,
    Severity,
    Snapshot,
    fingerprint,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)
MakeSnapshot = Callable[..., Snapshot]


# ----------------------------------------------------------------------------------------- test rules


class EveryToolRule(Rule[NoParams]):
    """Flags every tool (a stand-in for a real rule)."""

    id = "TT001"
    name = "every-tool"
    title = "Every tool"
    category = Category.hygiene
    severity = Severity.medium
    remediation = "None."

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        for tool in ctx.snapshot.tools:
            yield ctx.finding([tool.id], f"{tool.name} exists", evidence=["it is in the snapshot"])


class CrashingRule(Rule[NoParams]):
    """Yields one finding, then raises."""

    id = "TT002"
    name = "crashing-rule"
    title = "Crashes"
    category = Category.broken_sync
    severity = Severity.critical
    remediation = "None."

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        yield ctx.finding(["x"], "partial", evidence=["before the crash"])
        raise RuntimeError("boom")


class WrongItemRule(Rule[NoParams]):
    """Yields something that is not a finding."""

    id = "TT003"
    name = "wrong-item"
    title = "Wrong item"
    category = Category.hygiene
    severity = Severity.low
    remediation = "None."

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        yield "oops"  # type: ignore[misc]


class EveryToolAgain(EveryToolRule):
    """Another class claiming TT001."""


def registry(*rules: type, eps: list[EntryPoint] | None = None) -> RuleRegistry:
    return RuleRegistry(builtins=lambda: list(rules), entry_points_loader=lambda: eps or [])


TEST_REGISTRY = registry(EveryToolRule, CrashingRule, WrongItemRule, ExpiredWaiverRule, UnusedWaiverRule)


def audit(snapshot: Snapshot, **kw: Any) -> AuditResult:
    kw.setdefault("registry", TEST_REGISTRY)
    return run_audit(snapshot, now=kw.pop("now", NOW), **kw)


@pytest.fixture
def two_tools(make_snapshot: MakeSnapshot) -> Snapshot:
    return make_snapshot({"tools": [{"id": "hubspot"}, {"id": "drift"}]})


# ------------------------------------------------------------------------------------------- isolation


def test_a_crashing_rule_becomes_inconclusive_and_the_audit_goes_on(two_tools: Snapshot) -> None:
    result = audit(two_tools)
    assert sorted(f.subjects[0] for f in result.findings) == ["drift", "hubspot"]  # TT002's partial finding dropped
    reasons = {i.rule: i.reason for i in result.inconclusive}
    assert reasons["TT002"] == f"{CRASH_PREFIX}: RuntimeError: boom"
    assert reasons["TT003"].startswith(f"{CRASH_PREFIX}: TypeError")
    assert all(i.subject == "*" for i in result.inconclusive)
    assert [r.id for r in result.rules] == ["SA001", "SA002", "TT001", "TT002", "TT003"]


def test_rules_never_read_the_clock() -> None:
    rules_dir = Path(__file__).parents[2] / "stackaudit" / "rules"
    pattern = re.compile(r"datetime\.now|date\.today|time\.time\(|utcnow")
    offenders = [p.name for p in rules_dir.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert not offenders


# ------------------------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        (None, [], {"BS001", "BS002", "OF001", "RT001"}),
        (["OF"], [], {"OF001"}),
        (["of", "BS002"], [], {"OF001", "BS002"}),
        (None, ["BS"], {"OF001", "RT001"}),
        (["BS"], ["BS001"], {"BS002"}),
        (["BS001"], ["BS"], {"BS001"}),  # more specific select wins
        (["BS"], ["BS"], set()),  # a tie goes to ignore
        (["ALL"], ["ALL"], set()),
        (None, ["ALL"], set()),
        (["ALL"], ["RT"], {"BS001", "BS002", "OF001"}),
    ],
)
def test_selection_by_id_and_prefix(select: list[str] | None, ignore: list[str], expected: set[str]) -> None:
    settings = build_settings(select=select, ignore=ignore)
    subset = {"BS001", "BS002", "OF001", "RT001"}
    assert {r for r in subset if settings.is_selected(r)} == expected


def test_enabled_setting_overrides_selection(two_tools: Snapshot) -> None:
    settings = build_settings(
        select=["TT"],
        ignore=["TT001"],
        rules={"TT001": {"enabled": True}, "TT002": {"enabled": False}},
        registry=TEST_REGISTRY,
    )
    result = audit(two_tools, settings=settings)
    enabled = {r.id for r in result.rules if r.enabled}
    assert enabled == {"TT001", "TT003"}
    assert {f.rule for f in result.findings} == {"TT001"}
    assert {i.rule for i in result.inconclusive} == {"TT003"}


@pytest.mark.parametrize(
    ("kw", "rule_id", "key", "message"),
    [
        ({"select": ["XX"]}, "XX", None, "select: unknown rule or prefix 'XX'"),
        ({"ignore": ["OF9"]}, "OF9", None, "ignore: unknown rule or prefix 'OF9'"),
        ({"select": [" "]}, " ", None, "select: unknown rule or prefix ' '"),
        ({"severity": {"OF001": "urgent"}}, "OF001", None, "severity: expected one of"),
        ({"rules": {"OF01": {}}}, "OF01", None, "unknown rule (did you mean OF001?)"),
        ({"rules": {"OF001": {"min_age": 3}}}, "OF001", "min_age", "unknown parameter"),
        ({"rules": {"OF001": {"min_age_days": -1}}}, "OF001", "min_age_days", "greater than or equal to 0"),
        ({"rules": {"OF001": {"min_age_days": "soon"}}}, "OF001", "min_age_days", "valid integer"),
        ({"rules": {"OF001": {"enabled": "maybe"}}}, "OF001", "enabled", "expected true or false"),
        ({"rules": {"OF001": {"severity": "urgent"}}}, "OF001", "severity", "expected one of"),
        ({"rules": {"OF001": [1, 2]}}, "OF001", None, "expected a mapping"),
    ],
)
def test_settings_errors_name_rule_and_key(kw: dict[str, Any], rule_id: str, key: str | None, message: str) -> None:
    with pytest.raises(RuleSettingsError) as info:
        build_settings(**kw)
    err = info.value
    assert (err.rule_id, err.key) == (rule_id, key)
    assert message in err.message
    assert "\n" not in str(err) and str(err).startswith(rule_id)


def test_validate_rule_settings_returns_params_models() -> None:
    out = validate_rule_settings({"OF001": {"min_age_days": 180, "severity": "HIGH"}, "UT002": None})
    assert set(out) == {"OF001", "UT002"}
    of001 = out["OF001"]
    assert of001.params.min_age_days == 180  # type: ignore[attr-defined]
    assert of001.severity is Severity.high  # type: ignore[attr-defined]
    settings = build_settings(rules=out)
    assert settings.resolve(default_registry().get("OF001")).params == of001.params  # type: ignore[attr-defined]
    assert validate_rule_settings(None) == {}


# ---------------------------------------------------------------------------------------------- severity


def test_severity_overrides(two_tools: Snapshot) -> None:
    settings = build_settings(
        severity={"TT": "low", "TT001": "info"}, rules={"TT001": {"severity": "high"}}, registry=TEST_REGISTRY
    )
    result = audit(two_tools, settings=settings)
    assert {f.severity for f in result.findings} == {Severity.high}  # the rule's own setting wins
    infos = {r.id: r.severity for r in result.rules}
    assert infos["TT001"] is Severity.high and infos["TT002"] is Severity.low  # prefix map applies to the rest
    settings = build_settings(severity={"TT": "low", "TT001": "info"}, registry=TEST_REGISTRY)
    assert {f.severity for f in audit(two_tools, settings=settings).findings} == {Severity.info}  # most specific


# ----------------------------------------------------------------------------------------------- waivers


def waiver(subject: str, expires: date, rule: str = "TT001") -> Waiver:
    return Waiver(rule=rule, subject=subject, reason="known", owner="ops@acme.com", expires=expires)


def test_waived_findings_stay_in_the_output(two_tools: Snapshot) -> None:
    w = waiver("hub*", date(2025, 12, 31))
    result = audit(two_tools, waivers=[w])
    by_subject = {f.subjects[0]: f for f in result.findings if f.rule == "TT001"}
    assert by_subject["hubspot"].status is FindingStatus.waived
    assert by_subject["hubspot"].waiver is not None and by_subject["hubspot"].waiver.subject == "hub*"
    assert by_subject["drift"].status is FindingStatus.open
    assert not [f for f in result.findings if f.rule.startswith("SA")]


def test_expired_waiver_is_reported_and_no_longer_waives(two_tools: Snapshot) -> None:
    result = audit(two_tools, waivers=[waiver("hubspot", date(2025, 5, 31))])
    tt = [f for f in result.findings if f.rule == "TT001"]
    assert all(f.status is FindingStatus.open for f in tt)
    sa = [f for f in result.findings if f.rule.startswith("SA")]
    assert [(f.rule, f.subjects, f.severity, f.category) for f in sa] == [
        ("SA001", ["waiver:TT001/hubspot"], Severity.low, Category.hygiene)
    ]


def test_unused_waiver_is_reported(two_tools: Snapshot) -> None:
    result = audit(two_tools, waivers=[waiver("salesforce", date(2026, 1, 1))])
    sa = [f for f in result.findings if f.rule.startswith("SA")]
    assert [(f.rule, f.subjects, f.severity) for f in sa] == [("SA002", ["waiver:TT001/salesforce"], Severity.info)]
    # switched off like any rule
    settings = build_settings(ignore=["SA"], registry=TEST_REGISTRY)
    assert not [
        f
        for f in audit(two_tools, waivers=[waiver("x", date(2026, 1, 1))], settings=settings).findings
        if f.rule.startswith("SA")
    ]


def test_a_waiver_for_a_crashed_rule_is_not_called_unused(two_tools: Snapshot) -> None:
    result = audit(two_tools, waivers=[waiver("x", date(2026, 1, 1), rule="TT002")])
    assert not [f for f in result.findings if f.rule == "SA002"]


def test_load_waivers(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        "  - rule: of001\n    subject: 'hubspot:contacts.old_*'\n    reason: migration\n"
        "    owner: ann\n    expires: 2025-09-30\n",
        encoding="utf-8",
    )
    [w] = load_waivers(path)
    assert (w.rule, w.subject, w.expires) == ("OF001", "hubspot:contacts.old_*", date(2025, 9, 30))
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    assert load_waivers(tmp_path / "empty.yaml") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "waivers:\n  - rule: OF001\n    subject: x\n    reason: r\n    expires: 2025-01-01\n",
            "waivers.yaml:2: waivers[0].owner: required key is missing",
        ),
        (
            "waivers:\n  - rule: OF001\n    subject: x\n    reason: r\n    owner: o\n    expires: soon\n",
            "waivers.yaml:6: waivers[0].expires: Input should be a valid date or datetime, input is too short",
        ),
        (
            "waivers:\n  - rule: OF001\n    subject: x\n    reason: '  '\n    owner: o\n    expires: 2025-01-01\n",
            "waivers.yaml:4: waivers[0].reason: Value error, must not be blank",
        ),
        (
            "waivers:\n  - rule: lead\n    subject: x\n    reason: r\n    owner: o\n    expires: 2025-01-01\n",
            "waivers.yaml:2: waivers[0].rule: Value error, expected a rule id such as 'OF001'",
        ),
        (
            "waivers:\n  - rule: OF001\n    subject: x\n    reason: r\n    owner: o\n    expires: 2025-01-01\n"
            "    until: 2026-01-01\n",
            "waivers.yaml:7: waivers[0].until: unknown key",
        ),
    ],
)
def test_waiver_file_errors_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileError) as info:
        load_waivers(path)
    assert str(info.value) == f"{tmp_path}/{message}"


# ----------------------------------------------------------------------------------------------- baseline


def test_baseline_marks_known_findings(two_tools: Snapshot) -> None:
    first = audit(two_tools)
    known = {f.fingerprint for f in first.findings if f.subjects == ["drift"]}
    result = audit(two_tools, baseline=known, waivers=[waiver("hubspot", date(2026, 1, 1))])
    status = {f.subjects[0]: f.status for f in result.findings}
    assert status == {"drift": FindingStatus.baselined, "hubspot": FindingStatus.waived}
    assert fail_exit_code(result, Severity.info) == 0
    assert fail_exit_code(first, Severity.medium) == 1


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        (["low", "medium"], None, 0),
        (["low", "medium"], "medium", 1),
        (["low", "medium"], "high", 0),
        (["critical"], "critical", 1),
        ([], "info", 0),
    ],
)
def test_fail_exit_code(severities: list[str], fail_on: str | None, code: int) -> None:
    findings = [
        Finding(
            fingerprint=str(i),
            rule="TT001",
            category=Category.hygiene,
            severity=Severity(s),
            subjects=[str(i)],
            title="t",
            remediation="r",
        )
        for i, s in enumerate(severities)
    ]
    result = AuditResult(generated_at=NOW, snapshot_id="s", stack="s", findings=findings)
    assert fail_exit_code(result, Severity(fail_on) if fail_on else None) == code


# ------------------------------------------------------------------------------- ordering and fingerprints


STACK = {
    "tools": [
        {"id": "drift", "capabilities": ["chat"], "cost": {"amount": 10000}},
        {
            "id": "intercom",
            "capabilities": ["chat"],
            "owner": "cx",
            "cost": {"amount": 9000},
            "contract": {"renewal": "2026-01-01"},
        },
        {
            "id": "gong",
            "owner": "sales",
            "seats": {"bought": 40, "used": 10},
            "cost": {"amount": 40000},
            "contract": {"renewal": "2025-07-01", "notice_date": "2025-06-15"},
        },
    ],
    "integrations": [
        {"id": "hubspot->salesforce", "expected_interval_minutes": 15, "last_success_at": "2025-05-20T00:00:00Z"},
        {"id": "segment->mixpanel", "success_count": 50, "error_count": 50},
    ],
}


def test_ordering_is_deterministic(make_snapshot: MakeSnapshot) -> None:
    outputs = set()
    for seed in range(4):
        data = {k: list(v) for k, v in STACK.items()}
        for v in data.values():
            random.Random(seed).shuffle(v)
        outputs.add(run_audit(make_snapshot(data), now=NOW).model_dump_json())
    assert len(outputs) == 1
    result = run_audit(make_snapshot(STACK), now=NOW)
    order = {c.value: i for i, c in enumerate(Category)}
    keys = [(-f.severity.rank, order[f.category.value], f.rule, f.subjects) for f in result.findings]
    assert keys == sorted(keys)
    assert result.findings[0].severity is Severity.high and result.findings[-1].severity is Severity.low
    assert result.findings == sort_findings(reversed(result.findings))
    assert len(result.findings) == len({f.fingerprint for f in result.findings})
    assert [i.rule for i in result.inconclusive] == sorted(i.rule for i in result.inconclusive)


def test_fingerprints_ignore_titles_and_figures(make_snapshot: MakeSnapshot) -> None:
    def prints(used: int, cost: float) -> dict[str, str]:
        snap = make_snapshot(
            {
                "tools": [
                    {
                        "id": "gong",
                        "name": f"Gong {used}",
                        "owner": "s",
                        "seats": {"bought": 40, "used": used},
                        "cost": {"amount": cost},
                    }
                ]
            }
        )
        return {f.rule: f.fingerprint for f in run_audit(snap, now=NOW).findings}

    a, b = prints(10, 40000), prints(3, 55000)
    assert a["UT002"] == b["UT002"] == fingerprint("UT002", ["gong"])
    assert fingerprint("RT001", ["b", "a"]) == fingerprint("RT001", ["a", "b"]) != fingerprint("RT002", ["a", "b"])


def test_graph_export_is_filled_with_rule_thresholds(make_snapshot: MakeSnapshot) -> None:
    snap = make_snapshot(
        {"integrations": [{"id": "a->b", "expected_interval_minutes": 15, "last_success_at": "2025-05-31T23:00:00Z"}]}
    )
    assert run_audit(snap, now=NOW).graph.edges[0].status == "broken"  # 4 intervals > 3
    settings = build_settings(rules={"BS002": {"factor": 5}})
    assert run_audit(snap, now=NOW, settings=settings).graph.edges[0].status == "stale"


def test_settings_mapping_is_accepted_directly(two_tools: Snapshot) -> None:
    result = run_audit(two_tools, now=NOW, settings=validate_rule_settings({"HY003": {"enabled": False}}))
    assert not [f for f in result.findings if f.rule == "HY003"]
    assert isinstance(build_settings(), AuditSettings)


# ----------------------------------------------------------------------------------------------- registry


class GoodParams(RuleParams):
    limit: int = Field(default=3, description="A limit.")


def _rule(**attrs: Any) -> type:
    base: dict[str, Any] = {
        "__doc__": "Docs.",
        "id": "ZZ001",
        "name": "zz-rule",
        "title": "T",
        "category": Category.hygiene,
        "severity": Severity.low,
        "remediation": "Fix.",
        "params": GoodParams,
        "check": lambda self, ctx: iter(()),
    }
    base.update(attrs)
    return type("ZZRule", (Rule,), base)


class NoDescription(RuleParams):
    limit: int = 3


class NoDefault(RuleParams):
    limit: int = Field(description="d")


class Reserved(RuleParams):
    enabled: bool = Field(default=True, description="d")


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"id": "Z1"}, "id must be"),
        ({"name": "Bad Name"}, "kebab-case"),
        ({"title": " "}, "'title' must be"),
        ({"category": "hygiene"}, "category must be"),
        ({"severity": "low"}, "severity must be"),
        ({"requires": {"fields"}}, "requires must be"),
        ({"params": dict}, "params must be"),
        ({"params": NoDescription}, "needs a description"),
        ({"params": NoDefault}, "needs a default"),
        ({"params": Reserved}, "clashes"),
        ({"__doc__": None}, "docstring"),
        ({"check": Rule.check}, "not implemented"),
    ],
)
def test_rule_metadata_is_validated(attrs: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleDefinitionError, match=message):
        validate_rule_class(_rule(**attrs))


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(RuleDefinitionError, match="duplicate rule id ZZ001"):
        registry(_rule(), _rule()).rules()


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="stackaudit.rules")


def test_plugins_load_lazily_and_broken_ones_are_remembered() -> None:
    eps = [
        _ep("builtin", "stackaudit.rules:builtin_rules"),  # the same classes again: not a clash
        _ep("broken", "no_such_module_xyz:Rule"),
        _ep("clash", f"{__name__}:EveryToolRule"),
        _ep("notarule", "stackaudit.rules:BUILTIN_RULES"),
    ]
    reg = RuleRegistry(entry_points_loader=lambda: eps)
    assert reg._rules == {}  # nothing imported before first use
    ids = reg.ids()
    assert "OF001" in ids and "TT001" in ids
    assert set(reg.disabled) == {"broken", "notarule"}
    assert "ModuleNotFoundError" in reg.disabled["broken"]
    clash = RuleRegistry(
        builtins=lambda: [EveryToolRule],
        entry_points_loader=lambda: [
            _ep("other", f"{__name__}:CrashingRule"),
            _ep("dup", f"{__name__}:EveryToolAgain"),
        ],
    )
    assert clash.ids() == ["TT001", "TT002"]
    assert "duplicate rule id TT001" in clash.disabled["dup"]


def test_catalogue_and_explain() -> None:
    rows = rule_catalogue()
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    row = next(r for r in rows if r["id"] == "OF001")
    assert row["name"] == "empty-unreferenced-field" and row["category"] == "orphaned-field"
    assert row["params"] == [
        {"name": "min_age_days", "type": "int", "default": 90, "description": row["params"][0]["description"]}
    ]
    text = explain_rule("bs002")
    assert text.startswith("BS002 stale-sync:") and "factor (float, default 3.0)" in text and "fix:" in text
    assert describe_rule("UT002").requires == ("seats",)
    with pytest.raises(UnknownRuleError, match=r"unknown rule 'BS02' \(did you mean BS002\?\)"):
        explain_rule("BS02")
    for row in rows:
        assert row["summary"] and "Why it matters" in row["doc"] and "Fix" in row["doc"], row["id"]
