"""Pure transforms of Marketo JSON into inventory models: tokens, dates, lead fields, custom objects, fill rates.

Nothing here does I/O or reads a clock. Every function tolerates the variants the reference marks unconfirmed
(missing ``errors``/``warnings``, ``null`` descriptions, ``describe2`` results as one group or several, custom
objects listed with or without their fields) and reports what it could not use as ``problems``: one odd field
never loses the others. Record values are never kept; the bulk extract contributes counts only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stackaudit_inventory import FieldDef, FillMethod, FillRate, ObjectDef, ids
from stackaudit_inventory.catalogue import VendorCatalogue

__all__ = [
    "LEADS",
    "LeadFields",
    "Tally",
    "custom_object_fields",
    "fill_rates",
    "parse_custom_objects",
    "parse_lead_fields",
    "parse_time",
    "parse_token",
    "results_of",
    "tally_csv",
]

LEADS = "leads"  # the object name of Marketo people in field ids: `marketo:leads.email`

_TYPES = {
    "string": "string",
    "text": "string",
    "email": "string",
    "url": "string",
    "phone": "phone",
    "integer": "number",
    "float": "number",
    "currency": "number",
    "percent": "number",
    "score": "number",
    "boolean": "bool",
    "date": "date",
    "datetime": "datetime",
    "reference": "reference",
    "formula": "string",
}
# System fields of custom objects (everything else on a custom object was defined by the team).
_CO_SYSTEM = frozenset({"createdAt", "updatedAt", "marketoGUID"})


def parse_token(body: Any) -> tuple[str, float, str | None]:
    """``(access_token, expires_in seconds, scope)`` from the identity response. Raises ValueError if unusable."""
    if not isinstance(body, Mapping):
        raise ValueError("identity response is not an object")
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("identity response has no access_token")
    try:
        expires = float(body.get("expires_in") or 0)
    except (TypeError, ValueError):
        expires = 0.0
    scope = body.get("scope")
    return token, max(0.0, expires), scope if isinstance(scope, str) else None


def parse_time(value: Any) -> datetime | None:
    """Marketo dates: ``2015-11-18T15:25:35Z+0000``, plain ISO 8601, or a date; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "Z+" in text or "Z-" in text:
        text = text.replace("Z", "", 1)
    text = text.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"  # +0000 -> +00:00
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def results_of(body: Any) -> tuple[list[Any], str | None]:
    """The envelope's ``result`` list (absent on an empty asset page or with code 702: then empty), or a problem."""
    if not isinstance(body, Mapping):
        return [], f"expected an object, got {type(body).__name__}"
    items = body.get("result")
    if items is None:
        return [], None
    if not isinstance(items, list):
        return [], f"'result' is {type(items).__name__}, not a list"
    return items, None


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass
class LeadFields:
    """Lead fields merged from the three describe sources, and what the merge learned along the way."""

    fields: list[FieldDef] = field(default_factory=list)
    soap_to_rest: dict[str, str] = field(default_factory=dict)
    crm_managed: dict[str, bool] = field(default_factory=dict)  # REST name -> updateable
    custom_known: bool = False
    problems: list[str] = field(default_factory=list)

    def rest_name(self, name: str) -> str | None:
        """The REST name of a field named either way (form fields use SOAP names): exact, then ignoring case."""
        if name in self.soap_to_rest:
            return self.soap_to_rest[name]
        names = {f.name for f in self.fields}
        if name in names:
            return name
        folded = {n.lower(): n for n in names} | {s.lower(): r for s, r in self.soap_to_rest.items()}
        return folded.get(name.lower())


def _describe2_fields(body: Any, problems: list[str]) -> list[Mapping[str, Any]]:
    items, problem = results_of(body)
    if problem:
        problems.append(f"describe2: {problem}")
    out: list[Mapping[str, Any]] = []
    for group in items:
        if isinstance(group, Mapping) and isinstance(group.get("fields"), list):
            out.extend(f for f in group["fields"] if isinstance(f, Mapping))
        elif isinstance(group, Mapping) and "name" in group and "dataType" in group:
            out.append(group)  # a flat list of fields: tolerate it
    return out


def _soap_names(body: Any, problems: list[str]) -> dict[str, Mapping[str, Any]]:
    """REST name -> describe.json item (which carries the SOAP name and the numeric id)."""
    items, problem = results_of(body)
    if problem:
        problems.append(f"describe: {problem}")
    out: dict[str, Mapping[str, Any]] = {}
    for item in items:
        rest = item.get("rest") if isinstance(item, Mapping) else None
        if isinstance(rest, Mapping) and isinstance(rest.get("name"), str):
            out[rest["name"]] = item
    return out


