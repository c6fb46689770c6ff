"""The field explorer and field impact: every field as one compact JSON table, rendered page by page in the browser.

A stack can hold 100,000 fields, so the page never holds 100,000 table rows: the view model writes the fields
once into the report's JSON island, as arrays indexed by column, with tools, objects, types and integrations
interned into small lookup tables, and the report's script filters, sorts and pages them.

Fields that a mapping, a reference or the lifecycle definition names but no source inventoried are listed too,
flagged ``not inventoried``: a mapping into a field that no longer exists is exactly what the explorer must
show. Impact (writers, readers, downstream) comes from :class:`FieldImpactExport`, computed from the stack graph
outside this package; it is embedded only for fields that have a link, as indexes into the same tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from stackaudit_inventory import (
    AuditResult,
    Capability,
    CoverageStatus,
    FillMethod,
    FillRate,
    FindingStatus,
    Snapshot,
)
from stackaudit_inventory.ids import parse_field_id
from stackaudit_inventory.results import FieldImpactExport, ImpactLink

__all__ = [
    "FIELD_COLUMNS",
    "FLAG_ARCHIVED",
    "FLAG_CALCULATED",
    "FLAG_CUSTOM",
    "FLAG_HIDDEN",
    "FLAG_NOT_INVENTORIED",
    "FieldExplorerView",
    "build_field_explorer",
]

# Row layout of ``fields.rows`` in the JSON island (the report's script reads the same order).
FIELD_COLUMNS = ("tool", "object", "name", "label", "type", "fill", "method", "refs", "mapped", "owner", "findings")
FLAG_CUSTOM, FLAG_CALCULATED, FLAG_HIDDEN, FLAG_ARCHIVED, FLAG_NOT_INVENTORIED = 1, 2, 4, 8, 16
_METHODS = ("exact", "sampled", "unknown")
_COVERAGE_ORDER = (CoverageStatus.complete, CoverageStatus.partial, CoverageStatus.missing)


@dataclass(frozen=True, slots=True)
class FieldExplorerView:
    lede: str
    total: int
    inventoried: int
    not_inventoried: int
    custom: int
    unreferenced: int
    fill_unknown: int
    with_findings: int
    tool_options: tuple[tuple[int, str, int], ...]  # (tool index, name, fields)
    type_options: tuple[tuple[int, str], ...]
    impact_computed: bool
    linked: int  # fields with any writer or reader
    payload: dict[str, Any]


class _Interner:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[str] = []

    def __call__(self, value: str) -> int:
        idx = self.index.get(value)
        if idx is None:
            idx = self.index[value] = len(self.items)
            self.items.append(value)
        return idx


def _named_fields(snapshot: Snapshot) -> set[str]:
    """Field ids that links and the lifecycle definition name, whether or not a source inventoried them."""
    named = {m.source for i in snapshot.integrations for m in i.mappings}
    named |= {m.target for i in snapshot.integrations for m in i.mappings}
    named |= {r.field for r in snapshot.references}
    if snapshot.lifecycle is not None:
        named |= {m.field for m in snapshot.lifecycle.mappings} | set(snapshot.lifecycle.stage_fields)
    return named


_METHOD_INDEX = {FillMethod(m): i for i, m in enumerate(_METHODS)}


def _fill(fill: FillRate | None) -> tuple[int, int]:
    """(rate in thousandths or -1 when unknown, method index or -1 when never measured)."""
    if fill is None:
        return -1, -1
    method = _METHOD_INDEX[fill.method]
    if fill.method is FillMethod.unknown or fill.filled is None or not fill.total:
        return -1, method
    rate = fill.filled / fill.total
    return max(round(rate * 1000), 1 if rate > 0 else 0), method


def _best_coverage(snapshot: Snapshot, tool: str, capability: Capability) -> str:
    seen = {r.covers(capability) for r in snapshot.source_runs if r.tool == tool}
    return next((s.value for s in _COVERAGE_ORDER if s in seen), CoverageStatus.not_supported.value)


def _counts(snapshot: Snapshot) -> tuple[Counter[str], Counter[str]]:
    refs = Counter(r.field for r in snapshot.references)
    mapped: Counter[str] = Counter()
    for integration in snapshot.integrations:
        for m in integration.mappings:
            mapped[m.source] += 1
            if m.target != m.source:
                mapped[m.target] += 1
    return refs, mapped


def _findings_by_field(result: AuditResult, anchors: dict[str, str]) -> tuple[list[list[str]], dict[str, list[int]]]:
    """Each finding once (severity, rule, title, status, anchor) and, per subject, the indexes of its findings.

    Indexes rather than copies: a near-duplicate cluster's title names every member, so copying it into each
    member's entry would grow with the square of the cluster's size.
    """
    table: list[list[str]] = []
    out: dict[str, list[int]] = {}
    for f in result.findings:
        index = len(table)
        table.append([f.severity.value, f.rule, f.title, f.status.value, anchors.get(f.fingerprint, "")])
        for subject in set(f.subjects):
            out.setdefault(subject, []).append(index)
    return table, out


def _integration_label(snapshot: Snapshot, iid: str, tool_names: dict[str, str]) -> str:
    integration = snapshot.integrations_by_id.get(iid)
    if integration is None:
        return iid
    source = tool_names.get(integration.source, integration.source)
    target = tool_names.get(integration.target, integration.target)
    return f"{source} → {target}" + (f" ({integration.name})" if integration.name else "")


def _links(links: list[ImpactLink], node_index: Any, via_index: Any) -> list[int]:
    flat: list[int] = []
    for link in links:
        flat += [node_index(link), via_index(link.via) if link.via else -1]
    return flat


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _lede(total: int, tools: int, inventoried: int, custom: int, unreferenced: int, fill_unknown: int) -> str:
    """One sentence on what the explorer holds, honest about what no source read."""
    if not total:
        return "No fields: no source read any tool's fields, and no mapping names one."
    named = total - inventoried
    if not inventoried:
        return (
            f"No source inventoried any tool's fields yet; these {_plural(total, 'field')} in "
            f"{_plural(tools, 'tool')} are the ones integration mappings and the lifecycle definition name."
        )
    text = (
        f"{_plural(total, 'field')} in {_plural(tools, 'tool')}: {custom:,} custom, {unreferenced:,} with no known "
        f"reference or mapping, {fill_unknown:,} with an unknown fill rate"
    )
    if named:
        text += f", and {named:,} named by a mapping or the lifecycle definition that no source inventoried"
    return text + "."


def build_field_explorer(
    snapshot: Snapshot, result: AuditResult, impact: FieldImpactExport | None, anchors: dict[str, str]
) -> FieldExplorerView:
    """The explorer's table and impact index; ``anchors`` maps finding fingerprints to their in-page anchors."""
    tools, objects, types = _Interner(), _Interner(), _Interner()
    tool_names = {t.id: t.name for t in snapshot.tools}
    inventoried = sorted(snapshot.fields, key=lambda f: (f.tool, f.object, f.name, f.id))
    known = snapshot.fields_by_id
    extra = []
    for fid in sorted(_named_fields(snapshot) - set(known)):
        try:
            extra.append(parse_field_id(fid))
        except ValueError:
            continue
    refs, mapped = _counts(snapshot)
    finding_table, findings = _findings_by_field(result, anchors)
    open_counts = Counter(s for f in result.findings if f.status is FindingStatus.open for s in set(f.subjects))

    rows: list[list[Any]] = []
    ids: list[str] = []
    tool_objects: dict[int, set[int]] = {}
    tool_index, object_index, type_index = tools.index, objects.index, types.index
    custom = unreferenced = fill_unknown = 0
    for fld in inventoried:
        fill, method = _fill(fld.fill)
        flags = (
            (FLAG_CUSTOM if fld.custom else 0)
            | (FLAG_CALCULATED if fld.calculated else 0)
            | (FLAG_HIDDEN if fld.hidden else 0)
            | (FLAG_ARCHIVED if fld.archived else 0)
        )
        t = tool_index.get(fld.tool)
        if t is None:
            t = tools(fld.tool)
        o = object_index.get(fld.object)
        if o is None:
            o = objects(fld.object)
        ty = type_index.get(fld.type)
        if ty is None:
            ty = types(fld.type)
        tool_objects.setdefault(t, set()).add(o)
        owner = tools(fld.owning_tool) if fld.owning_tool else -1
        fid = fld.id
        label = fld.label if fld.label and fld.label != fld.name else ""
        n_refs, n_mapped = refs[fid], mapped[fid]
        custom += fld.custom
        unreferenced += not n_refs and not n_mapped
        fill_unknown += fill < 0
        row = [t, o, fld.name, label, ty, fill, method, n_refs, n_mapped, owner, open_counts[fid], flags]
        if fid != f"{fld.tool}:{fld.object}.{fld.name}":
            row.append(fid)
        rows.append(row)
        ids.append(fid)
    for parsed in extra:
        fid = f"{parsed.tool}:{parsed.object}.{parsed.field}"
        t, o = tools(parsed.tool), objects(parsed.object)
        tool_objects.setdefault(t, set()).add(o)
        rows.append([t, o, parsed.field, "", -1, -1, -1, refs[fid], mapped[fid], -1, open_counts[fid], 16])
        ids.append(fid)

    row_of = {fid: i for i, fid in enumerate(ids)}
    nodes: list[list[Any]] = []
    node_of: dict[str, int] = {}
    integration_ids = _Interner()

    def node_index(link: ImpactLink) -> int:
        if link.node in row_of:
            return row_of[link.node]
        if link.node not in node_of:
            node_of[link.node] = len(rows) + len(nodes)
            label = snapshot.assets_by_id[link.node].name if link.node in snapshot.assets_by_id else ""
            kind = snapshot.assets_by_id[link.node].kind if link.node in snapshot.assets_by_id else link.kind
            nodes.append([link.node, kind, label, tools(link.node.split(":", 1)[0]), 1 if link.missing else 0])
        return node_of[link.node]

    impact_rows: dict[str, list[Any]] = {}
    for item in impact.fields if impact is not None else ():
        at = row_of.get(item.field)
        if at is None:
            continue
        impact_rows[str(at)] = [
            _links(item.writers, node_index, integration_ids),
            _links(item.readers, node_index, integration_ids),
            [node_index(link) for link in item.downstream],
            item.downstream_total,
        ]
    integration_table = [[iid, _integration_label(snapshot, iid, tool_names)] for iid in integration_ids.items]
    tool_table = [
        [
            tid,
            tool_names.get(tid, tid),
            _best_coverage(snapshot, tid, Capability.fields),
            _best_coverage(snapshot, tid, Capability.references),
        ]
        for tid in tools.items
    ]
    per_tool = Counter(row[0] for row in rows)
    payload = {
        "columns": list(FIELD_COLUMNS),
        "tools": tool_table,
        "objects": objects.items,
        "types": types.items,
        "methods": list(_METHODS),
        "toolObjects": {str(t): sorted(o, key=lambda i: objects.items[i].casefold()) for t, o in tool_objects.items()},
        "rows": rows,
        "nodes": nodes,
        "integrations": integration_table,
        "impact": impact_rows,
        "findingTable": finding_table,
        "findings": {str(row_of[s]): entries for s, entries in sorted(findings.items()) if s in row_of},
    }
    n_inventoried = len(inventoried)
    return FieldExplorerView(
        lede=_lede(len(rows), len(per_tool), n_inventoried, custom, unreferenced, fill_unknown),
        total=len(rows),
        inventoried=n_inventoried,
        not_inventoried=len(rows) - n_inventoried,
        custom=custom,
        unreferenced=unreferenced,
        fill_unknown=fill_unknown,
        with_findings=sum(1 for r in rows if r[10]),
        tool_options=tuple(
            sorted(((i, tool_table[i][1], per_tool[i]) for i in per_tool), key=lambda o: (o[1].casefold(), o[0]))
        ),
        type_options=tuple(sorted(enumerate(types.items), key=lambda o: o[1].casefold())),
        impact_computed=impact is not None,
        linked=len(impact_rows),
        payload=payload,
    )
