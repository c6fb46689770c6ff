"""A history of five snapshots of the demo stack, built from the demo pipeline with known changes between them.

The base is the demo company pulled by the real pipeline (manifest only, frozen clock), plus a small HubSpot and
Salesforce inventory (objects, fields with exact fill rates, two assets, two references, and a source run per
tool reading fields, fill rates and references completely). Each snapshot is the base seen a week later (every
timestamp moved with it, so ages and staleness stay as they were), with these changes, cumulative:

S0  2026-11-02  the base
S1  2026-11-09  tool hotjar added; gong cost 64,000 -> 48,000 and owner changed; field hubspot partner_code
                removed, nps_score added; region fill 60% -> 10%; workflow/7 now reads nps_score
S2  2026-11-16  tool mailchimp removed; zoominfo renewal and notice date a year later; email description set;
                region options +apac -latam; Legacy_Score__c number -> string and owning tool marketo;
                Region__c relabelled; drift->salesforce error -> active (errors 268 -> 2); hubspot->snowflake
                added; form/1 no longer writes email
S3  2026-11-23  PARTIAL: the Salesforce connector failed (no Salesforce objects or fields); utm_term added
S4  2026-11-30  Salesforce back, with Region__c deleted; hubspot->snowflake active -> error

Audits use a fixed rule selection (the rules whose verdicts these changes drive), so other rules landing in
the catalogue do not move the expected delta. S0 and S1 have stored results audited with waivers A (the demo's
plus a waiver on the webinar field that expires 2026-11-12); S2 has a stored result audited with waivers B (A
plus a waiver on calendly's missing owner); S3 and S4 have none, and the config points at waivers B.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackaudit.commands import audit_snapshot
from stackaudit.config import LoadedConfig, load_config
from stackaudit.demo.run import DATA_FILES, DEMO_NOW
from stackaudit.pipeline import run_pull
from stackaudit_inventory import (
    Asset,
    AuditResult,
    Capability,
    Cost,
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
    SourceError,
    SourceRun,
    Tool,
)
from stackaudit_inventory.store import SnapshotStore

SELECT = ["OF001", "BS001", "BS002", "RT001", "UT002", "HY003", "SA001"]
TIMES = [DEMO_NOW + timedelta(days=7 * (i - 4)) for i in range(5)]
OLD = datetime(2023, 3, 1, tzinfo=UTC)
WEBINAR_WAIVER = {
    "rule": "OF001",
    "subject": "hubspot:contacts.webinar_2023",
    "reason": "Kept for the 2023 webinar audit.",
    "owner": "Priya Raman",
    "expires": "2026-11-12",
}
CALENDLY_WAIVER = {
    "rule": "HY003",
    "subject": "calendly",
    "reason": "Sales is choosing an owner.",
    "owner": "Dana Whitfield",
    "expires": "2027-12-31",
}


def copy_demo(target: Path) -> Path:
    """The demo company's config, manifest, waivers and mappings, copied into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    data = resources.files("stackaudit.demo") / "data"
    for name in DATA_FILES:
        (target / name).write_bytes((data / name).read_bytes())
    return target / "stackaudit.yaml"


def write_project(target: Path) -> LoadedConfig:
    """The demo project with the history's rule selection and waivers B (see the module docstring)."""
    config_path = copy_demo(target)
    demo_waivers = yaml.safe_load((target / "waivers.yaml").read_text(encoding="utf-8"))["waivers"]
    for name, extra in (("waivers_a.yaml", [WEBINAR_WAIVER]), ("waivers_b.yaml", [WEBINAR_WAIVER, CALENDLY_WAIVER])):
        (target / name).write_text(yaml.safe_dump({"waivers": demo_waivers + extra}), encoding="utf-8")
    doc = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    doc["connectors"] = []  # offline: the manifest only
    doc["audit"] = {"waivers": "waivers_b.yaml", "select": SELECT}
    config_path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_config(config_path)


# --------------------------------------------------------------------------------------------- builders


def fill(filled: int, total: int = 1000) -> FillRate:
    return FillRate(method=FillMethod.exact, filled=filled, total=total, measured_at=DEMO_NOW)


def fld(tool: str, obj: str, name: str, *, type: str = "string", custom: bool = True, filled: int = 500,
        **kw: Any) -> FieldDef:  # fmt: skip
    return FieldDef(
        id=f"{tool}:{obj}.{name}", tool=tool, object=obj, name=name, type=type, custom=custom,
        fill=fill(filled), created_at=kw.pop("created_at", OLD), **kw,
    )  # fmt: skip


def source_run(tool: str, status: RunStatus = RunStatus.complete) -> SourceRun:
    coverage = {}
    errors = []
    if status is RunStatus.complete:
        coverage = {
            cap: Coverage(status=CoverageStatus.complete, reason="read through the API")
            for cap in (Capability.fields, Capability.fill_rates, Capability.references)
        }
    else:
        errors = [SourceError(code="auth", message=f"{tool}: session expired, nothing read")]
    return SourceRun(
        id=tool,
        connector_type=tool,
        tool=tool,
        started_at=DEMO_NOW,
        ended_at=DEMO_NOW,
        status=status,
        errors=errors,
        coverage=coverage,
    )


