"""Pure functions of the Salesforce connector, without HTTP: parsing, planning queries, classifying responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackaudit_connectors.http import Outcome
from stackaudit_connectors.salesforce import api, parse, parse_assets
from stackaudit_connectors.salesforce.config import SalesforceConfig
from stackaudit_connectors.salesforce.deps import Partition, _split
from stackaudit_connectors.salesforce.fill_plan import SYSTEM_FIELDS, ObjectToCount, Task, plan_object
from stackaudit_connectors.salesforce.soql import chunk_by_length, literal, split_in_list
from stackaudit_inventory import IntegrationStatus
from stackaudit_inventory.catalogue import load_catalogue

REFERENCE = Path(__file__).resolve().parent / "reference"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONFIG = SalesforceConfig(type="salesforce", instance_url="https://x.my.salesforce.com", access_token="t")


def example(name: str) -> Any:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def spec(name: str, sf_type: str = "string", *, agg: bool = True, filt: bool = True, custom: bool = True,
         compound: bool = False) -> parse.FieldSpec:
    return parse.FieldSpec("Lead", name, sf_type, custom, agg, filt, compound)


# ------------------------------------------------------------------------------------------- basic parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-04-07T06:57:22.000+0000", datetime(2021, 4, 7, 6, 57, 22, tzinfo=UTC)),
        ("2021-04-07T08:57:22.000+0200", datetime(2021, 4, 7, 6, 57, 22, tzinfo=UTC)),
        ("2021-04-07T06:57:22Z", datetime(2021, 4, 7, 6, 57, 22, tzinfo=UTC)),
        ("2021-04-07", datetime(2021, 4, 7, tzinfo=UTC)),
        ("not a date", None),
        (None, None),
        (17, None),
    ],
)
def test_parse_time(text: Any, expected: datetime | None) -> None:
    assert parse.parse_time(text) == expected


def test_limit_info_and_daily_requests() -> None:
    assert parse.parse_limit_info("api-usage=18/5000") == (18, 5000)
    assert parse.parse_limit_info("api-usage=135/5000; per-app-api-usage=17/250(appName=sample)") == (135, 5000)
    assert parse.parse_limit_info(None) is None and parse.parse_limit_info("garbage") is None
    assert parse.daily_requests(example("limits.CONSTRUCTED.json")) == (15000, 14980)
    assert parse.daily_requests({"DailyApiRequests": {"Max": "5000", "Remaining": "4990"}}) == (5000, 4990)
    assert parse.daily_requests({}) is None


def test_global_and_object_selection() -> None:
    objects = parse.parse_global(example("sobjects-describeGlobal.json"))
    assert [o.name for o in objects][:3] == ["Account", "Campaign", "Contact"]
    extra = [parse.GlobalObject(n, n, c, q, s) for n, c, q, s in [
        ("Invoice__c", True, True, False), ("Settings__c", True, True, True), ("Rule__mdt", True, True, False),
        ("Thing__e", True, True, False), ("Product2", False, True, False), ("Idea", False, True, False),
        ("Hidden__c", True, False, False), ("Invoice__Share", True, True, False)]]
    chosen = parse.select_objects([*objects, *extra], ["Account", "Contact"], {"Product2"}, exclude=["Contact"])
    assert chosen == ["Account", "Invoice__c", "Product2"]


def test_custom_fields_join_tooling_ids_to_names() -> None:
    objects = parse.parse_custom_objects([
        {"Id": "01I5g000000XyZaEAK", "DeveloperName": "Region_Data", "NamespacePrefix": None},
        {"Id": "01I5g000000XyZbEAK", "DeveloperName": "Pool", "NamespacePrefix": "LeanData"},
    ])
    rows = example("tooling-query-CustomField.CONSTRUCTED.json")["records"]
    rows.append({"Id": "00N5g00000AbCdGEAV", "DeveloperName": "Size", "TableEnumOrId": "01I5g000000XyZb",
                 "NamespacePrefix": "LeanData", "CreatedDate": "2020-01-01T00:00:00.000+0000"})
    rows.append({"Id": "00N5g00000AbCdHEAV", "DeveloperName": "Gone", "TableEnumOrId": "01I5g000000ZZZZEAK"})
    fields, unplaced = parse.parse_custom_fields(rows, objects)
    assert unplaced == 1
    score = fields[("Lead", "Lead_Score__c")]
    assert score.description == "Score synced from marketing automation" and score.manageable_state == "unmanaged"
    assert score.created_at == datetime(2021, 4, 7, 6, 57, 22, tzinfo=UTC)
    assert ("Region_Data__c", "Region__c") in fields  # TableEnumOrId was the custom object's Id
    assert fields[("LeanData__Pool__c", "LeanData__Size__c")].namespace == "LeanData"  # 15-character Id prefix


def test_describe_joins_tooling_and_marks_what_cannot_be_counted() -> None:
    body = example("sobjects-Lead-describe.json")
    body["fields"] += [
        {"name": "Legacy_Score__c", "type": "double", "custom": True, "label": "Legacy Score", "aggregatable": True,
         "filterable": True, "length": 0, "referenceTo": [], "picklistValues": []},
        {"name": "LeanData__Routing__c", "type": "picklist", "custom": True, "label": "Routing",
         "picklistValues": [{"value": "A", "label": "A", "active": True}, {"value": "B", "active": False}]},
        {"name": "Address", "type": "address", "custom": False, "label": "Address"},
        {"name": "City", "type": "string", "custom": False, "compoundFieldName": "Address", "aggregatable": True},
        {"type": "string"},
    ]
    created = datetime(2020, 1, 1, tzinfo=UTC)
    customs = {("Lead", "Legacy_Score__c"): parse.CustomFieldInfo(
        "00Nxx0000001AAAAAA", "Lead", "Legacy_Score__c", None, "Old score", "unmanaged", created, "005xx0000001AAA",
        created, "005xx0000002AAA")}
    obj, fields, specs = parse.parse_describe(
        body, "salesforce", customs, owner_of=lambda name, ns: "leandata" if ns == "LeanData" else None,
        users={"005xx0000001AAA": "Dana"}, custom_field_limit=500)
    assert obj.id == "salesforce:Lead" and obj.custom_field_limit == 500
    by_name = {f.name: f for f in fields}
    assert [o.value for o in by_name["LeadSource"].options or []][:1] == ["Web"]
    assert by_name["LeadSource"].type == "enum" and by_name["OwnerId"].reference_to == ["Group", "User"]
    legacy = by_name["Legacy_Score__c"]
    assert (legacy.description, legacy.created_by, legacy.updated_by) == ("Old score", "Dana", "005xx0000002AAA")
    routing = by_name["LeanData__Routing__c"]
    assert routing.namespace == "LeanData" and routing.owning_tool == "leandata"
    assert [o.hidden for o in routing.options or []] == [False, True]
    compound = {s.name: s.compound for s in specs}
    assert compound["Address"] and not compound["City"]
    assert len(fields) == len(specs) == len(body["fields"]) - 1


def test_lifecycle_fields() -> None:
    body = {"name": "Lead", "fields": [
        {"name": "Status", "type": "picklist"}, {"name": "Lifecycle_Stage__c", "type": "picklist", "custom": True},
        {"name": "X__c", "type": "picklist", "label": "Lead Stage (old)", "custom": True},
        {"name": "Email", "type": "email"}]}
    _, fields, _ = parse.parse_describe(body, "salesforce", {})
    assert parse.lifecycle_field_ids(fields) == [
        "salesforce:Lead.Lifecycle_Stage__c", "salesforce:Lead.Status", "salesforce:Lead.X__c"]


# ------------------------------------------------------------------------------------------------- assets


def test_flows_and_dependencies_map_versions_to_activity() -> None:
    flows = example("query-FlowDefinitionView.CONSTRUCTED.json")["records"]
    flows.append({"DurableId": "300ACTIVE000000AAA", "ApiName": "Router", "Label": "Router", "IsActive": True,
                  "ActiveVersionId": "301ACTIVE000002AAA", "LatestVersionId": "301ACTIVE000003AAA"})
    assets, index = parse_assets.parse_flows(flows, "salesforce")
    assert {a.name: (a.kind, a.active) for a in assets} == {
        "Lead Scoring Flow": ("flow", True), "Old Lead Router": ("process_builder", False), "Router": ("flow", True)}
    rows = example("tooling-query-MetadataComponentDependency.CONSTRUCTED.json")["records"]
    rows += [
        {"MetadataComponentId": "3015g000000AbCeAAK", "MetadataComponentType": "Flow", "MetadataComponentName": "X",
         "RefMetadataComponentId": "00N5g00000AbCdF", "RefMetadataComponentType": "CustomField"},
        {"MetadataComponentId": "301ACTIVE000001AAA", "MetadataComponentType": "Flow", "MetadataComponentName":
         "Router", "RefMetadataComponentId": "00N5g00000AbCdFEAV", "RefMetadataComponentType": "CustomField"},
        {"MetadataComponentId": "01p000000000001AAA", "MetadataComponentType": "ApexClass",
         "RefMetadataComponentId": "01p000000000002AAA", "RefMetadataComponentType": "ApexClass"},
        {"MetadataComponentId": "00h000000000009AAA", "MetadataComponentType": "Layout",
         "RefMetadataComponentId": "00N000000000000AAA", "RefMetadataComponentType": "CustomField"},
    ]
    field_ids = {"00N5g00000AbCdEEAV": "salesforce:Lead.Lead_Score__c", "00N5g00000AbCdFEAV": "salesforce:X__c.Y__c",
                 "00N5g00000AbCdF": "salesforce:X__c.Y__c"}
    deps, refs, skipped = parse_assets.parse_dependencies(rows, field_ids, index, "salesforce")
    assert skipped == 1
    assets_by_id = {a.id: a for a in [*assets, *deps]}
    pairs = {(assets_by_id[r.asset].name, assets_by_id[r.asset].active, r.field) for r in refs}
    assert pairs == {
        ("Lead Scoring Flow", True, "salesforce:Lead.Lead_Score__c"),
        ("Lead Layout", True, "salesforce:Lead.Lead_Score__c"),
        ("LeadScoreService", True, "salesforce:Lead.Lead_Score__c"),
        ("Old Lead Router", False, "salesforce:X__c.Y__c"),  # matched by its latest (inactive) version id
        ("Router (inactive version)", False, "salesforce:X__c.Y__c"),  # an old version of an active flow
    }


def test_packages_become_tools_and_own_their_namespace() -> None:
    catalogue = load_catalogue()
    real = parse_assets.parse_packages(example("tooling-query-InstalledSubscriberPackage-cumulusci.json")["records"])
    assert real[0].namespace == "pub" and real[0].name is None
    named = parse_assets.parse_packages([
        {"Id": "0A3x1", "SubscriberPackageId": "033x1", "SubscriberPackage": {"NamespacePrefix": "LeanData",
                                                                              "Name": "LeanData"}},
        {"Id": "0A3x2", "SubscriberPackage": {"Id": "033x2", "NamespacePrefix": "acme", "Name": "Acme Widgets"},
         "SubscriberPackageVersion": {"MajorVersion": 2, "MinorVersion": 1, "PatchVersion": 0}},
        {"Id": "0A3x3", "SubscriberPackage": {"Id": "033x3", "NamespacePrefix": "sf_com_apps",
                                              "Name": "Salesforce Connected Apps"}},
        {"Id": "0A3x4", "SubscriberPackage": None},
    ])
    assert named[1].version == "2.1.0"
    tools, assets, owners, asset_ns = parse_assets.package_tools(named, catalogue, "salesforce",
                                                                 {"leandata": "LeanData"}, "salesforce")
    assert {t.id: t.name for t in tools} == {"leandata": "LeanData", "acme-widgets": "Acme Widgets"}
    assert owners == {"leandata": "leandata", "acme": "acme-widgets"}
    assert len(assets) == 4 and set(asset_ns) == {"leandata", "acme", "sf_com_apps"}
    _, fields, _ = parse.parse_describe(
        {"name": "Lead", "fields": [{"name": "LeanData__Route__c", "custom": True}, {"name": "Mine__c",
                                                                                     "custom": True}]},
        "salesforce", {})
    refs = parse_assets.package_references(fields, asset_ns)
    assert [(r.field, r.mode) for r in refs] == [("salesforce:Lead.LeanData__Route__c", "write")]


def test_connected_apps_become_integrations_with_last_use() -> None:
    rows: list[dict[str, Any]] = [
        {"AppName": "Zapier", "LastUsedDate": "2026-11-29T10:00:00.000+0000", "UseCount": 10, "UserId": "005a"},
        {"AppName": "Zapier", "LastUsedDate": "2026-11-20T10:00:00.000+0000", "UseCount": 5, "UserId": "005b"},
        {"AppName": "Intercom", "LastUsedDate": "2026-08-02T14:10:00.000+0000", "UseCount": 3},
        {"AppName": "Workbench", "LastUsedDate": "2026-11-01T00:00:00.000+0000"},
        {"AppName": "Never Used Thing", "LastUsedDate": None},
        {"LastUsedDate": "2026-11-01T00:00:00.000+0000"},
    ]
    apps = parse_assets.parse_connected_apps(rows)
    assert [(a.name, a.tokens, a.use_count, len(a.users)) for a in apps][-1] == ("Zapier", 2, 15, 2)
    tools, integrations, notes = parse_assets.app_tools_and_integrations(
        apps, load_catalogue(), "salesforce", "salesforce", {"zapier": "Zapier Team"}, NOW)
    by_id = {i.id: i for i in integrations}
    assert set(by_id) == {"zapier->salesforce:connected-app", "intercom->salesforce:connected-app",
                          "never-used-thing->salesforce:connected-app"}
    assert by_id["zapier->salesforce:connected-app"].status is IntegrationStatus.active
    assert by_id["intercom->salesforce:connected-app"].status is IntegrationStatus.unknown
    assert by_id["zapier->salesforce:connected-app"].last_success_at is None  # use is not proof of success
    assert {t.id: t.name for t in tools}["zapier"] == "Zapier Team"
    assert any("Workbench" in n and "not a tool" in n for n in notes)


def test_licenses() -> None:
    seats, notes = parse_assets.parse_licenses([
        {"Name": "Salesforce", "LicenseDefinitionKey": "SFDC", "TotalLicenses": 120, "UsedLicenses": 112},
        {"Name": "Salesforce Platform", "TotalLicenses": 10, "UsedLicenses": 3},
        {"Name": "Guest", "TotalLicenses": "n/a", "UsedLicenses": 1},
    ])
    assert seats is not None and (seats.bought, seats.used) == (120, 112)
    assert notes == ["licence 'Salesforce Platform': 3 of 10 used"]
    assert parse_assets.parse_licenses([])[0] is None


# ------------------------------------------------------------------------------------------------ planning


def test_soql_literals_and_length_limits() -> None:
    assert literal("O'Brien\\x") == "'O\\'Brien\\\\x'"
    chunks = chunk_by_length([f"F{i:03d}__c" for i in range(50)], fixed=100, per_item=9, max_chars=300,
                             max_items=100)
    assert all(100 + sum(len(x) + 9 for x in c) <= 300 for c in chunks) and sum(map(len, chunks)) == 50
    queries = split_in_list("SELECT Id FROM User WHERE Id IN ", [f"005{i:015d}" for i in range(40)], "", 400)
    assert all(len(q) <= 400 for _, q in queries) and sum(len(v) for v, _ in queries) == 40


def test_fill_plan_groups_fields_by_how_they_can_be_counted() -> None:
    specs = (spec("Id", "id", custom=False), spec("Email", "email", custom=False), spec("Score__c", "double"),
             spec("Opt_In__c", "boolean", agg=False), spec("Tags__c", "multipicklist", agg=False),
             spec("Notes__c", "textarea", agg=False, filt=False), spec("Address", "address", agg=False, filt=False,
                                                                       compound=True))
    tasks, compound = plan_object(ObjectToCount("Lead", specs), None, CONFIG)
    assert compound == ["Address"]
    assert [t.soql(200) for t in tasks] == [
        "SELECT COUNT(Id), MAX(SystemModstamp), COUNT(Email), COUNT(Score__c) FROM Lead",
        "SELECT Id, Opt_In__c, Tags__c, Notes__c FROM Lead ORDER BY CreatedDate DESC LIMIT 200",
    ]
    assert "Id" in SYSTEM_FIELDS
    group = Task("anyof", "Lead", ("Opt_In__c", "Tags__c"), ("Opt_In__c = true", "Tags__c != null"),
                 "CreatedDate >= 2026-09-01T09:00:00Z")
    assert group.soql(0) == ("SELECT COUNT() FROM Lead WHERE (Opt_In__c = true OR Tags__c != null) "
                             "AND CreatedDate >= 2026-09-01T09:00:00Z")
    assert group.sub(["Tags__c"]).soql(0).startswith("SELECT COUNT() FROM Lead WHERE Tags__c != null AND")


def test_wide_object_batches_stay_under_limits() -> None:
    specs = tuple(spec(f"Field_Number_{i:03d}__c", "double") for i in range(800))
    tasks, _ = plan_object(ObjectToCount("Wide__c", specs), None, CONFIG)
    assert len(tasks) >= 8 and sum(len(t.fields) for t in tasks) == 800
    assert all(len(t.soql(0)) <= CONFIG.max_query_chars and len(t.fields) <= 100 for t in tasks)
    assert [t.first for t in tasks].count(True) == 1


def test_dependency_partitions_split_types_then_ids() -> None:
    top = _split(Partition(), ["00Na", "00Nb"], 4000)
    assert len(top) == 5 and top[-1].remainder
    assert "MetadataComponentType NOT IN ('Flow'" in top[-1].soql()
    halves = _split(top[1], ["00Na", "00Nb"], 4000)
    assert [p.types for p in halves] == [("Layout", "FlexiPage"), ("CompactLayout", "FieldSet", "QuickAction")]
    by_ids = _split(Partition(types=("Layout",)), [f"00N{i:015d}" for i in range(400)], 4000)
    assert len(by_ids) > 1 and all(len(p.soql()) <= 4000 for p in by_ids)
    assert _split(Partition(types=("Layout",), ids=("00Na",)), [], 4000) == []
    assert Partition.from_json(by_ids[0].to_json()) == by_ids[0]


# ------------------------------------------------------------------------------------------- classification


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=httpx.Request("GET", "https://x/y"))


def test_classifier_reads_salesforce_error_codes() -> None:
    assert api.classify_salesforce(response(200, {})).outcome is Outcome.ok
    assert api.classify_salesforce(response(304)).outcome is Outcome.ok
    assert api.classify_salesforce(response(401, example("error-401-INVALID_SESSION_ID.json"))).outcome \
        is Outcome.auth
    assert api.classify_salesforce(response(403, example("error-403-REQUEST_LIMIT_EXCEEDED.json"))).outcome \
        is Outcome.quota
    busy = [{"message": "ConcurrentPerOrgLongTxn Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert api.classify_salesforce(response(403, busy)).outcome is Outcome.retriable
    assert api.classify_salesforce(response(403, [{"errorCode": "INSUFFICIENT_ACCESS", "message": "no"}])).outcome \
        is Outcome.missing_scope
    # 400s with an error array go back to the caller, which reads the errorCode (INVALID_FIELD isolation).
    assert api.classify_salesforce(response(400, example("error-400-INVALID_FIELD.CONSTRUCTED.json"))).outcome \
        is Outcome.ok
    assert api.classify_salesforce(response(503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "x"}])).outcome \
        is Outcome.retriable
    assert api.error_of(example("composite-response-count-queries-with-error.json")["compositeResponse"][1]["body"]
                        )[0] == "INVALID_TYPE"
    assert api.error_of({"error": "invalid_client", "error_description": "bad"}) == ("invalid_client", "bad")


def test_limit_tracker_keeps_the_latest_usage() -> None:
    tracker = api.LimitTracker()
    for used in (10, 12, 11):
        tracker.observe(response(200, {}, {"Sforce-Limit-Info": f"api-usage={used}/5000"}))
    tracker.observe(response(200, {}))
    assert (tracker.first_used, tracker.used, tracker.remaining) == (10, 12, 4988)
