"""`stackaudit baseline` and `audit --baseline`: known findings are marked, only new ones fail the build."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stackaudit.cli import app
from stackaudit_inventory import AuditResult, FindingStatus

runner = CliRunner()

MANIFEST = """\
tools:
  - {id: hubspot, name: HubSpot, capabilities: [marketing-automation, crm], owner: ops}
  - {id: drift, name: Drift, capabilities: [chat], owner: sales}
  - {id: intercom, name: Intercom, capabilities: [chat]}
"""
NEW_TOOL = "  - {id: typeform, name: Typeform, capabilities: [forms]}\n"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "stackaudit.yaml").write_text(
        "stack: Acme\nmanifest: stack.yaml\naudit:\n  waivers: waivers.yaml\n", encoding="utf-8"
    )
    (tmp_path / "stack.yaml").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    pull(tmp_path)
    return tmp_path


def pull(project: Path) -> None:
    code, _, err = run("pull", "--config", str(project / "stackaudit.yaml"), "--quiet")
    assert code == 0, err


def audit(project: Path, *extra: str) -> tuple[int, AuditResult]:
    code, out, err = run("audit", "--config", str(project / "stackaudit.yaml"), "--format", "json", *extra)
    assert code in (0, 1), err
    return code, AuditResult.model_validate_json(out)


def test_baseline_then_audit_fails_only_on_new_findings(project: Path) -> None:
    cfg = str(project / "stackaudit.yaml")
    code, before = audit(project, "--fail-on", "low")
    assert code == 1 and before.findings
    assert all(f.status is FindingStatus.open for f in before.findings)

    code, out, err = run("baseline", "--config", cfg)
    assert code == 0, err
    path = project / "baseline.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert sorted(data["fingerprints"]) == sorted({f.fingerprint for f in before.findings})
    assert data["snapshot_id"] == before.snapshot_id
    assert f"wrote {len(data['fingerprints'])} finding fingerprints" in out and str(path) in out
    assert "--baseline" in out  # how to use it, since the config does not name it yet

    code, after = audit(project, "--baseline", str(path), "--fail-on", "low")
    assert code == 0
    assert {f.status for f in after.findings} == {FindingStatus.baselined}
    assert after.counts_by_severity() == {s: 0 for s in after.counts_by_severity()}

    # A new problem: only its findings are open, and they alone fail the build.
    (project / "stack.yaml").write_text(MANIFEST + NEW_TOOL, encoding="utf-8")
    pull(project)
    code, later = audit(project, "--baseline", str(path), "--fail-on", "low")
    assert code == 1
    new = [f for f in later.findings if f.status is FindingStatus.open]
    assert new and all("typeform" in f.subjects for f in new)
    assert {f.fingerprint for f in later.findings if f.status is FindingStatus.baselined} == set(data["fingerprints"])
    code, _ = audit(project, "--baseline", str(path), "--fail-on", "critical")
    assert code == 0

    code, out, _ = run("audit", "--config", cfg, "--baseline", str(path))
    assert code == 0 and f"{len(data['fingerprints'])} baselined" in out


def test_config_baseline_is_used_and_rewritten_by_default(project: Path) -> None:
    cfg = project / "stackaudit.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "  baseline: known/baseline.json\n", encoding="utf-8")
    (project / "known").mkdir()
    code, out, err = run("baseline", "--config", str(cfg))
    assert code == 0, err
    assert (project / "known" / "baseline.json").exists() and "--baseline" not in out
    code, result = audit(project, "--fail-on", "info")
    assert code == 0 and {f.status for f in result.findings} == {FindingStatus.baselined}

    # Rewriting ignores the old baseline: every finding open today goes in, even already baselined ones.
    first = json.loads((project / "known" / "baseline.json").read_text(encoding="utf-8"))["fingerprints"]
    assert run("baseline", "--config", str(cfg))[0] == 0
    assert json.loads((project / "known" / "baseline.json").read_text(encoding="utf-8"))["fingerprints"] == first


def test_waived_findings_stay_out_of_the_baseline(project: Path) -> None:
    (project / "waivers.yaml").write_text(
        "waivers:\n  - {rule: HY003, subject: intercom, reason: owner being hired, owner: ops@acme.com, "
        "expires: 2999-01-01}\n",
        encoding="utf-8",
    )
    out_path = project / "custom.json"
    code, _, err = run("baseline", "--config", str(project / "stackaudit.yaml"), "--output", str(out_path))
    assert code == 0, err
    _, result = audit(project)
    waived = {f.fingerprint for f in result.findings if f.status is FindingStatus.waived}
    assert waived
    assert not waived & set(json.loads(out_path.read_text(encoding="utf-8"))["fingerprints"])


def test_a_missing_or_broken_baseline_is_one_line_exit_2(project: Path) -> None:
    cfg = str(project / "stackaudit.yaml")
    code, _, err = run("audit", "--config", cfg, "--baseline", str(project / "nope.json"))
    assert code == 2 and "baseline file not found" in err and "stackaudit baseline" in err
    (project / "bad.json").write_text('{"fingerprints": "x"}', encoding="utf-8")
    code, _, err = run("audit", "--config", cfg, "--baseline", str(project / "bad.json"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "bad.json" in err


def test_baseline_without_a_snapshot_says_to_pull(tmp_path: Path) -> None:
    (tmp_path / "stackaudit.yaml").write_text("stack: Acme\n", encoding="utf-8")
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        code, _, err = run("baseline")
    finally:
        os.chdir(old)
    assert code == 2 and "pull" in err
    assert not (tmp_path / "baseline.json").exists()
