"""The pipeline at 10,000 to 300,000 fields: snapshot load (the floor for audit cost), audit, report, diff.

One run per size, in its own process (``python -m benchmarks.pipeline 100000``), printing one JSON object:

- ``save_s`` and ``file_mb``: writing the snapshot to a store (gzip JSON), as ``stackaudit pull`` does.
- ``load_s``: ``SnapshotStore.load`` (the real path of ``stackaudit audit``): the least an audit of a saved snapshot
  can cost. ``load_validate_json_s``: the same bytes through ``Snapshot.model_validate_json`` (pydantic's JSON
  mode, no Python dict in between), and ``load_validate_json_nogc_s`` the same with the cyclic garbage collector
  paused, to show what the store leaves on the table.
- ``audit_s``: ``run_audit`` with every built-in rule (graph build, rules, graph export), judged as of the
  snapshot's time. ``report_s``: what ``stackaudit report`` does after the audit: ``diagram_s`` (the stack diagram
  as SVG; with no system ``dot`` this includes starting the WebAssembly Graphviz) plus ``render_s`` (field impact
  and ``render_html``); ``html_mb`` the file's size.
- ``diff_s``: ``diff_snapshots`` against the snapshot a quarter later (:mod:`benchmarks.stacks`), with the planted
  changes checked; ``diff_load_s``: loading both snapshots for it.
- ``rss_mb_after_*``: the peak RSS after each stage of the process that loads, audits, reports and diffs (a child:
  building the synthetic snapshots happens before, in the parent, and does not count); monotonic, so the stage that
  raises it is the one that needed it. Audit plus report is judged against the 1.5 GB budget by
  ``rss_mb_after_report`` (load, audit and report; the JSON-mode comparisons run after it).
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import stacks


def _rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ``getrusage``: a child forked from a big parent inherits its maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - started


ROOT = Path(__file__).resolve().parents[1]


def build_store(n_fields: int, folder: Path) -> dict[str, Any]:
    """Build the two snapshots and save them in a store under ``folder``; the planted changes go to a file."""
    from stackaudit_inventory.store import SnapshotStore

    out: dict[str, Any] = {}
    old, out["build_s"] = _timed(stacks.build_old_snapshot, n_fields)
    new, planted = stacks.build_new_snapshot(old)
    out["fields"] = len(old.fields)
    out["references"] = len(old.references)
    store = SnapshotStore(folder)
    path, out["save_s"] = _timed(store.save, old)
    store.save(new)
    out["file_mb"] = path.stat().st_size / 1e6
    (folder / "planted.json").write_text(json.dumps(planted), encoding="utf-8")
    return out


def measure(folder: Path, *, diagram: bool = True, diff: bool = True) -> dict[str, Any]:
    """Load, audit, report and diff the store under ``folder`` (a fresh process: its peak RSS is these stages')."""
    from stackaudit.audit.engine import run_audit
    from stackaudit.commands import diagram_svg
    from stackaudit.history.diff import diff_snapshots
    from stackaudit.impact import build_field_impact
    from stackaudit_inventory import Snapshot
    from stackaudit_inventory.store import SnapshotStore
    from stackaudit_reports.html import render_html

    out: dict[str, Any] = {}
    planted = json.loads((folder / "planted.json").read_text(encoding="utf-8"))
    store = SnapshotStore(folder)
    path = store.resolve(stacks.OLD_ID).path
    out["rss_mb_before_load"] = _rss_mb()
    snapshot, out["load_s"] = _timed(store.load, stacks.OLD_ID)
    out["rss_mb_after_load"] = _rss_mb()

    result, out["audit_s"] = _timed(run_audit, snapshot, now=snapshot.taken_at)
    out["findings"] = len(result.findings)
    out["rss_mb_after_audit"] = _rss_mb()

    svg, out["diagram_s"] = _timed(diagram_svg, result, snapshot.stack, snapshot) if diagram else (None, 0.0)
    started = time.perf_counter()
    impact = build_field_impact(snapshot)
    html = render_html(snapshot, result, now=snapshot.taken_at, diagram_svg=svg, impact=impact)
    out["render_s"] = time.perf_counter() - started
    out["report_s"] = out["render_s"] + out["diagram_s"]
    out["html_mb"] = len(html.encode("utf-8")) / 1e6
    out["rss_mb_after_report"] = _rss_mb()
    out["audit_report_s"] = out["audit_s"] + out["report_s"]
    del html, impact, result
    gc.collect()

    # The same bytes through pydantic's JSON mode, then with the collector paused: after the report, so the second
    # copy of the snapshot they build does not count in the audit-plus-report peak above.
    raw = gzip.decompress(path.read_bytes())
    started = time.perf_counter()
    Snapshot.model_validate_json(raw)
    out["load_validate_json_s"] = time.perf_counter() - started
    gc.collect()
    gc.disable()  # the collector's passes over the growing heap, not validation, dominate at 100k fields
    try:
        started = time.perf_counter()
        Snapshot.model_validate_json(raw)
        out["load_validate_json_nogc_s"] = time.perf_counter() - started
    finally:
        gc.enable()
    del raw
    gc.collect()

    if diff:
        (old, new), out["diff_load_s"] = _timed(lambda: (snapshot, store.load(stacks.NEW_ID)))
        changes, out["diff_s"] = _timed(diff_snapshots, old, new)
        counts = changes.counts()
        expected_changed = planted["retyped"] + planted["options"] + planted["relabelled"]
        moved = planted.get("references", 500)
        out["diff_items"] = len(changes.items)
        out["diff_exact"] = (
            counts["fields"] == {"added": planted["added"], "removed": planted["removed"], "changed": expected_changed}
            and counts["fill_rates"]["changed"] == planted["fill"]
            and counts["references"] == {"added": moved, "removed": moved, "changed": 0}
            and counts["integrations"]["changed"] == 10
        )
        out["rss_mb_after_diff"] = _rss_mb()
    return out


def run(n_fields: int, *, diagram: bool = True, diff: bool = True) -> dict[str, Any]:
    """Build and save in this process, then measure in a child process (so building does not raise its RSS)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = build_store(n_fields, Path(tmp))
        cmd = [sys.executable, "-m", "benchmarks.pipeline", "--measure", tmp]
        cmd += ["--no-diagram"] * (not diagram) + ["--no-diff"] * (not diff)
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    out.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The pipeline at one size (prints JSON).")
    parser.add_argument("fields", type=int, nargs="?", default=100_000)
    parser.add_argument("--measure", type=Path, help="Measure a store built by a parent run (internal).")
    parser.add_argument("--no-diagram", action="store_true", help="Render the report without the diagram.")
    parser.add_argument("--no-diff", action="store_true")
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, diagram=not args.no_diagram, diff=not args.no_diff)))
    else:
        print(json.dumps(run(args.fields, diagram=not args.no_diagram, diff=not args.no_diff)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
