"""The review pack: on the history (reusing stored snapshots), and the acceptance test on the demo, run twice
through the CLI with a change to the manifest in between."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from stackaudit import cli
from stackaudit.config import load_config
from stackaudit.demo.run import DEMO_NOW, recorded_vendors
from stackaudit.history.review import PACK_FILES, ReviewPack, run_review
from stackaudit_inventory import AuditResult, FindingStatus

from .conftest import TIMES, History, copy_demo


def section(markdown: str, title: str) -> list[str]:
    """The bullet lines under a ``##``/``###`` heading, up to the next heading of the same or higher level."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip("#").strip() == title and line.startswith("#"))
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    out = []
    for line in lines[start + 1 :]:
        if line.startswith("#") and len(line) - len(line.lstrip("#")) <= level:
            break
        if line.startswith("- "):
            out.append(line[2:])
    return out


def test_review_of_a_stored_snapshot_writes_the_pack(history: History, tmp_path: Path) -> None:
    s1, s2 = history.snapshots[1], history.snapshots[2]
    pack = run_review(history.config, snapshot_ref=s2.id, output=tmp_path / "pack", now=lambda: TIMES[2])
    assert not pack.pulled and pack.previous is not None and pack.previous.id == s1.id
    assert sorted(p.name for p in (tmp_path / "pack").iterdir()) == sorted(PACK_FILES)

    changes = (tmp_path / "pack" / "changes.md").read_text(encoding="utf-8")
    stack = section(changes, "What changed in the stack")
    assert stack == [
        "Mailchimp Standard (`mailchimp`) removed from the stack",
        "ZoomInfo SalesOS (`zoominfo`): renewal 2027-02-13 → 2028-02-13; notice date 2026-12-15 → 2027-12-15",
        "Field `hubspot:contacts.email`: description none → 'Primary email'",
        "Field `hubspot:contacts.region`: options added: `apac`; options removed: `latam`",
        "Field `salesforce:Lead.Legacy_Score__c`: type `number` → `string`; owning tool none → `marketo`",
        "Field `salesforce:Lead.Region__c`: label 'Region' → 'Sales Region'",
        "Integration `hubspot->snowflake` added",
        "Integration `drift->salesforce`: status `error` → `active`",
        "`hubspot:form/1` no longer writes `hubspot:contacts.email`",
    ]
    short = section(changes, "In short")
    assert short[0].startswith("1 new finding: Waiver for OF001 on")
    assert any(line.startswith("1 finding resolved: drift-\\>salesforce fails") for line in short)
    assert "Not compared" not in changes

    findings = AuditResult.model_validate_json((tmp_path / "pack" / "findings.json").read_text(encoding="utf-8"))
    assert findings.snapshot_id == s2.id
    trends = list(csv.DictReader(io.StringIO((tmp_path / "pack" / "trends.csv").read_text(encoding="utf-8"))))
    assert [r["snapshot_id"] for r in trends] == [s.id for s in history.snapshots[:3]]  # up to the reviewed one
    html = (tmp_path / "pack" / "report.html").read_text(encoding="utf-8")
    assert f"Since snapshot <code>{s1.id}</code>" in html
    assert "1 finding resolved: drift-&gt;salesforce fails" in html
    assert "<svg" in (tmp_path / "pack" / "diagram.svg").read_text(encoding="utf-8")


def test_review_after_a_partial_snapshot_says_what_was_not_compared(history: History, tmp_path: Path) -> None:
    pack = run_review(history.config, snapshot_ref=history.snapshots[4].id, output=tmp_path / "p", now=lambda: TIMES[4])
    changes = (tmp_path / "p" / "changes.md").read_text(encoding="utf-8")
    assert section(changes, "What changed in the stack") == [
        "Integration `hubspot->snowflake`: status `active` → `error`"
    ]
    [fields, *others] = section(changes, "Not compared")
    assert fields.startswith("`salesforce` fields: missing before, complete now (salesforce: session expired")
    assert "4 items not compared" in fields and len(others) == 2  # fill rates and references
    assert pack.delta is not None and [d.rule for d in pack.delta.returned] == ["OF001"]
    assert any(line.startswith("1 finding reported again after a gap") for line in section(changes, "In short"))


def test_first_review_has_nothing_to_compare(tmp_path: Path) -> None:
    config_path = copy_demo(tmp_path / "demo")
    runner = CliRunner()
    res = runner.invoke(cli.app, ["review", "-c", str(config_path), "-o", str(tmp_path / "pack"), "-s", "latest"])
    assert res.exit_code == 2 and "no snapshots yet" in res.output


# --------------------------------------------------------------------------------------------- acceptance

ACCEPTANCE_CHANGES = """
- Calendly is cancelled: the calendly tool and its calendly->salesforce flow leave the manifest.
- Gong is downsized from 40 to 16 seats.
- ZoomInfo changes owner.
- The Typeform demo-request zap now reports an error.
"""


def _change_manifest(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    edited = re.sub(r"  - id: calendly\n(?:    .*\n)+", "", text, count=1)
    edited = re.sub(r"  - source: calendly\n(?:    .*\n)+", "", edited, count=1)
    edited = edited.replace("seats: {bought: 40, used: 14}", "seats: {bought: 16, used: 14}")
    edited = edited.replace(
        "    owner: Dana Whitfield (Revenue Operations)\n    cost: {amount: 44500",
        "    owner: Sam Ortiz (Revenue Operations)\n    cost: {amount: 44500",
    )
    edited = edited.replace(
        "    observed:\n      status: active\n      last_success_at: 2026-11-21T08:40:00Z",
        "    observed:\n      status: error\n      last_success_at: 2026-11-21T08:40:00Z",
    )
    assert edited.count("calendly") == text.count("calendly") - 4  # tool id, flow source, two mapping sources
    path.write_text(edited, encoding="utf-8")


def _rows(pack: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((pack / "actions.csv").read_text(encoding="utf-8"))))


