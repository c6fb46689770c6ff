"""`pull --resume` and the store lock: finish a partial snapshot without calling again what succeeded."""

from __future__ import annotations

import shutil
import threading
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stackaudit.cli import app
from stackaudit.fakes.hubspot import DEMO_TOKEN as HS_TOKEN
from stackaudit.fakes.hubspot import FakeHubSpot, load_portal, recorded_portal_path
from stackaudit.fakes.segment import DEMO_TOKEN as SG_TOKEN
from stackaudit.fakes.segment import FakeSegment, load_workspace, recorded_workspace_path
from stackaudit_inventory import RunStatus
from stackaudit_inventory.store import SnapshotStore, StoreLockedError

runner = CliRunner()


def _project(tmp_path: Path, hubspot_url: str, segment_url: str) -> Path:
    data = resources.files("stackaudit.demo") / "data"
    for name in ("stack.yaml", "mappings.csv"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    config = tmp_path / "stackaudit.yaml"
    config.write_text(
        "stack: Northwind Analytics\n"
        "manifest: stack.yaml\n"
        "connectors:\n"
        f"  - {{type: hubspot, token: '${{HUBSPOT_TOKEN}}', base_url: '{hubspot_url}',"
        " limits: {requests_per_10s: 1000, search_per_second: 50}}\n"
        f"  - {{type: segment, token: '${{SEGMENT_TOKEN}}', base_url: '{segment_url}', requests_per_second: 100}}\n",
        encoding="utf-8",
    )
    return config


def _pull(config: Path, env: dict[str, str], *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["pull", "--config", str(config), "-q", *extra], env=env, catch_exceptions=False)
    return result.exit_code, result.stderr


def test_resume_pulls_only_what_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMENT_TOKEN", raising=False)
    with (
        FakeHubSpot(load_portal(recorded_portal_path()), token=HS_TOKEN, rate_limit=None, search_rate_limit=None) as hs,
        FakeSegment(load_workspace(recorded_workspace_path()), token=SG_TOKEN) as sg,
    ):
        config = _project(tmp_path, hs.base_url, sg.base_url)
        code, err = _pull(config, {"HUBSPOT_TOKEN": HS_TOKEN})
        assert code == 3
        assert "connector 'segment'" in err and "SEGMENT_TOKEN" in err
        store = SnapshotStore(tmp_path / ".stackaudit")
        first = store.load("latest")
        assert {r.id: r.status for r in first.source_runs}["segment"] is RunStatus.failed
        hubspot_calls = len(hs.requests)
        assert hubspot_calls > 0 and len(sg.requests) == 0

        code, err = _pull(config, {"HUBSPOT_TOKEN": HS_TOKEN, "SEGMENT_TOKEN": SG_TOKEN}, "--resume")
        assert code == 0, err
        assert len(hs.requests) == hubspot_calls, "resume called HubSpot again although it had succeeded"
        assert len(sg.requests) > 0
        second = store.load("latest")
        assert second.id != first.id
        runs = {r.id: r for r in second.source_runs}
        assert all(r.status is RunStatus.complete for r in runs.values())
        assert any("pull --resume" in n for n in runs["hubspot"].notes)
        hubspot_fields = sorted(f.id for f in first.fields if f.tool == "hubspot")
        assert hubspot_fields and sorted(f.id for f in second.fields if f.tool == "hubspot") == hubspot_fields
        assert any(i.source == "segment" for i in second.integrations)

        # Nothing left to resume: says so, changes nothing.
        code, _ = _pull(config, {"HUBSPOT_TOKEN": HS_TOKEN, "SEGMENT_TOKEN": SG_TOKEN}, "--resume")
        assert code == 0
        assert store.load("latest").id == second.id


def test_two_pulls_at_once_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / ".stackaudit")
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.lock():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(10)
        # flock is per open file description, so a second open in this process contends like another process.
        with pytest.raises(StoreLockedError, match="another pull is writing to this store"):
            with store.lock():
                pass
    finally:
        release.set()
        holder.join()
    with store.lock():  # released: the next pull proceeds
        pass
    shutil.rmtree(tmp_path / ".stackaudit")
