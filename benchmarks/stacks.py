"""Synthetic stacks at sizes S, M, L and XL: what each fake vendor serves, and the snapshots the pipeline reads.

Connector sizes (per vendor, built by the fakes' own generators, extended here where the issue asks for more):

| size | HubSpot props / contacts | Salesforce                  | Marketo fields / forms | Segment sources x dests |
|------|--------------------------|-----------------------------|------------------------|-------------------------|
| S    | 300 / 5,000              | 200 objects, wide one 100   | 200 / 20               | 5 x 4                   |
| M    | 1,000 / 20,000           | 200 objects, wide one 800   | 600 / 150              | 12 x 6                  |
| L    | 3,000 / 50,000           | 250 objects, ~29,000 fields | 1,000 / 300            | 25 x 4                  |
| XL   | 3,000 / 100,000          | 300 objects, ~60,000 fields | 1,000 / 500            | 50 x 4                  |

Every Salesforce size keeps the synthetic org's Heavy_Deps__c object: one field with more than 2,000 dependency
rows (the Tooling API's cap), so the split by component type always runs.

Pipeline snapshots (absorbed from the former ``diff_bench.py``): ``n_fields`` over 5 tools x 20 objects (a quarter
picklists with 8 options, every field with an exact fill rate), one reference per two fields, 500 workflows per tool,
200 integrations; and a second snapshot a quarter later with known changes (1% of fields removed, 1% added, 1%
retyped, 1% with options changed, 1% relabelled, 5% with fill rates moved, 500 references (a quarter on small
stacks) lost and as many gained, 10 integrations with a new status).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stackaudit_inventory import (
    Asset,
    Capability,
    Coverage,
    CoverageStatus,
    FieldDef,
    FillMethod,
    FillRate,
    Integration,
    IntegrationStatus,
    ObjectDef,
    PickOption,
    Reference,
    RunStatus,
    Snapshot,
    SourceRun,
    Tool,
)

SIZES = ("S", "M", "L", "XL")
SMOKE = "XS"  # a tiny size for the smoke test in `make test`: not a benchmark


@dataclass(frozen=True)
class HubSpotSize:
    properties: int
    contacts: int


@dataclass(frozen=True)
class SalesforceSize:
    wide_fields: int
    extra_objects: int
    extra_fields_each: int
    keep_objects: int | None = None  # XS only: the first objects of the org, plus the wide and heavy objects


@dataclass(frozen=True)
class MarketoSize:
    fields: int
    forms: int


@dataclass(frozen=True)
class SegmentSize:
    sources: int
    destinations_per_source: int


HUBSPOT = {
    "XS": HubSpotSize(40, 500),
    "S": HubSpotSize(300, 5_000),
    "M": HubSpotSize(1_000, 20_000),
    "L": HubSpotSize(3_000, 50_000),
    "XL": HubSpotSize(3_000, 100_000),
}
SALESFORCE = {
    "XS": SalesforceSize(100, 0, 0, keep_objects=6),
    "S": SalesforceSize(100, 0, 0),
    "M": SalesforceSize(800, 0, 0),
    "L": SalesforceSize(800, 50, 500),
    "XL": SalesforceSize(800, 100, 560),
}
MARKETO = {
    "XS": MarketoSize(30, 3),
    "S": MarketoSize(200, 20),
    "M": MarketoSize(600, 150),
    "L": MarketoSize(1_000, 300),
    "XL": MarketoSize(1_000, 500),
}
SEGMENT = {
    "XS": SegmentSize(2, 2),
    "S": SegmentSize(5, 4),
    "M": SegmentSize(12, 6),
    "L": SegmentSize(25, 4),
    "XL": SegmentSize(50, 4),
}


def build_portal(size: str) -> Any:
    from stackaudit.fakes.hubspot import synthetic_portal

    spec = HUBSPOT[size]
    return synthetic_portal(spec.properties, spec.contacts)


def build_org(size: str) -> Any:
    """The synthetic org, with ``extra_objects`` more custom objects of ``extra_fields_each`` fields at L and XL."""
    from stackaudit.fakes.salesforce import load_org, synthetic_description
    from stackaudit.fakes.salesforce.synthetic import _custom_fields  # the generator's own field mix

    spec = SALESFORCE[size]
    description = synthetic_description(wide_fields=spec.wide_fields)
    if spec.keep_objects is not None:
        keep = [*list(description["objects"])[: spec.keep_objects], "Heavy_Deps__c", "Wide_Object__c"]
        description["objects"] = {k: v for k, v in description["objects"].items() if k in keep}
        deps = description.get("dependencies", [])
        description["dependencies"] = [d for d in deps if str(d.get("field", "")).split(".")[0] in keep]
    for i in range(spec.extra_objects):
        description["objects"][f"Bench_Obj_{i:03d}__c"] = {
            "label": f"Bench Object {i}",
            "records": [0, 200, 800][i % 3],
            "fields": _custom_fields(f"Bench{i:03d}", spec.extra_fields_each, start=i),
        }
    return load_org(description)


def build_instance(size: str) -> Any:
    from stackaudit.fakes.marketo import synthetic_instance

    spec = MARKETO[size]
    return synthetic_instance(n_fields=spec.fields, n_forms=spec.forms)


def build_workspace(size: str) -> Any:
    from stackaudit.fakes.segment import synthetic_workspace

    spec = SEGMENT[size]
    return synthetic_workspace(spec.sources, spec.destinations_per_source)


# ------------------------------------------------------------------------------------------ pipeline snapshots

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=91)
OLD_ID = "20260901T090000Z-0001"
NEW_ID = "20261201T090000Z-0002"
TOOLS = ["crm", "mapp", "cdp", "support", "warehouse"]
OBJECTS_PER_TOOL = 20


def _run(tool: str, when: datetime) -> SourceRun:
    caps = (Capability.fields, Capability.fill_rates, Capability.references, Capability.integrations)
    return SourceRun(
        id=tool, connector_type=tool, tool=tool, started_at=when, ended_at=when, status=RunStatus.complete,
        coverage={c: Coverage(status=CoverageStatus.complete) for c in caps},
    )  # fmt: skip


def _field(tool: str, obj: str, i: int, when: datetime, filled: int) -> FieldDef:
    enum = i % 4 == 0
    return FieldDef(
        id=f"{tool}:{obj}.field_{i:05d}", tool=tool, object=obj, name=f"field_{i:05d}", label=f"Field {i}",
        type="enum" if enum else "string", custom=i % 3 != 0,
        options=[PickOption(value=f"v{k}") for k in range(8)] if enum else None,
        fill=FillRate(method=FillMethod.exact, filled=filled, total=1000, measured_at=when),
    )  # fmt: skip


def build_old_snapshot(n_fields: int) -> Snapshot:
    """A snapshot of ``n_fields`` fields (rounded down to a multiple of 100)."""
    per_object = n_fields // (len(TOOLS) * OBJECTS_PER_TOOL)
    fields, objects, assets, refs = [], [], [], []
    for tool in TOOLS:
        for o in range(OBJECTS_PER_TOOL):
            obj = f"Object{o:02d}"
            objects.append(ObjectDef(id=f"{tool}:{obj}", tool=tool, name=obj, label=obj))
            fields += [_field(tool, obj, i, T0, (i * 37) % 1000) for i in range(per_object)]
        assets += [Asset(id=f"{tool}:workflow/{a}", tool=tool, kind="workflow", name=f"WF {a}") for a in range(500)]
    for k, f in enumerate(fields[::2]):
        refs.append(Reference(asset=f"{f.tool}:workflow/{k % 500}", field=f.id, mode="read" if k % 3 else "write"))
    integrations = [
        Integration(id=f"{a}->{b}:{k}", source=a, target=b, status=IntegrationStatus.active, evidence_sources=[a])
        for k in range(40) for a, b in zip(TOOLS, TOOLS[1:] + TOOLS[:1], strict=True)
    ]  # fmt: skip
    tools = [Tool(id=t, name=t.upper(), discovered_by=[t]) for t in TOOLS]
    return Snapshot(
        id=OLD_ID, taken_at=T0, stack="Bench", tools=tools, objects=objects, fields=fields,
        assets=assets, references=refs, integrations=integrations, source_runs=[_run(t, T0) for t in TOOLS],
    )  # fmt: skip


def build_new_snapshot(old: Snapshot) -> tuple[Snapshot, dict[str, int]]:
    """The snapshot a quarter later, and the changes planted in it (by kind)."""
    planted = {"removed": 0, "added": 0, "retyped": 0, "options": 0, "relabelled": 0, "fill": 0}
    fields = []
    for i, f in enumerate(old.fields):
        bucket = i % 100
        fill = FillRate(method=FillMethod.exact, filled=f.fill.filled if f.fill else 0, total=1000, measured_at=T1)
        update: dict[str, object] = {"fill": fill}
        if bucket == 0:
            planted["removed"] += 1
            continue
        if bucket == 1:
            planted["retyped"] += 1
            update["type"] = "number" if f.type == "string" else "string"
        elif bucket == 2 and f.options:
            planted["options"] += 1
            update["options"] = [*f.options[1:], PickOption(value="new")]
        elif bucket == 3:
            planted["relabelled"] += 1
            update["label"] = f"{f.label} (renamed)"
        elif 10 <= bucket < 15:
            planted["fill"] += 1
            filled = fill.filled or 0
            update["fill"] = fill.model_copy(update={"filled": filled + 300 if filled < 700 else filled - 300})
        fields.append(f.model_copy(update=update))
    for f in old.fields[: len(old.fields) // 100]:
        planted["added"] += 1
        fields.append(f.model_copy(update={"id": f"{f.id}_new", "name": f"{f.name}_new", "fill": None}))
    moved = planted["references"] = min(500, len(old.references) // 4)
    refs = old.references[moved:] + [
        Reference(asset=r.asset, field=r.field, mode="write" if r.mode == "read" else "read")
        for r in old.references[:moved]
    ]
    integrations = [
        i.model_copy(update={"status": IntegrationStatus.error}) if k < 10 else i
        for k, i in enumerate(old.integrations)
    ]
    new = old.model_copy(
        update={
            "id": NEW_ID, "taken_at": T1, "fields": fields, "references": refs, "integrations": integrations,
            "source_runs": [_run(t, T1) for t in TOOLS],
        }
    )  # fmt: skip
    return new, planted