def parse_lead_fields(
    describe2: Any,
    schema_items: Sequence[Any] | None,
    describe: Any | None,
    *,
    tool: str,
    crm: str | None,
    catalogue: VendorCatalogue | None = None,
) -> LeadFields:
    """Lead fields: describe2 (names, types, ``crmManaged``), schema fields (``isCustom``, description, hidden) and
    describe (SOAP names). ``schema_items``/``describe`` may be None when those calls failed."""
    out = LeadFields()
    base = _describe2_fields(describe2, out.problems)
    schema = {s["name"]: s for s in schema_items or [] if isinstance(s, Mapping) and isinstance(s.get("name"), str)}
    out.custom_known = schema_items is not None
    soap = _soap_names(describe, out.problems) if describe is not None else {}
    for rest_name, item in soap.items():
        soap_name = item.get("soap", {}).get("name") if isinstance(item.get("soap"), Mapping) else None
        if isinstance(soap_name, str) and soap_name:
            out.soap_to_rest[soap_name] = rest_name
    seen: set[str] = set()
    known = {b.get("name") for b in base} | set(schema)
    # describe.json lists the same fields in another shape: it fills in whatever the other two did not return.
    only_described = [
        {"name": n, "displayName": d.get("displayName"), "dataType": d.get("dataType"), "length": d.get("length")}
        for n, d in soap.items()
        if n not in known
    ]
    for raw in [*base, *(s for n, s in schema.items() if n not in {b.get("name") for b in base}), *only_described]:
        name = raw.get("name")
        if not isinstance(name, str) or not name or name in seen:
            if not isinstance(name, str) or not name:
                out.problems.append("a lead field without a name was skipped")
            continue
        seen.add(name)
        extra = schema.get(name, {})
        vendor_type = str(raw.get("dataType") or extra.get("dataType") or "string")
        crm_managed = raw.get("crmManaged") is True
        updateable = raw.get("updateable") is not False
        if crm_managed:
            out.crm_managed[name] = updateable
        owner: str | None = crm if crm_managed else None
        if owner is None and catalogue is not None:
            entry = catalogue.owner_by_field_name("marketo", name)
            owner = entry.id if entry else None
        out.fields.append(
            FieldDef(
                id=ids.field_id(tool, LEADS, name),
                tool=tool,
                object=LEADS,
                name=name,
                label=_text(raw.get("displayName")) or _text(extra.get("displayName")),
                type=_TYPES.get(vendor_type.lower(), "string"),
                vendor_type=vendor_type,
                custom=extra.get("isCustom") is True,
                calculated=vendor_type.lower() == "formula",
                hidden=extra.get("isHidden") is True,
                length=_int(raw.get("length")) or _int(extra.get("length")),
                description=_text(extra.get("description")),
                owning_tool=owner,
            )
        )
    if not out.fields:
        out.problems.append("no lead fields in describe2, schema fields or describe")
    return out


def parse_custom_objects(body: Any, *, tool: str) -> tuple[list[ObjectDef], list[Mapping[str, Any]], list[str]]:
    """Custom object definitions: ``(objects, raw items, problems)``; raw items feed :func:`custom_object_fields`."""
    items, problem = results_of(body)
    problems = [f"custom objects: {problem}"] if problem else []
    objects: list[ObjectDef] = []
    raws: list[Mapping[str, Any]] = []
    for raw in items:
        name = (raw.get("name") or raw.get("apiName")) if isinstance(raw, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append("a custom object without a name was skipped")
            continue
        assert isinstance(raw, Mapping)
        objects.append(
            ObjectDef(
                id=ids.object_id(tool, name), tool=tool, name=name, label=_text(raw.get("displayName")), custom=True
            )
        )
        raws.append(raw)
    return objects, raws, problems


def custom_object_fields(raw: Mapping[str, Any], *, tool: str, crm: str | None) -> list[FieldDef]:
    """The fields of one custom object (from the list item or its describe result)."""
    name = str(raw.get("name") or raw.get("apiName"))
    out: list[FieldDef] = []
    fields = raw.get("fields")
    for f in fields if isinstance(fields, list) else []:  # a number or object here must not crash the pull
        if not isinstance(f, Mapping) or not isinstance(f.get("name"), str) or not f["name"]:
            continue
        vendor_type = str(f.get("dataType") or "string")
        out.append(
            FieldDef(
                id=ids.field_id(tool, name, f["name"]),
                tool=tool,
                object=name,
                name=f["name"],
                label=_text(f.get("displayName")),
                type=_TYPES.get(vendor_type.lower(), "string"),
                vendor_type=vendor_type,
                custom=f["name"] not in _CO_SYSTEM,
                length=_int(f.get("length")),
                owning_tool=crm if f.get("crmManaged") is True else None,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- fill rates


@dataclass
class Tally:
    """Counts over the rows of a bulk extract file: rows, and per column the rows holding a value."""

    rows: int = 0
    filled: dict[str, int] = field(default_factory=dict)


def tally_csv(text: str | Iterable[str]) -> Tally:
    """Count rows and non-empty cells per column of a CSV export (header = REST field names). No value is kept."""
    # newline="": the csv module splits records itself, so a bare CR inside a field is data, not a csv.Error.
    lines = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(lines)
    header = next(reader, None)
    tally = Tally(filled=dict.fromkeys(header or [], 0))
    if not header:
        return tally
    for row in reader:
        if not row:
            continue
        tally.rows += 1
        for name, value in zip(header, row, strict=False):
            if value.strip() and value.strip().lower() != "null":
                tally.filled[name] += 1
    return tally


def fill_rates(tally: Tally, names: Iterable[str], *, measured_at: datetime, note: str) -> dict[str, FillRate]:
    """Sampled fill rates of ``names`` from an extract; a field the file lacks, or an empty window, stays unknown."""
    out: dict[str, FillRate] = {}
    for name in names:
        if name not in tally.filled or tally.rows == 0:
            why = "no person was created in the extract window" if tally.rows == 0 else "not in the extract file"
            out[name] = FillRate(method=FillMethod.unknown, measured_at=measured_at, note=f"{note}: {why}")
            continue
        out[name] = FillRate(
            method=FillMethod.sampled,
            filled=tally.filled[name],
            total=tally.rows,
            measured_at=measured_at,
            note=note,
        )
    return out
