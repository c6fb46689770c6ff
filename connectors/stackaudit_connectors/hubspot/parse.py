"""Pure transforms of HubSpot JSON into inventory models: properties, objects, owners, account, quotas, pipelines.

Nothing here does I/O or reads a clock. Every function tolerates the shapes the reference marks unconfirmed
(missing optional keys, ``null`` instead of ``[]``, epoch milliseconds instead of ISO dates) and reports what it
could not use as ``problems`` rather than failing the whole response: one bad property never loses the others.
Record values are never kept; record reads contribute counts and ``updatedAt`` only (see :mod:`.fill`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackaudit_inventory import FieldDef, ObjectDef, PickOption, Quota, Seats, ids

__all__ = [
    "OBJECT_TYPE_IDS",
    "CustomObject",
    "Parsed",
    "Pipeline",
    "parse_custom_property_limits",
    "parse_daily_usage",
    "parse_pipelines",
    "parse_properties",
    "parse_property",
    "parse_rate_headers",
    "parse_schemas",
    "parse_seats",
    "parse_time",
    "results_of",
    "standard_object",
]

# HubSpot's object type ids for standard objects (forms, flows and lists name objects by these).
OBJECT_TYPE_IDS: dict[str, str] = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-7": "products",
    "0-8": "line_items",
    "0-14": "quotes",
    "0-48": "calls",
    "0-49": "emails",
    "0-47": "meetings",
    "0-46": "notes",
    "0-27": "tasks",
}
TYPE_ID_OF: dict[str, str] = {name: type_id for type_id, name in OBJECT_TYPE_IDS.items()}

_TYPES = {
    "string": "string",
    "number": "number",
    "bool": "bool",
    "enumeration": "enum",
    "date": "date",
    "datetime": "datetime",
    "phone_number": "phone",
    "json": "json",
    "object_coordinates": "string",
}


@dataclass
class Parsed:
    """What a parse produced, plus one line per item it had to skip."""

    fields: list[FieldDef] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` or offset) or epoch milliseconds, as HubSpot sends both; None if absent or invalid."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def results_of(body: Any, key: str = "results") -> tuple[list[Any], str | None]:
    """The list under ``key``, or ``([], problem)`` when the body does not have one."""
    if not isinstance(body, Mapping):
        return [], f"expected an object with '{key}', got {type(body).__name__}"
    items = body.get(key)
    if items is None:
        return [], f"'{key}' is missing"
    if not isinstance(items, list):
        return [], f"'{key}' is {type(items).__name__}, not a list"
    return items, None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _options(raw: Any) -> list[PickOption]:
    out: list[PickOption] = []
    for opt in raw if isinstance(raw, list) else []:
        if isinstance(opt, Mapping) and opt.get("value") is not None:
            out.append(
                PickOption(
                    value=str(opt["value"]), label=_text(opt.get("label")), hidden=bool(opt.get("hidden", False))
                )
            )
    return out


def parse_property(raw: Mapping[str, Any], *, tool: str, object_name: str) -> FieldDef:
    """One ``Property``. Custom means no ``hubspotDefined`` key, or ``false``. Raises ValueError without a name."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("property without a name")
    vendor_type = str(raw.get("type") or "string")
    field_type = raw.get("fieldType")
    options = _options(raw.get("options"))
    referenced = raw.get("referencedObjectType")
    return FieldDef(
        id=ids.field_id(tool, object_name, name),
        tool=tool,
        object=object_name,
        name=name,
        label=_text(raw.get("label")),
        type=_TYPES.get(vendor_type, vendor_type),
        vendor_type=f"{vendor_type}/{field_type}" if field_type else vendor_type,
        options=options if vendor_type == "enumeration" or options else None,
        custom=not bool(raw.get("hubspotDefined", False)),
        calculated=bool(raw.get("calculated", False)) or field_type == "calculation_equation",
        hidden=bool(raw.get("hidden", False)),
        archived=bool(raw.get("archived", False)),
        reference_to=[str(referenced)] if referenced else [],
        group=_text(raw.get("groupName")),
        description=_text(raw.get("description")),
        # The HubSpot-Salesforce connector creates the salesforce* properties: they belong to that integration.
        owning_tool="salesforce" if name.startswith("salesforce") else None,
        created_at=parse_time(raw.get("createdAt")),
        created_by=_text(str(raw["createdUserId"])) if raw.get("createdUserId") is not None else None,
        updated_at=parse_time(raw.get("updatedAt")),
        updated_by=_text(str(raw["updatedUserId"])) if raw.get("updatedUserId") is not None else None,
    )


def parse_properties(items: Sequence[Any], *, tool: str, object_name: str) -> Parsed:
    """Every property that parses; each one that does not becomes a problem line."""
    out = Parsed()
    seen: set[str] = set()
    for i, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            out.problems.append(f"{object_name}: property #{i} is not an object")
            continue
        try:
            fd = parse_property(raw, tool=tool, object_name=object_name)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            out.problems.append(f"{object_name}: property #{i} skipped: {str(exc).splitlines()[0]}")
            continue
        if fd.name in seen:
            continue
        seen.add(fd.name)
        out.fields.append(fd)
    return out


