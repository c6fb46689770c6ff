"""The fake portal's state: objects, properties, compact records, forms, flows, lists, owners, pipelines.

Records are kept compact so a 50,000-record, 3,000-property portal fits in a few megabytes: a record is only its
index (its timestamps are a linear function of it) and each property is a bitset (a Python int) of the records
holding a value. Values are synthesised from the property type when a page is served. Search counts are
``bit_count`` on OR-ed bitsets.

A portal is loaded from a description (JSON or a dict, see ``stackaudit/demo/recorded/hubspot/portal.json``):
``fill`` on a property is a fraction, or ``{"fraction": f, "from": a, "to": b, "since": iso, "until": iso}``
placing a fraction ``f`` of the records, evenly spaced, inside a window given by positions ``a..b`` (0..1 of the
record range, oldest first) or by update dates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from .shapes import OBJECT_TYPE_IDS, expand_flow, expand_form, expand_list, expand_owner, expand_property

__all__ = ["FakeObject", "FakePortal", "RecordSet", "load_portal", "parse_time", "synthetic_portal"]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _stride_bits(lo: int, hi: int, fraction: float) -> int:
    """A bitset with about ``fraction`` of the records in ``[lo, hi)`` set, evenly spaced."""
    width = max(0, hi - lo)
    if width == 0 or fraction <= 0:
        return 0
    if fraction >= 1:
        return ((1 << width) - 1) << lo
    stride = max(1, round(1 / fraction))
    if abs(1 / stride - fraction) > 1e-9 and width <= 200_000:
        # Not a whole stride: spread exactly round(width * fraction) records evenly (Bresenham).
        bits = "".join("1" if int((i + 1) * fraction) > int(i * fraction) else "0" for i in range(width))
        return int(bits[::-1], 2) << lo
    pattern = ("1" + "0" * (stride - 1)) * (width // stride + 1)
    # Bit i of the int is record lo + i: build the binary text most-significant first.
    return int(pattern[:width][::-1], 2) << lo


@dataclass
class RecordSet:
    """``count`` records; record ``i`` was created at ``start + i*step`` and last updated one step later."""

    count: int
    start_ms: int
    step_ms: int
    fills: dict[str, int] = field(default_factory=dict)

    @classmethod
    def spanning(cls, count: int, since: datetime, until: datetime) -> RecordSet:
        span = int((until - since).total_seconds() * 1000)
        return cls(count, int(since.timestamp() * 1000), max(1, span // max(1, count)))

    def created_ms(self, i: int) -> int:
        return self.start_ms + i * self.step_ms

    def updated_ms(self, i: int) -> int:
        return self.start_ms + (i + 1) * self.step_ms

    @property
    def all_mask(self) -> int:
        return (1 << self.count) - 1

    def index_until(self, moment: datetime) -> int:
        """Number of records updated at or before ``moment``."""
        ms = int(moment.timestamp() * 1000)
        return max(0, min(self.count, (ms - self.start_ms) // self.step_ms))

    def set_fill(self, prop: str, spec: Any) -> None:
        if spec is None or spec == 0:
            self.fills[prop] = 0
            return
        if isinstance(spec, int | float):
            spec = {"fraction": float(spec)}
        lo = int(float(spec.get("from", 0.0)) * self.count)
        hi = int(float(spec.get("to", 1.0)) * self.count)
        if "since" in spec:
            lo = max(lo, self.index_until(parse_time(spec["since"])))
        if "until" in spec:
            hi = min(hi, self.index_until(parse_time(spec["until"])))
        self.fills[prop] = _stride_bits(lo, hi, float(spec.get("fraction", 1.0)))

    def filled(self, prop: str) -> int:
        return self.fills.get(prop, 0)


@dataclass
class FakeObject:
    name: str
    object_type_id: str
    properties: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    records: RecordSet
    schema: dict[str, Any] | None = None  # custom objects: the ObjectSchema body without properties

    @cached_property
    def property_types(self) -> dict[str, str]:
        return {p["name"]: p.get("type", "string") for p in self.properties if isinstance(p, dict) and "name" in p}

    @property
    def last_modified_property(self) -> str:
        return "lastmodifieddate" if self.name == "contacts" else "hs_lastmodifieddate"


@dataclass
class FakePortal:
    details: dict[str, Any]
    clock: datetime
    objects: dict[str, FakeObject] = field(default_factory=dict)
    pipelines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    owners: list[dict[str, Any]] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    daily_usage: int = 1200
    daily_limit: int = 500_000
    custom_property_limit: int = 1000

    def find_object(self, key: str) -> FakeObject | None:
        """By name (``contacts``), object type id (``0-1``, ``2-123``) or fully qualified name."""
        if key in self.objects:
            return self.objects[key]
        for obj in self.objects.values():
            if key in (obj.object_type_id, (obj.schema or {}).get("fullyQualifiedName")):
                return obj
        return None


def _group(name: str) -> dict[str, Any]:
    return {"name": name, "label": name.replace("_", " ").capitalize(), "displayOrder": -1, "archived": False}


def _object(name: str, spec: Mapping[str, Any], clock: datetime, default_since: datetime) -> FakeObject:
    since = parse_time(spec["records_since"]) if "records_since" in spec else default_since
    records = RecordSet.spanning(int(spec.get("records", 0)), since, clock)
    props = [expand_property(p) for p in spec.get("properties", [])]
    for raw_spec, body in zip(spec.get("properties", []), props, strict=True):
        if "name" in body:
            records.set_fill(body["name"], raw_spec.get("fill", 0))
    group_names = dict.fromkeys(p.get("groupName", "") for p in props if isinstance(p, dict))
    groups = spec.get("groups") or [_group(g) for g in group_names if g]
    schema = dict(spec["schema"]) if "schema" in spec else None
    type_id = spec.get("objectTypeId") or (schema or {}).get("objectTypeId") or OBJECT_TYPE_IDS.get(name, "0-0")
    return FakeObject(name, type_id, props, [dict(g) for g in groups], records, schema)


def load_portal(source: Mapping[str, Any] | str | Path) -> FakePortal:
    """Build a portal from a description (a mapping, or a path to a JSON file)."""
    data: Mapping[str, Any]
    if isinstance(source, str | Path):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = source
    clock = parse_time(data.get("clock", "2026-11-30T09:00:00Z"))
    default_since = clock - timedelta(days=365 * 3)
    details = {
        "portalId": 12345678,
        "accountType": "STANDARD",
        "timeZone": "US/Eastern",
        "companyCurrency": "USD",
        "additionalCurrencies": [],
        "utcOffset": "-05:00",
        "utcOffsetMilliseconds": -18000000,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
        **data.get("account", {}),
    }
    portal = FakePortal(details=details, clock=clock)
    portal.daily_usage = int(data.get("daily_usage", portal.daily_usage))
    portal.daily_limit = int(data.get("daily_limit", portal.daily_limit))
    portal.custom_property_limit = int(data.get("custom_property_limit", portal.custom_property_limit))
    for name, spec in data.get("objects", {}).items():
        portal.objects[name] = _object(name, spec, clock, default_since)
    for spec in data.get("custom_objects", []):
        schema = {k: v for k, v in spec.items() if k not in ("properties", "records", "records_since", "groups")}
        obj = _object(spec["fullyQualifiedName"], {**spec, "schema": schema}, clock, default_since)
        portal.objects[obj.name] = obj
    portal.pipelines = {k: list(v) for k, v in data.get("pipelines", {}).items()}
    portal.owners = [expand_owner(o) for o in data.get("owners", [])]
    portal.forms = [expand_form(f) for f in data.get("forms", [])]
    portal.flows = [expand_flow(f) for f in data.get("flows", [])]
    portal.lists = [expand_list(x) for x in data.get("lists", [])]
    return portal


def synthetic_portal(n_properties: int = 3000, n_contacts: int = 50_000, *, hubspot_defined: int = 150) -> FakePortal:
    """A large portal for call-count benchmarks: ``n_properties`` contact properties over ``n_contacts`` records.

    Property mix (deterministic, by index): the first ``hubspot_defined`` are HubSpot-defined; by index modulo 20,
    55% are filled across all records, 5% only on the older records, 5% only on the newest tenth of records (a
    sample of the oldest records cannot see them), 5% on a narrow band in the middle (a campaign field: only an
    exact count finds it) and 30% are empty. A few forms, flows and lists reference some of them.
    """
    clock = parse_time("2026-11-30T09:00:00Z")
    props: list[dict[str, Any]] = []
    for i in range(n_properties):
        defined = i < hubspot_defined
        name = f"hs_std_{i:04d}" if defined else f"custom_attr_{i:04d}"
        kind = i % 20
        fill: Any
        if kind < 11:
            fill = [1.0, 0.5, 0.25, 0.125][i % 4]
        elif kind == 11:
            fill = {"fraction": 0.5, "to": 0.4}  # older records only
        elif kind == 12:
            fill = {"fraction": 1.0, "from": 0.9}  # a newer property: the newest tenth of records
        elif kind == 13:
            fill = {"fraction": 0.25, "from": 0.5, "to": 0.52}  # a campaign field: a band in the middle
        else:
            fill = 0
        props.append(
            {
                "name": name,
                "type": ["string", "number", "enumeration", "datetime"][i % 4],
                "options": ["a", "b", "c"] if i % 4 == 2 else [],
                "hubspotDefined": defined,
                "groupName": "contactinformation" if defined else f"custom_group_{i % 12}",
                "createdAt": "2019-08-06T02:41:10.293Z" if defined else "2021-03-01T10:00:00.000Z",
                "fill": fill,
            }
        )
    def pick(i: int) -> str:
        return str(props[i % len(props)]["name"])

    description = {
        "clock": "2026-11-30T09:00:00Z",
        "objects": {
            "contacts": {"records": n_contacts, "records_since": "2016-01-01T00:00:00Z", "properties": props},
            "companies": {"records": 0, "properties": [{"name": "name", "hubspotDefined": True}]},
        },
        "owners": [{"id": str(100 + i), "archived": i % 5 == 0} for i in range(12)],
        "forms": [{"id": f"form-{i}", "fields": [pick(200 + i), pick(1)]} for i in range(5)],
        "flows": [
            {
                "id": str(9000 + i),
                "enrollment": [{"property": pick(300 + i)}],
                "actions": [{"set_property": pick(400 + i), "value": "x"}],
            }
            for i in range(5)
        ],
        "lists": [{"listId": str(500 + i), "filters": [{"property": pick(600 + i)}]} for i in range(5)],
    }
    portal = load_portal(description)
    portal.clock = clock
    return portal
