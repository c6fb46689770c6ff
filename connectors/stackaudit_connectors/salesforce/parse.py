"""Pure functions from Salesforce JSON to the inventory: objects and fields (assets, tools and integrations live in
:mod:`.parse_assets`). Nothing here does I/O; every function tolerates missing keys and odd values (the reference
marks many shapes unconfirmed), skipping what it cannot read rather than failing the pull.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackaudit_inventory import FieldDef, ObjectDef, PickOption, ids

__all__ = [
    "CustomFieldInfo",
    "CustomObjectInfo",
    "FieldSpec",
    "GlobalObject",
    "custom_field_api_name",
    "daily_requests",
    "lifecycle_field_ids",
    "namespace_of",
    "normalise_type",
    "parse_custom_fields",
    "parse_custom_objects",
    "parse_describe",
    "parse_global",
    "parse_limit_info",
    "parse_time",
    "records_of",
    "select_objects",
]

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_TYPES = {
    "id": "id",
    "reference": "reference",
    "string": "string",
    "textarea": "text",
    "encryptedstring": "string",
    "email": "email",
    "phone": "phone",
    "url": "url",
    "picklist": "enum",
    "combobox": "enum",
    "multipicklist": "multienum",
    "boolean": "bool",
    "double": "number",
    "int": "number",
    "long": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "address": "compound",
    "location": "compound",
    "base64": "binary",
    "anyType": "string",
}
# Custom objects that are not data: custom metadata types, platform events, external objects, big objects...
_NOT_DATA_SUFFIXES = ("__mdt", "__e", "__x", "__b", "__Share", "__History", "__Feed", "__ChangeEvent", "__Tag")
_LIFECYCLE = re.compile(r"life[ _]?cycle|lead[ _]?stage|funnel[ _]?stage|buyer[ _]?stage|customer[ _]?stage",
                        re.IGNORECASE)
_STAGE_FIELDS = (("Lead", "Status"), ("Opportunity", "StageName"))


def parse_time(value: Any) -> datetime | None:
    """Salesforce's ``2021-04-07T06:57:22.000+0000``, other ISO forms, or a date; None if absent or invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_limit_info(header: str | None) -> tuple[int, int] | None:
    """``api-usage=18/5000`` -> ``(18, 5000)`` (the header may carry other parts, e.g. ``per-app-api-usage``)."""
    match = _LIMIT_INFO.search(header or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def daily_requests(limits: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(max, remaining)`` of ``DailyApiRequests`` from ``/limits`` (integers, or numeric strings in old orgs)."""
    entry = limits.get("DailyApiRequests")
    if not isinstance(entry, Mapping):
        return None
    try:
        return int(entry["Max"]), int(entry["Remaining"])
    except (KeyError, TypeError, ValueError):
        return None


def records_of(page: Any) -> list[dict[str, Any]]:
    """The records of a REST or Tooling query page (an empty list for anything else)."""
    records = page.get("records") if isinstance(page, Mapping) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []


def namespace_of(api_name: str) -> str | None:
    """``LeanData__Routing__c`` -> ``LeanData``; ``Lead_Source__c`` -> None (a namespace needs two ``__``)."""
    if api_name.count("__") < 2:
        return None
    return api_name.split("__", 1)[0] or None


def custom_field_api_name(developer_name: str, namespace: str | None) -> str:
    """Tooling's ``DeveloperName`` (no namespace, no ``__c``) back to the field's API name."""
    return f"{namespace}__{developer_name}__c" if namespace else f"{developer_name}__c"


def normalise_type(sf_type: str) -> str:
    return _TYPES.get(sf_type, sf_type or "string")


# ------------------------------------------------------------------------------------------------ objects


@dataclass(frozen=True)
class GlobalObject:
    name: str
    label: str | None
    custom: bool
    queryable: bool
    custom_setting: bool


def parse_global(body: Any) -> list[GlobalObject]:
    """The sObjects of a describeGlobal body."""
    items = body.get("sobjects") if isinstance(body, Mapping) else None
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        out.append(
            GlobalObject(
                name=item["name"],
                label=item.get("label") if isinstance(item.get("label"), str) else None,
                custom=bool(item.get("custom")),
                queryable=item.get("queryable") is not False,
                custom_setting=bool(item.get("customSetting")),
            )
        )
    return out


def select_objects(
    objects: Sequence[GlobalObject], standard: Iterable[str], with_custom_fields: Iterable[str],
    exclude: Iterable[str] = (),
) -> list[str]:
    """The objects worth auditing: every custom data object, the listed standard ones, and every other object
    carrying custom fields; only queryable ones, never custom settings or metadata types."""
    wanted_std = {s.lower() for s in standard} | {s.lower() for s in with_custom_fields}
    skip = {s.lower() for s in exclude}
    out = []
    for obj in objects:
        if not obj.queryable or obj.custom_setting or obj.name.lower() in skip:
            continue
        if obj.name.endswith(_NOT_DATA_SUFFIXES):
            continue
        if (obj.custom and obj.name.endswith("__c")) or obj.name.lower() in wanted_std:
            out.append(obj.name)
    return sorted(out)


@dataclass(frozen=True)
class CustomObjectInfo:
    id: str
    api_name: str
    namespace: str | None
    description: str | None


def parse_custom_objects(records: Iterable[Mapping[str, Any]]) -> dict[str, CustomObjectInfo]:
    """Tooling ``CustomObject`` rows by Id (both the 15- and the 18-character form)."""
    out: dict[str, CustomObjectInfo] = {}
    for rec in records:
        oid, dev = rec.get("Id"), rec.get("DeveloperName")
        if not isinstance(oid, str) or not isinstance(dev, str):
            continue
        ns = rec.get("NamespacePrefix") if isinstance(rec.get("NamespacePrefix"), str) else None
        info = CustomObjectInfo(oid, custom_field_api_name(dev, ns), ns, _text(rec.get("Description")))
        out[oid] = info
        out[oid[:15]] = info
    return out


@dataclass(frozen=True)
class CustomFieldInfo:
    """What Tooling ``CustomField`` adds to describe: description, namespace, dates and users."""

    id: str
    object: str
    api_name: str
    namespace: str | None
    description: str | None
    manageable_state: str | None
    created_at: datetime | None
    created_by: str | None
    updated_at: datetime | None
    updated_by: str | None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def parse_custom_fields(
    records: Iterable[Mapping[str, Any]], objects_by_id: Mapping[str, CustomObjectInfo]
) -> tuple[dict[tuple[str, str], CustomFieldInfo], int]:
    """Tooling ``CustomField`` rows keyed by ``(object, field API name)``, and how many could not be placed
    (``TableEnumOrId`` an unknown Id: fields of objects outside the audit, such as custom metadata types)."""
    out: dict[tuple[str, str], CustomFieldInfo] = {}
    unplaced = 0
    for rec in records:
        fid, dev, table = rec.get("Id"), rec.get("DeveloperName"), rec.get("TableEnumOrId")
        if not isinstance(fid, str) or not isinstance(dev, str) or not isinstance(table, str):
            unplaced += 1
            continue
        obj = objects_by_id.get(table) or objects_by_id.get(table[:15])
        if obj is not None:
            table = obj.api_name
        elif re.fullmatch(r"01I[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?", table):
            unplaced += 1
            continue
        ns = _text(rec.get("NamespacePrefix"))
        out[(table, custom_field_api_name(dev, ns))] = CustomFieldInfo(
            id=fid,
            object=table,
            api_name=custom_field_api_name(dev, ns),
            namespace=ns,
            description=_text(rec.get("Description")),
            manageable_state=_text(rec.get("ManageableState")),
            created_at=parse_time(rec.get("CreatedDate")),
            created_by=_text(rec.get("CreatedById")),
            updated_at=parse_time(rec.get("LastModifiedDate")),
            updated_by=_text(rec.get("LastModifiedById")),
        )
    return out, unplaced


# ------------------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FieldSpec:
    """What fill-rate counting needs to know about a field."""

    object: str
    name: str
    sf_type: str
    custom: bool
    aggregatable: bool
    filterable: bool
    compound: bool


def _options(raw: Any) -> list[PickOption]:
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping) and item.get("value") is not None:
            label = item.get("label")
            out.append(PickOption(value=str(item["value"]), label=str(label) if label is not None else None,
                                  hidden=item.get("active") is False))
    return out


def _names(users: Mapping[str, str], uid: str | None) -> str | None:
    if uid is None:
        return None
    return users.get(uid) or users.get(uid[:15]) or uid


def parse_describe(
    body: Mapping[str, Any],
    tool: str,
    customs: Mapping[tuple[str, str], CustomFieldInfo],
    *,
    owner_of: Callable[[str, str | None], str | None] = lambda _name, _ns: None,
    users: Mapping[str, str] | None = None,
    custom_field_limit: int | None = None,
) -> tuple[ObjectDef, list[FieldDef], list[FieldSpec]]:
    """One describe body -> the object, its fields (joined with Tooling ``CustomField``) and counting facts.

    ``owner_of(field_name, namespace)`` names the tool owning a field (installed package or integration prefix).
    """
    users = users or {}
    name = str(body.get("name") or "")
    obj = ObjectDef(
        id=ids.object_id(tool, name),
        tool=tool,
        name=name,
        label=body.get("label") if isinstance(body.get("label"), str) else None,
        custom=bool(body.get("custom")),
        custom_field_limit=custom_field_limit,
    )
    fields: list[FieldDef] = []
    specs: list[FieldSpec] = []
    raw_fields = body.get("fields")
    compound_parents = {
        str(f["compoundFieldName"]) for f in raw_fields if isinstance(f, Mapping) and f.get("compoundFieldName")
    } if isinstance(raw_fields, list) else set()
    for raw in raw_fields if isinstance(raw_fields, list) else []:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            continue
        fname: str = raw["name"]
        sf_type = str(raw.get("type") or "string")
        custom = bool(raw.get("custom"))
        info = customs.get((name, fname)) if custom else None
        namespace = (info.namespace if info else None) or (namespace_of(fname) if custom else None)
        refs = raw.get("referenceTo")
        length = raw.get("length")
        fields.append(
            FieldDef(
                id=ids.field_id(tool, name, fname),
                tool=tool,
                object=name,
                name=fname,
                label=raw.get("label") if isinstance(raw.get("label"), str) else None,
                type=normalise_type(sf_type),
                vendor_type=sf_type,
                options=_options(raw.get("picklistValues")) if sf_type in ("picklist", "multipicklist", "combobox")
                else None,
                custom=custom,
                calculated=bool(raw.get("calculated")),
                hidden=bool(raw.get("deprecatedAndHidden")),
                length=length if isinstance(length, int) and length > 0 else None,
                reference_to=[str(r) for r in refs] if isinstance(refs, list) else [],
                description=info.description if info else None,
                namespace=namespace,
                owning_tool=owner_of(fname, namespace) if custom else None,
                created_at=info.created_at if info else None,
                created_by=_names(users, info.created_by) if info else None,
                updated_at=info.updated_at if info else None,
                updated_by=_names(users, info.updated_by) if info else None,
            )
        )
        specs.append(
            FieldSpec(
                object=name,
                name=fname,
                sf_type=sf_type,
                custom=custom,
                aggregatable=raw.get("aggregatable") is True,
                filterable=raw.get("filterable") is True,
                compound=sf_type in ("address", "location") or fname in compound_parents,
            )
        )
    return obj, fields, specs


def lifecycle_field_ids(fields: Iterable[FieldDef]) -> list[str]:
    """Fields holding lifecycle stages or lead statuses: Lead ``Status``, Opportunity ``StageName``, and picklists
    named like a lifecycle or funnel stage."""
    out = []
    for fld in fields:
        if (fld.object, fld.name) in _STAGE_FIELDS or (
            fld.type in ("enum", "string") and (_LIFECYCLE.search(fld.name) or _LIFECYCLE.search(fld.label or ""))
        ):
            out.append(fld.id)
    return sorted(set(out))
