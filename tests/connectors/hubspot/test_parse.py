"""Pure parsing of HubSpot bodies (the reference examples, unedited), tested without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackaudit_connectors.http import Outcome
from stackaudit_connectors.hubspot import api
from stackaudit_connectors.hubspot.fill import SampleTally
from stackaudit_connectors.hubspot.parse import (
    parse_custom_property_limits,
    parse_daily_usage,
    parse_pipelines,
    parse_properties,
    parse_property,
    parse_rate_headers,
    parse_schemas,
    parse_seats,
    parse_time,
)
from stackaudit_connectors.hubspot.parse_assets import (
    flow_asset,
    form_asset,
    list_asset,
    tool_for_host,
    webhook_integrations,
)
from stackaudit_inventory import FieldDef

REF = Path(__file__).parent / "reference"
OBJECTS = {"0-1": "contacts", "0-2": "companies", "0-3": "deals"}


def ref(name: str) -> Any:
    return json.loads((REF / name).read_text())


def props_by_name(fields: list[FieldDef]) -> dict[str, FieldDef]:
    return {f.name: f for f in fields}


def test_real_properties_response() -> None:
    body = ref("crm-v3-properties-contacts.json")
    parsed = parse_properties(body["results"], tool="hubspot", object_name="contacts")
    assert parsed.problems == []
    fields = props_by_name(parsed.fields)
    role = fields["hs_buying_role"]
    assert role.id == "hubspot:contacts.hs_buying_role"
    assert (role.custom, role.type, role.vendor_type, role.group) == (
        False,
        "enum",
        "enumeration/checkbox",
        "deal_information",
    )
    assert [o.value for o in role.options or []] == ["BLOCKER", "BUDGET_HOLDER", "CHAMPION"]
    assert role.created_at == datetime(2020, 6, 30, 15, 57, 36, 948000, tzinfo=UTC)
    assert role.created_by is None
    # No hubspotDefined key at all: custom, with its creator.
    ip = fields["confirm_ip"]
    assert (ip.custom, ip.type, ip.created_by, ip.updated_by, ip.options) == (
        True,
        "string",
        "46893556",
        "46893556",
        None,
    )
    assert ip.description is None  # "" is no description
    days = fields["days_to_close"]
    assert days.calculated and not days.custom and days.type == "number"


def test_hubspot_defined_false_is_custom_and_types_are_normalised() -> None:
    base = {"label": "L", "groupName": "g", "description": "", "options": []}
    cases = {"bool": "bool", "datetime": "datetime", "phone_number": "phone", "json": "json", "weird": "weird"}
    for vendor, normal in cases.items():
        fd = parse_property({**base, "name": "p", "type": vendor, "fieldType": "text"}, tool="t", object_name="o")
        assert fd.type == normal
    assert parse_property(
        {**base, "name": "p", "type": "string", "hubspotDefined": False}, tool="t", object_name="o"
    ).custom
    epoch = parse_property(
        {**base, "name": "p", "type": "string", "createdAt": 1700000000000}, tool="t", object_name="o"
    )
    assert epoch.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    sf = parse_property({**base, "name": "salesforcelastsynctime", "type": "datetime"}, tool="t", object_name="o")
    assert sf.owning_tool == "salesforce"


def test_one_bad_property_does_not_lose_the_others() -> None:
    good = {"name": "ok", "label": "OK", "type": "string", "fieldType": "text", "groupName": "g", "options": None}
    parsed = parse_properties([good, "junk", {"label": "no name"}, good], tool="t", object_name="contacts")
    assert [f.name for f in parsed.fields] == ["ok"]
    assert len(parsed.problems) == 2


def test_custom_object_schema_uses_fully_qualified_name() -> None:
    objects, problems = parse_schemas(ref("crm-object-schemas-v3-schemas.json"))
    assert problems == []
    [obj] = objects
    assert (obj.name, obj.object_type_id, obj.label) == ("p7878787_my_object", "2-123456", "My objects")
    fields = parse_properties(obj.properties, tool="hubspot", object_name=obj.name).fields
    assert fields[0].id == "hubspot:p7878787_my_object.my_object_property"
    assert fields[0].custom  # custom-object properties carry no hubspotDefined key


def test_owners_seats_count_active_people() -> None:
    owners = ref("crm-v3-owners.json")["results"]
    queue = {**owners[0], "id": "9", "type": "QUEUE"}
    seats, note = parse_seats([*owners, queue], [{**owners[0], "archived": True}])
    assert seats.used == 1
    assert note == "owners: 1 active, 1 archived"


def test_usage_limits_and_headers_become_quotas() -> None:
    [usage] = parse_daily_usage(ref("account-info-v3-api-usage-daily-private-apps.json"))
    assert (usage.used, usage.limit, usage.period) == (1, 500000, "day")
    quotas, limits = parse_custom_property_limits(ref("crm-v3-limits-custom-properties.CONSTRUCTED.json"))
    assert (quotas[0].used, quotas[0].limit) == (509, 1000)
    assert limits == {"0-1": 1000, "0-3": 1000}
    now = datetime(2026, 11, 30, tzinfo=UTC)
    got = parse_rate_headers(
        {"Daily": 250000, "Daily-Remaining": 249000, "Max": 100, "Interval-Milliseconds": 10000}, now
    )
    assert [(q.name, q.used, q.limit, q.period) for q in got] == [
        ("daily_api_requests", 1000, 250000, "day"),
        ("burst_requests", None, 100, "10s"),
    ]
    assert parse_rate_headers({}, now) == []


def test_pipelines() -> None:
    [deals], problems = parse_pipelines(ref("crm-v3-pipelines-deals.CONSTRUCTED.json"), "deals")
    assert problems == []
    assert [s.value for s in deals.stages] == ["appointmentscheduled", "closedwon"]
    [tickets], _ = parse_pipelines(ref("crm-v3-pipelines-tickets.json"), "tickets")
    assert tickets.label == "My ticket pipeline"


def test_flow_details_give_read_and_write_references() -> None:
    flow = ref("automation-v4-flows-flowId.CONSTRUCTED.json")
    asset, refs = flow_asset(flow, tool="hubspot", objects=OBJECTS)
    assert asset.id == "hubspot:workflow/585051947"
    assert asset.active is False  # disabled flows are kept, marked inactive
    assert {(r.field, r.mode, r.context) for r in refs} == {
        ("hubspot:contacts.lifecyclestage", "read", "enrollment filter"),
        ("hubspot:contacts.hs_lead_status", "write", "set property action"),
    }


def test_flow_actions_goal_webhook_and_custom_code() -> None:
    flow = {
        "id": "7",
        "isEnabled": True,
        "objectTypeId": "0-1",
        "goalFilterBranch": {
            "filterBranchType": "OR",
            "filterBranches": [],
            "filters": [{"filterType": "PROPERTY", "property": "lifecyclestage", "operation": {}}],
        },
        "enrollmentCriteria": {
            "type": "EVENT_BASED",
            "eventFilterBranches": [],
            "listMembershipFilterBranches": [
                {
                    "filterBranchType": "AND",
                    "filters": [],
                    "filterBranches": [
                        {
                            "filterBranchType": "ASSOCIATION",
                            "objectTypeId": "0-2",
                            "filters": [{"filterType": "PROPERTY", "property": "industry"}],
                            "filterBranches": [],
                        },
                        {
                            "filterBranchType": "UNIFIED_EVENTS",
                            "filters": [{"filterType": "PROPERTY", "property": "hs_url"}],
                            "filterBranches": [],
                        },
                    ],
                }
            ],
        },
        "actions": [
            {
                "type": "WEBHOOK",
                "actionId": "1",
                "method": "POST",
                "webhookUrl": "https://hooks.zapier.com/hooks/catch/1/",
                "queryParams": [{"name": "e", "value": {"type": "OBJECT_PROPERTY", "propertyName": "email"}}],
            },
            {
                "type": "CUSTOM_CODE",
                "actionId": "2",
                "runtime": "NODE20X",
                "secretNames": [],
                "outputFields": [],
                "sourceCode": "fetch('https://api.segment.io/v1/track'); fetch(\"https://internal.acme-data.io/x\")",
                "inputFields": [
                    {"name": "score", "value": {"type": "OBJECT_PROPERTY", "propertyName": "hubspotscore"}}
                ],
            },
            {
                "type": "STATIC_BRANCH",
                "actionId": "3",
                "staticBranches": [],
                "inputValue": {"type": "OBJECT_PROPERTY", "propertyName": "hs_lead_status"},
            },
            {
                "type": "SINGLE_CONNECTION",
                "actionId": "4",
                "actionTypeId": "0-13",
                "actionTypeVersion": 0,
                "fields": {"operation": "ADD", "list_id": "178"},
            },
        ],
    }
    asset, refs = flow_asset(flow, tool="hubspot", objects=OBJECTS)
    assert asset.external_targets == ["api.segment.io", "hooks.zapier.com", "internal.acme-data.io"]
    assert {(r.field, r.mode, r.context) for r in refs} == {
        ("hubspot:contacts.lifecyclestage", "read", "goal filter"),
        ("hubspot:companies.industry", "read", "enrollment filter"),
        ("hubspot:contacts.email", "read", "webhook parameter"),
        ("hubspot:contacts.hubspotscore", "read", "custom code input"),
        ("hubspot:contacts.hs_lead_status", "read", "action input"),
    }
    integrations = webhook_integrations([asset], tool="hubspot", run_id="hubspot", taken={"hubspot->zapier"})
    assert [(i.id, i.target, i.status.value) for i in integrations] == [
        ("hubspot->acme-data", "acme-data", "active"),
        ("hubspot->segment", "segment", "active"),
        ("hubspot->zapier:webhook", "zapier", "active"),
    ]


def test_listing_only_flow_has_no_references() -> None:
    asset, refs = flow_asset(
        {"id": "1", "name": "n", "isEnabled": True}, tool="hubspot", objects=OBJECTS, detailed=False
    )
    assert asset.name == "n" and refs == []


def test_list_filters_are_reads() -> None:
    lst = ref("crm-v3-lists-listId-includeFilters.CONSTRUCTED.json")["list"]
    asset, refs = list_asset(lst, tool="hubspot", objects=OBJECTS)
    assert (asset.id, asset.kind, asset.active) == ("hubspot:list/456", "list", True)
    assert {(r.field, r.mode) for r in refs} == {
        ("hubspot:contacts.lifecyclestage", "read"),
        ("hubspot:contacts.my_custom_prop", "read"),
    }
    deleted, _ = list_asset({**lst, "deletedAt": "2025-01-01T00:00:00Z"}, tool="hubspot", objects=OBJECTS)
    assert not deleted.active


def test_form_fields_are_writes() -> None:
    form = ref("marketing-v3-forms.CONSTRUCTED.json")["results"][0]
    asset, refs = form_asset(form, tool="hubspot", objects=OBJECTS)
    assert (asset.kind, asset.name, asset.active) == ("form", "Contact us", True)
    assert {(r.field, r.mode, r.context) for r in refs} == {
        ("hubspot:contacts.email", "write", "form field"),
        ("hubspot:contacts.my_custom_prop", "write", "form field"),
        ("hubspot:contacts.lifecyclestage", "write", "form sets lifecycle stage"),
    }
    archived, _ = form_asset({**form, "archived": True}, tool="hubspot", objects=OBJECTS)
    assert not archived.active


@pytest.mark.parametrize(
    ("host", "tool"),
    [
        ("hooks.zapier.com", "zapier"),
        ("hook.eu1.make.com", "make"),
        ("api.segment.io", "segment"),
        ("northwind.my.salesforce.com", "salesforce"),
        ("api.partnerstack.com", "partnerstack"),
        ("crm.acme.co.uk", "acme"),
        ("localhost", "localhost"),
    ],
)
def test_tool_for_host(host: str, tool: str) -> None:
    assert tool_for_host(host) == tool


def test_sample_tally_counts_without_values() -> None:
    tally = SampleTally()
    page = {
        "results": [
            {"id": "1", "updatedAt": "2026-01-01T00:00:00Z", "properties": {"a": "x", "b": None, "c": ""}},
            {"id": "2", "updatedAt": "2026-02-01T00:00:00Z", "properties": {"a": "y"}},
        ]
    }
    tally.add(page, ["a", "b", "c"])
    assert tally.records == 2
    assert dict(tally.filled) == {"a": 2}
    assert tally.newest["a"] == datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        tally.add({"results": "oops"}, ["a"])


def test_chunks_keep_encoded_property_lists_short() -> None:
    names = [f"prop_{i:04d}" for i in range(1000)]
    chunks = api.chunk_properties(names, 300)
    assert [n for c in chunks for n in c] == names
    assert all(len(",".join(c).replace(",", "%2C")) <= 300 for c in chunks)


def test_parse_time_variants() -> None:
    assert parse_time("2019-08-06T02:41:10.293Z") == datetime(2019, 8, 6, 2, 41, 10, 293000, tzinfo=UTC)
    assert parse_time("1565059270293") == datetime(2019, 8, 6, 2, 41, 10, 293000, tzinfo=UTC)
    assert parse_time("2024-01-01") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_time("nope") is None and parse_time(None) is None and parse_time(True) is None


@pytest.mark.parametrize(
    ("file", "outcome", "reason"),
    [
        ("error-429-rate-limit.json", Outcome.quota, "daily API limit"),
        ("error-429-ten-secondly.CONSTRUCTED.json", Outcome.retriable, "TEN_SECONDLY_ROLLING"),
        ("error-401.CONSTRUCTED.json", Outcome.auth, "401"),
    ],
)
def test_hubspot_classifier_reads_the_policy(file: str, outcome: Outcome, reason: str) -> None:
    status = 401 if "401" in file else 429
    verdict = api.classify_hubspot(httpx.Response(status, json=ref(file)))
    assert verdict.outcome is outcome
    assert reason in verdict.reason
    scope = api.classify_hubspot(httpx.Response(403, json={"category": "MISSING_SCOPES", "message": "m"}))
    assert scope.outcome is Outcome.missing_scope and "missing scopes" in scope.reason


def test_rate_headers_reshape_the_bucket_and_cope_when_absent() -> None:
    from stackaudit_connectors.http import TokenBucket

    bucket = TokenBucket.for_limit(100, 10.0, clock=lambda: 0.0, sleep=lambda s: None)
    headers = api.RateHeaders(bucket, 0.9)
    headers.observe(httpx.Response(200))  # absent: nothing changes
    assert headers.latest == {} and bucket.rate == pytest.approx(9.0)
    headers.observe(
        httpx.Response(
            200,
            headers={
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Remaining": "150",
                "X-HubSpot-RateLimit-Daily": "650000",
                "X-HubSpot-RateLimit-Daily-Remaining": "649000",
            },
        )
    )
    assert bucket.rate == pytest.approx(17.1)  # the account's real tier
    assert headers.latest["Daily-Remaining"] == 649000
