"""Snapshot housekeeping: ``prune --keep N`` and schema migrations applied by both ``list()`` and ``load()``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from stackaudit_inventory import SNAPSHOT_SCHEMA_VERSION, Snapshot, SnapshotError
from stackaudit_inventory import store as store_module
from stackaudit_inventory.store import SnapshotStore

from .conftest import History


def test_prune_keeps_the_newest_and_removes_older_snapshots_with_their_results(history: History) -> None:
    store = history.store
    ids = [s.id for s in history.snapshots]
    assert all(store.result_path(i).exists() for i in ids[:3])

    planned = store.prune(2, dry_run=True)
    assert [e.id for e in planned] == ids[:3]
    assert len(store.list()) == 5  # a dry run removes nothing

    removed = store.prune(2)
    assert [e.id for e in removed] == ids[:3]
    assert [e.id for e in store.list()] == ids[3:]
    assert not any(store.snapshot_path(i).exists() or store.result_path(i).exists() for i in ids[:3])
    assert store.prune(2) == []  # nothing more to do
    assert store.prune(10) == []


def test_prune_leaves_unreadable_files_and_refuses_to_keep_none(history: History) -> None:
    store = history.store
    broken = store.snapshots_dir / "20200101T000000Z-dead.json.gz"
    broken.write_bytes(b"not gzip at all")
    removed = store.prune(1)
    assert len(removed) == 4
    assert broken.exists()
    assert [e.id for e in store.list() if e.error is None] == [history.snapshots[-1].id]
    with pytest.raises(ValueError):
        store.prune(0)


# -------------------------------------------------------------------------------------------- migrations


def _version_zero(snapshot: Snapshot) -> dict[str, Any]:
    """An imagined schema version 0: ``taken`` instead of ``taken_at``, and tools keyed ``slug``."""
    doc = json.loads(snapshot.model_dump_json())
    doc["schema_version"] = 0
    doc["taken"] = doc.pop("taken_at")
    for tool in doc["tools"]:
        tool["slug"] = tool.pop("id")
    return doc


def _upgrade_0_to_1(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc["taken_at"] = doc.pop("taken")
    doc["tools"] = [{("id" if k == "slug" else k): v for k, v in tool.items()} for tool in doc["tools"]]
    return doc


def _write_old(store: SnapshotStore, doc: dict[str, Any], header_first: bool) -> Path:
    path = store.snapshot_path(doc["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if header_first:  # the header keys alone on the first line, as the writer lays files out
        keys = ("schema_version", "id", "taken", "stack", "generator", "source_runs")
        head = json.dumps({k: doc[k] for k in keys})
        rest = json.dumps({k: v for k, v in doc.items() if k not in keys})
        text = head[:-1] + ",\n" + rest[1:]
    else:
        text = json.dumps(doc)
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    return path


@pytest.mark.parametrize("header_first", [True, False], ids=["header-first", "plain"])
def test_list_and_load_upgrade_an_old_snapshot(tmp_path: Path, history: History, header_first: bool) -> None:
    original = history.snapshots[1]
    plain = SnapshotStore(tmp_path / "store")
    _write_old(plain, _version_zero(original), header_first)

    # Without a migration for version 0, the file is listed as unreadable (never skipped) and refused on load.
    [entry] = plain.list()
    assert entry.completeness == "unreadable" and "cannot be upgraded" in (entry.error or "")
    with pytest.raises(SnapshotError, match="schema version 0 cannot be upgraded"):
        plain.load(original.id)

    upgraded = SnapshotStore(tmp_path / "store", migrations={0: _upgrade_0_to_1})
    [entry] = upgraded.list()
    assert entry.error is None
    assert (entry.id, entry.taken_at, entry.completeness) == (original.id, original.taken_at, "complete")
    assert entry.schema_version == SNAPSHOT_SCHEMA_VERSION
    loaded = upgraded.load(original.id)
    assert loaded == original
    assert loaded.tools_by_id["hotjar"].name == "Hotjar"


def test_migrations_chain_one_version_at_a_time(
    tmp_path: Path, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the schema at version 3, a version-1 file goes through 1->2 then 2->3, in order."""
    monkeypatch.setattr(store_module, "SNAPSHOT_SCHEMA_VERSION", 3)
    calls: list[int] = []

    def step(version: int) -> store_module.Migration:
        def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
            assert doc["schema_version"] == version
            calls.append(version)
            return {**doc, "generator": f"{doc['generator']} +{version}"}

        return upgrade

    store = SnapshotStore(tmp_path / "store", migrations={1: step(1), 2: step(2)})
    store.save(history.snapshots[0])  # written at version 1
    [entry] = store.list()
    assert entry.error is None and entry.schema_version == 3
    snap = store.load("latest")
    assert snap.schema_version == 3 and snap.generator.endswith(" +1 +2")
    assert calls == [1, 2] * 3  # list(); then load("latest"), which lists to resolve the ref, and loads


def test_a_newer_snapshot_is_refused(tmp_path: Path, history: History) -> None:
    store = SnapshotStore(tmp_path / "store")
    doc = json.loads(history.snapshots[0].model_dump_json())
    doc["schema_version"] = SNAPSHOT_SCHEMA_VERSION + 1
    path = store.snapshot_path(doc["id"])
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(SnapshotError, match="upgrade stackaudit"):
        store.load("latest")
