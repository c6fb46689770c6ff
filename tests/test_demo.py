"""`stackaudit demo` end to end: the acceptance of the foundation issue, checked in-process."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from rich.console import Console

from stackaudit.demo.run import run_demo
from stackaudit_inventory import AuditResult, FindingStatus
from stackaudit_inventory.store import SnapshotStore


def test_demo_writes_report_findings_diagram_and_snapshot(tmp_path: Path) -> None:
    console = Console(file=open(tmp_path / "console.txt", "w", encoding="utf-8"), width=200)
    code = run_demo(tmp_path / "demo", console=console)
    console.file.close()
    assert code == 0
    out = tmp_path / "demo"

    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    jsonschema.validate(findings, AuditResult.model_json_schema())
    result = AuditResult.model_validate(findings)
    open_categories = {f.category.value for f in result.findings if f.status is FindingStatus.open}
    assert len(open_categories) >= 3, open_categories

    html = (out / "report.html").read_text(encoding="utf-8")
    for f in result.findings:
        assert f.rule in html
    assert "<svg" in html

    svg = (out / "diagram.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "Salesforce" in svg

    store = SnapshotStore(out / "config" / ".stackaudit")
    snapshot = store.load("latest")
    assert snapshot.id == result.snapshot_id
    assert len(snapshot.tools) >= 20
    printed = (tmp_path / "console.txt").read_text(encoding="utf-8")
    assert "report.html" in printed and "findings.json" in printed


def test_demo_is_reproducible(tmp_path: Path) -> None:
    console = Console(file=open(tmp_path / "c.txt", "w", encoding="utf-8"))
    run_demo(tmp_path / "a", console=console)
    run_demo(tmp_path / "b", console=console)
    console.file.close()
    a = AuditResult.model_validate_json((tmp_path / "a" / "findings.json").read_text(encoding="utf-8"))
    b = AuditResult.model_validate_json((tmp_path / "b" / "findings.json").read_text(encoding="utf-8"))
    assert [(f.fingerprint, f.title, f.status) for f in a.findings] == [
        (f.fingerprint, f.title, f.status) for f in b.findings
    ]
    assert (tmp_path / "a" / "diagram.svg").read_bytes() == (tmp_path / "b" / "diagram.svg").read_bytes()
