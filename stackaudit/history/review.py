"""``stackaudit review``: pull (or reuse a snapshot), audit, compare with the previous snapshot, write the pack.

The pack is one folder a reviewer can mail or archive::

    report.html    the self-contained report, its summary led by what changed and its history section
    findings.json  the audit result (the versioned findings contract)
    changes.md     what changed since the previous snapshot, for a manager with two minutes
    actions.csv    one row per recommended action (archive, merge, fix, cancel, downsize, align)
    trends.csv     the headline figures of every stored snapshot up to this one
    diagram.svg    the stack's architecture

Every file is written atomically; the snapshot and its audit result are saved in the store as ``pull`` and
``audit`` would, so the next review compares against this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stackaudit_inventory import AuditResult, Snapshot
from stackaudit_inventory.store import SnapshotStore, paused_gc

from ..config import LoadedConfig
from ..outputs import write_atomic
from .actions import actions_csv, build_actions
from .audits import AuditHistory
from .changes_md import changes_markdown
from .delta import delta_between
from .diff import DEFAULT_FILL_THRESHOLD, diff_snapshots
from .model import Action, FindingsDelta, SnapshotDiff, TrendPoint
from .report_inputs import build_history_section, build_snapshot_changes
from .trends import build_trends, trends_csv

__all__ = ["PACK_FILES", "ReviewPack", "default_output", "run_review"]

PACK_FILES = ("report.html", "findings.json", "changes.md", "actions.csv", "trends.csv", "diagram.svg")


@dataclass
class ReviewPack:
    directory: Path
    snapshot: Snapshot
    result: AuditResult
    previous: Snapshot | None
    diff: SnapshotDiff | None
    delta: FindingsDelta | None
    actions: list[Action]
    trends: list[TrendPoint]
    pulled: bool
    pull_complete: bool
    files: dict[str, Path] = field(default_factory=dict)


def default_output(snapshot: Snapshot) -> Path:
    return Path(f"stackaudit-review-{snapshot.id}")


def _pull(
    config: LoadedConfig, store: SnapshotStore, now: Callable[[], datetime], env: Mapping[str, str]
) -> tuple[Snapshot, bool]:
    from ..pipeline import run_pull

    outcome = run_pull(config, env=env, now=now, options={"fill_rates": "sampled"})
    store.save(outcome.snapshot)
    return outcome.snapshot, outcome.complete


def run_review(
    config: LoadedConfig,
    *,
    snapshot_ref: str | None = None,
    output: Path | None = None,
    now: Callable[[], datetime],
    env: Mapping[str, str] | None = None,
    fill_threshold: float = DEFAULT_FILL_THRESHOLD,
) -> ReviewPack:
    """Prepare the review of ``snapshot_ref`` (or of a fresh pull when None) and write its pack to ``output``."""
    from stackaudit_reports import exports
    from stackaudit_reports.html import render_html

    from ..commands import audit_snapshot, diagram_svg
    from ..impact import build_field_impact

    store = SnapshotStore(config.store_path)
    if snapshot_ref is None:
        snapshot, complete = _pull(config, store, now, env or {})
        pulled = True
    else:
        entry = store.resolve(snapshot_ref)
        snapshot, complete, pulled = store.load_path(entry.path), entry.completeness == "complete", False
    result = audit_snapshot(config, snapshot)
    store.save_result(result)

    history = AuditHistory(store, lambda snap: audit_snapshot(config, snap))
    history.put(result)
    prev_entry = history.previous(snapshot.id)
    previous = history.load(prev_entry) if prev_entry is not None else None
    diff = diff_snapshots(previous, snapshot, fill_threshold=fill_threshold) if previous is not None else None
    delta = delta_between(history, previous.id, snapshot, result, previous) if previous is not None else None
    trends = build_trends(history, upto=snapshot.taken_at)
    actions = build_actions(snapshot, result)

    svg = diagram_svg(result, snapshot.stack, snapshot)
    with paused_gc():
        html = render_html(
            snapshot,
            result,
            now=snapshot.taken_at,
            diagram_svg=svg,
            impact=build_field_impact(snapshot),
            changes=build_snapshot_changes(previous, diff, delta),
            history=build_history_section(previous, diff, trends),
        )
    directory = Path(output) if output is not None else default_output(snapshot)
    contents = {
        "report.html": html,
        "findings.json": exports.findings_json(result),
        "changes.md": changes_markdown(snapshot.stack, snapshot.id, snapshot.taken_at, diff, delta, actions),
        "actions.csv": actions_csv(actions),
        "trends.csv": trends_csv(trends),
        "diagram.svg": svg,
    }
    pack = ReviewPack(directory, snapshot, result, previous, diff, delta, actions, trends, pulled, complete)
    pack.files = {name: write_atomic(directory / name, contents[name]) for name in PACK_FILES}
    return pack