def _open(pack: Path) -> set[str]:
    doc = json.loads((pack / "findings.json").read_text(encoding="utf-8"))
    return {f["fingerprint"] for f in doc["findings"] if f["status"] == FindingStatus.open.value}


def _review_demo(config_path: Path, now: datetime, output: Path) -> ReviewPack:
    """``stackaudit review`` as ``stackaudit demo`` runs the pipeline: every connector of the demo config
    against the vendors' recorded responses on loopback, the clock frozen at ``now``."""
    with recorded_vendors(load_config(config_path)) as (served, env):
        return run_review(served, now=lambda: now, env=env, output=output)


def test_acceptance_review_twice_on_the_demo(tmp_path: Path) -> None:
    """`stackaudit review` on the demo (manifest and four API connectors), run twice with the changes above
    in between: changes.md lists exactly those changes, and actions.csv exactly the actions left (the ones the
    changes resolved are gone, nothing new appears, ZoomInfo's rows name its new owner)."""
    config_path = copy_demo(tmp_path / "demo")
    first = _review_demo(config_path, DEMO_NOW, tmp_path / "q1")
    assert first.pull_complete and first.previous is None and len(first.snapshot.fields) > 100
    assert "is the first in the store" in (tmp_path / "q1" / "changes.md").read_text(encoding="utf-8")

    _change_manifest(tmp_path / "demo" / "stack.yaml")
    second = _review_demo(config_path, DEMO_NOW + timedelta(minutes=1), tmp_path / "q2")
    assert second.pull_complete and second.diff is not None and second.diff.not_comparable == []

    changes = (tmp_path / "q2" / "changes.md").read_text(encoding="utf-8")
    assert section(changes, "What changed in the stack") == [
        "Calendly Teams (`calendly`) removed from the stack",
        "Gong (`gong`): seats bought 40 → 16",
        "ZoomInfo SalesOS (`zoominfo`): owner 'Dana Whitfield \\(Revenue Operations\\)' → "
        "'Sam Ortiz \\(Revenue Operations\\)'",
        "Integration `calendly->salesforce` removed",
        "Integration `typeform->hubspot:demo-request`: status `active` → `error`",
    ]
    short = section(changes, "In short")
    assert short[0] == "No new findings."
    assert "Annual licence spend $970,716 → $966,876 (-$3,840)." in short
    assert "`typeform->hubspot:demo-request` is now error (was active)." in short
    assert "Not compared" not in changes

    before, after = _rows(tmp_path / "q1"), _rows(tmp_path / "q2")
    resolved = _open(tmp_path / "q1") - _open(tmp_path / "q2")
    assert not _open(tmp_path / "q2") - _open(tmp_path / "q1")  # nothing new

    def fps(row: dict[str, str]) -> set[str]:
        return set(row["finding fingerprint"].split(";"))

    kept = [r for r in before if not fps(r) <= resolved]
    gone = [r for r in before if fps(r) <= resolved]
    for row in kept:  # every action on ZoomInfo's side now names its new owner
        if row["tool"] == "zoominfo":
            row["owner"] = "Sam Ortiz (Revenue Operations)"
    # Its notice date only: its sync to Salesforce shows running through ZoomInfo's connected app (not BS009's).
    assert sum(r["tool"] == "zoominfo" for r in kept) == 1
    # Evidence quotes ages ("9 days ago, 865.4 intervals"), a minute older on the second run: compare the rest.
    assert [{k: v for k, v in r.items() if k != "evidence"} for r in after] == [
        {k: v for k, v in r.items() if k != "evidence"} for r in kept
    ]
    # What went is what the changes fixed: Gong's seats, Calendly's overlap, and the field Calendly co-wrote.
    assert ("downsize tool", "gong") in {(r["action"], r["subject"]) for r in gone}
    assert all("calendly" in r["evidence"].lower() or r["subject"] == "gong" for r in gone), gone
    assert any(r["subject"].startswith("calendly") for r in gone)

    html = (tmp_path / "q2" / "report.html").read_text(encoding="utf-8")
    assert "typeform-&gt;hubspot:demo-request is now error (was active)." in html
    listing = CliRunner().invoke(cli.app, ["snapshots", "-c", str(config_path)])
    assert listing.output.count("│ complete ") == 2


def test_review_command_pulls_and_writes_the_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI path: pull (the manifest alone, offline), audit, pack; a second run compares with the first."""
    config_path = copy_demo(tmp_path / "demo")
    doc = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    doc["connectors"] = []
    config_path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    runner = CliRunner()
    monkeypatch.setattr(cli, "_now", lambda: DEMO_NOW)
    res = runner.invoke(cli.app, ["review", "-c", str(config_path), "-o", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "first snapshot in the store: nothing to compare with yet" in res.output
    assert "changes.md" in res.output and (tmp_path / "a" / "actions.csv").is_file()

    _change_manifest(tmp_path / "demo" / "stack.yaml")
    monkeypatch.setattr(cli, "_now", lambda: DEMO_NOW + timedelta(minutes=1))
    res = runner.invoke(cli.app, ["review", "-c", str(config_path), "-o", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert "5 changes, 0 parts not compared" in res.output
