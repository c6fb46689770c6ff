"""The fake HubSpot follows the reference: shapes, paging, search limits, 429 bodies, headers, faults."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from stackaudit.fakes.hubspot import (
    FakeHubSpot,
    load_portal,
    recorded_portal_path,
    serve_recorded_portal,
    synthetic_portal,
)


@pytest.fixture
def http(fake: FakeHubSpot, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def test_401_body_follows_the_reference(fake: FakeHubSpot) -> None:
    response = httpx.get(f"{fake.base_url}/crm/v3/properties/contacts", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"status", "message", "correlationId", "category"}
    assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
    assert httpx.get(f"{fake.base_url}/crm/v3/owners").status_code == 401  # no header at all


def test_properties_are_unpaged_with_the_real_quirks(http: httpx.Client) -> None:
    body = http.get("/crm/v3/properties/contacts").json()
    assert set(body) == {"results"}
    props = {p["name"]: p for p in body["results"]}
    assert props["email"]["hubspotDefined"] is True and "createdUserId" not in props["email"]
    assert "hubspotDefined" not in props["favourite_color"] and props["favourite_color"]["createdUserId"] == "777"
    assert props["favourite_color"]["archived"] is False
    assert props["empty_custom"]["options"] == []
    assert props["calc_score"]["calculationFormula"] == "1 + 1"
    assert http.get("/crm/v3/properties/products").json() == {"results": []}  # known type, nothing described
    assert http.get("/crm/v3/properties/nonsense").status_code == 400
    assert http.get("/crm/v3/properties/p555_project").json()["results"][0]["name"] == "project_code"
    assert http.get("/crm/v3/properties/2-999").status_code == 200


def test_after_cursors(http: httpx.Client, fake: FakeHubSpot) -> None:
    first = http.get("/crm/v3/owners", params={"limit": 100}).json()  # the fake caps pages at 2 here
    assert len(first["results"]) == 2
    after = first["paging"]["next"]["after"]
    assert first["paging"]["next"]["link"].startswith(fake.base_url)
    ids = [o["id"] for o in first["results"]]
    while after:
        page = http.get("/crm/v3/owners", params={"after": after}).json()
        ids += [o["id"] for o in page["results"]]
        after = page.get("paging", {}).get("next", {}).get("after")
    assert ids == ["1", "2", "3", "4", "5", "90"]
    archived = http.get("/crm/v3/owners", params={"archived": "true"}).json()
    assert [o["id"] for o in archived["results"]] == ["7", "8"]


def test_search_total_and_its_limits(http: httpx.Client) -> None:
    def search(body: dict[str, Any]) -> httpx.Response:
        return http.post("/crm/v3/objects/contacts/search", json=body)

    has = {"filterGroups": [{"filters": [{"propertyName": "favourite_color", "operator": "HAS_PROPERTY"}]}], "limit": 1}
    body = search(has).json()
    assert body["total"] == 100 and len(body["results"]) == 1 and body["paging"]["next"]["after"] == "1"
    assert search({"filterGroups": [], "limit": 1}).json()["total"] == 400
    ors = {
        "filterGroups": [
            {"filters": [{"propertyName": p, "operator": "HAS_PROPERTY"}]} for p in ("empty_custom", "middle_band")
        ],
        "limit": 1,
    }
    assert search(ors).json()["total"] == 10
    assert search({**has, "after": "10000"}).status_code == 400  # the 10,000-result cap
    assert search({**has, "after": "9999", "limit": 2}).status_code == 400
    assert search({**has, "limit": 201}).status_code == 400
    six = {"filterGroups": [has["filterGroups"][0]] * 6, "limit": 1}
    assert search(six).status_code == 400
    unknown = {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "HAS_PROPERTY"}]}]}
    assert search(unknown).status_code == 400
    newest = search({**has, "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}]}).json()
    oldest = search({**has, "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]}).json()
    assert newest["results"][0]["updatedAt"] > oldest["results"][0]["updatedAt"]
    assert "X-HubSpot-RateLimit-Max" not in search(has).headers  # search responses carry no rate headers


def test_record_pages(http: httpx.Client) -> None:
    page = http.get("/crm/v3/objects/contacts", params={"limit": 2, "properties": "email,favourite_color,nope"}).json()
    first = page["results"][0]
    assert first["properties"]["email"] and first["properties"]["favourite_color"] is not None
    assert page["results"][1]["properties"]["favourite_color"] is None  # requested but empty: null
    assert "nope" not in first["properties"]
    assert page["paging"]["next"]["after"] == "2"


def test_flows_list_has_no_actions_details_do(http: httpx.Client) -> None:
    listing = http.get("/automation/v4/flows").json()["results"]
    assert listing and all("actions" not in f and "enrollmentCriteria" not in f for f in listing)
    detail = http.get("/automation/v4/flows/101").json()
    assert detail["type"] == "CONTACT_FLOW" and detail["actions"][0]["actionTypeId"] == "0-5"
    assert detail["actions"][0]["fields"] == {
        "property_name": "hs_lead_status",
        "value": {"type": "STATIC_VALUE", "staticValue": "NEW"},
    }
    assert http.get("/automation/v4/flows/103").json()["type"] == "PLATFORM_FLOW"
    assert http.get("/automation/v4/flows/999").status_code == 404


def test_list_filters_only_with_include_filters(http: httpx.Client) -> None:
    found = http.post("/crm/v3/lists/search", json={"offset": 0, "count": 10, "additionalProperties": []}).json()
    assert (found["total"], found["hasMore"], found["offset"], len(found["lists"])) == (3, True, 2, 2)  # pages of 2
    rest = http.post("/crm/v3/lists/search", json={"offset": 2, "additionalProperties": []}).json()
    assert (rest["hasMore"], rest["offset"], len(rest["lists"])) == (False, 3, 1)
    assert all("filterBranch" not in x and "hs_list_size" in x["additionalProperties"] for x in found["lists"])
    assert "filterBranch" not in http.get("/crm/v3/lists/201").json()["list"]
    assert "filterBranch" in http.get("/crm/v3/lists/201", params={"includeFilters": "true"}).json()["list"]
    many = http.get("/crm/v3/lists", params={"listIds": ["201", "203"], "includeFilters": "true"}).json()
    assert [x["listId"] for x in many["lists"]] == ["201", "203"]
    assert http.post("/crm/v3/lists/search", json={"count": 1}).status_code == 400  # offset is required


def test_429_bodies_and_rate_headers(serve: Callable[..., Any], spec: Callable[[], dict[str, Any]], token: str) -> None:
    with serve(spec(), rate_limit=(2, 10.0), search_rate_limit=(1, 10.0), retry_after=1.5) as fake:
        auth = {"Authorization": f"Bearer {token}"}
        ok = httpx.get(f"{fake.base_url}/crm/v3/owners", headers=auth)
        assert ok.headers["X-HubSpot-RateLimit-Max"] == "2"
        assert ok.headers["X-HubSpot-RateLimit-Remaining"] == "1"
        assert ok.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert "X-HubSpot-RateLimit-Daily-Remaining" in ok.headers
        httpx.get(f"{fake.base_url}/crm/v3/owners", headers=auth)
        limited = httpx.get(f"{fake.base_url}/crm/v3/owners", headers=auth)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1.5"
        body = limited.json()
        assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
        assert set(body) == {"status", "message", "errorType", "correlationId", "policyName", "requestId"}
        search = f"{fake.base_url}/crm/v3/objects/contacts/search"
        assert httpx.post(search, headers=auth, json={"limit": 1}).status_code == 200
        assert httpx.post(search, headers=auth, json={"limit": 1}).json()["policyName"] == "SECONDLY"
        fake.faults.exhaust_daily(after=0)
        daily = httpx.post(search, headers=auth, json={"limit": 1})
        assert daily.status_code == 429 and daily.json()["policyName"] == "DAILY"
        assert daily.json()["message"] == "You have reached your daily limit."
    with serve(spec(), rate_headers=False) as quiet:
        headers = httpx.get(f"{quiet.base_url}/crm/v3/owners", headers={"Authorization": f"Bearer {token}"}).headers
        assert not [h for h in headers if h.lower().startswith("x-hubspot-ratelimit")]


def test_faults_and_request_log(http: httpx.Client, fake: FakeHubSpot) -> None:
    fake.faults.fail(times=2, status=500, path="/crm/v3/owners")
    assert [http.get("/crm/v3/owners").status_code for _ in range(3)] == [500, 500, 200]
    fake.faults.truncate(path="/crm/v3/pipelines/deals")
    with pytest.raises(json.JSONDecodeError):
        json.loads(http.get("/crm/v3/pipelines/deals").content)
    assert http.get("/crm/v3/pipelines/deals").json()["results"]
    fake.faults.replace_body({"odd": True}, path="/account-info/v3/details")
    assert http.get("/account-info/v3/details").json() == {"odd": True}
    fake.faults.fail(times=1, status=403, path="/automation/")
    assert http.get("/automation/v4/flows").json()["category"] == "MISSING_SCOPES"
    http.patch("/crm/v3/properties/contacts/email", json={"label": "x"})
    [write] = fake.non_read_requests()
    assert (write.method, write.path) == ("PATCH", "/crm/v3/properties/contacts/email")
    assert fake.calls("GET", "/crm/v3/owners")[0].query == {}


def test_account_usage_and_limits(http: httpx.Client) -> None:
    usage = http.get("/account-info/v3/api-usage/daily/private-apps").json()["results"][0]
    assert usage["name"] == "private-apps-api-calls-daily" and usage["fetchStatus"] == "SUCCESS"
    limits = http.get("/crm/v3/limits/custom-properties").json()
    assert {r["objectTypeId"]: r["usage"] for r in limits["byObjectType"]}["0-1"] == 8
    assert http.get("/account-info/v3/details").json()["portalId"] == 555
    schemas = http.get("/crm-object-schemas/v3/schemas").json()["results"]
    assert [s["fullyQualifiedName"] for s in schemas] == ["p555_project"]


def test_synthetic_portal_is_compact_and_as_described() -> None:
    portal = synthetic_portal(3000, 50_000)
    contacts = portal.objects["contacts"]
    assert len(contacts.properties) == 3000 and contacts.records.count == 50_000
    fills = [contacts.records.filled(p["name"]).bit_count() for p in contacts.properties]
    assert sum(1 for f in fills if f == 0) == 900  # 30% empty
    assert max(fills) == 50_000


def test_recorded_demo_portal_serves(token: str) -> None:
    portal = load_portal(recorded_portal_path())
    assert sum(len(o.properties) for o in portal.objects.values()) in range(60, 121)
    with serve_recorded_portal() as (base_url, demo_token):
        response = httpx.get(f"{base_url}/account-info/v3/details", headers={"Authorization": f"Bearer {demo_token}"})
        assert response.json()["portalId"] == 4471882
        assert demo_token != token
    with FakeHubSpot(portal) as fake:  # the fake's default token is not the demo's
        assert (
            httpx.get(f"{fake.base_url}/crm/v3/owners", headers={"Authorization": f"Bearer {demo_token}"}).status_code
            == 401
        )
