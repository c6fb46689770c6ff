"""Pure transforms: the manifest's plain data (plus its line map) -> an :class:`InventoryPart`.

No I/O here: the connector reads ``stack.yaml`` and any mappings CSV, and hands the text and data over. Every
problem is a one-line :class:`FileError` naming the file, the line and the key (or the CSV column), so a team
fixing its manifest never has to guess where.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError

from stackaudit_inventory import (
    Contract,
    Cost,
    FieldMapping,
    Integration,
    IntegrationStatus,
    InventoryPart,
    LifecycleDefinition,
    LifecycleStage,
    Origin,
    Seats,
    StageMapping,
    Tool,
    ids,
)
from stackaudit_inventory.catalogue import CatalogueError, VendorEntry, load_catalogue

from ..files import FileError, LineMap, format_path, validate_data
from .schema import MANIFEST_VERSION, ContractDoc, IntegrationDoc, ManifestDoc, MappingDoc, ToolDoc

__all__ = [
    "CSV_COLUMNS",
    "CsvMappings",
    "build_inventory",
    "build_mapping",
    "bundled_capabilities",
    "contract_from_doc",
    "parse_manifest",
    "parse_mappings_csv",
    "parse_vendors",
    "validate_manifest",
]

PathKey = tuple[str | int, ...]
CSV_COLUMNS = ("source", "target", "direction", "transform", "precedence")
_REQUIRED_COLUMNS = ("source", "target")


@dataclass(frozen=True)
class CsvMappings:
    """Field mappings read from one CSV, each with the line it came from (for errors found later)."""

    file: str
    rows: list[tuple[int, MappingDoc]] = field(default_factory=list)


def _line_for(lines: LineMap, path: PathKey) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _fail(file: str, lines: LineMap, path: PathKey, message: str) -> FileError:
    return FileError(file, message, _line_for(lines, path), format_path(path))


# ------------------------------------------------------------------------------------------- validation


def validate_manifest(data: Any, lines: LineMap, file: str) -> ManifestDoc:
    """Check the manifest's shape: known keys, types, formats. An empty file declares nothing."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileError(file, "expected a mapping at the top level (tools:, integrations:, lifecycle:)", 1)
    version = data.get("version", MANIFEST_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > MANIFEST_VERSION:
        raise _fail(
            file,
            lines,
            ("version",),
            f"manifest version {version} is newer than this stackaudit supports ({MANIFEST_VERSION}); "
            "upgrade stackaudit",
        )
    try:
        return validate_data(ManifestDoc, data, file, lines)
    except FileError as exc:
        # The catalogue's own validators raise ValueError; pydantic prefixes their message with "Value error, ".
        if exc.problem.startswith("Value error, "):
            raise FileError(file, exc.problem.removeprefix("Value error, "), exc.line, exc.key) from None
        raise


def parse_mappings_csv(text: str, file: str) -> CsvMappings:
    """Read a mappings CSV (header ``source,target[,direction,transform,precedence]``). Blank rows and rows whose
    first cell starts with ``#`` are skipped; errors name the CSV line and column."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), skipinitialspace=True, restkey="(extra cells)")
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise FileError(file, f"empty CSV: expected a header row {','.join(CSV_COLUMNS)}", 1)
    reader.fieldnames = header
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise FileError(file, f"unknown column (columns: {', '.join(CSV_COLUMNS)})", 1, unknown[0] or "(empty)")
    for required in _REQUIRED_COLUMNS:
        if required not in header:
            raise FileError(file, "required column is missing", 1, required)
    out = CsvMappings(file)
    try:
        for row in reader:
            line = reader.line_num
            first = (row.get(header[0]) or "").strip()
            if first.startswith("#") or not any(v.strip() for v in row.values() if isinstance(v, str)):
                continue
            if "(extra cells)" in row:
                raise FileError(file, f"more cells than the {len(header)} columns of the header", line)
            cells = {k: v.strip() for k, v in row.items() if isinstance(v, str) and v.strip()}
            try:
                out.rows.append((line, MappingDoc.model_validate(cells)))
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                column = str(err["loc"][0]) if err["loc"] else None
                message = "required cell is empty" if err["type"] == "missing" else err["msg"]
                raise FileError(file, message, line, column) from None
    except csv.Error as exc:
        raise FileError(file, f"invalid CSV: {exc}", reader.line_num) from None
    return out


# --------------------------------------------------------------------------------------------- building


def contract_from_doc(doc: ContractDoc) -> Contract:
    """The inventory contract, with the notice date derived from the notice period (or the reverse)."""
    notice_date, notice_days = doc.notice_date, doc.notice_days
    if notice_date is None and notice_days is not None and doc.renewal is not None:
        notice_date = doc.renewal - timedelta(days=notice_days)
    elif notice_days is None and notice_date is not None and doc.renewal is not None:
        notice_days = max((doc.renewal - notice_date).days, 0)
    return Contract(
        start=doc.start,
        renewal=doc.renewal,
        notice_date=notice_date,
        notice_days=notice_days,
        auto_renew=doc.auto_renew,
    )


def _build_tool(doc: ToolDoc) -> Tool:
    return Tool(
        id=doc.id,
        name=doc.name,
        vendor=doc.vendor,
        capabilities=list(doc.capabilities),
        owner=doc.owner,
        status=doc.status,
        cost=Cost(amount=doc.cost.amount, currency=doc.cost.currency, period=doc.cost.period) if doc.cost else None,
        seats=Seats(bought=doc.seats.bought, used=doc.seats.used, source="manifest") if doc.seats else None,
        contract=contract_from_doc(doc.contract) if doc.contract else None,
        origin=Origin.declared,
        url=doc.url,
        notes=doc.notes,
    )


def build_mapping(doc: MappingDoc) -> FieldMapping:
    return FieldMapping(
        source=doc.source,
        target=doc.target,
        direction=doc.direction,
        transform=doc.transform,
        precedence=doc.precedence,
    )


class _Checker:
    """Cross-reference checks that need the declared tools and the line map."""

    def __init__(self, file: str, lines: LineMap, tools: Mapping[str, Any]) -> None:
        self.file = file
        self.lines = lines
        self.tools = tools

    def tool(self, tool: str, path: PathKey) -> None:
        if tool in self.tools:
            return
        close = difflib.get_close_matches(tool, list(self.tools), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise _fail(self.file, self.lines, path, f"unknown tool '{tool}' (not declared under tools:){hint}")

    def at(self, path: PathKey, key: str, message: str) -> FileError:
        """An error at ``path + key`` of the manifest."""
        return _fail(self.file, self.lines, (*path, key), message)

    def mapping(self, mapping: MappingDoc, flow: IntegrationDoc, error: Callable[[str, str], FileError]) -> None:
        """Each mapped field belongs to one end of the flow; precedence names one end."""
        ends = {flow.source, flow.target}
        label = ids.integration_id(flow.source, flow.target, flow.name)
        for key in ("source", "target"):
            value: str = getattr(mapping, key)
            tool = ids.tool_of(value)
            if tool not in ends:
                raise error(key, f"field '{value}' belongs to '{tool}', which is not an end of {label}")
        if mapping.precedence is not None and mapping.precedence not in ends:
            raise error("precedence", f"'{mapping.precedence}' is not an end of {label}")


def _csv_error(file: str, line: int, key: str, message: str) -> FileError:
    return FileError(file, message, line, key)


def _build_integrations(
    doc: ManifestDoc,
    check: _Checker,
    source_id: str,
    csv_mappings: Mapping[int, CsvMappings],
) -> list[Integration]:
    out: list[Integration] = []
    seen: dict[str, int] = {}
    for i, flow in enumerate(doc.integrations):
        base: PathKey = ("integrations", i)
        check.tool(flow.source, (*base, "source"))
        check.tool(flow.target, (*base, "target"))
        if flow.source == flow.target:
            raise _fail(check.file, check.lines, (*base, "target"), "source and target are the same tool")
        if flow.via is not None:
            check.tool(flow.via, (*base, "via"))
            if flow.via in (flow.source, flow.target):
                raise _fail(check.file, check.lines, (*base, "via"), "via must be a third tool (the middleware)")
        integration_id = ids.integration_id(flow.source, flow.target, flow.name)
        if integration_id in seen:
            other = _line_for(check.lines, ("integrations", seen[integration_id]))
            raise _fail(
                check.file,
                check.lines,
                base,
                f"duplicate integration '{integration_id}' (also at line {other}); give each flow a `name`",
            )
        seen[integration_id] = i
        mappings: list[FieldMapping] = []
        for j, m in enumerate(flow.mappings):
            check.mapping(m, flow, partial(check.at, (*base, "mappings", j)))
            mappings.append(build_mapping(m))
        from_csv = csv_mappings.get(i)
        if from_csv is not None:
            for line, m in from_csv.rows:
                check.mapping(m, flow, partial(_csv_error, from_csv.file, line))
                mappings.append(build_mapping(m))
        obs = flow.observed
        out.append(
            Integration(
                id=integration_id,
                source=flow.source,
                target=flow.target,
                via=flow.via,
                name=flow.name,
                direction=flow.direction,
                origin=Origin.declared,
                status=obs.status if obs else IntegrationStatus.unknown,
                last_sync_at=obs.last_sync_at if obs else None,
                last_success_at=obs.last_success_at if obs else None,
                success_count=obs.success_count if obs else None,
                error_count=obs.error_count if obs else None,
                window_days=obs.window_days if obs else None,
                error_samples=list(obs.error_samples) if obs else [],
                expected_interval_minutes=flow.expected_interval,
                mappings=mappings,
                evidence_sources=[source_id],
            )
        )
    return out


def _build_lifecycle(doc: ManifestDoc, check: _Checker) -> LifecycleDefinition | None:
    life = doc.lifecycle
    if life is None:
        return None
    stage_ids: dict[str, int] = {}
    for i, stage in enumerate(life.stages):
        if stage.id in stage_ids:
            raise _fail(check.file, check.lines, ("lifecycle", "stages", i, "id"), f"duplicate stage '{stage.id}'")
        stage_ids[stage.id] = i
    stage_fields: list[str] = []
    for i, sm in enumerate(life.mappings):
        base: PathKey = ("lifecycle", "mappings", i)
        check.tool(sm.tool, (*base, "tool"))
        if ids.tool_of(sm.field) != sm.tool:
            raise _fail(check.file, check.lines, (*base, "field"), f"field '{sm.field}' does not belong to '{sm.tool}'")
        for key in sm.values:
            if stage_ids and key not in stage_ids:
                known = ", ".join(stage_ids)
                raise _fail(
                    check.file, check.lines, (*base, "values", key), f"unknown stage '{key}' (stages: {known})"
                )
        stage_fields.append(sm.field)
    for i, fid in enumerate(life.stage_fields):
        check.tool(ids.tool_of(fid), ("lifecycle", "stage_fields", i))
        stage_fields.append(fid)
    return LifecycleDefinition(
        stages=[LifecycleStage(id=s.id, name=s.name, description=s.description) for s in life.stages],
        mappings=[StageMapping(tool=m.tool, field=m.field, values=dict(m.values)) for m in life.mappings],
        mql_definition=life.mql_definition,
        handoff_definition=life.handoff_definition,
        stage_fields=list(dict.fromkeys(stage_fields)),
        origin=Origin.declared,
    )


def bundled_capabilities() -> frozenset[str]:
    """The capability vocabulary of the bundled vendor catalogue (read once, cached by the catalogue)."""
    return frozenset(load_catalogue().capabilities)


def _check_capabilities(doc: ManifestDoc, file: str, lines: LineMap, known: Collection[str]) -> None:
    # RT001 compares primary capabilities as strings: a typo or a private synonym would hide an overlap.
    items: list[tuple[str, int, tuple[str, ...] | list[str]]] = [
        *(("tools", i, t.capabilities) for i, t in enumerate(doc.tools)),
        *(("vendors", i, v.capabilities) for i, v in enumerate(doc.vendors)),
    ]
    for section, i, capabilities in items:
        for j, capability in enumerate(capabilities):
            if capability in known:
                continue
            close = difflib.get_close_matches(capability, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(sorted(known))
            raise _fail(file, lines, (section, i, "capabilities", j), f"unknown capability '{capability}' ({hint})")


def _check_vendors(doc: ManifestDoc, file: str, lines: LineMap) -> None:
    """Each vendor id once, and the entries merge into the bundled catalogue (no two of them claim one name,
    namespace, destination or field marker). Capabilities are checked with the tools' (:func:`_check_capabilities`)."""
    seen: dict[str, int] = {}
    for i, entry in enumerate(doc.vendors):
        if entry.id in seen:
            other = _line_for(lines, ("vendors", seen[entry.id]))
            raise _fail(file, lines, ("vendors", i, "id"), f"duplicate vendor '{entry.id}' (also at line {other})")
        seen[entry.id] = i
    if not doc.vendors:
        return
    try:
        load_catalogue(extra=doc.vendors)
    except CatalogueError as exc:
        message = str(exc).removeprefix("manifest vendors: ")
        # Point at the last entry the problem names (the later of two clashing entries), else at the section.
        named = [i for i, entry in enumerate(doc.vendors) if f"'{entry.id}'" in message]
        path: PathKey = ("vendors", named[-1]) if named else ("vendors",)
        raise _fail(file, lines, path, message) from None


def parse_vendors(data: Any, lines: LineMap, file: str) -> tuple[VendorEntry, ...]:
    """The manifest's ``vendors:`` entries, validated and checked like :func:`build_inventory` does, reading only
    that section (the audit needs the catalogue extensions, not the rest of the manifest)."""
    section = data.get("vendors") if isinstance(data, Mapping) else None
    doc = validate_manifest({"vendors": section} if section is not None else {}, lines, file)
    _check_capabilities(doc, file, lines, bundled_capabilities())
    _check_vendors(doc, file, lines)
    return tuple(doc.vendors)


def build_inventory(
    doc: ManifestDoc,
    lines: LineMap,
    file: str,
    *,
    source_id: str = "manifest",
    csv_mappings: Mapping[int, CsvMappings] | None = None,
    capabilities: Collection[str] | None = None,
) -> InventoryPart:
    """Check cross-references (every tool id used is declared; integration ids are unique; capabilities are in
    the vocabulary, by default the vendor catalogue's; ``vendors:`` entries merge into the catalogue) and build
    the part. The ``vendors:`` entries are not part of it: :func:`parse_vendors` reads them. ``csv_mappings`` maps an
    integration's index to the mappings read from its ``mappings_csv``."""
    tools: dict[str, int] = {}
    for i, t in enumerate(doc.tools):
        if t.id in tools:
            other = _line_for(lines, ("tools", tools[t.id]))
            raise _fail(file, lines, ("tools", i, "id"), f"duplicate tool '{t.id}' (also at line {other})")
        tools[t.id] = i
    _check_capabilities(doc, file, lines, bundled_capabilities() if capabilities is None else capabilities)
    _check_vendors(doc, file, lines)
    check = _Checker(file, lines, tools)
    return InventoryPart(
        tools=[_build_tool(t) for t in doc.tools],
        integrations=_build_integrations(doc, check, source_id, csv_mappings or {}),
        lifecycle=_build_lifecycle(doc, check),
    )


def parse_manifest(
    data: Any,
    lines: LineMap,
    file: str,
    *,
    source_id: str = "manifest",
    csv_mappings: Mapping[int, CsvMappings] | None = None,
    capabilities: Collection[str] | None = None,
) -> InventoryPart:
    """Validate and build in one step (for manifests without CSV files, or with them already read)."""
    doc = validate_manifest(data, lines, file)
    return build_inventory(
        doc, lines, file, source_id=source_id, csv_mappings=csv_mappings, capabilities=capabilities
    )
