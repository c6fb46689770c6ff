"""The manifest connector: reads the team's ``stack.yaml`` (and any mappings CSV) into an inventory fragment.

It calls no API. What it returns is declared, not observed, and its source run says so; API connectors that
land later confirm or contradict it. A broken manifest raises :class:`FileError` (one line naming file, line
and key) rather than becoming a failed run: it is the team's own input, so the pull stops and nothing is
written until it is fixed.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import ClassVar

from stackaudit_inventory import (
    Capability,
    Coverage,
    CoverageStatus,
    InventoryPart,
    RunStatus,
    SourceRun,
)

from ..base import Connector, ConnectorConfig, PullResult
from ..files import FileError, format_path, load_yaml
from .config import ManifestConfig
from .parse import CsvMappings, build_inventory, parse_mappings_csv, validate_manifest

__all__ = ["ManifestConnector", "display_path", "load_manifest"]


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_manifest(path: Path, *, source_id: str = "manifest") -> InventoryPart:
    """Read, validate and build a manifest file and the CSV files it names. Raises :class:`FileError`."""
    path = Path(path)
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError(file, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(file, f"cannot read file: {exc.__class__.__name__}") from None
    # Parse under the display name, so every error names the file the way the user wrote it.
    data, lines = load_yaml(file, text)
    doc = validate_manifest(data, lines, file)
    csv_mappings: dict[int, CsvMappings] = {}
    for i, flow in enumerate(doc.integrations):
        if flow.mappings_csv is None:
            continue
        csv_path = flow.mappings_csv if flow.mappings_csv.is_absolute() else path.parent / flow.mappings_csv
        key = ("integrations", i, "mappings_csv")
        shown = display_path(csv_path)
        try:
            # utf-8-sig: spreadsheet exports often start with a byte-order mark.
            csv_text = csv_path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise FileError(file, f"file not found: {shown}", lines.get(key), format_path(key)) from None
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot read {shown}: {exc.__class__.__name__}"
            raise FileError(file, problem, lines.get(key), format_path(key)) from None
        csv_mappings[i] = parse_mappings_csv(csv_text, shown)
    return build_inventory(doc, lines, file, source_id=source_id, csv_mappings=csv_mappings)


def _coverage(part: InventoryPart, file: str) -> dict[Capability, Coverage]:
    """Declared facts count as complete where the manifest declares them; absent sections are ``missing``."""
    declared = f"declared in {file}"
    n_tools = len(part.tools)
    n_flows = len(part.integrations)

    def share(capability: str, count: int, total: int, noun: str) -> Coverage:
        if total and count:
            return Coverage(status=CoverageStatus.complete, reason=declared, detail=f"{count} of {total} {noun}")
        return Coverage(status=CoverageStatus.missing, reason=f"no {capability} declared in {file}")

    observed = sum(1 for i in part.integrations if i.last_success_at or i.last_sync_at or i.error_count is not None)
    sync = Coverage(status=CoverageStatus.missing, reason=f"no integration in {file} has an `observed:` block")
    if observed:
        sync = Coverage(
            status=CoverageStatus.complete if observed == n_flows else CoverageStatus.partial,
            reason=f"run history read by hand into {file}",
            detail=f"{observed} of {n_flows} integrations",
        )
    n_mappings = sum(len(i.mappings) for i in part.integrations)
    return {
        Capability.tools: Coverage(status=CoverageStatus.complete, reason=declared, detail=f"{n_tools} tools"),
        Capability.costs: share("costs", sum(1 for t in part.tools if t.cost), n_tools, "tools"),
        Capability.seats: share("seats", sum(1 for t in part.tools if t.seats), n_tools, "tools"),
        Capability.integrations: Coverage(
            status=CoverageStatus.complete, reason=declared, detail=f"{n_flows} integrations, {n_mappings} mappings"
        ),
        Capability.sync_health: sync,
        Capability.lifecycle: (
            Coverage(status=CoverageStatus.complete, reason=declared)
            if part.lifecycle
            else Coverage(status=CoverageStatus.missing, reason=f"no lifecycle section in {file}")
        ),
    }


class ManifestConnector(Connector):
    """Declared tools, contracts, integrations, field mappings and lifecycle, from ``stack.yaml``."""

    type: ClassVar[str] = "manifest"
    config_model: ClassVar[builtins.type[ConnectorConfig]] = ManifestConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.tools,
            Capability.costs,
            Capability.seats,
            Capability.integrations,
            Capability.sync_health,
            Capability.lifecycle,
        }
    )

    def manifest_path(self) -> Path:
        cfg = self.config
        if not isinstance(cfg, ManifestConfig):
            raise TypeError("ManifestConnector needs a ManifestConfig")
        path = cfg.path.expanduser()
        return path if path.is_absolute() else self.context.config_dir / path

    def pull(self) -> PullResult:
        started = self.context.now()
        path = self.manifest_path()
        file = display_path(path)
        self.context.report(self.id, None, None, f"reading {file}")
        part = load_manifest(path, source_id=self.id)
        n_mappings = sum(len(i.mappings) for i in part.integrations)
        note = (
            f"{file}: {len(part.tools)} tools, {len(part.integrations)} integrations ({n_mappings} field mappings)"
            f"{', lifecycle' if part.lifecycle else ''}. Declared by the team, not verified against vendor APIs."
        )
        run = SourceRun(
            id=self.id,
            connector_type=self.type,
            tool=None,
            started_at=started,
            ended_at=self.context.now(),
            api_calls=0,
            status=RunStatus.complete,
            coverage=_coverage(part, file),
            notes=[note],
        )
        self.context.report(self.id, 1, 1, "done")
        return PullResult(part=part, run=run)
