"""Running a parsed query against the fake org: compact-record sObjects and setup-object tables.

Strict like the real API: an unknown object is ``INVALID_TYPE``; an unknown field, a field that cannot be
filtered or aggregated, or a field the org refuses (``query_error``) is ``INVALID_FIELD``; a setup object asked
on the wrong API (``FlowDefinitionView`` on Tooling, ``CustomField`` on REST) is ``INVALID_TYPE``. Aggregate
queries over more records than the org's ``timeout_records`` quirk fail with ``QUERY_TIMEOUT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .org import ALWAYS_FILLED, FakeField, FakeOrg, FakeSObject, sf_id, sf_time
from .soql import Condition, Query, SoqlError
from .tables import Schema, TableSchema, custom_rows, schema_for

__all__ = ["QueryResult", "run_query"]

_TIME_FIELDS = frozenset({"createddate", "lastmodifieddate", "systemmodstamp"})
_ALWAYS_FILLED_LOWER = frozenset(n.lower() for n in ALWAYS_FILLED)
_INVALID_TYPE = (
    "sObject type '{0}' is not supported. If you are attempting to use a custom object, be sure to append the "
    "'__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
)
_NO_COLUMN = (
    "No such column '{0}' on entity '{1}'. If you are attempting to use a custom field, be sure to append the "
    "'__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
)


@dataclass
class QueryResult:
    records: list[dict[str, Any]]
    total: int
    entity: str | None
    pageable: bool = True


def run_query(org: FakeOrg, query: Query, *, api: str, version: str) -> QueryResult:
    """Execute ``query`` on the REST (``api="rest"``) or Tooling (``"tooling"``) query endpoint."""
    schema = schema_for(org, _canonical_table(query.entity))
    if schema is not None:
        if schema.api != api:
            raise SoqlError("INVALID_TYPE", _INVALID_TYPE.format(query.entity), query.entity_column)
        return _run_table(org, _canonical_table(query.entity), schema, query, api=api, version=version)
    obj = org.sobject(query.entity)
    if obj is None or api != "rest" or not obj.queryable:
        raise SoqlError("INVALID_TYPE", _INVALID_TYPE.format(query.entity), query.entity_column)
    return _run_sobject(org, obj, query, version)


def _canonical_table(name: str) -> str:
    for table in ("CustomField", "CustomObject", "MetadataComponentDependency", "InstalledSubscriberPackage",
                  "FlowDefinitionView", "OauthToken", "UserLicense"):
        if table.lower() == name.lower():
            return table
    return name


# --------------------------------------------------------------------------------------------- sObjects


def _field(obj: FakeSObject, path: str, column: int) -> FakeField:
    fld = obj.field(path)
    if fld is None or "." in path:
        raise SoqlError("INVALID_FIELD", _NO_COLUMN.format(path, obj.name), column)
    if fld.query_error:
        raise SoqlError(fld.query_error, _NO_COLUMN.format(path, obj.name), column)
    return fld


def _filled(fld: FakeField, obj: FakeSObject) -> int:
    return obj.records.all_mask if fld.type == "boolean" or fld.name in ALWAYS_FILLED else fld.bits


def _time_mask(obj: FakeSObject, op: str, moment: datetime, modified: bool) -> int:
    recs = obj.records
    # Records are in time order: a comparison keeps a prefix or a suffix of them.
    shift = recs.step if modified else timedelta(0)
    before = recs.index_at(moment - shift)  # records with time < moment
    at_or_before = recs.index_at(moment - shift + timedelta(microseconds=1))
    prefix = {"<": before, "<=": at_or_before}.get(op)
    if prefix is not None:
        return (1 << prefix) - 1
    start = {">": at_or_before, ">=": before}.get(op)
    if start is None:
        raise SoqlError("MALFORMED_QUERY", f"fake: unsupported operator {op} on a date", 1)
    return recs.all_mask & ~((1 << start) - 1)


def _where_mask(obj: FakeSObject, conds: list[Condition]) -> int:
    mask = obj.records.all_mask
    for cond in conds:
        if cond.op == "OR":
            either = 0
            for part in cond.value:
                either |= _where_mask(obj, [part])
            mask &= either
            continue
        fld = _field(obj, cond.path, cond.column)
        if not fld.filterable:
            raise SoqlError(
                "INVALID_FIELD", f"field '{fld.name}' can not be filtered in a query call", cond.column
            )
        name = fld.name.lower()
        if cond.value is None and cond.op in ("=", "!="):
            bits = _filled(fld, obj)
            mask &= bits if cond.op == "!=" else ~bits
        elif fld.type == "boolean" and isinstance(cond.value, bool) and cond.op in ("=", "!="):
            truthy = (cond.value is True) == (cond.op == "=")
            mask &= fld.bits if truthy else ~fld.bits
        elif name in _TIME_FIELDS and isinstance(cond.value, datetime):
            mask &= _time_mask(obj, cond.op, cond.value, modified=name != "createddate")
        else:
            raise SoqlError("MALFORMED_QUERY", f"fake: unsupported condition on {fld.name}", cond.column)
    return mask & obj.records.all_mask


def _value(obj: FakeSObject, fld: FakeField, i: int) -> Any:
    recs = obj.records
    name = fld.name.lower()
    if fld.type == "boolean":
        return bool(fld.bits >> i & 1)
    if name not in _ALWAYS_FILLED_LOWER and not fld.bits >> i & 1:
        return None
    if fld.type == "id":
        return _record_id(obj, i)
    if fld.type == "datetime":
        return sf_time(recs.created(i) if name == "createddate" else recs.modified(i))
    if fld.type == "date":
        return recs.modified(i).date().isoformat()
    if fld.type == "reference":
        return sf_id("005", f"user:{i % 7}")
    if fld.type in ("double", "currency", "percent", "int"):
        return i
    if fld.type in ("picklist", "multipicklist") and fld.values:
        return fld.values[i % len(fld.values)]["value"]
    return f"{fld.label} {i}"


def _record_id(obj: FakeSObject, i: int) -> str:
    """Record ``i``'s Id: the key prefix, the index in 12 digits, and the suffix digits-only ids carry."""
    return f"{obj.key_prefix[:3]}{i:012d}AAA"


