"""``stackaudit demo``: the whole pipeline on a bundled sample company, with no network and no credentials.

The demo copies the sample company's config, manifest and waivers into the output folder (so a user can read
and edit them), then runs exactly what a real stack goes through: pull (the manifest, and each API connector
against recorded vendor responses served on loopback), audit, report, diagram. The clock is frozen at the
instant the sample data describes, so the demo's findings are the same on every run.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from rich.console import Console

from stackaudit_inventory import FindingStatus
from stackaudit_inventory.store import SnapshotStore

from ..config import LoadedConfig, load_config
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


@contextmanager
def recorded_vendors(config: LoadedConfig) -> Iterator[tuple[LoadedConfig, dict[str, str]]]:
    """Serve every vendor the demo config names from its recorded responses on loopback.

    Yields the config with each connector's base URL pointed at its local server, and the environment holding
    the demo's credentials (fixed demo values, never real secrets). The servers stop when the block exits.
    """
    from ..fakes.hubspot import serve_recorded_portal
    from ..fakes.marketo import serve_recorded_instance
    from ..fakes.salesforce import serve_recorded_org
    from ..fakes.segment import serve_recorded_workspace

    env: dict[str, str] = {}
    connectors = []
    with ExitStack() as stack:
        for cfg in config.connectors:
            if cfg.type == "hubspot":
                url, token = stack.enter_context(serve_recorded_portal())
                env["HUBSPOT_TOKEN"] = token
                cfg = cfg.model_copy(update={"base_url": url})
            elif cfg.type == "salesforce":
                url, token = stack.enter_context(serve_recorded_org())
                env["SALESFORCE_ACCESS_TOKEN"] = token
                cfg = cfg.model_copy(update={"instance_url": url})
            elif cfg.type == "marketo":
                url, client_id, client_secret = stack.enter_context(serve_recorded_instance())
                env["MARKETO_CLIENT_ID"], env["MARKETO_CLIENT_SECRET"] = client_id, client_secret
                cfg = cfg.model_copy(update={"base_url": url})
            elif cfg.type == "segment":
                url, token = stack.enter_context(serve_recorded_workspace())
                env["SEGMENT_TOKEN"] = token
                cfg = cfg.model_copy(update={"base_url": url})
            connectors.append(cfg)
        yield dataclasses.replace(config, connectors=connectors), env


def run_demo(output: Path, *, console: Console) -> int:
    """Run the demo into ``output``; returns the exit code (0 when every stage worked).

    The outputs are a quarterly review pack (report.html, findings.json, changes.md, actions.csv, trends.csv,
    diagram.svg), written by the same code as ``stackaudit review``.
    """
    from ..history.review import run_review

    output = Path(output)
    config_dir = output / "config"
    config_path = _copy_data(config_dir)
    config = load_config(config_path)
    # A fresh store each run keeps the demo's output identical from run to run.
    shutil.rmtree(config.store_path, ignore_errors=True)
    store = SnapshotStore(config.store_path)

    with recorded_vendors(config) as (served, env):
        outcome = run_pull(served, env=env, now=lambda: DEMO_NOW, options={"fill_rates": "sampled"})
    snapshot = outcome.snapshot
    snapshot_path = store.save(snapshot)

    pack = run_review(config, snapshot_ref=snapshot.id, output=output, now=lambda: DEMO_NOW)
    result = pack.result
    written = {name.split(".")[0]: path for name, path in pack.files.items()}
    written["snapshot"] = snapshot_path

    open_findings = [f for f in result.findings if f.status is FindingStatus.open]
    categories = sorted({f.category.value for f in open_findings})
    calls = sum(r.api_calls for r in snapshot.source_runs)
    console.print(
        f"stackaudit demo: {snapshot.stack}: {len(snapshot.tools)} tools, {len(snapshot.fields)} fields, "
        f"{len(snapshot.integrations)} integrations, {calls} API calls to recorded HubSpot, Salesforce, "
        "Marketo and Segment responses",
        markup=False,
    )
    console.print(
        f"{len(open_findings)} open findings in {len(categories)} categories ({', '.join(categories)}), "
        f"{len(result.findings) - len(open_findings)} waived or baselined, {len(pack.actions)} recommended actions",
        markup=False,
    )
    for name, path in written.items():
        console.print(f"  {name:<9} {path}", markup=False)
    console.print(
        f"  config    {config_path} (edit it and run `stackaudit --help` for the other commands)", markup=False
    )
    return 0 if outcome.complete else 3