def salesforce_fields() -> list[FieldDef]:
    return [
        fld("salesforce", "Lead", "Email", custom=False, filled=900),
        fld("salesforce", "Lead", "Legacy_Score__c", type="number", filled=50),
        fld("salesforce", "Lead", "Region__c", type="enum", label="Region", filled=500,
            options=[PickOption(value="NA"), PickOption(value="EMEA")]),
        fld("salesforce", "Lead", "Old_Campaign__c", filled=0),
    ]  # fmt: skip


def with_inventory(snapshot: Snapshot) -> Snapshot:
    """The demo snapshot plus the small HubSpot and Salesforce inventory every history snapshot starts from."""
    hubspot = [
        fld("hubspot", "contacts", "email", custom=False, filled=950),
        fld("hubspot", "contacts", "region", type="enum", label="Region", filled=600,
            options=[PickOption(value=v) for v in ("na", "emea", "latam")]),
        fld("hubspot", "contacts", "webinar_2023", filled=0),
        fld("hubspot", "contacts", "lead_score_old", type="number", filled=300),
        fld("hubspot", "contacts", "partner_code", filled=0),
    ]  # fmt: skip
    return change(
        snapshot,
        objects=[
            ObjectDef(id="hubspot:contacts", tool="hubspot", name="contacts", label="Contacts", record_count=1000),
            ObjectDef(id="salesforce:Lead", tool="salesforce", name="Lead", label="Lead", record_count=1000),
        ],
        fields=hubspot + salesforce_fields(),
        assets=[
            Asset(id="hubspot:form/1", tool="hubspot", kind="form", name="Demo request"),
            Asset(id="hubspot:workflow/7", tool="hubspot", kind="workflow", name="Route by region"),
        ],
        references=[
            Reference(asset="hubspot:form/1", field="hubspot:contacts.email", mode="write"),
            Reference(asset="hubspot:workflow/7", field="hubspot:contacts.region", mode="read"),
        ],
        source_runs=[*snapshot.source_runs, source_run("hubspot"), source_run("salesforce")],
    )


def change(snapshot: Snapshot, **update: Any) -> Snapshot:
    """``snapshot`` with fields replaced, validated afresh (so no cached lookup survives the change)."""
    data = snapshot.model_dump(mode="python")
    data.update(update)
    return Snapshot.model_validate(data)


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, datetime):
        return value + delta
    if isinstance(value, dict):
        return {k: _shift(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, delta) for v in value]
    return value


def at(snapshot: Snapshot, when: datetime, index: int) -> Snapshot:
    """The same stack observed at ``when``: every timestamp moved by the same amount (dates are contract terms
    and stay), and a fixed id so the test is reproducible."""
    data = _shift(snapshot.model_dump(mode="python"), when - snapshot.taken_at)
    data["id"] = f"{when:%Y%m%dT%H%M%SZ}-000{index}"
    return Snapshot.model_validate(data)


def edit_tool(snapshot: Snapshot, tool_id: str, **update: Any) -> list[Tool]:
    return [t.model_copy(update=update) if t.id == tool_id else t for t in snapshot.tools]


def edit_field(fields: list[FieldDef], field_id: str, **update: Any) -> list[FieldDef]:
    return [f.model_copy(update=update) if f.id == field_id else f for f in fields]


def edit_integration(snapshot: Snapshot, integration_id: str, **update: Any) -> list[Integration]:
    return [i.model_copy(update=update) if i.id == integration_id else i for i in snapshot.integrations]


