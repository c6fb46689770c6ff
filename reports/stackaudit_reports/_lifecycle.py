"""The lifecycle page: the declared lead-management definition beside each system's actual stage values.

Each system's column is one stage field (``hubspot:contacts.lifecyclestage``, ``salesforce:Lead.Status``). What
the definition maps is set against what the field really offers when a source read its options; mismatches are
values the definition maps that the field does not offer, options the definition never mentions, one value
meaning two stages, and a stage field missing from a tool whose fields were read. When nobody read the field,
the page says so instead of showing the mapping as if it had been checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackaudit_inventory import AuditResult, Category, FindingStatus, Snapshot, StageMapping

__all__ = ["LifecycleCell", "LifecycleSystem", "LifecycleView", "StageRow", "build_lifecycle"]


@dataclass(frozen=True, slots=True)
class LifecycleCell:
    values: tuple[str, ...]
    bad: tuple[str, ...]  # values mapped here that the field does not offer, or that mean another stage too


@dataclass(frozen=True, slots=True)
class LifecycleSystem:
    tool: str
    tool_name: str
    field: str
    field_label: str | None
    values_read: bool  # a source read the field's options, so the mapping was checked against them
    note: str  # how the column was checked, in one sentence
    unmapped: tuple[str, ...]  # options the field offers that no declared stage claims
    not_offered: tuple[str, ...]  # values the definition maps that the field does not offer
    ambiguous: tuple[str, ...]  # values mapped to two stages or more
    missing_field: bool  # the tool's fields were read and this field is not among them
    mismatches: int


@dataclass(frozen=True, slots=True)
class StageRow:
    id: str
    name: str
    description: str | None
    cells: tuple[LifecycleCell, ...]
    gaps: int  # systems with no value for the stage


@dataclass(frozen=True, slots=True)
class LifecycleFinding:
    anchor: str
    severity: str
    status: str
    title: str


@dataclass(frozen=True, slots=True)
class LifecycleView:
    declared: bool
    origin: str | None
    mql_definition: str | None
    handoff_definition: str | None
    stages: tuple[StageRow, ...]
    systems: tuple[LifecycleSystem, ...]
    other_stage_fields: tuple[tuple[str, str | None], ...]  # (field id, label) listed but not mapped
    mismatch_count: int
    values_read: int  # systems whose actual values a source read
    findings: tuple[LifecycleFinding, ...]


def _system(snapshot: Snapshot, mapping: StageMapping, stage_ids: list[str]) -> LifecycleSystem:
    tool = snapshot.tools_by_id.get(mapping.tool)
    fld = snapshot.fields_by_id.get(mapping.field)
    mapped = [v for s in stage_ids for v in mapping.values.get(s, [])]
    seen: dict[str, int] = {}
    for value in mapped:
        seen[value] = seen.get(value, 0) + 1
    ambiguous = tuple(sorted(v for v, n in seen.items() if n > 1))
    missing_field = fld is None and snapshot.tool_fields_known(mapping.tool)
    if fld is not None and fld.options is not None:
        offered = [o.value for o in fld.options]
        unmapped = tuple(v for v in offered if v not in seen)
        not_offered = tuple(sorted(v for v in seen if v not in offered))
        note = f"Checked against the {len(offered)} values the field offers."
        values_read = True
    else:
        unmapped, not_offered, values_read = (), (), False
        if missing_field:
            note = "Not found: the tool's fields were read and this field is not among them (deleted or renamed?)."
        elif fld is not None:
            note = "The field was read but its values were not (not a picklist, or options not returned)."
        else:
            note = "Not checked: no source read this tool's fields; the values are as declared."
    mismatches = len(unmapped) + len(not_offered) + len(ambiguous) + (1 if missing_field else 0)
    return LifecycleSystem(
        tool=mapping.tool,
        tool_name=tool.name if tool else mapping.tool,
        field=mapping.field,
        field_label=fld.label if fld is not None else None,
        values_read=values_read,
        note=note,
        unmapped=unmapped,
        not_offered=not_offered,
        ambiguous=ambiguous,
        missing_field=missing_field,
        mismatches=mismatches,
    )


def build_lifecycle(snapshot: Snapshot, result: AuditResult, anchors: dict[str, str]) -> LifecycleView:
    """Declared stages (rows) × systems' stage fields (columns), with every mismatch named."""
    definition = snapshot.lifecycle
    findings = tuple(
        LifecycleFinding(anchors.get(f.fingerprint, "findings"), f.severity.value, f.status.value, f.title)
        for f in sorted(result.findings, key=lambda f: (-f.severity.rank, f.title))
        if f.category is Category.lifecycle_drift and f.status is not FindingStatus.waived
    )
    if definition is None:
        return LifecycleView(False, None, None, None, (), (), (), 0, 0, findings)
    stage_ids = [s.id for s in definition.stages]
    mappings = sorted(definition.mappings, key=lambda m: (m.tool, m.field))
    systems = tuple(_system(snapshot, m, stage_ids) for m in mappings)
    rows = []
    for stage in definition.stages:
        cells = []
        for mapping, system in zip(mappings, systems, strict=True):
            values = tuple(mapping.values.get(stage.id, []))
            bad = tuple(v for v in values if v in system.not_offered or v in system.ambiguous)
            cells.append(LifecycleCell(values, bad))
        rows.append(
            StageRow(stage.id, stage.name, stage.description, tuple(cells), sum(1 for c in cells if not c.values))
        )
    mapped_fields = {m.field for m in mappings}
    others = tuple(
        (fid, snapshot.fields_by_id[fid].label if fid in snapshot.fields_by_id else None)
        for fid in sorted(set(definition.stage_fields) - mapped_fields)
    )
    return LifecycleView(
        declared=True,
        origin=definition.origin.value,
        mql_definition=definition.mql_definition,
        handoff_definition=definition.handoff_definition,
        stages=tuple(rows),
        systems=systems,
        other_stage_fields=others,
        mismatch_count=sum(s.mismatches for s in systems),
        values_read=sum(1 for s in systems if s.values_read),
        findings=findings,
    )
