"""``audit --since OLD``: the findings delta from an older snapshot's audit to the one just run."""

from __future__ import annotations

import json

from stackaudit_inventory import AuditResult, InputError, Snapshot, SnapshotError
from stackaudit_inventory.store import SnapshotStore

from ..config import LoadedConfig
from .audits import AuditHistory
from .delta import delta_between
from .model import FindingsDelta
from .render import delta_markdown

__all__ = ["delta_since", "with_delta"]


def delta_since(
    config: LoadedConfig, store: SnapshotStore, ref: str, snapshot: Snapshot, result: AuditResult
) -> FindingsDelta:
    """Compare ``result`` (the audit of ``snapshot``) with the audit of the stored snapshot ``ref``: its saved
    result, else an audit as of its date with the current config. First-seen dates come from the whole store."""
    from ..commands import audit_snapshot

    entry = store.resolve(ref)
    if entry.error is not None:
        raise SnapshotError(f"--since {ref}: {entry.error}")
    if entry.id == snapshot.id:
        raise InputError(f"--since {ref}: names the audited snapshot itself; name an older one")
    if entry.taken_at > snapshot.taken_at:
        raise InputError(f"--since {ref}: snapshot {entry.id} is newer than the audited one ({snapshot.id})")
    history = AuditHistory(store, lambda snap: audit_snapshot(config, snap))
    return delta_between(history, entry.id, snapshot, result)


def with_delta(text: str, result: AuditResult, delta: FindingsDelta, fmt: str) -> str:
    """The findings output with the delta added: a Markdown section after the findings, or for JSON one object
    ``{"findings": <findings.json>, "delta": <delta>}`` (only with ``--since``: plain ``--format json`` keeps the
    findings contract as it is)."""
    if fmt == "json":
        doc = {"findings": result.model_dump(mode="json"), "delta": delta.model_dump(mode="json")}
        return json.dumps(doc, indent=2) + "\n"
    return text.rstrip("\n") + "\n\n" + delta_markdown(delta)
