"""The pull stage: run every configured connector, merge their fragments into one snapshot.

Each connector runs isolated. A connector that fails (bad credentials, quota, a bug) becomes a ``failed``
source run with its error, and every other connector's data is kept; the snapshot then says what is missing.
The manifest is different: it is the team's declared truth, so a broken manifest stops the pull before
anything is written (one error line naming file, line and key).

Merging follows one rule: what the team declared wins over what an API discovered, field by field, and a
tool or integration seen by both is marked ``both`` rather than listed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from stackaudit_connectors.base import (
    Connector,
    ConnectorConfig,
    ConnectorError,
    ProgressCallback,
    PullContext,
    PullResult,
    load_connector_class,
)
from stackaudit_connectors.files import FileError, load_yaml
from stackaudit_connectors.manifest.config import ManifestConfig
from stackaudit_connectors.manifest.connector import display_path
from stackaudit_connectors.manifest.parse import parse_vendors
from stackaudit_inventory import (
    Integration,
    IntegrationStatus,
    InventoryPart,
    LifecycleDefinition,
    Origin,
    RunStatus,
    Snapshot,
    SourceError,
    SourceRun,
    Tool,
)
from stackaudit_inventory.catalogue import VendorCatalogue, VendorEntry, load_catalogue
from stackaudit_inventory.store import SourceFragment, new_snapshot_id

from . import __version__
from .config import LoadedConfig

__all__ = ["PullOutcome", "enrich_from_catalogue", "manifest_catalogue", "manifest_vendors", "merge_parts", "run_pull"]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


@dataclass
class PullOutcome:
    snapshot: Snapshot
    failed: list[SourceRun] = field(default_factory=list)
    partial: list[SourceRun] = field(default_factory=list)
    # Each connector's own contribution, kept beside the snapshot so `pull --resume` can reuse what succeeded.
    fragments: dict[str, SourceFragment] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.partial


def _connector_configs(config: LoadedConfig) -> list[ConnectorConfig]:
    configs: list[ConnectorConfig] = []
    if config.manifest_path is not None:
        configs.append(ManifestConfig(type="manifest", id="manifest", path=config.manifest_path))
    configs.extend(config.connectors)
    return configs


def _manifest_file(config: LoadedConfig, cfg: ManifestConfig) -> Path:
    path = cfg.path.expanduser()
    return path if path.is_absolute() else config.dir / path


def manifest_vendors(path: Path) -> tuple[VendorEntry, ...]:
    """The ``vendors:`` entries of one manifest file (only that section is read). Raises :class:`FileError`."""
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError(file, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileError(file, f"cannot read file: {exc.__class__.__name__}") from None
    data, lines = load_yaml(file, text)
    return parse_vendors(data, lines, file)


def manifest_catalogue(config: LoadedConfig, *, missing_ok: bool = False) -> VendorCatalogue:
    """The vendor catalogue extended by the ``vendors:`` of every manifest the config names (the top-level
    ``manifest:`` first; an id a later manifest declares again is ignored). The bundled one when none declares
    vendors. ``missing_ok`` skips manifest files that do not exist (an audit of a stored snapshot needs none)."""
    entries: dict[str, VendorEntry] = {}
    for cfg in _connector_configs(config):
        if not isinstance(cfg, ManifestConfig):
            continue
        path = _manifest_file(config, cfg)
        if missing_ok and not path.exists():
            continue
        for entry in manifest_vendors(path):
            entries.setdefault(entry.id, entry)
    return load_catalogue(extra=list(entries.values()) or None)


def _failed_run(cfg: ConnectorConfig, started: datetime, ended: datetime, err: SourceError) -> SourceRun:
    return SourceRun(
        id=cfg.connector_id,
        connector_type=cfg.type,
        tool=None if cfg.type == "manifest" else cfg.connector_id,
        started_at=started,
        ended_at=ended,
        status=RunStatus.failed,
        errors=[err],
    )


def _run_one(connector: Connector, cfg: ConnectorConfig, now: Callable[[], datetime]) -> PullResult:
    started = now()
    try:
        return connector.pull()
    except FileError:
        raise
    except ConnectorError as exc:
        err = SourceError(code=exc.code, message=str(exc), where=exc.where)
    except Exception as exc:
        log.debug("connector %s crashed", cfg.connector_id, exc_info=True)
        err = SourceError(
            code="internal",
            message=f"connector '{cfg.connector_id}': unexpected {exc.__class__.__name__} (run with --debug)",
        )
    return PullResult(part=InventoryPart(), run=_failed_run(cfg, started, now(), err))


def run_pull(
    config: LoadedConfig,
    *,
    env: Mapping[str, str],
    now: Callable[[], datetime],
    progress: ProgressCallback | None = None,
    options: dict[str, Any] | None = None,
    only: Iterable[str] | None = None,
    reuse: Mapping[str, SourceFragment] | None = None,
) -> PullOutcome:
    """Run the connectors (all, or those whose ids are in ``only``) and return the merged snapshot.

    ``reuse`` maps connector ids to fragments a previous pull completed (``pull --resume``): those connectors
    are not called again and their fragment goes into the new snapshot as it was. The manifest always re-runs
    (it costs no API call). Raises :class:`FileError` if the manifest is invalid (nothing is pulled then).
    Does not write anything.
    """
    reuse = dict(reuse or {})
    configs = _connector_configs(config)
    if only is not None:
        wanted = set(only)
        unknown = wanted - {c.connector_id for c in configs}
        if unknown:
            raise ConnectorError(sorted(unknown)[0], "no connector with this id in the config")
        configs = [c for c in configs if c.connector_id in wanted or c.type == "manifest"]

    taken_at = now()
    base_ctx = dict(config_dir=config.dir, env=env, now=now, progress=progress, options=dict(options or {}))

    # The manifest runs first and alone: API connectors enrich the tools it declares, and resolve what they
    # discover through the catalogue as its `vendors:` section extends it.
    results: list[PullResult] = []
    declared: dict[str, str] = {}
    api_configs = [c for c in configs if c.type != "manifest"]
    for cfg in configs:
        if cfg.type == "manifest":
            connector = load_connector_class(cfg.type)(cfg, PullContext(**base_ctx))  # type: ignore[arg-type]
            res = _run_one(connector, cfg, now)
            results.append(res)
            declared = {t.id: t.name for t in res.part.tools}
    catalogue = manifest_catalogue(config)
    base_ctx["catalogue"] = catalogue

    connectors: list[tuple[ConnectorConfig, Connector | None, PullResult | None]] = []
    for cfg in api_configs:
        kept = reuse.get(cfg.connector_id)
        if kept is not None and kept.run.status is RunStatus.complete:
            note = f"reused from snapshot fragment of {kept.run.ended_at:%Y-%m-%d %H:%M} UTC (pull --resume)"
            run = kept.run.model_copy(update={"notes": [*kept.run.notes, note]})
            connectors.append((cfg, None, PullResult(part=kept.part, run=run)))
            continue
        try:
            cls = load_connector_class(cfg.type)
            ctx = PullContext(**base_ctx, declared_tools=declared)  # type: ignore[arg-type]
            connectors.append((cfg, cls(cfg, ctx), None))
        except ConnectorError as exc:
            err = SourceError(code=exc.code, message=str(exc), where=exc.where)
            connectors.append((cfg, None, PullResult(part=InventoryPart(), run=_failed_run(cfg, now(), now(), err))))

    # Vendors' limits are per vendor, so connectors run side by side; each one paces itself.
    runnable = [(cfg, conn) for cfg, conn, _ in connectors if conn is not None]
    if runnable:
        with ThreadPoolExecutor(max_workers=min(8, len(runnable)), thread_name_prefix="connector") as pool:
            futures = {cfg.connector_id: pool.submit(_run_one, conn, cfg, now) for cfg, conn in runnable}
            done = {cid: fut.result() for cid, fut in futures.items()}
    else:
        done = {}
    for cfg, _conn, early in connectors:
        results.append(early if early is not None else done[cfg.connector_id])

    merged = enrich_from_catalogue(merge_parts([r.part for r in results]), catalogue)
    runs = [r.run for r in results]
    snapshot = Snapshot(
        id=new_snapshot_id(taken_at),
        taken_at=taken_at,
        stack=config.model.stack,
        source_runs=runs,
        generator=f"stackaudit {__version__}",
        **{k: getattr(merged, k) for k in InventoryPart.model_fields},
    )
    return PullOutcome(
        snapshot=snapshot,
        failed=[r for r in runs if r.status is RunStatus.failed],
        partial=[r for r in runs if r.status is RunStatus.partial],
        fragments={r.run.id: SourceFragment(run=r.run, part=r.part) for r in results},
    )


# ------------------------------------------------------------------------------------------------- merging


def _overlay(base: M, top: M, *, lists_union: tuple[str, ...] = ()) -> M:
    """``base`` with every field that ``top`` sets (non-None, non-empty) replaced; named lists are unioned."""
    data = base.model_dump(mode="python")
    top_data = top.model_dump(mode="python")
    # Only what ``top`` actually says counts: defaults (origin, status ``unknown``) are not facts.
    for name in top.model_fields_set:
        value = top_data[name]
        if value is IntegrationStatus.unknown:
            continue
        if name in lists_union:
            # ``top``'s items first: for capabilities the first one is the primary.
            merged = list(value or [])
            merged += [item for item in data.get(name) or [] if item not in merged]
            data[name] = merged
        elif value is not None and value != [] and value != {}:
            data[name] = value
    return type(base).model_validate(data)


def _merge_tools(tools: list[Tool]) -> list[Tool]:
    by_id: dict[str, Tool] = {}
    for tool in tools:
        prev = by_id.get(tool.id)
        if prev is None:
            by_id[tool.id] = tool
            continue
        declared, discovered = (prev, tool) if prev.origin is Origin.declared else (tool, prev)
        # Discovered facts fill the gaps; what the team declared always wins.
        merged = _overlay(discovered, declared, lists_union=("discovered_by", "capabilities"))
        activity = [t.last_activity_at for t in (prev, tool) if t.last_activity_at]
        by_id[tool.id] = merged.model_copy(
            update={
                "origin": Origin.both if prev.origin != tool.origin else prev.origin,
                "last_activity_at": max(activity) if activity else None,
            }
        )
    return sorted(by_id.values(), key=lambda t: t.id)


def _merge_integrations(items: list[Integration]) -> list[Integration]:
    by_id: dict[str, Integration] = {}
    for item in items:
        prev = by_id.get(item.id)
        if prev is None:
            by_id[item.id] = item
            continue
        declared, discovered = (prev, item) if prev.origin is Origin.declared else (item, prev)
        # Evidence (status, last success, counts) comes from the API; intent (interval, mappings) from the team.
        merged = _overlay(declared, discovered, lists_union=("mappings", "evidence_sources", "error_samples"))
        if declared.expected_interval_minutes:
            merged = merged.model_copy(update={"expected_interval_minutes": declared.expected_interval_minutes})
        # Two sources saw the flow run: the newest success either of them saw is the flow's last success.
        for name in ("last_sync_at", "last_success_at"):
            seen = [t for t in (getattr(prev, name), getattr(item, name)) if t is not None]
            if seen:
                merged = merged.model_copy(update={name: max(seen)})
        by_id[item.id] = merged.model_copy(
            update={"origin": Origin.both if prev.origin != item.origin else prev.origin}
        )
    return sorted(by_id.values(), key=lambda i: i.id)


def _merge_lifecycle(defs: list[LifecycleDefinition]) -> LifecycleDefinition | None:
    if not defs:
        return None
    declared = [d for d in defs if d.origin is not Origin.discovered]
    base = declared[0] if declared else defs[0]
    stage_fields = sorted({f for d in defs for f in d.stage_fields})
    return base.model_copy(update={"stage_fields": stage_fields})


def _dedupe(items: Iterable[M], key: Callable[[M], Any]) -> list[M]:
    seen: dict[Any, M] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return sorted(seen.values(), key=lambda m: str(key(m)))


def merge_parts(parts: list[InventoryPart]) -> InventoryPart:
    """Merge connector fragments: declared wins, nothing listed twice, deterministic order."""
    return InventoryPart(
        tools=_merge_tools([t for p in parts for t in p.tools]),
        objects=_dedupe((o for p in parts for o in p.objects), key=lambda o: o.id),
        fields=_dedupe((f for p in parts for f in p.fields), key=lambda f: f.id),
        assets=_dedupe((a for p in parts for a in p.assets), key=lambda a: a.id),
        references=_dedupe(
            (r for p in parts for r in p.references), key=lambda r: (r.asset, r.field, r.mode, r.context or "")
        ),
        integrations=_merge_integrations([i for p in parts for i in p.integrations]),
        lifecycle=_merge_lifecycle([p.lifecycle for p in parts if p.lifecycle is not None]),
    )


def enrich_from_catalogue(part: InventoryPart, catalogue: VendorCatalogue | None = None) -> InventoryPart:
    """Fill what nobody declared from the vendor catalogue: capabilities and vendor of known products.

    A tool is matched by id, then by name or alias (never fuzzily). Only empty facts are filled, so what the
    manifest declares, or a connector read, always wins over the catalogue.
    """
    catalogue = catalogue or load_catalogue()
    tools: list[Tool] = []
    for tool in part.tools:
        entry = catalogue.by_id(tool.id) or catalogue.match_name(tool.name)
        update: dict[str, Any] = {}
        if entry is not None:
            if not tool.capabilities and entry.capabilities:
                update["capabilities"] = list(entry.capabilities)
            if tool.vendor is None and entry.vendor:
                update["vendor"] = entry.vendor
        tools.append(tool.model_copy(update=update) if update else tool)
    return part.model_copy(update={"tools": tools})
