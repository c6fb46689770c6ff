"""``stackaudit demo``: the whole pipeline on a bundled sample company, with no network and no credentials.

The demo copies the sample company's config, manifest and waivers into the output folder (so a user can read
and edit them), then runs exactly what a real stack goes through: pull (the manifest, and each API connector
against recorded vendor responses served on loopback), audit, report, diagram. The clock is frozen at the
instant the sample data describes, so the demo's findings are the same on every run.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from rich.console import Console

from stackaudit_inventory import FindingStatus
from stackaudit_inventory.store import SnapshotStore

from ..commands import audit_snapshot, diagram_svg
from ..config import load_config
from ..outputs import write_atomic
from ..pipeline import run_pull

__all__ = ["DEMO_NOW", "run_demo"]

# The instant the sample company's data describes (renewals, last syncs and ages are relative to it).
DEMO_NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

DATA_FILES = ("stackaudit.yaml", "stack.yaml", "waivers.yaml", "mappings.csv")


def _copy_data(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    data = resources.files("stackaudit.demo") / "data"
    for name in DATA_FILES:
        src = data / name
        if src.is_file():
            write_atomic(target / name, src.read_bytes())
    return target / "stackaudit.yaml"


def run_demo(output: Path, *, console: Console) -> int:
    """Run the demo into ``output``; returns the exit code (0 when every stage worked)."""
    from stackaudit_reports import exports
    from stackaudit_reports.html import render_html

    output = Path(output)
    config_dir = output / "config"
    config_path = _copy_data(config_dir)
    config = load_config(config_path)
    # A fresh store each run keeps the demo's output identical from run to run.
    shutil.rmtree(config.store_path, ignore_errors=True)
    store = SnapshotStore(config.store_path)

    env: dict[str, str] = {}
    outcome = run_pull(config, env=env, now=lambda: DEMO_NOW, options={"fill_rates": "sampled"})
    snapshot = outcome.snapshot
    snapshot_path = store.save(snapshot)

    result = audit_snapshot(config, snapshot, now=DEMO_NOW)
    store.save_result(result)

    svg = diagram_svg(result, snapshot.stack)
    written = {
        "report": write_atomic(output / "report.html", render_html(snapshot, result, now=DEMO_NOW, diagram_svg=svg)),
        "findings": write_atomic(output / "findings.json", exports.findings_json(result)),
        "diagram": write_atomic(output / "diagram.svg", svg),
        "snapshot": snapshot_path,
    }

    open_findings = [f for f in result.findings if f.status is FindingStatus.open]
    categories = sorted({f.category.value for f in open_findings})
    console.print(
        f"stackaudit demo: {snapshot.stack}: {len(snapshot.tools)} tools, {len(snapshot.fields)} fields, "
        f"{len(snapshot.integrations)} integrations",
        markup=False,
    )
    console.print(
        f"{len(open_findings)} open findings in {len(categories)} categories ({', '.join(categories)}), "
        f"{len(result.findings) - len(open_findings)} waived or baselined",
        markup=False,
    )
    for name, path in written.items():
        console.print(f"  {name:<9} {path}", markup=False)
    console.print(
        f"  config    {config_path} (edit it and run `stackaudit --help` for the other commands)", markup=False
    )
    return 0 if outcome.complete else 3
