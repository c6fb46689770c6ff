"""The inventory models: validation, derived figures, a full JSON round trip, and the ids contract."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from stackaudit_inventory import (
    SNAPSHOT_SCHEMA_VERSION,
    Asset,
    Capability,
    Contract,
    Cost,
    Coverage,
    CoverageStatus,
    FieldDef,
    FieldMapping,
    FillMethod,
    FillRate,
    Integration,
    IntegrationStatus,
    LifecycleDefinition,
    LifecycleStage,
    ObjectDef,
    Origin,
    PickOption,
    Quota,
    Reference,
    RunStatus,
    Seats,
    Snapshot,
    SourceError,
    SourceRun,
    StageMapping,
    Tool,
    ToolStatus,
    ids,
)
from stackaudit_inventory.store import new_snapshot_id

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def full_snapshot() -> Snapshot:
    """A snapshot in which every model and every optional field is filled."""
    hubspot = Tool(
        id="hubspot",
        name="HubSpot Marketing Hub",
        vendor="HubSpot",
        capabilities=["marketing-automation", "email-marketing"],
        owner="Priya Raman",
        status=ToolStatus.active,
        cost=Cost(amount=3900, currency="USD", period="monthly"),
        seats=Seats(bought=12, used=11, source="manifest"),
        contract=Contract(
            start=date(2025, 7, 1),
            renewal=date(2027, 6, 30),
            notice_date=date(2027, 5, 31),
            notice_days=30,
            auto_renew=True,
        ),
        origin=Origin.both,
        discovered_by=["hubspot"],
        url="https://app.hubspot.com",
        notes="Enterprise tier",
        last_activity_at=T0 - timedelta(hours=1),
    )
    salesforce = Tool(id="salesforce", name="Salesforce", capabilities=["crm"], status=ToolStatus.retiring)
    stage = FieldDef(
        id="hubspot:contacts.lifecyclestage",
        tool="hubspot",
        object="contacts",
        name="lifecyclestage",
        label="Lifecycle Stage",
        type="enum",
        vendor_type="enumeration",
        options=[PickOption(value="lead", label="Lead"), PickOption(value="other", label="Other", hidden=True)],
        custom=False,
        calculated=False,
        hidden=False,
        archived=False,
        length=None,
        reference_to=[],
        group="contactinformation",
        description="The stage of the contact",
        namespace=None,
        owning_tool="hubspot",
        created_at=T0 - timedelta(days=900),
        created_by="system",
        updated_at=T0 - timedelta(days=30),
        updated_by="priya@northwind.example",
        fill=FillRate(
            method=FillMethod.sampled,
            filled=450,
            total=500,
            newest_value_at=T0 - timedelta(minutes=5),
            measured_at=T0,
            note="sample of 500 contacts",
        ),
        origin=Origin.discovered,
    )
    legacy = FieldDef(
        id="salesforce:Lead.Legacy_Score__c",
        tool="salesforce",
        object="Lead",
        name="Legacy_Score__c",
        type="number",
        custom=True,
        reference_to=["Account"],
        fill=FillRate(method=FillMethod.unknown),
    )
    return Snapshot(
        schema_version=SNAPSHOT_SCHEMA_VERSION,
        id="20261130T090000Z-ab12",
        taken_at=T0,
        stack="Northwind Analytics",
        generator="stackaudit 0.1.0",
        tools=[hubspot, salesforce],
        objects=[
            ObjectDef(
                id="hubspot:contacts",
                tool="hubspot",
                name="contacts",
                label="Contacts",
                custom=False,
                record_count=52000,
                custom_field_limit=1000,
            ),
            ObjectDef(id="salesforce:Lead", tool="salesforce", name="Lead", custom_field_limit=500),
        ],
        fields=[stage, legacy],
        assets=[
            Asset(
                id="hubspot:workflow/123",
                tool="hubspot",
                kind="workflow",
                name="MQL handoff",
                active=True,
                last_modified_at=T0 - timedelta(days=3),
                last_run_at=T0 - timedelta(minutes=10),
                external_targets=["hooks.zapier.com"],
            )
        ],
        references=[
            Reference(
                asset="hubspot:workflow/123", field=stage.id, mode="read", context="enrollment filter"
            )
        ],
        integrations=[
            Integration(
                id="hubspot->salesforce",
                source="hubspot",
                target="salesforce",
                via=None,
                name=None,
                direction="two-way",
                origin=Origin.declared,
                status=IntegrationStatus.active,
                last_sync_at=T0 - timedelta(minutes=13),
                last_success_at=T0 - timedelta(minutes=13),
                success_count=90,
                error_count=10,
                window_days=7,
                error_samples=["DUPLICATE_VALUE"],
                expected_interval_minutes=15,
                mappings=[
                    FieldMapping(
                        source=stage.id,
                        target="salesforce:Lead.Status",
                        direction="both",
                        transform="value map",
                        precedence="salesforce",
                    )
                ],
                evidence_sources=["manifest"],
            )
        ],
        lifecycle=LifecycleDefinition(
            stages=[LifecycleStage(id="mql", name="MQL", description="Fit and behaviour")],
            mappings=[StageMapping(tool="hubspot", field=stage.id, values={"mql": ["marketingqualifiedlead"]})],
            mql_definition="score >= 100",
            handoff_definition="SDR accepts within 1 business day",
            stage_fields=[stage.id],
            origin=Origin.declared,
        ),
        source_runs=[
            SourceRun(
                id="hubspot",
                connector_type="hubspot",
                tool="hubspot",
                started_at=T0,
                ended_at=T0 + timedelta(seconds=40),
                api_calls=123,
                status=RunStatus.partial,
                errors=[
                    SourceError(
                        code="scope",
                        message="connector 'hubspot': missing scope automation",
                        capability=Capability.references,
                        where="/automation/v4/flows",
                    )
                ],
                quota=[Quota(name="daily_api_requests", used=1200, limit=250000, period="day", observed_at=T0)],
                coverage={
                    Capability.fields: Coverage(status=CoverageStatus.complete),
                    Capability.references: Coverage(
                        status=CoverageStatus.missing, reason="missing scope", detail="workflows"
                    ),
                },
                notes=["sampled fill rates"],
            )
        ],
    )


# ------------------------------------------------------------------------------------------ round trip


def test_full_snapshot_round_trips_through_json() -> None:
    snap = full_snapshot()
    text = snap.model_dump_json()
    back = Snapshot.model_validate_json(text)
    assert back == snap
    # and through plain JSON data (what the store writes), with nothing lost or added
    assert Snapshot.model_validate(json.loads(text)).model_dump(mode="json") == json.loads(text)


def test_every_model_is_filled_in_the_full_snapshot() -> None:
    snap = full_snapshot()
    data = snap.model_dump(mode="json")
    for key in ("tools", "objects", "fields", "assets", "references", "integrations", "source_runs"):
        assert data[key], key
    assert data["lifecycle"]["stages"] and data["lifecycle"]["mappings"]
    assert data["integrations"][0]["mappings"][0]["precedence"] == "salesforce"
    assert data["source_runs"][0]["coverage"]["references"]["status"] == "missing"


def test_json_schema_is_exportable() -> None:
    schema = Snapshot.model_json_schema()
    assert schema["title"] == "Snapshot"
    assert {"tools", "fields", "integrations", "source_runs", "schema_version"} <= set(schema["properties"])


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (Tool, {"id": "HubSpot", "name": "x"}, ("id",)),
        (Tool, {"id": "hubspot", "name": "x", "colour": "orange"}, ("colour",)),
        (Tool, {"id": "hubspot", "name": "x", "status": "paused"}, ("status",)),
        (Cost, {"amount": -1}, ("amount",)),
        (Cost, {"amount": 1, "currency": "DOLLARS"}, ("currency",)),
        (Cost, {"amount": 1, "period": "weekly"}, ("period",)),
        (Seats, {"bought": -3}, ("bought",)),
        (FillRate, {"method": "guessed"}, ("method",)),
        (FieldMapping, {"source": "a:b.c", "target": "d:e.f", "direction": "backward"}, ("direction",)),
        (Integration, {"id": "a->b", "source": "a", "target": "b", "expected_interval_minutes": 0},
         ("expected_interval_minutes",)),
        (Reference, {"asset": "a", "field": "b", "mode": "delete"}, ("mode",)),
    ],
)
def test_invalid_values_are_rejected(model: type, data: dict[str, object], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    assert info.value.errors()[0]["loc"] == loc


def test_snapshot_requires_identity_and_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError) as info:
        Snapshot.model_validate({"taken_at": T0.isoformat(), "stack": "x"})
    assert ("id",) in [e["loc"] for e in info.value.errors()]
    with pytest.raises(ValidationError):
        Snapshot.model_validate({"id": "x", "taken_at": T0.isoformat(), "stack": "x", "schema_version": 0})
    with pytest.raises(ValidationError):
        Snapshot.model_validate({"id": "x", "taken_at": T0.isoformat(), "stack": "x", "extra": 1})


# ------------------------------------------------------------------------------------- derived figures


def test_derived_figures() -> None:
    snap = full_snapshot()
    hubspot = snap.tools_by_id["hubspot"]
    assert hubspot.primary_capability == "marketing-automation"
    assert hubspot.cost is not None and hubspot.cost.annual == 3900 * 12
    assert Cost(amount=1000).annual == 1000
    assert Tool(id="x", name="x").primary_capability is None
    stage = snap.fields_by_id["hubspot:contacts.lifecyclestage"]
    assert stage.fill is not None and stage.fill.rate == pytest.approx(0.9)
    assert stage.object_id == "hubspot:contacts"
    assert snap.fields_by_id["salesforce:Lead.Legacy_Score__c"].fill.rate is None  # type: ignore[union-attr]
    assert FillRate(method=FillMethod.exact, filled=0, total=0).rate is None
    flow = snap.integrations_by_id["hubspot->salesforce"]
    assert flow.error_rate == pytest.approx(0.1)
    assert Integration(id="a->b", source="a", target="b").error_rate is None
    assert [r.asset for r in snap.references_by_field[stage.id]] == ["hubspot:workflow/123"]
    assert snap.objects_by_id["salesforce:Lead"].custom_field_limit == 500
    assert snap.assets_by_id["hubspot:workflow/123"].kind == "workflow"


def test_coverage_lookups() -> None:
    snap = full_snapshot()
    assert snap.coverage_for("hubspot", Capability.fields) is CoverageStatus.complete
    assert snap.coverage_for("hubspot", Capability.references) is CoverageStatus.missing
    assert snap.coverage_for("hubspot", Capability.costs) is CoverageStatus.not_supported
    assert snap.coverage_for("salesforce", Capability.fields) is CoverageStatus.not_supported
    assert snap.tool_fields_known("hubspot")
    assert not snap.tool_fields_known("salesforce")
    assert [r.id for r in snap.runs_for_tool("hubspot")] == ["hubspot"]


# ------------------------------------------------------------------------------------------------ ids


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Google Analytics 4", "google-analytics-4"),
        ("HubSpot", "hubspot"),
        ("Chili Piper", "chili-piper"),
        ("  Zoom  Info!! ", "zoom-info"),
        ("Señor Café", "senor-cafe"),
        ("6sense", "6sense"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert ids.slugify(name) == slug
    assert ids.is_tool_slug(slug)


def test_slugify_refuses_names_without_letters_or_digits() -> None:
    with pytest.raises(ValueError, match="cannot make a tool id"):
        ids.slugify("!!!")


@pytest.mark.parametrize("value", ["HubSpot", "hub spot", "-hubspot", "hubspot-", "hub--spot", "", "hub:spot"])
def test_not_tool_slugs(value: str) -> None:
    assert not ids.is_tool_slug(value)


def test_id_builders_and_parsers() -> None:
    assert ids.object_id("salesforce", "Lead") == "salesforce:Lead"
    assert ids.field_id("salesforce", "Lead", "Legacy_Score__c") == "salesforce:Lead.Legacy_Score__c"
    assert ids.asset_id("hubspot", "workflow", 123) == "hubspot:workflow/123"
    assert ids.integration_id("hubspot", "salesforce") == "hubspot->salesforce"
    assert ids.integration_id("segment", "mixpanel", "web") == "segment->mixpanel:web"
    parsed = ids.parse_field_id("segment:identify.traits.plan")
    assert parsed == ids.FieldId("segment", "identify", "traits.plan")
    assert ids.parse_field_id(ids.field_id("hubspot", "contacts", "email")).field == "email"
    for bad in ("hubspot", "hubspot:contacts", "hubspot:.email", ":contacts.email", "hubspot:contacts."):
        with pytest.raises(ValueError, match="not a field id"):
            ids.parse_field_id(bad)
    assert ids.tool_of("salesforce:Lead.Status") == "salesforce"
    assert ids.tool_of("hubspot:workflow/1") == "hubspot"
    assert ids.tool_of("segment->mixpanel:web") == "segment"
    assert ids.tool_of("gong") == "gong"


def test_new_snapshot_id_is_sortable_utc_with_a_random_suffix() -> None:
    taken = datetime(2026, 11, 30, 10, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    sid = new_snapshot_id(taken)
    assert re.fullmatch(r"20261130T090005Z-[0-9a-f]{4}", sid)
    later = new_snapshot_id(taken + timedelta(seconds=1))
    assert later > sid
    assert len({new_snapshot_id(taken) for _ in range(50)}) > 1
    with pytest.raises(ValueError, match="timezone-aware"):
        new_snapshot_id(datetime(2026, 11, 30, 9, 0))  # a naive time has no UTC meaning
