"""The history commands end to end through the CLI: diff, trends, snapshots prune, audit --since."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from stackaudit.cli import app

from .conftest import History


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_diff_defaults_to_the_two_newest(history: History) -> None:
    code, out = run("diff", "-c", str(history.config.path), "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert (doc["old_snapshot_id"], doc["new_snapshot_id"]) == (history.snapshots[3].id, history.snapshots[4].id)
    assert [nc["capability"] for nc in doc["not_comparable"]] == ["fields", "fill_rates", "references"]


def test_diff_table_and_markdown(history: History, tmp_path: Path) -> None:
    s1, s2 = history.snapshots[1].id, history.snapshots[2].id
    code, out = run("diff", s1, s2, "-c", str(history.config.path))
    assert code == 0, out
    assert "Mailchimp Standard (mailchimp) removed from the stack" in out
    assert "drift->salesforce is now active (was error)." in out

    target = tmp_path / "diff.md"
    code, out = run("diff", s1[:10], s2, "-c", str(history.config.path), "-f", "md", "-o", str(target))
    assert code == 0, out
    md = target.read_text(encoding="utf-8")
    assert md.startswith("## Changes: Northwind Analytics")
    assert "- removed: Mailchimp Standard (`mailchimp`) removed from the stack" in md


def test_diff_needs_two_snapshots_and_a_sane_threshold(history: History) -> None:
    code, out = run("diff", "-c", str(history.config.path), "--fill-threshold", "2")
    assert code == 2
    history.store.prune(1)
    code, out = run("diff", "-c", str(history.config.path))
    assert code == 2 and "diff needs two snapshots" in out


def test_trends_table_and_csv(history: History, tmp_path: Path) -> None:
    code, out = run("trends", "-c", str(history.config.path))
    assert code == 0, out
    assert "trends across stored snapshots" in out and "partial" in out
    code, out = run("trends", "-c", str(history.config.path), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["tools"] for r in rows] == ["26", "27", "26", "26", "26"]


def test_snapshots_prune(history: History) -> None:
    ids = [s.id for s in history.snapshots]
    code, out = run("snapshots", "prune", "--keep", "3", "--dry-run", "-c", str(history.config.path))
    assert code == 0, out
    assert f"would remove {ids[0]}" in out and "would remove 2 snapshots; 3 kept" in out
    assert len(history.store.list()) == 5
    code, out = run("snapshots", "prune", "--keep", "3", "-c", str(history.config.path))
    assert code == 0, out
    assert f"removed {ids[1]} (taken 2026-11-09 09:00 UTC) and its audit result" in out
    assert "removed 2 snapshots; 3 kept" in out
    assert [e.id for e in history.store.list()] == ids[2:]
    code, out = run("snapshots", "prune", "--keep", "0", "-c", str(history.config.path))
    assert code == 2


def test_audit_since(history: History) -> None:
    s1, s2 = history.snapshots[1].id, history.snapshots[2].id
    code, out = run("audit", "-c", str(history.config.path), "-s", s2, "--since", s1)
    assert code == 0, out
    assert "findings since " + s1 in out and "1 finding resolved" in out
    code, out = run("audit", "-c", str(history.config.path), "-s", s2, "--since", s1, "-f", "csv")
    assert code == 2
    code, out = run("audit", "-c", str(history.config.path), "-s", s1)  # without --since: as before
    assert code == 0 and "findings since" not in out
