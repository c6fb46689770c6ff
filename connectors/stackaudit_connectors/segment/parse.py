"""Pure transforms of Segment Public API data into inventory models: sources, destinations, warehouses, tracking
plans, the tools behind destinations, the integrations they make and their delivery health.

Nothing here does I/O or reads a clock. Bodies arrive already unwrapped from ``{"data": ...}``. Every function
tolerates the variants the reference leaves open (``name`` null, ``metadata`` partial, series without
``retryCount``) and reports what it could not use as ``problems`` rather than failing the whole listing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackaudit_inventory import Asset, Integration, IntegrationStatus, Origin, Tool, ids
from stackaudit_inventory.catalogue import VendorCatalogue, VendorEntry

__all__ = [
    "Connection",
    "Delivery",
    "Destination",
    "Source",
    "ToolRef",
    "ToolResolver",
    "Warehouse",
    "build_integration",
    "build_tools",
    "destination_asset",
    "integration_ids",
    "items_of",
    "parse_delivery",
    "parse_destination",
    "parse_source",
    "parse_time",
    "parse_warehouse",
    "source_asset",
    "tracking_plan_asset",
    "warehouse_asset",
]

_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")


def items_of(data: Any, key: str) -> tuple[list[Any], str | None]:
    """The list under ``key`` of an unwrapped body, or ``([], problem)``."""
    if not isinstance(data, Mapping):
        return [], f"expected an object with '{key}', got {type(data).__name__}"
    items = data.get(key)
    if items is None:
        return [], f"'{key}' is missing"
    if not isinstance(items, list):
        return [], f"'{key}' is {type(items).__name__}, not a list"
    return items, None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _meta(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = raw.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


# ------------------------------------------------------------------------------------------ workspace items


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    slug: str
    enabled: bool
    kind: str | None  # catalog name: Javascript, Node.js, HTTP API...


@dataclass(frozen=True)
class Destination:
    id: str
    name: str
    enabled: bool
    source_id: str | None
    product: str  # catalog name: "Mixpanel (Actions)"
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Warehouse:
    id: str
    name: str
    enabled: bool
    product: str  # catalog name: Snowflake, BigQuery...


def parse_source(raw: Any) -> Source | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    sid = str(raw["id"])
    slug = _text(raw.get("slug")) or sid
    return Source(
        sid, _text(raw.get("name")) or slug, slug, raw.get("enabled") is not False, _text(_meta(raw).get("name"))
    )


def parse_destination(raw: Any) -> Destination | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    meta = _meta(raw)
    product = _text(meta.get("name")) or _text(meta.get("slug")) or _text(raw.get("name"))
    if product is None:
        return None
    cats = meta.get("categories")
    return Destination(
        id=str(raw["id"]),
        name=_text(raw.get("name")) or product,
        enabled=raw.get("enabled") is True,
        source_id=_text(raw.get("sourceId")),
        product=product,
        categories=tuple(str(c) for c in cats) if isinstance(cats, list) else (),
    )


def parse_warehouse(raw: Any) -> Warehouse | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    meta = _meta(raw)
    settings = raw.get("settings") if isinstance(raw.get("settings"), Mapping) else {}
    product = _text(meta.get("name")) or _text(meta.get("slug"))
    if product is None:
        return None
    name = _text(raw.get("name")) or _text(settings.get("name") if isinstance(settings, Mapping) else None)
    return Warehouse(str(raw["id"]), name or product, raw.get("enabled") is not False, product)


# ------------------------------------------------------------------------------------------------- tools


@dataclass(frozen=True)
class ToolRef:
    """The tool behind a destination or warehouse product."""

    id: str
    name: str
    entry: VendorEntry | None
    declared: bool


class ToolResolver:
    """Product names to tool ids: the catalogue names the product; the manifest's id wins when it declares it."""

    def __init__(self, catalogue: VendorCatalogue, declared: Mapping[str, str]) -> None:
        self._catalogue = catalogue
        self._declared = dict(declared)
        self._by_entry: dict[str, str] = {}
        for tool_id, name in sorted(self._declared.items()):
            entry = catalogue.by_id(tool_id) or catalogue.match_name(name)
            if entry is not None:
                self._by_entry.setdefault(entry.id, tool_id)
        for tool_id in self._declared:  # a declared tool with the catalogue's own id always wins
            if catalogue.by_id(tool_id) is not None:
                self._by_entry[tool_id] = tool_id

    def resolve(self, product: str, *, warehouse: bool = False) -> ToolRef:
        cat = self._catalogue
        entry = cat.match_name(product) if warehouse else cat.by_segment_destination(product)
        entry = entry or (cat.match_name(product) if not warehouse else None)
        if entry is not None:
            tool_id = self._by_entry.get(entry.id, entry.id)
            return ToolRef(tool_id, entry.name, entry, tool_id in self._declared)
        base = _PAREN_TAIL.sub("", product).strip() or product
        tool_id = ids.slugify(base)
        return ToolRef(tool_id, base, None, tool_id in self._declared)


