"""The snapshot store: round trips, atomic writes (including a real SIGKILL), broken files, refs, migrations."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stackaudit_inventory import (
    AuditResult,
    Category,
    Finding,
    RunStatus,
    Severity,
    Snapshot,
    SnapshotError,
    SourceRun,
    Tool,
    fingerprint,
)
from stackaudit_inventory import store as store_module
from stackaudit_inventory.store import MIGRATIONS, SnapshotStore

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def run(run_id: str, status: RunStatus = RunStatus.complete) -> SourceRun:
    return SourceRun(id=run_id, connector_type=run_id, started_at=T0, ended_at=T0, status=status)


def snap(
    taken_at: datetime = T0,
    *,
    suffix: str = "0001",
    stack: str = "Acme",
    runs: list[SourceRun] | None = None,
    tools: Sequence[str] = ("hubspot",),
) -> Snapshot:
    return Snapshot(
        id=f"{taken_at.strftime('%Y%m%dT%H%M%SZ')}-{suffix}",
        taken_at=taken_at,
        stack=stack,
        tools=[Tool(id=t, name=t.title()) for t in tools],
        source_runs=runs if runs is not None else [run("manifest")],
    )


def no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


def write_gz(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload))
    return path


# ------------------------------------------------------------------------------------------ round trip


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / ".stackaudit")
    original = snap(runs=[run("manifest"), run("hubspot", RunStatus.partial)], tools=["hubspot", "salesforce"])
    path = store.save(original)
    assert path == tmp_path / ".stackaudit" / "snapshots" / f"{original.id}.json.gz"
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert store.load(original.id) == original
    assert store.load_path(path) == original
    # the file is plain gzip JSON that any tool can read
    assert json.loads(gzip.decompress(path.read_bytes()))["stack"] == "Acme"
    assert no_temp_files(path.parent)


def test_same_snapshot_compresses_to_the_same_bytes(tmp_path: Path) -> None:
    a = SnapshotStore(tmp_path / "a").save(snap())
    b = SnapshotStore(tmp_path / "b").save(snap())
    assert a.read_bytes() == b.read_bytes()


def test_plain_json_snapshot_loads_too(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(snap().model_dump_json(indent=2))
    assert SnapshotStore(tmp_path).load_path(path) == snap()


def test_result_round_trip(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    finding = Finding(
        fingerprint=fingerprint("RT001", ["drift", "intercom"]),
        rule="RT001",
        category=Category.redundant_tool,
        severity=Severity.medium,
        subjects=["drift", "intercom"],
        title="2 active tools do the same job (chat)",
        remediation="Keep one.",
    )
    result = AuditResult(generated_at=T0, snapshot_id=snap().id, stack="Acme", findings=[finding])
    path = store.save_result(result)
    assert path == tmp_path / "results" / f"{snap().id}.json"
    assert store.load_result(snap().id) == result
    assert no_temp_files(path.parent)


def test_result_errors_name_the_file(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    with pytest.raises(SnapshotError, match=r"results/x1\.json: no audit result for snapshot x1"):
        store.load_result("x1")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "x2.json").write_text('{"schema_version": 9}')
    with pytest.raises(SnapshotError, match=r"x2\.json: findings schema version 9 is newer .* upgrade stackaudit"):
        store.load_result("x2")
    (tmp_path / "results" / "x3.json").write_text('{"schema_version": 1, "stack": "a"}')
    with pytest.raises(SnapshotError, match=r"x3\.json: not a valid audit result: generated_at: Field required"):
        store.load_result("x3")
    (tmp_path / "results" / "x4.json").write_text("{")
    with pytest.raises(SnapshotError, match=r"x4\.json: invalid JSON at line 1"):
        store.load_result("x4")


@pytest.mark.parametrize("bad_id", ["../escape", ".hidden", "a/b", ""])
def test_ids_that_are_not_file_names_are_refused(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(SnapshotError, match="not usable as a file name"):
        SnapshotStore(tmp_path).save(snap().model_copy(update={"id": bad_id}))


# ---------------------------------------------------------------------------------------------- listing


def test_list_is_oldest_first_with_sources_and_completeness(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    assert store.list() == []
    third = snap(T0 + timedelta(days=2), runs=[run("manifest"), run("hubspot", RunStatus.failed)])
    first = snap(T0, runs=[run("manifest"), run("salesforce")])
    second = snap(T0 + timedelta(days=1), runs=[run("manifest", RunStatus.failed)])
    fourth = snap(T0 + timedelta(days=3), runs=[run("hubspot", RunStatus.partial), run("gong", RunStatus.failed)])
    for s in (third, first, fourth, second):
        store.save(s)
    entries = store.list()
    assert [e.id for e in entries] == [first.id, second.id, third.id, fourth.id]
    assert entries[0].sources == ("manifest", "salesforce")
    assert [e.completeness for e in entries] == ["complete", "failed", "partial", "partial"]
    assert entries[0].summary == "complete"
    assert entries[2].failed_sources == ("hubspot",)
    assert entries[3].summary == "partial (failed: gong; partial: hubspot)"
    assert entries[0].taken_at == T0
    assert entries[0].size_bytes == entries[0].path.stat().st_size
    assert entries[0].stack == "Acme" and entries[0].schema_version == 1
    assert all(e.error is None for e in entries)


def test_naive_times_are_read_as_utc(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.save(snap(T0, suffix="aaaa"))
    naive = snap(T0 + timedelta(hours=1), suffix="bbbb", stack="naive")
    store.save(naive.model_copy(update={"taken_at": naive.taken_at.replace(tzinfo=None)}))
    assert [e.taken_at for e in store.list()] == [T0, T0 + timedelta(hours=1)]
    assert store.load("2026-11-30").stack == "naive"


def test_list_reads_only_the_header_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SnapshotStore(tmp_path)
    store.save(snap(tools=[f"tool-{i}" for i in range(2000)]))

    def no_full_load(self: SnapshotStore, path: Path) -> Snapshot:
        raise AssertionError("list() must not load whole snapshots")

    monkeypatch.setattr(SnapshotStore, "load_path", no_full_load)
    (entry,) = store.list()
    assert entry.sources == ("manifest",)


def test_list_falls_back_to_a_full_read_for_files_written_elsewhere(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    other = snap(suffix="beef")
    write_gz(store.snapshot_path(other.id), other.model_dump_json(indent=2).encode())
    (entry,) = store.list()
    assert entry.id == other.id and entry.sources == ("manifest",) and entry.error is None


# ------------------------------------------------------------------------------------------------- refs


def test_load_by_latest_id_prefix_and_date(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    morning = snap(T0 - timedelta(hours=6), suffix="aaaa", stack="morning")
    noon = snap(T0 + timedelta(hours=3), suffix="bbbb", stack="noon")
    next_day = snap(T0 + timedelta(days=1), suffix="cccc", stack="next day")
    for s in (noon, next_day, morning):
        store.save(s)
    assert store.load().stack == "next day"
    assert store.load("latest").stack == "next day"
    assert store.load(morning.id).stack == "morning"
    assert store.load("20261201").stack == "next day"  # unique prefix
    assert store.load("20261130T120000Z").stack == "noon"
    assert store.load("2026-11-30").stack == "noon"  # newest that day
    assert store.load("2026-12-01").stack == "next day"
    assert store.resolve("2026-11-30").id == noon.id
    with pytest.raises(SnapshotError, match=r"prefix '20261130' is ambiguous \(2 match: .*aaaa, .*bbbb\)"):
        store.load("20261130")
    with pytest.raises(SnapshotError, match="no snapshot matches 'nope'"):
        store.load("nope")
    with pytest.raises(SnapshotError, match="no snapshot taken on 2026-11-29"):
        store.load("2026-11-29")
    with pytest.raises(SnapshotError, match="'2026-13-45' is not a valid date"):
        store.load("2026-13-45")


def test_empty_store_says_to_pull(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"snapshots: no snapshots yet \(run `stackaudit pull` first\)"):
        SnapshotStore(tmp_path).load()


# -------------------------------------------------------------------------------------------- atomicity


def test_failure_mid_write_keeps_the_previous_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SnapshotStore(tmp_path)
    previous = snap(stack="previous")
    path = store.save(previous)
    before = path.read_bytes()
    real_write = gzip.GzipFile.write
    calls = {"n": 0}

    def failing_write(self: gzip.GzipFile, data: Any) -> int:
        calls["n"] += 1
        real_write(self, bytes(data)[: len(data) // 2])  # half the bytes reach the disk, then the disk is full
        self.fileobj.flush()  # type: ignore[union-attr]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gzip.GzipFile, "write", failing_write)
    with pytest.raises(OSError, match="No space left"):
        store.save(previous.model_copy(update={"stack": "replacement"}))  # same id: would overwrite
    with pytest.raises(OSError, match="No space left"):
        store.save(snap(T0 + timedelta(days=1), stack="new"))
    monkeypatch.undo()

    assert calls["n"] == 2
    assert path.read_bytes() == before
    assert store.load().stack == "previous"
    assert [e.id for e in store.list()] == [previous.id]
    assert no_temp_files(store.snapshots_dir)


def test_failure_at_rename_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SnapshotStore(tmp_path)
    store.save(snap(stack="previous"))

    def failing_replace(src: Any, dst: Any) -> None:
        raise PermissionError("rename refused")

    monkeypatch.setattr(store_module.os, "replace", failing_replace)
    with pytest.raises(PermissionError):
        store.save(snap(stack="replacement"))
    with pytest.raises(PermissionError):
        store.save_result(AuditResult(generated_at=T0, snapshot_id="x", stack="Acme"))
    monkeypatch.undo()
    assert store.load().stack == "previous"
    assert no_temp_files(store.snapshots_dir)
    assert no_temp_files(store.results_dir)


_KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from stackaudit_inventory import FieldDef, Snapshot
    from stackaudit_inventory.store import SnapshotStore

    fields = [
        FieldDef(
            id=f"hubspot:contacts.property_{i}", tool="hubspot", object="contacts", name=f"property_{i}",
            type="string", label=f"Property {i}", description=os.urandom(24).hex(),
        )
        for i in range(60_000)
    ]
    snapshot = Snapshot(id="20261201T000000Z-dead", taken_at=datetime(2026, 12, 1, tzinfo=UTC), stack="huge",
                        fields=fields)
    # A slow disk: however fast this machine is, the kill lands before the rename.
    os.fsync = lambda fd: time.sleep(120)
    SnapshotStore(Path(sys.argv[1])).save(snapshot)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_mid_write_leaves_the_previous_snapshot_loadable(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    previous = snap(stack="previous")
    store.save(previous)
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    try:
        deadline = time.monotonic() + 120
        temp: list[Path] = []
        while time.monotonic() < deadline and child.poll() is None:
            temp = [p for p in store.snapshots_dir.iterdir() if p.name.endswith(".tmp") and p.stat().st_size > 64_000]
            if temp:
                break
            time.sleep(0.002)
        assert temp, f"the writer never started writing (exit code {child.poll()})"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert not store.snapshot_path("20261201T000000Z-dead").exists()
    assert [e.id for e in store.list()] == [previous.id]  # the orphaned temp file is never listed
    assert store.load().stack == "previous"
    # and the store keeps working beside the debris
    store.save(snap(T0 + timedelta(days=2), stack="after"))
    assert store.load().stack == "after"


def test_save_sweeps_temp_files_left_by_dead_writers(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.snapshots_dir.mkdir(parents=True)
    old = store.snapshots_dir / ".20261101T000000Z-0000.json.gz.abc123.tmp"
    fresh = store.snapshots_dir / ".20261130T085959Z-0000.json.gz.def456.tmp"
    old.write_bytes(b"\x1f\x8b partial")
    fresh.write_bytes(b"\x1f\x8b another process, writing now")
    day_ago = time.time() - 86400
    os.utime(old, (day_ago, day_ago))
    store.save(snap())
    assert not old.exists()
    assert fresh.exists()
    assert [e.id for e in store.list()] == [snap().id]


# ---------------------------------------------------------------------------------------- broken files


def test_broken_files_name_the_file_and_do_not_hide_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SnapshotStore(Path(".stackaudit"))
    good = snap(T0, suffix="0000", stack="good")
    store.save(good)
    day = timedelta(days=1)

    corrupt = store.snapshot_path(snap(T0 + day, suffix="c0ff").id)
    corrupt.write_bytes(b"\x1f\x8b\x08\x00 this is not deflate data at all")
    not_gzip = store.snapshot_path(snap(T0 + day, suffix="0bad").id)
    not_gzip.write_bytes(b"PK\x03\x04 a zip file")
    truncated_src = store.save(snap(T0 + 2 * day, suffix="7777", tools=[f"t{i}" for i in range(300)]))
    truncated_src.write_bytes(truncated_src.read_bytes()[: truncated_src.stat().st_size // 2])
    newer_doc = json.loads(snap(T0 + 3 * day, suffix="3333").model_dump_json())
    newer_doc["schema_version"] = 3
    newer = write_gz(store.snapshot_path(newer_doc["id"]), json.dumps(newer_doc).encode())
    bad_json = write_gz(store.snapshot_path(snap(T0 + 4 * day, suffix="4444").id), b'{"schema_version": 1,')
    invalid_doc = json.loads(snap(T0 + 5 * day, suffix="5555").model_dump_json())
    invalid_doc["tools"][0]["id"] = "Not A Slug"
    invalid = write_gz(store.snapshot_path(invalid_doc["id"]), json.dumps(invalid_doc).encode())
    no_version = write_gz(store.snapshot_path(snap(T0 + 6 * day, suffix="6666").id), b'{"tools": []}')

    def message(path: Path) -> str:
        with pytest.raises(SnapshotError) as info:
            store.load_path(path)
        text = str(info.value)
        assert "\n" not in text
        assert text.startswith(f".stackaudit/snapshots/{path.name}: "), text
        return text

    assert "corrupt or truncated gzip file" in message(corrupt)
    assert "invalid JSON" in message(not_gzip)
    assert "corrupt or truncated gzip file" in message(truncated_src)
    assert message(newer) == (
        f".stackaudit/snapshots/{newer.name}: snapshot schema version 3 is newer than this stackaudit supports (1); "
        "upgrade stackaudit"
    )
    assert "invalid JSON at line 1" in message(bad_json)
    assert message(invalid).endswith("not a valid snapshot: tools[0].id: Value error, tool id must be a lowercase "
                                     "slug like 'google-analytics-4', got 'Not A Slug'")
    assert "no valid schema_version" in message(no_version)

    # loading by ref goes through the same checks
    with pytest.raises(SnapshotError, match="schema version 3 is newer"):
        store.load(newer_doc["id"])
    with pytest.raises(SnapshotError, match="no valid schema_version"):
        store.load()  # "latest" is the newest file, broken or not: never silently an older one

    # every file is still listed; the unreadable ones say why, the good one loads
    entries = {e.path.name: e for e in store.list()}
    assert len(entries) == 8
    # (files not written by the store, like these, are read in full by list(), so it catches `invalid` too)
    for bad in (corrupt, not_gzip, newer, bad_json, no_version, invalid):
        assert entries[bad.name].completeness == "unreadable"
        assert entries[bad.name].error and bad.name in entries[bad.name].error
        assert entries[bad.name].summary.startswith("unreadable (")
    assert entries[newer.name].taken_at == T0 + 3 * day  # from the id when the header is unreadable
    # list() reads the store's own files by their header line only; load() checks the rest
    assert entries[truncated_src.name].error is None
    assert entries[store.snapshot_path(good.id).name].error is None
    assert store.load(good.id).stack == "good"


# ------------------------------------------------------------------------------------------- migrations


def _v0_document() -> dict[str, Any]:
    """A made-up schema version 0 in which the stack's name was called `company` and tools were `apps`."""
    doc = json.loads(snap(suffix="0000", stack="Old Co").model_dump_json())
    doc["schema_version"] = 0
    doc["company"] = doc.pop("stack")
    doc["apps"] = doc.pop("tools")
    return doc