def _highest(mask: int) -> int | None:
    return mask.bit_length() - 1 if mask else None


def _lowest(mask: int) -> int | None:
    return (mask & -mask).bit_length() - 1 if mask else None


def _aggregate(org: FakeOrg, obj: FakeSObject, query: Query, mask: int) -> QueryResult:
    limit = org.quirks.get("timeout_records")
    scanned = mask.bit_count()
    if isinstance(limit, int) and scanned > limit:
        raise SoqlError("QUERY_TIMEOUT", "Your query request was running for too long.", 1)
    if query.count_only:
        return QueryResult([], scanned, obj.name, pageable=False)
    record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
    n = 0
    for item in query.items:
        assert item.path is not None  # COUNT() alone was handled above
        fld = _field(obj, item.path, item.column)
        key = item.alias or f"expr{n}"
        if item.alias is None:
            n += 1
        if item.func == "COUNT":
            if not fld.aggregatable and fld.type != "id":
                raise SoqlError(
                    "INVALID_FIELD", f"field {fld.name} does not support aggregate operator COUNT", item.column
                )
            record[key] = (mask & _filled(fld, obj)).bit_count()
        elif item.func in ("MAX", "MIN") and fld.type in ("datetime", "date"):
            values = mask & _filled(fld, obj)
            i = _highest(values) if item.func == "MAX" else _lowest(values)
            record[key] = None if i is None else _value(obj, fld, i)
            if item.func == "MAX" and fld.name == "SystemModstamp" and obj.touched is not None and values:
                record[key] = sf_time(obj.touched)  # a record changed after the data was described
        else:
            raise SoqlError("MALFORMED_QUERY", f"fake: {item.func}({fld.name}) is not supported", item.column)
    return QueryResult([record], 1, obj.name, pageable=False)


def _run_sobject(org: FakeOrg, obj: FakeSObject, query: Query, version: str) -> QueryResult:
    fields = [_field(obj, i.path, i.column) for i in query.items if i.path is not None and i.func is None]
    if obj.rows and query.where and all(c.path.lower() == "id" and c.op == "IN" for c in query.where):
        wanted = set(query.where[0].value)
        rows = [r for rid, r in obj.rows.items() if rid in wanted]
        return QueryResult([_row_record(r, [f.name for f in fields], obj.name, version) for r in rows], len(rows),
                           obj.name)
    mask = _where_mask(obj, query.where)
    if query.aggregate:
        return _aggregate(org, obj, query, mask)
    if mask == obj.records.all_mask:
        indexes = list(range(obj.records.count))
    else:
        indexes = [i for i in range(obj.records.count) if mask >> i & 1]
    if query.order_by is not None:
        order = _field(obj, query.order_by[0], query.order_column)
        if order.name.lower() not in _TIME_FIELDS and order.name.lower() != "id":
            raise SoqlError("MALFORMED_QUERY", f"fake: ORDER BY {order.name} is not supported", query.order_column)
        if query.order_by[1]:
            indexes.reverse()
    if query.limit is not None:
        indexes = indexes[: query.limit]
    records = []
    for i in indexes:
        rec_id = _record_id(obj, i)
        rec: dict[str, Any] = {"attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/"
                                              f"{obj.name}/{rec_id}"}}
        for fld in fields:
            rec[fld.name] = _value(obj, fld, i)
        records.append(rec)
    return QueryResult(records, len(records), obj.name)


# ----------------------------------------------------------------------------------------------- tables


def _resolve(schema: Schema, path: str) -> tuple[str, ...] | None:
    out: list[str] = []
    level: Schema | None = schema
    for part in path.split("."):
        if level is None:
            return None
        match = next((k for k in level if k.lower() == part.lower()), None)
        if match is None:
            return None
        out.append(match)
        nxt = level[match]
        level = nxt if isinstance(nxt, dict) else None
    return tuple(out)