def build_tools(refs: Iterable[tuple[ToolRef, datetime | None]], *, run_id: str) -> list[Tool]:
    """One discovered tool per product (declared ones too: the pipeline merges them into the manifest's)."""
    newest: dict[str, datetime | None] = {}
    first: dict[str, ToolRef] = {}
    for ref, active_at in refs:
        first.setdefault(ref.id, ref)
        prev = newest.get(ref.id)
        newest[ref.id] = max((t for t in (prev, active_at) if t is not None), default=None)
    out = []
    for tool_id, ref in sorted(first.items()):
        entry = ref.entry
        out.append(
            Tool(
                id=tool_id,
                name=ref.name,
                vendor=entry.vendor if entry else None,
                capabilities=list(entry.capabilities) if entry else [],
                origin=Origin.discovered,
                discovered_by=[run_id],
                last_activity_at=newest.get(tool_id),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- connections


@dataclass(frozen=True)
class Connection:
    """A source feeding a destination instance (or every source of a warehouse)."""

    key: str  # destination or warehouse id
    tool: str
    source: Source | None
    label: str  # "Marketing site -> Mixpanel (Actions)"
    enabled: bool
    detail: str  # instance name, for suffixes


def integration_ids(segment_tool: str, connections: Sequence[Connection]) -> dict[str, tuple[str, str | None]]:
    """``key -> (integration id, suffix)``: ``segment-><tool>`` when one connection reaches the tool; otherwise each
    gets a ``:<source slug>`` suffix, made longer with the instance name (then its id) if that still repeats."""
    by_tool: dict[str, list[Connection]] = {}
    for conn in connections:
        by_tool.setdefault(conn.tool, []).append(conn)
    out: dict[str, tuple[str, str | None]] = {}
    for tool, group in by_tool.items():
        if len(group) == 1:
            out[group[0].key] = (ids.integration_id(segment_tool, tool), None)
            continue
        names = [_slug(c.source.slug if c.source else "workspace") for c in group]
        if len(set(names)) < len(names):
            names = [f"{n}-{_slug(c.detail)}" for n, c in zip(names, group, strict=True)]
        if len(set(names)) < len(names):
            names = [f"{n}-{_slug(c.key)}" for n, c in zip(names, group, strict=True)]
        for name, conn in zip(names, group, strict=True):
            out[conn.key] = (ids.integration_id(segment_tool, tool, name), name)
    return out


def _slug(text: str) -> str:
    try:
        return ids.slugify(text)
    except ValueError:
        return "x"


@dataclass
class Delivery:
    """Delivered and failed events of one connection over a window, and when each last happened."""

    window_days: int
    successes: int | None = None
    failures: int | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    reasons: dict[str, int] = field(default_factory=dict)


def parse_delivery(data: Any) -> tuple[int | None, datetime | None, dict[str, int], str | None]:
    """``(total, newest bucket start with a count, total per discard reason, problem)`` of a Delivery Overview
    body. Bucket starts are a lower bound of when the events happened: never later than the truth."""
    if not isinstance(data, Mapping):
        return None, None, {}, "delivery body is not an object"
    total_raw = data.get("total")
    total = int(total_raw) if isinstance(total_raw, int | float) and not isinstance(total_raw, bool) else None
    newest: datetime | None = None
    reasons: dict[str, int] = {}
    dataset = data.get("dataset")
    unusable = 0
    for entry in dataset if isinstance(dataset, list) else []:
        if not isinstance(entry, Mapping):
            unusable += 1  # a null series would hide deliveries: the newest one could look older than it is
            continue
        reason = _text(entry.get("discardReason"))
        count = entry.get("total")
        if reason and isinstance(count, int | float) and count > 0:
            reasons[reason] = reasons.get(reason, 0) + int(count)
        for point in entry.get("series") or []:
            if not isinstance(point, Mapping) or not isinstance(point.get("count"), int | float):
                continue
            moment = parse_time(point.get("time"))
            if point["count"] > 0 and moment is not None and (newest is None or moment > newest):
                newest = moment
    problem = None if total is not None else "delivery body has no numeric 'total'"
    if problem is None and unusable:
        problem = f"{unusable} dataset entr{'y is' if unusable == 1 else 'ies are'} not an object"
    return total, newest, reasons, problem


def build_integration(
    conn: Connection,
    *,
    segment_tool: str,
    integration_id: str,
    suffix: str | None,
    delivery: Delivery | None,
    run_id: str,
) -> Integration:
    """``segment-><tool>`` for one connection; a disabled source or destination makes it ``disabled``."""
    status = IntegrationStatus.active if conn.enabled else IntegrationStatus.disabled
    update: dict[str, Any] = {}
    if delivery is not None:
        times = [t for t in (delivery.last_success_at, delivery.last_failure_at) if t is not None]
        samples = [f"{reason} x{n:,}" for reason, n in sorted(delivery.reasons.items(), key=lambda kv: (-kv[1], kv[0]))]
        update = {
            "success_count": delivery.successes,
            "error_count": delivery.failures,
            "window_days": delivery.window_days,
            "last_success_at": delivery.last_success_at,
            "last_sync_at": max(times) if times else None,
            "error_samples": [f"delivery failures: {s}" for s in samples[:5]],
        }
        if conn.enabled and delivery.failures and not delivery.successes:
            status = IntegrationStatus.error
    return Integration(
        id=integration_id,
        source=segment_tool,
        target=conn.tool,
        name=suffix,
        origin=Origin.discovered,
        status=status,
        evidence_sources=[run_id],
        **update,
    )


# ------------------------------------------------------------------------------------------------ assets


def source_asset(src: Source, *, tool: str) -> Asset:
    return Asset(id=ids.asset_id(tool, "source", src.id), tool=tool, kind="source", name=src.name, active=src.enabled)


def destination_asset(dest: Destination, *, tool: str, target: str) -> Asset:
    return Asset(
        id=ids.asset_id(tool, "destination", dest.id),
        tool=tool,
        kind="destination",
        name=dest.name,
        active=dest.enabled,
        external_targets=[target],
    )


def warehouse_asset(wh: Warehouse, *, tool: str, target: str) -> Asset:
    return Asset(
        id=ids.asset_id(tool, "warehouse", wh.id),
        tool=tool,
        kind="warehouse",
        name=wh.name,
        active=wh.enabled,
        external_targets=[target],
    )


def tracking_plan_asset(raw: Any, *, tool: str) -> Asset | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    name = _text(raw.get("name")) or _text(raw.get("slug")) or str(raw["id"])
    return Asset(
        id=ids.asset_id(tool, "tracking-plan", str(raw["id"])),
        tool=tool,
        kind="tracking-plan",
        name=name,
        last_modified_at=parse_time(raw.get("updatedAt")),
    )
