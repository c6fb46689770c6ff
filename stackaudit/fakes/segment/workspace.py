"""The fake Segment workspace: sources, destination instances, warehouses, tracking plans and delivery rates,
loaded from a compact description (see ``stackaudit/demo/recorded/segment/workspace.json``) and expanded into
the reference's shapes (catalog metadata included).

Description keys:

- ``clock``: the instant the data describes (the fake's "now" for delivery windows and rate-limit resets);
- ``sources``: ``{id, slug, name, enabled, kind}`` (``kind`` is the catalog source, e.g. ``Javascript``);
- ``destinations``: ``{id, name, enabled, sourceId, product, slug, categories, delivery}`` where ``delivery`` is
  ``{success_per_hour, failure_per_hour, since, last_success, last_failure, reasons: {reason: share}}``;
- ``warehouses``: ``{id, name, enabled, product, sources: [source ids]}``;
- ``tracking_plans``: ``{id, name, slug, description, type, createdAt, updatedAt, sources: [ids], rules: [...]}``.

Delivery counts are exact and deterministic: the events delivered up to instant ``t`` are
``floor(rate_per_hour * hours since `since`)``, so any window's count is a difference of two such numbers, the
same whether asked by the minute, the hour or the day.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["DeliverySpec", "FakeWorkspace", "load_workspace", "parse_time", "synthetic_workspace"]

WORKSPACE_ID = "9aQ1Lj62S4bomZKLF4DPqW"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class DeliverySpec:
    success_per_hour: float = 0.0
    failure_per_hour: float = 0.0
    since: datetime | None = None
    last_success: datetime | None = None
    last_failure: datetime | None = None
    reasons: dict[str, float] = field(default_factory=dict)

    def _upto(self, rate: float, moment: datetime, last: datetime | None, clock: datetime) -> int:
        since = self.since or clock - timedelta(days=60)
        end = min(moment, last or clock, clock)
        hours = max(0.0, (end - since).total_seconds() / 3600)
        return math.floor(rate * hours)

    def count(self, kind: str, start: datetime, end: datetime, clock: datetime, share: float = 1.0) -> int:
        """Events of ``kind`` (``success``/``failure``) delivered in ``[start, end)``."""
        rate = (self.success_per_hour if kind == "success" else self.failure_per_hour) * share
        last = self.last_success if kind == "success" else self.last_failure
        return max(0, self._upto(rate, end, last, clock) - self._upto(rate, start, last, clock))


def _logos(slug: str) -> dict[str, Any]:
    return {"default": f"https://cdn.filepicker.io/api/file/{slug}-default", "mark": None, "alt": None}


def source_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(spec.get("kind", "Javascript"))
    return {
        "id": spec["id"],
        "slug": spec.get("slug", spec["id"]),
        "name": spec.get("name"),
        "metadata": {
            "id": f"meta-{kind.lower().replace('.', '').replace(' ', '-')}",
            "name": kind,
            "slug": kind.lower().replace(".", "").replace(" ", "-"),
            "description": f"{kind} source.",
            "logos": _logos(kind.lower()),
            "options": [],
            "categories": list(spec.get("categories", ["Website"])),
            "isCloudEventSource": False,
            "status": "PUBLIC",
            "partnerOwned": False,
        },
        "workspaceId": WORKSPACE_ID,
        "enabled": bool(spec.get("enabled", True)),
        "writeKeys": [f"WRITE_KEY_{spec['id'][:6]}"],
        "settings": {},
        "labels": [{"key": "environment", "value": spec.get("environment", "prod"), "description": None}],
    }


def destination_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    product = str(spec["product"])
    slug = str(spec.get("slug", product.lower().replace(" ", "-").replace("(", "").replace(")", "")))
    return {
        "id": spec["id"],
        "name": spec.get("name", product),
        "enabled": bool(spec.get("enabled", True)),
        "metadata": {
            "id": spec.get("metadata_id", f"meta-{slug}"),
            "name": product,
            "description": f"{product} destination.",
            "slug": slug,
            "logos": _logos(slug),
            "options": [],
            "status": "PUBLIC",
            "previousNames": [product],
            "categories": list(spec.get("categories", ["Analytics"])),
            "website": spec.get("website", "https://example.com"),
            "components": [
                {
                    "type": "CLOUD",
                    "code": f"https://github.com/segmentio/action-destinations/{slug}",
                    "owner": "SEGMENT",
                }
            ],
            "supportedFeatures": {"cloudModeInstances": "1", "deviceModeInstances": "0", "replay": False},
            "supportedMethods": {"pageview": True, "identify": True, "alias": False, "track": True, "group": True},
            "supportedPlatforms": {"browser": True, "server": True, "mobile": True, "warehouse": False},
            "actions": [],
            "presets": [],
            "contacts": [],
            "partnerOwned": False,
            "supportedRegions": ["us-west-2", "eu-west-1"],
            "regionEndpoints": ["US", "EU"],
            "multiInstanceSupportedVersion": "SUPPORTED",
        },
        "sourceId": spec.get("sourceId"),
        "settings": {},
    }


def warehouse_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    product = str(spec.get("product", "Snowflake"))
    slug = product.lower().replace(" ", "-")
    return {
        "id": spec["id"],
        "workspaceId": WORKSPACE_ID,
        "enabled": bool(spec.get("enabled", True)),
        "metadata": {
            "id": f"meta-{slug}",
            "slug": slug,
            "name": product,
            "description": f"{product} warehouse.",
            "logos": _logos(slug),
            "options": [],
        },
        "settings": {"name": spec.get("name", product)},
    }


def plan_body(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": spec["id"],
        "name": spec.get("name"),
        "slug": spec.get("slug"),
        "description": spec.get("description"),
        "type": spec.get("type", "LIVE"),
        "updatedAt": spec.get("updatedAt", "2024-05-01T10:00:00.000Z"),
        "createdAt": spec.get("createdAt", "2023-01-12T09:30:00.000Z"),
    }


@dataclass
class FakeWorkspace:
    clock: datetime
    sources: list[dict[str, Any]] = field(default_factory=list)
    destinations: list[dict[str, Any]] = field(default_factory=list)
    delivery: dict[str, DeliverySpec] = field(default_factory=dict)
    warehouses: list[dict[str, Any]] = field(default_factory=list)
    warehouse_sources: dict[str, list[str]] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    plan_sources: dict[str, list[str]] = field(default_factory=dict)
    plan_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def source(self, source_id: str) -> dict[str, Any] | None:
        return next((s for s in self.sources if s["id"] == source_id), None)

    def destination(self, dest_id: str) -> dict[str, Any] | None:
        return next((d for d in self.destinations if d["id"] == dest_id), None)


def _delivery(spec: Mapping[str, Any] | None) -> DeliverySpec:
    spec = spec or {}

    def when(key: str) -> datetime | None:
        return parse_time(spec[key]) if spec.get(key) else None

    return DeliverySpec(
        success_per_hour=float(spec.get("success_per_hour", 0)),
        failure_per_hour=float(spec.get("failure_per_hour", 0)),
        since=when("since"),
        last_success=when("last_success"),
        last_failure=when("last_failure"),
        reasons={str(k): float(v) for k, v in spec.get("reasons", {}).items()},
    )


def load_workspace(source: Mapping[str, Any] | str | Path) -> FakeWorkspace:
    """Build a workspace from a description (a mapping, or a path to a JSON file)."""
    data: Mapping[str, Any]
    if isinstance(source, str | Path):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = source
    ws = FakeWorkspace(clock=parse_time(data.get("clock", "2026-11-30T09:00:00Z")))
    ws.sources = [source_body(s) for s in data.get("sources", [])]
    for spec in data.get("destinations", []):
        ws.destinations.append(destination_body(spec))
        ws.delivery[spec["id"]] = _delivery(spec.get("delivery"))
    for spec in data.get("warehouses", []):
        ws.warehouses.append(warehouse_body(spec))
        ws.warehouse_sources[spec["id"]] = list(spec.get("sources", []))
    for spec in data.get("tracking_plans", []):
        ws.plans.append(plan_body(spec))
        ws.plan_sources[spec["id"]] = list(spec.get("sources", []))
        ws.plan_rules[spec["id"]] = list(spec.get("rules", []))
    return ws


def synthetic_workspace(n_sources: int = 12, destinations_per_source: int = 6, n_plans: int = 4) -> FakeWorkspace:
    """A large workspace for call-count benchmarks: a mid-size company's Segment."""
    products = [
        "Mixpanel (Actions)",
        "Amplitude (Actions)",
        "Google Analytics 4 Web",
        "HubSpot Cloud Mode (Actions)",
        "Salesforce (Actions)",
        "Google Ads Conversions",
        "LinkedIn Conversions API",
        "Braze Cloud Mode (Actions)",
        "Intercom Web (Actions)",
        "Webhooks",
    ]
    sources = [
        {"id": f"src{i:03d}", "slug": f"source-{i}", "name": f"Source {i}", "enabled": i % 7 != 6}
        for i in range(n_sources)
    ]
    dests = []
    for i in range(n_sources):
        for j in range(destinations_per_source):
            dests.append(
                {
                    "id": f"dst{i:03d}{j:02d}",
                    "product": products[(i + j) % len(products)],
                    "sourceId": f"src{i:03d}",
                    "enabled": (i + j) % 9 != 8,
                    "delivery": {
                        "success_per_hour": 500,
                        "failure_per_hour": 5 * (j % 3),
                        "last_success": "2026-11-30T08:58:00Z",
                    },
                }
            )
    return load_workspace(
        {
            "sources": sources,
            "destinations": dests,
            "warehouses": [{"id": "wh001", "product": "Snowflake", "sources": [s["id"] for s in sources[:5]]}],
            "tracking_plans": [
                {"id": f"tp{i}", "name": f"Plan {i}", "sources": [f"src{i:03d}"]} for i in range(n_plans)
            ],
        }
    )