def build_history(base: Snapshot) -> list[Snapshot]:
    s0 = at(base, TIMES[0], 0)

    s1 = at(s0, TIMES[1], 1)
    hotjar = Tool(id="hotjar", name="Hotjar", capabilities=["session-replay"],
                  owner="Sofia Nguyen (Growth Marketing)", cost=Cost(amount=2400))  # fmt: skip
    tools = sorted([*edit_tool(s1, "gong", cost=Cost(amount=48000), owner="Ivy Chen (Sales Enablement)"), hotjar],
                   key=lambda t: t.id)  # fmt: skip
    fields = [f for f in s1.fields if f.name != "partner_code"]
    fields = edit_field(fields, "hubspot:contacts.region", fill=fill(100))
    fields.append(fld("hubspot", "contacts", "nps_score", type="number", filled=200, created_at=TIMES[1]))
    refs = [*s1.references, Reference(asset="hubspot:workflow/7", field="hubspot:contacts.nps_score", mode="read")]
    s1 = change(s1, tools=tools, fields=fields, references=refs)

    s2 = at(s1, TIMES[2], 2)
    zoominfo = s2.tools_by_id["zoominfo"].contract
    assert zoominfo is not None
    contract = zoominfo.model_copy(update={"renewal": date(2028, 2, 13), "notice_date": date(2027, 12, 15)})
    tools = [t for t in edit_tool(s2, "zoominfo", contract=contract) if t.id != "mailchimp"]
    fields = edit_field(s2.fields, "hubspot:contacts.email", description="Primary email")
    fields = edit_field(fields, "hubspot:contacts.region",
                        options=[PickOption(value=v) for v in ("na", "emea", "apac")])  # fmt: skip
    fields = edit_field(fields, "salesforce:Lead.Legacy_Score__c", type="string", owning_tool="marketo")
    fields = edit_field(fields, "salesforce:Lead.Region__c", label="Sales Region")
    synced = TIMES[2] - timedelta(minutes=10)
    integrations = sorted(
        [
            *edit_integration(s2, "drift->salesforce", status=IntegrationStatus.active, error_count=2),
            Integration(id="hubspot->snowflake", source="hubspot", target="snowflake", status=IntegrationStatus.active,
                        last_sync_at=synced, last_success_at=synced, expected_interval_minutes=60,
                        evidence_sources=["manifest"]),
        ],
        key=lambda i: i.id,
    )  # fmt: skip
    refs = [r for r in s2.references if not (r.asset == "hubspot:form/1" and r.field == "hubspot:contacts.email")]
    s2 = change(s2, tools=tools, fields=fields, integrations=integrations, references=refs)

    s3 = at(s2, TIMES[3], 3)
    runs = [source_run("salesforce", RunStatus.failed) if r.id == "salesforce" else r for r in s3.source_runs]
    fields = [f for f in s3.fields if f.tool != "salesforce"]
    fields.append(fld("hubspot", "contacts", "utm_term", filled=0, created_at=TIMES[3] - timedelta(days=1)))
    objects = [o for o in s3.objects if o.tool != "salesforce"]
    s3 = change(s3, source_runs=runs, fields=fields, objects=objects)

    s4 = at(s3, TIMES[4], 4)
    runs = [source_run("salesforce") if r.id == "salesforce" else r for r in s4.source_runs]
    salesforce = [f for f in s2.fields if f.tool == "salesforce" and f.name != "Region__c"]
    salesforce = [at_field(f, TIMES[4] - TIMES[2]) for f in salesforce]
    objects = [*s4.objects, *(o for o in s2.objects if o.tool == "salesforce")]
    integrations = edit_integration(s4, "hubspot->snowflake", status=IntegrationStatus.error)
    s4 = change(s4, source_runs=runs, fields=[*s4.fields, *salesforce], objects=objects, integrations=integrations)
    return [s0, s1, s2, s3, s4]


def at_field(field: FieldDef, delta: timedelta) -> FieldDef:
    return FieldDef.model_validate(_shift(field.model_dump(mode="python"), delta))


# ---------------------------------------------------------------------------------------------- fixtures


@dataclass
class History:
    dir: Path
    config: LoadedConfig
    store: SnapshotStore
    snapshots: list[Snapshot]
    results: dict[str, AuditResult]  # the stored ones (S0, S1, S2)

    def audit(self, snapshot: Snapshot, waivers: str = "waivers_b.yaml") -> AuditResult:
        cfg = dataclasses.replace(self.config, waivers_path=self.dir / waivers)
        return audit_snapshot(cfg, snapshot)


def pull_demo(config: LoadedConfig) -> Snapshot:
    return run_pull(
        dataclasses.replace(config, connectors=[]), env={}, now=lambda: DEMO_NOW, options={"fill_rates": "sampled"}
    ).snapshot


@pytest.fixture(scope="session")
def base_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    config = write_project(tmp_path_factory.mktemp("base"))
    return with_inventory(pull_demo(config))


@pytest.fixture(scope="session")
def snapshots(base_snapshot: Snapshot) -> list[Snapshot]:
    return build_history(base_snapshot)


@pytest.fixture(scope="session")
def history_template(tmp_path_factory: pytest.TempPathFactory, snapshots: list[Snapshot]) -> History:
    """The five snapshots in a store, with stored results for S0 and S1 (waivers A) and S2 (waivers B)."""
    root = tmp_path_factory.mktemp("history")
    config = write_project(root)
    store = SnapshotStore(config.store_path)
    hist = History(root, config, store, snapshots, {})
    for snap in snapshots:
        store.save(snap)
    for snap, waivers in zip(snapshots[:3], ("waivers_a.yaml", "waivers_a.yaml", "waivers_b.yaml"), strict=True):
        result = hist.audit(snap, waivers)
        store.save_result(result)
        hist.results[snap.id] = result
    return hist


@pytest.fixture
def history(tmp_path: Path, history_template: History) -> History:
    """A private copy of the history project (tests may prune or add to it)."""
    target = tmp_path / "project"
    shutil.copytree(history_template.dir, target)
    config = load_config(target / "stackaudit.yaml")
    return History(target, config, SnapshotStore(config.store_path), history_template.snapshots,
                   history_template.results)  # fmt: skip


@pytest.fixture
def loaded(history: History) -> Callable[[int], Snapshot]:
    """Snapshot i as stored (loaded back from the store)."""
    return lambda i: history.store.load(history.snapshots[i].id)