def _get(row: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = row
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _matches(value: Any, cond: Condition) -> bool:
    target = cond.value
    if cond.op in ("IN", "NOTIN"):
        return (value in target) == (cond.op == "IN")
    if cond.op == "LIKE":
        pattern = str(target).lower().replace("%", "")
        return isinstance(value, str) and pattern in value.lower()
    if cond.op in ("=", "!="):
        return bool((value == target) == (cond.op == "="))
    if value is None or target is None:
        return False
    return bool({"<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target}[cond.op])


def _members(values: list[Any]) -> frozenset[Any] | list[Any]:
    """An IN list as a set when its values can be hashed (long Id lists are checked against every row)."""
    try:
        return frozenset(values)
    except TypeError:
        return values


def _row_record(row: dict[str, Any], paths: list[str], table: str, version: str, *, tooling: bool = False,
                url: bool = True) -> dict[str, Any]:
    attrs: dict[str, Any] = {"type": table}
    base = f"/services/data/v{version}/{'tooling/' if tooling else ''}sobjects/{table}/"
    if url:
        attrs["url"] = base + str(row.get("Id") or row.get("DurableId") or "")
    rec: dict[str, Any] = {"attributes": attrs}
    for path in paths:
        parts = path.split(".")
        if len(parts) == 1:
            rec[parts[0]] = row.get(parts[0])
            continue
        parent = row.get(parts[0])
        if parent is None:
            rec[parts[0]] = None
            continue
        sub = rec.get(parts[0])
        if not isinstance(sub, dict):
            sub_attrs = {"type": parts[0], "url": f"/services/data/v{version}/{'tooling/' if tooling else ''}"
                         f"sobjects/{parts[0]}/{parent.get('Id', '')}"}
            sub = rec[parts[0]] = {"attributes": sub_attrs}
        sub[parts[1]] = parent.get(parts[1])
    return rec


def _indexed(org: FakeOrg, table: str, conds: list[tuple[tuple[str, ...], Condition]]) -> list[dict[str, Any]]:
    """The rows an ``IN`` condition can match, through a per-column index (long Id lists against many rows)."""
    rows = org.tables.get(table, [])
    hit = next(((p, c) for p, c in conds if c.op == "IN" and isinstance(c.value, frozenset)), None)
    if hit is None or len(rows) < 500:
        return rows
    path, cond = hit
    index: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        index.setdefault(_get(row, path), []).append(row)
    return [row for value in cond.value for row in index.get(value, [])]


def _run_table(org: FakeOrg, table: str, schema: TableSchema, query: Query, *, api: str, version: str) -> QueryResult:
    def resolve(path: str, column: int) -> tuple[str, ...]:
        found = _resolve(schema.fields, path)
        if found is None:
            raise SoqlError("INVALID_FIELD", _NO_COLUMN.format(path, table), column)
        return found

    if any(c.op == "OR" for c in query.where):
        raise SoqlError("MALFORMED_QUERY", "fake: OR is supported on data objects only", 1)
    selected = [(resolve(i.path, i.column), i) for i in query.items if i.path is not None]
    conds = [(resolve(c.path, c.column), c) for c in query.where]
    if schema.no_order_by and query.order_by is not None:
        raise SoqlError("MALFORMED_QUERY", f"ORDER BY is not supported on {table}", query.order_column)
    if schema.row_cap is not None and query.aggregate:
        raise SoqlError("MALFORMED_QUERY", f"aggregate functions are not supported on {table}", 8)
    source = custom_rows(org, table)
    conds = [(path, Condition(c.path, c.op, _members(c.value), c.column) if c.op in ("IN", "NOTIN") else c)
             for path, c in conds]
    candidates = source if source is not None else _indexed(org, table, conds)
    rows = [r for r in candidates if all(_matches(_get(r, path), c) for path, c in conds)]
    if query.count_only:
        return QueryResult([], len(rows), table, pageable=False)
    if query.order_by is not None:
        key = resolve(query.order_by[0], query.order_column)
        rows.sort(key=lambda r: (_get(r, key) is None, str(_get(r, key))), reverse=query.order_by[1])
    if query.limit is not None:
        rows = rows[: query.limit]
    one_row = {p[0] for p, _ in selected} & schema.one_row_fields
    if one_row and len(rows) > 1:
        raise SoqlError(
            "MALFORMED_QUERY",
            "When retrieving results with Metadata or FullName fields, the query qualifications must specify no "
            "more than one row for retrieval. Result size: " + str(len(rows)),
            1,
        )
    if query.aggregate:
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for n, (path, item) in enumerate(selected):
            if item.func != "COUNT":
                raise SoqlError("MALFORMED_QUERY", f"fake: {item.func} on {table} is not supported", item.column)
            record[item.alias or f"expr{n}"] = sum(1 for r in rows if _get(r, path) is not None)
        return QueryResult([record], 1, table, pageable=False)
    cap = org.quirks.get("dependency_cap", schema.row_cap) if schema.row_cap is not None else None
    if isinstance(cap, int):
        rows = rows[:cap]
    paths = [".".join(p) for p, _ in selected]
    tooling = api == "tooling"
    records = [_row_record(r, paths, table, version, tooling=tooling, url=table != "MetadataComponentDependency")
               for r in rows]
    return QueryResult(records, len(records), table, pageable=schema.row_cap is None)