def _upgrade_v0(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc["stack"] = doc.pop("company")
    doc["tools"] = doc.pop("apps")
    return doc


def test_older_snapshots_are_upgraded_on_load(tmp_path: Path) -> None:
    assert MIGRATIONS == {}  # nothing to upgrade yet; the hook is ready for schema version 2
    store = SnapshotStore(tmp_path, migrations={0: _upgrade_v0})
    path = write_gz(store.snapshot_path(_v0_document()["id"]), json.dumps(_v0_document()).encode())
    loaded = store.load()
    assert loaded.schema_version == 1
    assert loaded.stack == "Old Co"
    assert [t.id for t in loaded.tools] == ["hubspot"]
    (entry,) = store.list()  # an old header is listed through the full, upgrading load
    assert entry.schema_version == 1 and entry.stack == "Old Co" and entry.error is None
    # saving it again writes the current version
    store.save(loaded)
    assert json.loads(gzip.decompress(path.read_bytes()))["schema_version"] == 1


def test_an_older_snapshot_without_an_upgrade_path_is_refused(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    write_gz(store.snapshot_path(_v0_document()["id"]), json.dumps(_v0_document()).encode())
    with pytest.raises(SnapshotError, match="snapshot schema version 0 cannot be upgraded to 1"):
        store.load()
