"""Inventory exports: tools, fields and integrations as CSV (for spreadsheets) or JSON (for other tools).

One column spec per table drives both formats, so they never disagree. JSON keeps types (numbers, booleans,
lists, null) inside an envelope naming the stack, snapshot and table; CSV writes lists joined with ``; `` and
neutralises spreadsheet formulas in every text cell exactly as the findings CSV does (:func:`exports.csv_cell`).
Numbers the exporter computed stay numbers. Open-finding counts and flow health come from the audit result
when one is given (the same verdicts as the report).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from stackaudit_inventory import AuditResult, FieldDef, FindingStatus, Integration, Snapshot, Tool
from stackaudit_inventory.ids import parse_field_id

from .exports import csv_cell

__all__ = ["INVENTORY_EXPORT_VERSION", "TABLES", "Table", "inventory_csv", "inventory_json", "inventory_rows"]

INVENTORY_EXPORT_VERSION = 1
Table = Literal["tools", "fields", "integrations"]
TABLES: tuple[Table, ...] = ("tools", "fields", "integrations")
Value = str | int | float | bool | list[str] | None
Column = tuple[str, Callable[[Any], Value]]


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _tool_columns(findings: Counter[str]) -> list[Column]:
    return [
        ("id", lambda t: t.id),
        ("name", lambda t: t.name),
        ("vendor", lambda t: t.vendor),
        ("capabilities", lambda t: list(t.capabilities)),
        ("owner", lambda t: t.owner),
        ("status", lambda t: t.status.value),
        ("annual_cost", lambda t: t.cost.annual if t.cost else None),
        ("currency", lambda t: t.cost.currency if t.cost else None),
        ("seats_bought", lambda t: t.seats.bought if t.seats else None),
        ("seats_used", lambda t: t.seats.used if t.seats else None),
        ("renewal", lambda t: _iso(t.contract.renewal) if t.contract else None),
        ("notice_date", lambda t: _iso(t.contract.notice_date) if t.contract else None),
        ("notice_days", lambda t: t.contract.notice_days if t.contract else None),
        ("auto_renew", lambda t: t.contract.auto_renew if t.contract else None),
        ("origin", lambda t: t.origin.value),
        ("last_activity_at", lambda t: _iso(t.last_activity_at)),
        ("url", lambda t: t.url),
        ("open_findings", lambda t: findings[t.id]),
    ]


def _field_columns(snapshot: Snapshot, findings: Counter[str]) -> list[Column]:
    reads = Counter(r.field for r in snapshot.references if r.mode == "read")
    writes = Counter(r.field for r in snapshot.references if r.mode == "write")
    mapped: Counter[str] = Counter()
    for integration in snapshot.integrations:
        for m in integration.mappings:
            mapped.update({m.source, m.target})
    return [
        ("id", lambda f: f.id),
        ("tool", lambda f: f.tool),
        ("object", lambda f: f.object),
        ("name", lambda f: f.name),
        ("label", lambda f: f.label),
        ("type", lambda f: f.type),
        ("vendor_type", lambda f: f.vendor_type),
        ("inventoried", lambda f: f.id in snapshot.fields_by_id),
        ("custom", lambda f: f.custom),
        ("calculated", lambda f: f.calculated),
        ("hidden", lambda f: f.hidden),
        ("archived", lambda f: f.archived),
        ("fill_rate", lambda f: round(f.fill.rate, 4) if f.fill and f.fill.rate is not None else None),
        ("fill_method", lambda f: f.fill.method.value if f.fill else None),
        ("fill_filled", lambda f: f.fill.filled if f.fill else None),
        ("fill_total", lambda f: f.fill.total if f.fill else None),
        ("read_by", lambda f: reads[f.id]),
        ("written_by", lambda f: writes[f.id]),
        ("mappings", lambda f: mapped[f.id]),
        ("owning_tool", lambda f: f.owning_tool),
        ("namespace", lambda f: f.namespace),
        ("created_at", lambda f: _iso(f.created_at)),
        ("updated_at", lambda f: _iso(f.updated_at)),
        ("description", lambda f: f.description),
        ("open_findings", lambda f: findings[f.id]),
    ]


def _integration_columns(result: AuditResult | None, findings: Counter[str]) -> list[Column]:
    health = {e.id: e.status for e in result.graph.edges if e.kind == "flow" and e.id} if result else {}
    return [
        ("id", lambda i: i.id),
        ("source", lambda i: i.source),
        ("target", lambda i: i.target),
        ("via", lambda i: i.via),
        ("name", lambda i: i.name),
        ("direction", lambda i: i.direction),
        ("status", lambda i: i.status.value),
        ("health", lambda i: health.get(i.id)),
        ("last_success_at", lambda i: _iso(i.last_success_at)),
        ("last_sync_at", lambda i: _iso(i.last_sync_at)),
        ("success_count", lambda i: i.success_count),
        ("error_count", lambda i: i.error_count),
        ("error_rate", lambda i: round(i.error_rate, 4) if i.error_rate is not None else None),
        ("window_days", lambda i: i.window_days),
        ("expected_interval_minutes", lambda i: i.expected_interval_minutes),
        ("mapped_fields", lambda i: [f"{m.source} -> {m.target}" for m in i.mappings]),
        ("origin", lambda i: i.origin.value),
        ("open_findings", lambda i: findings[i.id]),
    ]


def _named_only(snapshot: Snapshot) -> list[FieldDef]:
    """Fields that mappings and references name but no source inventoried, as bare definitions."""
    named = {m.source for i in snapshot.integrations for m in i.mappings}
    named |= {m.target for i in snapshot.integrations for m in i.mappings} | {r.field for r in snapshot.references}
    out = []
    for fid in sorted(named - set(snapshot.fields_by_id)):
        try:
            parsed = parse_field_id(fid)
        except ValueError:
            continue
        out.append(FieldDef(id=fid, tool=parsed.tool, object=parsed.object, name=parsed.field, type="unknown"))
    return out


def inventory_rows(
    table: Table, snapshot: Snapshot, result: AuditResult | None = None
) -> tuple[list[str], list[list[Value]]]:
    """Column names and typed rows of one table, in a stable order (by id)."""
    findings: Counter[str] = Counter()
    if result is not None:
        findings = Counter(s for f in result.findings if f.status is FindingStatus.open for s in set(f.subjects))
    items: list[Tool] | list[FieldDef] | list[Integration]
    if table == "tools":
        columns, items = _tool_columns(findings), sorted(snapshot.tools, key=lambda t: t.id)
    elif table == "fields":
        columns = _field_columns(snapshot, findings)
        items = sorted([*snapshot.fields, *_named_only(snapshot)], key=lambda f: f.id)
    elif table == "integrations":
        columns, items = _integration_columns(result, findings), sorted(snapshot.integrations, key=lambda i: i.id)
    else:
        raise ValueError(f"unknown table {table!r} (expected one of {', '.join(TABLES)})")
    return [name for name, _ in columns], [[get(item) for _, get in columns] for item in items]


def _csv_value(value: Value) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return csv_cell("; ".join(value))
    if isinstance(value, str):
        return csv_cell(value)
    return value


def inventory_csv(table: Table, snapshot: Snapshot, result: AuditResult | None = None) -> str:
    """RFC 4180 CSV (CRLF line ends) with a header row; text cells never start a spreadsheet formula."""
    columns, rows = inventory_rows(table, snapshot, result)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue()


def inventory_json(table: Table, snapshot: Snapshot, result: AuditResult | None = None) -> str:
    """``{"schema_version", "table", "stack", "snapshot_id", "taken_at", "columns", "rows": [{...}]}``."""
    columns, rows = inventory_rows(table, snapshot, result)
    document = {
        "schema_version": INVENTORY_EXPORT_VERSION,
        "table": table,
        "stack": snapshot.stack,
        "snapshot_id": snapshot.id,
        "taken_at": snapshot.taken_at.isoformat(),
        "columns": columns,
        "rows": [dict(zip(columns, row, strict=True)) for row in rows],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