def standard_object(
    name: str, *, tool: str, record_count: int | None = None, custom_field_limit: int | None = None
) -> ObjectDef:
    return ObjectDef(
        id=ids.object_id(tool, name),
        tool=tool,
        name=name,
        label=name.replace("_", " ").title(),
        custom=False,
        record_count=record_count,
        custom_field_limit=custom_field_limit,
    )


@dataclass
class CustomObject:
    """A custom object schema: addressed everywhere by its fully qualified name (``p<portal>_<name>``)."""

    name: str  # the fully qualified name: unique in the portal, accepted as {objectType}, never a standard name
    object_type_id: str | None
    label: str | None
    properties: list[Any]


def parse_schemas(body: Any) -> tuple[list[CustomObject], list[str]]:
    items, problem = results_of(body)
    problems = [f"schemas: {problem}"] if problem else []
    out: list[CustomObject] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            problems.append(f"schemas: item #{i} is not an object")
            continue
        name = raw.get("fullyQualifiedName") or raw.get("name") or raw.get("objectTypeId")
        if not isinstance(name, str) or not name:
            problems.append(f"schemas: item #{i} has no name")
            continue
        raw_labels = raw.get("labels")
        labels: Mapping[str, Any] = raw_labels if isinstance(raw_labels, Mapping) else {}
        props = raw.get("properties")
        out.append(
            CustomObject(
                name=name,
                object_type_id=str(raw["objectTypeId"]) if raw.get("objectTypeId") else None,
                label=_text(labels.get("plural")) or _text(labels.get("singular")),
                properties=props if isinstance(props, list) else [],
            )
        )
    return out, problems


def parse_seats(active: Sequence[Any], archived: Sequence[Any]) -> tuple[Seats, str]:
    """``used`` = active owners who are people (queues are not seats); the note counts archived ones too."""

    def people(items: Sequence[Any]) -> int:
        return sum(1 for o in items if isinstance(o, Mapping) and o.get("type", "PERSON") == "PERSON")

    used, gone = people(active), people(archived)
    return Seats(used=used, source="HubSpot owners API (active users)"), f"owners: {used} active, {gone} archived"


def parse_daily_usage(body: Any, observed_at: datetime | None = None) -> list[Quota]:
    items, _ = results_of(body)
    out: list[Quota] = []
    for raw in items:
        if not isinstance(raw, Mapping) or "usageLimit" not in raw:
            continue
        out.append(
            Quota(
                name="daily_api_requests",
                used=int(raw.get("currentUsage") or 0),
                limit=int(raw["usageLimit"]),
                period="day",
                observed_at=parse_time(raw.get("collectedAt")) or observed_at,
            )
        )
    return out


def parse_custom_property_limits(body: Any) -> tuple[list[Quota], dict[str, int]]:
    """The overall quota plus ``objectTypeId -> limit`` (for :attr:`ObjectDef.custom_field_limit`)."""
    if not isinstance(body, Mapping):
        return [], {}
    quotas = []
    if body.get("overallLimit") is not None:
        quotas.append(
            Quota(name="custom_properties", used=int(body.get("overallUsage") or 0), limit=int(body["overallLimit"]))
        )
    limits: dict[str, int] = {}
    for row in body.get("byObjectType") or []:
        if isinstance(row, Mapping) and row.get("objectTypeId") and row.get("limit") is not None:
            limits[str(row["objectTypeId"])] = int(row["limit"])
    return quotas, limits


def parse_rate_headers(latest: Mapping[str, int], observed_at: datetime) -> list[Quota]:
    """Quotas from the newest ``X-HubSpot-RateLimit-*`` values seen (absent headers give nothing)."""
    out = []
    if "Daily" in latest:
        remaining = latest.get("Daily-Remaining")
        out.append(
            Quota(
                name="daily_api_requests",
                used=latest["Daily"] - remaining if remaining is not None else None,
                limit=latest["Daily"],
                period="day",
                observed_at=observed_at,
            )
        )
    if "Max" in latest:
        interval = latest.get("Interval-Milliseconds", 10_000) / 1000
        out.append(
            Quota(name="burst_requests", limit=latest["Max"], period=f"{interval:g}s", observed_at=observed_at)
        )
    return out


@dataclass
class Pipeline:
    object_type: str
    id: str
    label: str
    archived: bool
    updated_at: datetime | None
    stages: list[PickOption]


def parse_pipelines(body: Any, object_type: str) -> tuple[list[Pipeline], list[str]]:
    items, problem = results_of(body)
    problems = [f"pipelines/{object_type}: {problem}"] if problem else []
    out = []
    for raw in items:
        if not isinstance(raw, Mapping) or raw.get("id") is None:
            problems.append(f"pipelines/{object_type}: a pipeline without an id was skipped")
            continue
        stages = [
            PickOption(value=str(s["id"]), label=_text(s.get("label")), hidden=bool(s.get("archived", False)))
            for s in raw.get("stages") or []
            if isinstance(s, Mapping) and s.get("id") is not None
        ]
        out.append(
            Pipeline(
                object_type=object_type,
                id=str(raw["id"]),
                label=_text(raw.get("label")) or str(raw["id"]),
                archived=bool(raw.get("archived", False)),
                updated_at=parse_time(raw.get("updatedAt")),
                stages=stages,
            )
        )
    return out, problems
