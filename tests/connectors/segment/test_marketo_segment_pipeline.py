"""End to end: the demo manifest plus the Marketo and Segment connectors against the recorded demo servers, through
the real pipeline and audit. The acceptance of issue 5: the broken-sync rules flag the Segment destination whose
failure rate is high and the Marketo–CRM sync whose errors spike; the redundant-tool rule sees the two analytics
destinations doing the same job; discovered tools are merged into declared ones, never duplicated, and shadow
tools stay marked discovered."""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest

from stackaudit.commands import audit_snapshot
from stackaudit.config import load_config
from stackaudit.fakes.marketo import serve_recorded_instance
from stackaudit.fakes.segment import serve_recorded_workspace
from stackaudit.pipeline import run_pull
from stackaudit_inventory import Origin, RunStatus

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def pulled(tmp_path: Path) -> object:
    data = Path(str(resources.files("stackaudit.demo") / "data"))
    for name in ("stack.yaml", "mappings.csv", "waivers.yaml"):
        shutil.copy(data / name, tmp_path / name)
    with (
        serve_recorded_instance() as (mkto_url, client_id, client_secret),
        serve_recorded_workspace() as (
            sgmt_url,
            token,
        ),
    ):
        (tmp_path / "stackaudit.yaml").write_text(
            textwrap.dedent(
                f"""\
                stack: Northwind Analytics
                manifest: stack.yaml
                connectors:
                  - type: marketo
                    base_url: {mkto_url}
                    client_id: ${{MARKETO_CLIENT_ID}}
                    client_secret: ${{MARKETO_CLIENT_SECRET}}
                    extract_poll_seconds: 0.01
                    limits: {{calls_per_20s: 2000}}
                  - type: segment
                    base_url: {sgmt_url}
                    token: ${{SEGMENT_TOKEN}}
                    requests_per_second: 200
                audit:
                  waivers: waivers.yaml
                """
            ),
            encoding="utf-8",
        )
        config = load_config(tmp_path / "stackaudit.yaml")
        env = {"MARKETO_CLIENT_ID": client_id, "MARKETO_CLIENT_SECRET": client_secret, "SEGMENT_TOKEN": token}
        outcome = run_pull(config, env=env, now=lambda: NOW, options={"fill_rates": "sampled"})
    return config, outcome


def test_the_pipeline_merges_and_the_rules_fire(pulled: object) -> None:
    config, outcome = pulled  # type: ignore[misc]
    snapshot = outcome.snapshot
    runs = {r.id: r for r in snapshot.source_runs}
    assert runs["marketo"].status is RunStatus.complete, runs["marketo"].errors
    assert runs["segment"].status is RunStatus.complete, runs["segment"].errors

    tools = snapshot.tools_by_id
    assert len(tools) == len(snapshot.tools)  # never duplicated
    assert tools["mixpanel"].origin is Origin.both and tools["marketo"].origin is Origin.both
    assert tools["mixpanel"].owner == "Tomás Herrera (Product)"  # declared facts win
    assert tools["fullstory"].origin is Origin.discovered  # a shadow tool
    flows = snapshot.integrations_by_id
    assert flows["segment->mixpanel"].origin is Origin.both
    assert flows["segment->mixpanel"].expected_interval_minutes == 15  # intent from the manifest
    assert flows["marketo->salesforce"].direction == "two-way"
    email = [m for m in flows["marketo->salesforce"].mappings if m.source == "marketo:leads.email"]
    assert len(email) == 1  # declared and discovered mapping merged into one

    result = audit_snapshot(config, snapshot, now=NOW)
    subjects = {(f.rule, tuple(f.subjects)) for f in result.findings}
    assert ("BS001", ("segment->hubspot",)) in subjects
    assert ("BS001", ("marketo->salesforce",)) in subjects
    assert not any(f.rule == "BS001" and f.subjects == ["segment->mixpanel"] for f in result.findings)
    assert any(f.rule == "RT001" and {"mixpanel", "amplitude"} <= set(f.subjects) for f in result.findings)
