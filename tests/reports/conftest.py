"""A small hand-built stack and audit result for the report tests, built with the inventory models only.

The stack: HubSpot and Salesforce (CRM), Drift and Intercom (overlapping chat, Drift unused and without an
owner), a removed form tool; two integrations (one stale, one broken and baselined); an orphaned field, a
waived one, and an inconclusive lifecycle check. ``hostile`` puts markup and quotes in every user string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from stackaudit_inventory import (
    AuditResult,
    Capability,
    Contract,
    Cost,
    Coverage,
    CoverageStatus,
    FieldDef,
    FieldMapping,
    Finding,
    FindingStatus,
    GraphEdge,
    GraphExport,
    GraphNode,
    Inconclusive,
    Integration,
    IntegrationStatus,
    Origin,
    RuleInfo,
    RunStatus,
    Seats,
    Snapshot,
    SourceError,
    SourceRun,
    Tool,
    ToolStatus,
    WaiverRef,
    fingerprint,
)

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


def _finding(rule: str, category: str, severity: str, subjects: list[str], **kw: object) -> Finding:
    data: dict[str, object] = {
        "fingerprint": fingerprint(rule, subjects),
        "rule": rule,
        "category": category,
        "severity": severity,
        "subjects": subjects,
        "title": f"{rule} on {', '.join(subjects)}",
        "remediation": "Fix it.",
    }
    data.update(kw)
    return Finding.model_validate(data)


def build_snapshot(text: Callable[[str], str] = str) -> Snapshot:
    """``text`` wraps every free-text string (labels, names, owners), so the hostile variant reuses the stack."""
    taken = NOW - timedelta(hours=1)
    return Snapshot(
        id="20250115T110000Z-abcd",
        taken_at=taken,
        stack=text("Acme Corp"),
        tools=[
            Tool(
                id="hubspot",
                name=text("HubSpot"),
                capabilities=["marketing-automation", "crm"],
                owner=text("Jane Ops"),
                cost=Cost(amount=36000),
                seats=Seats(bought=25, used=20),
                contract=Contract(renewal=date(2025, 9, 1), notice_date=date(2025, 7, 1)),
            ),
            Tool(
                id="salesforce",
                name="Salesforce",
                capabilities=["crm"],
                owner="Sales Ops",
                cost=Cost(amount=120000),
                seats=Seats(bought=100, used=80),
                origin=Origin.both,
            ),
            Tool(
                id="drift",
                name="Drift",
                capabilities=["chat"],
                cost=Cost(amount=1500, period="monthly"),
                seats=Seats(bought=10, used=3),
                contract=Contract(renewal=date(2025, 3, 1), notice_date=date(2025, 2, 1)),
            ),
            Tool(id="intercom", name="Intercom", capabilities=["chat"], owner="Support", cost=Cost(amount=24000)),
            Tool(id="typeform", name="Typeform", capabilities=["forms"], status=ToolStatus.removed),
        ],
        fields=[
            FieldDef(
                id="hubspot:contacts.legacy_score",
                tool="hubspot",
                object="contacts",
                name="legacy_score",
                label=text("Legacy Score"),
                type="number",
                custom=True,
            ),
        ],
        integrations=[
            Integration(
                id="hubspot->salesforce",
                source="hubspot",
                target="salesforce",
                direction="two-way",
                status=IntegrationStatus.active,
                last_success_at=NOW - timedelta(days=3),
                success_count=100,
                error_count=5,
                window_days=7,
                error_samples=[text("INVALID_FIELD")],
                expected_interval_minutes=15,
                mappings=[
                    FieldMapping(source="hubspot:contacts.email", target="salesforce:Lead.Email"),
                    FieldMapping(source="hubspot:contacts.lifecyclestage", target="salesforce:Lead.Status"),
                ],
            ),
            Integration(id="drift->hubspot", source="drift", target="hubspot", status=IntegrationStatus.error),
        ],
        source_runs=[
            SourceRun(
                id="manifest",
                connector_type="manifest",
                started_at=taken,
                ended_at=taken + timedelta(seconds=1),
                status=RunStatus.complete,
                coverage={
                    Capability.tools: Coverage(status=CoverageStatus.complete),
                    Capability.costs: Coverage(status=CoverageStatus.complete),
                },
            ),
            SourceRun(
                id="hubspot",
                connector_type="hubspot",
                tool="hubspot",
                started_at=taken,
                ended_at=taken + timedelta(minutes=3),
                api_calls=42,
                status=RunStatus.partial,
                errors=[SourceError(code="scope", message=text("hubspot: missing scope automation"))],
                coverage={
                    Capability.fields: Coverage(status=CoverageStatus.complete),
                    Capability.references: Coverage(status=CoverageStatus.missing, reason=text("no scope")),
                },
            ),
        ],
    )


def build_result(text: Callable[[str], str] = str) -> AuditResult:
    waiver = WaiverRef(
        rule="OF001",
        subject="hubspot:contacts.old_*",
        reason=text("Kept for audit"),
        owner="Jane",
        expires=date(2025, 1, 1),
    )
    return AuditResult(
        generated_at=NOW - timedelta(minutes=50),
        snapshot_id="20250115T110000Z-abcd",
        stack=text("Acme Corp"),
        findings=[
            _finding(
                "OF001",
                "orphaned-field",
                "medium",
                ["hubspot:contacts.legacy_score"],
                title=text("Custom field Legacy Score is empty and unreferenced"),
                evidence=[text("0 of 12,000 records hold a value"), "No workflow reads it"],
                not_checked=[text("Reports could not be read (scope)")],
                tools=["hubspot"],
            ),
            _finding(
                "OF001",
                "orphaned-field",
                "medium",
                ["hubspot:contacts.old_source"],
                status=FindingStatus.waived,
                waiver=waiver,
                tools=["hubspot"],
            ),
            _finding(
                "RT001",
                "redundant-tool",
                "high",
                ["drift", "intercom"],
                tools=["drift", "intercom"],
                cost_at_stake=18000,
                remediation=text("Cancel one before its notice date"),
            ),
            _finding("UT001", "unused-tool", "medium", ["drift"], tools=["drift"], cost_at_stake=18000),
            _finding("BS001", "broken-sync", "high", ["hubspot->salesforce"], tools=["hubspot", "salesforce"]),
            _finding(
                "BS002",
                "broken-sync",
                "critical",
                ["drift->hubspot"],
                status=FindingStatus.baselined,
                tools=["drift", "hubspot"],
            ),
        ],
        inconclusive=[Inconclusive(rule="LD001", subject="salesforce", reason=text("lifecycle not covered"))],
        rules=[
            RuleInfo(
                id="OF001",
                name="orphaned-field",
                title="Orphaned custom field",
                category="orphaned-field",
                severity="medium",
            ),
            RuleInfo(
                id="DF001", name="duplicate-field", title="Duplicate field", category="duplicate-field", severity="low"
            ),
            RuleInfo(
                id="RT001", name="redundant-tool", title="Overlapping tools", category="redundant-tool", severity="high"
            ),
            RuleInfo(id="UT001", name="unused-tool", title="Unused tool", category="unused-tool", severity="medium"),
            RuleInfo(id="BS001", name="stale-sync", title="Stale sync", category="broken-sync", severity="high"),
            RuleInfo(
                id="BS002", name="failing-sync", title="Failing sync", category="broken-sync", severity="critical"
            ),
            RuleInfo(
                id="LD001",
                name="lifecycle-drift",
                title="Lifecycle drift",
                category="lifecycle-drift",
                severity="medium",
            ),
        ],
        graph=GraphExport(
            nodes=[
                GraphNode(id="hubspot", kind="tool", label=text("HubSpot"), group="marketing-automation"),
                GraphNode(id="salesforce", kind="tool", label="Salesforce", group="crm"),
                GraphNode(id="drift", kind="tool", label="Drift", group=text("chat")),
                GraphNode(id="intercom", kind="tool", label="Intercom", group=text("chat")),
            ],
            edges=[
                GraphEdge(
                    source="hubspot",
                    target="salesforce",
                    kind="flow",
                    label=text("2 fields"),
                    status="stale",
                    id="hubspot->salesforce",
                ),
                GraphEdge(source="drift", target="hubspot", kind="flow", status="broken", id="drift->hubspot"),
            ],
        ),
    )


def hostile_text(value: str) -> str:
    return f"{value} {XSS} \"q\" 'a' & </script><!-- \\N {{x}}"


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def snapshot() -> Snapshot:
    return build_snapshot()


@pytest.fixture
def result() -> AuditResult:
    return build_result()


@pytest.fixture
def hostile_snapshot() -> Snapshot:
    return build_snapshot(hostile_text)


@pytest.fixture
def hostile_result() -> AuditResult:
    return build_result(hostile_text)


# ------------------------------------------------------------------------------- golden files and the demo


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/reports/golden/* from the current output instead of comparing (review the diff).",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    # getoption with a default: the option exists only when this conftest is an initial one (pytest tests/reports).
    return bool(request.config.getoption("--update-golden", default=False))


@pytest.fixture(scope="session")
def demo_stack() -> tuple[Snapshot, AuditResult]:
    """The demo company's snapshot and audit result, built in-process at the demo's frozen clock (no network)."""
    from importlib import resources
    from pathlib import Path

    from stackaudit.commands import audit_snapshot
    from stackaudit.config import load_config
    from stackaudit.demo.run import DEMO_NOW
    from stackaudit.pipeline import run_pull

    config = load_config(Path(str(resources.files("stackaudit.demo") / "data" / "stackaudit.yaml")))
    with demo_vendors(config) as (served, env):
        outcome = run_pull(served, env=env, now=lambda: DEMO_NOW, options={"fill_rates": "sampled"})
    return outcome.snapshot, audit_snapshot(config, outcome.snapshot, now=DEMO_NOW)


@contextmanager
def demo_vendors(config: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """The demo's connectors pointed at its recorded vendors on loopback (stackaudit.demo.run.recorded_vendors),
    or the manifest alone where the demo has no recorded vendors: never the network."""
    import dataclasses

    from stackaudit.demo import run

    recorded = getattr(run, "recorded_vendors", None)
    if recorded is None:
        yield dataclasses.replace(config, connectors=[]), {}
        return
    with recorded(config) as served:
        yield served


@pytest.fixture(scope="session")
def synthetic() -> ModuleType:
    """tests/reports/synthetic.py: large generated stacks (see its docstring)."""
    return load_synthetic()


def load_synthetic() -> ModuleType:
    """tests/reports/synthetic.py as a module (the test folders are not packages)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("report_synthetic", Path(__file__).with_name("synthetic.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------ real browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian chromium for the whole session, driven by Playwright (no browser download).

    Without chromium or Playwright the browser tests skip with the reason; under CI (``CI`` set) they fail
    instead, because .ci/run installs chromium and a skip there would hide a broken setup.
    """
    import os
    import shutil

    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "Playwright is not installed: pip install -e '.[dev]'"
    if reason is None and not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        reason = f"no chromium at {CHROMIUM}: apt-get install chromium (Debian) to run the report's browser tests"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
