"""The store as a history: every readable snapshot, oldest first, each with an audit result.

A snapshot's result is the one stored beside it (what the audit said at the time) when there is one; otherwise
it is computed here, as of the snapshot's ``taken_at`` with the current config, and kept in memory only: walking
the history never writes to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from stackaudit_inventory import AuditResult, Snapshot, SnapshotError
from stackaudit_inventory.store import SnapshotEntry, SnapshotStore

__all__ = ["AuditHistory", "Auditor", "ResultOrigin"]

Auditor = Callable[[Snapshot], AuditResult]
"""Audits one snapshot as of its ``taken_at`` (``stackaudit.commands.audit_snapshot`` with a config)."""

ResultOrigin = Literal["stored", "computed"]


class AuditHistory:
    """Snapshots of one store with their audit results, loaded lazily and cached for one command run."""

    def __init__(self, store: SnapshotStore, auditor: Auditor) -> None:
        self.store = store
        self._auditor = auditor
        self._entries: list[SnapshotEntry] | None = None
        self._results: dict[str, tuple[AuditResult, ResultOrigin]] = {}

    def entries(self) -> list[SnapshotEntry]:
        """Readable snapshots, oldest first (unreadable files are left to ``stackaudit snapshots``)."""
        if self._entries is None:
            self._entries = [e for e in self.store.list() if e.error is None]
        return self._entries

    def refresh(self) -> None:
        """Forget the listing (after a pull added a snapshot)."""
        self._entries = None

    def entry(self, snapshot_id: str) -> SnapshotEntry:
        for e in self.entries():
            if e.id == snapshot_id:
                return e
        raise SnapshotError(f"snapshot {snapshot_id} is not in {self.store.snapshots_dir}")

    def previous(self, snapshot_id: str) -> SnapshotEntry | None:
        """The newest snapshot taken before ``snapshot_id``, or None when it is the first."""
        entries = self.entries()
        ids = [e.id for e in entries]
        if snapshot_id not in ids:
            return None
        index = ids.index(snapshot_id)
        return entries[index - 1] if index > 0 else None

    def up_to(self, taken_at: datetime) -> list[SnapshotEntry]:
        return [e for e in self.entries() if e.taken_at <= taken_at]

    def put(self, result: AuditResult, origin: ResultOrigin = "stored") -> None:
        """Use ``result`` for its snapshot (a fresh audit wins over an older stored one)."""
        self._results[result.snapshot_id] = (result, origin)

    def load(self, entry: SnapshotEntry) -> Snapshot:
        return self.store.load_path(entry.path)

    def result(self, entry: SnapshotEntry, snapshot: Snapshot | None = None) -> tuple[AuditResult, ResultOrigin]:
        """The stored audit of ``entry``, else one computed now (``snapshot`` saves loading it again)."""
        cached = self._results.get(entry.id)
        if cached is not None:
            return cached
        found: AuditResult | None = None
        origin: ResultOrigin = "stored"
        if self.store.result_path(entry.id).is_file():
            try:
                found = self.store.load_result(entry.id)
            except SnapshotError:
                found = None  # an unreadable stored result is replaced by a fresh audit, never trusted
        if found is None:
            found = self._auditor(snapshot if snapshot is not None else self.load(entry))
            origin = "computed"
        hit = (found, origin)
        self._results[entry.id] = hit
        return hit
