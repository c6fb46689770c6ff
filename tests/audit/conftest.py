"""Helpers for audit tests: build a Snapshot from minimal YAML-shaped data.

Cases stay small by filling what a rule never looks at: snapshot id/stack/taken_at, a tool's name, a field's
tool/object/name (from its id), an asset's tool/kind/name (from its id), an integration's source/target (from its
id), and a source run's type/times/status. Coverage may be written as ``{fill_rates: complete}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from stackaudit_inventory import Snapshot
from stackaudit_inventory.ids import parse_field_id

DEFAULT_NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _tool(data: dict[str, Any]) -> dict[str, Any]:
    return {"name": data["id"], **data}


def _field(data: dict[str, Any]) -> dict[str, Any]:
    fid = parse_field_id(data["id"])
    return {"tool": fid.tool, "object": fid.object, "name": fid.field, "type": "string", **data}


def _asset(data: dict[str, Any]) -> dict[str, Any]:
    tool, _, rest = data["id"].partition(":")
    kind = rest.split("/", 1)[0]
    return {"tool": tool, "kind": kind, "name": data["id"], **data}


def _integration(data: dict[str, Any]) -> dict[str, Any]:
    pair = data["id"].split(":", 1)[0]
    source, _, target = pair.partition("->")
    return {"source": source, "target": target, **data}


def _run(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    coverage = {
        cap: ({"status": cov} if isinstance(cov, str) else cov) for cap, cov in data.get("coverage", {}).items()
    }
    return {
        "connector_type": data["id"],
        "tool": None if data["id"] == "manifest" else data["id"],
        "started_at": now,
        "ended_at": now,
        "status": "complete",
        **data,
        "coverage": coverage,
    }


def build_snapshot(data: dict[str, Any] | None, now: datetime = DEFAULT_NOW) -> Snapshot:
    """A validated Snapshot from minimal data (see the module docstring for the defaults)."""
    data = dict(data or {})
    out: dict[str, Any] = {"id": "case", "stack": "case", "taken_at": now}
    builders = {"tools": _tool, "fields": _field, "assets": _asset, "integrations": _integration}
    for key, value in data.items():
        if key in builders:
            out[key] = [builders[key](item) for item in value]
        elif key == "source_runs":
            out[key] = [_run(item, now) for item in value]
        else:
            out[key] = value
    return Snapshot.model_validate(out)


@pytest.fixture
def make_snapshot() -> Callable[..., Snapshot]:
    """``make_snapshot({...}, now=...)``: see :func:`build_snapshot`."""
    return build_snapshot
