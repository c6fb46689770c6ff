"""The fake Salesforce follows the reference: envelopes, paging, strict SOQL, the dependency cap, composite
per-request status, 304s, the daily allocation, the OAuth endpoint and the request log."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from stackaudit.fakes.salesforce import (
    FakeSalesforce,
    SoqlError,
    load_org,
    parse_soql,
    recorded_org_path,
    serve_recorded_org,
    sf_id,
    synthetic_org,
)

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(load_org(recorded_org_path()), token="t", page_size=3, tooling_page_size=4) as server:
        yield server


@pytest.fixture(scope="module")
def http(fake: FakeSalesforce) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": "Bearer t"}) as client:
        yield client


def q(client: httpx.Client, soql: str, *, tooling: bool = False) -> httpx.Response:
    return client.get(f"{V}/{'tooling/' if tooling else ''}query/", params={"q": soql})


def test_parser_accepts_the_shapes_and_refuses_the_rest() -> None:
    query = parse_soql("select count(Id), MAX(SystemModstamp), COUNT(A__c) from Order where (B = true OR C != null) "
                       "AND CreatedDate >= 2026-01-01T00:00:00Z")
    assert query.entity == "Order" and [i.func for i in query.items] == ["COUNT", "MAX", "COUNT"]
    assert query.where[0].op == "OR" and len(query.where[0].value) == 2
    for bad, column in [("SELECT Id FROM Lead WHERE A = 1 OR B = 2", 33), ("SELECT Id, COUNT(Id) FROM Lead", 8),
                        ("SELECT FROM Lead", 8), ("SELECT Id FROM Lead GROUP BY Id", 21)]:
        with pytest.raises(SoqlError) as info:
            parse_soql(bad)
        assert info.value.code == "MALFORMED_QUERY" and info.value.column == column, bad


def test_unknown_names_fail_like_the_real_api(http: httpx.Client) -> None:
    bad_field = q(http, "SELECT Id, Foo__c FROM Lead")
    assert bad_field.status_code == 400
    body = bad_field.json()
    assert isinstance(body, list) and body[0]["errorCode"] == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:12\nNo such column 'Foo__c' on entity 'Lead'" in body[0]["message"]
    assert q(http, "SELECT Id FROM XYZZY").json()[0]["errorCode"] == "INVALID_TYPE"
    assert q(http, "SELECT Id FROM FlowDefinitionView", tooling=True).json()[0]["errorCode"] == "INVALID_TYPE"
    assert q(http, "SELECT Id FROM CustomField").json()[0]["errorCode"] == "INVALID_TYPE"
    nested = q(http, "SELECT SubscriberPackage.Nope FROM InstalledSubscriberPackage", tooling=True).json()
    assert nested[0]["errorCode"] == "INVALID_FIELD"
    one_row = q(http, "SELECT Id, FullName FROM CustomField", tooling=True).json()
    assert one_row[0]["errorCode"] == "MALFORMED_QUERY" and "no more than one row" in one_row[0]["message"]
    not_agg = q(http, "SELECT COUNT(Description) FROM Lead").json()
    assert not_agg[0]["errorCode"] == "INVALID_FIELD" and "aggregate" in not_agg[0]["message"]


def test_rest_paging_and_aggregates(http: httpx.Client) -> None:
    page = q(http, "SELECT Id, Email FROM Lead ORDER BY CreatedDate DESC LIMIT 5").json()
    assert page["done"] is False and page["totalSize"] == 5 and len(page["records"]) == 3
    assert page["records"][0]["attributes"]["type"] == "Lead"
    assert page["nextRecordsUrl"].startswith(f"{V}/query/01g")
    last = http.get(page["nextRecordsUrl"]).json()
    assert last["done"] is True and "nextRecordsUrl" not in last and len(last["records"]) == 2
    agg = q(http, "SELECT COUNT(Id), COUNT(Partner_Referral_Code__c), COUNT(Email) FROM Lead").json()
    assert agg == {"totalSize": 1, "done": True, "records": [{"attributes": {"type": "AggregateResult"},
                                                               "expr0": 2400, "expr1": 0, "expr2": 2400}]}
    count = q(http, "SELECT COUNT() FROM Lead WHERE Trade_Show_2022__c = true").json()
    assert count == {"totalSize": 0, "done": True, "records": []}


def test_tooling_envelope(http: httpx.Client) -> None:
    page = q(http, "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField", tooling=True).json()
    assert set(page) >= {"size", "totalSize", "done", "queryLocator", "entityTypeName", "records"}
    assert page["entityTypeName"] == "CustomField" and page["size"] == 4 and page["done"] is False
    assert page["records"][0]["attributes"]["url"].startswith(f"{V}/tooling/sobjects/CustomField/00N")
    empty = q(http, "SELECT Id FROM CustomField WHERE DeveloperName = 'Nope'", tooling=True).json()
    assert empty == {"size": 0, "totalSize": 0, "done": True, "queryLocator": None, "entityTypeName": None,
                     "records": []}
    custom = q(http, "SELECT Id, TableEnumOrId FROM CustomField WHERE DeveloperName = 'Account'",
               tooling=True).json()["records"]
    assert custom[0]["TableEnumOrId"].startswith("01I")  # a custom object's field: its object's Id


def test_dependency_cap_cuts_rows_without_paging() -> None:
    org = synthetic_org()
    with FakeSalesforce(org) as server, httpx.Client(base_url=server.base_url,
                                                     headers={"Authorization": "Bearer test-token"}) as client:
        page = q(client, "SELECT MetadataComponentId, RefMetadataComponentId FROM MetadataComponentDependency "
                         "WHERE RefMetadataComponentType = 'CustomField'", tooling=True).json()
        assert page["size"] == 2000 and page["done"] is True and "nextRecordsUrl" not in page
        assert len(org.tables["MetadataComponentDependency"]) > 2000
        ordered = q(client, "SELECT MetadataComponentId FROM MetadataComponentDependency ORDER BY MetadataComponentId",
                    tooling=True).json()
        assert ordered[0]["errorCode"] == "MALFORMED_QUERY"


def test_composite_answers_each_subrequest(http: httpx.Client, fake: FakeSalesforce) -> None:
    subs = [{"referenceId": "d", "method": "GET", "url": f"{V}/sobjects/Lead/describe"},
            {"referenceId": "ok", "method": "GET", "url": f"{V}/query/?q=" + quote("SELECT COUNT() FROM Account")},
            {"referenceId": "bad", "method": "GET", "url": f"{V}/query/?q=" + quote("SELECT COUNT() FROM XYZZY")}]
    before = fake.org.daily_used
    body = http.post(f"{V}/composite", json={"compositeRequest": subs}).json()["compositeResponse"]
    assert fake.org.daily_used == before + 1  # a composite counts once
    assert [(r["referenceId"], r["httpStatusCode"]) for r in body] == [("d", 200), ("ok", 200), ("bad", 400)]
    assert body[1]["body"] == {"totalSize": 640, "done": True, "records": []}
    assert body[2]["body"][0]["errorCode"] == "INVALID_TYPE"
    modified = body[0]["httpHeaders"]["Last-Modified"]
    again = http.post(f"{V}/composite", json={"compositeRequest": [
        {**subs[0], "httpHeaders": {"If-Modified-Since": modified}}]}).json()["compositeResponse"][0]
    assert again["httpStatusCode"] == 304 and again["body"] is None
    too_many = [{**subs[1], "referenceId": f"q{i}"} for i in range(6)]
    assert http.post(f"{V}/composite", json={"compositeRequest": too_many}).status_code == 400
    write = http.post(f"{V}/composite", json={"compositeRequest": [
        {"referenceId": "w", "method": "PATCH", "url": f"{V}/sobjects/Lead/00Q000000000001AAA"}]}).json()
    assert write["compositeResponse"][0]["httpStatusCode"] == 405
    assert fake.non_read_requests() and not fake.non_read_requests()[0].is_read


def test_describe_global_304_and_limit_header(http: httpx.Client) -> None:
    first = http.get(f"{V}/sobjects")
    assert first.status_code == 200 and len(first.json()["sobjects"]) == 28
    assert first.headers["Sforce-Limit-Info"].startswith("api-usage=")
    assert http.get(f"{V}/sobjects", headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304


def test_daily_allocation_runs_out_and_bad_sessions_fail() -> None:
    org = load_org(recorded_org_path())
    org.daily_used = org.daily_limit - 2
    with FakeSalesforce(org, token="t") as server, httpx.Client(base_url=server.base_url) as client:
        assert client.get(f"{V}/limits", headers={"Authorization": "Bearer nope"}).json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        auth = {"Authorization": "Bearer t"}
        limits = client.get(f"{V}/limits", headers=auth).json()["DailyApiRequests"]
        assert (limits["Max"], limits["Remaining"]) == (100_000, 1)
        assert client.get(f"{V}/limits", headers=auth).status_code == 200
        over = client.get(f"{V}/limits", headers=auth)
        assert over.status_code == 403 and over.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
        assert over.headers["Sforce-Limit-Info"] == "api-usage=100000/100000"


def test_oauth_token_endpoint() -> None:
    org = load_org(recorded_org_path())
    used_before = org.daily_used
    with FakeSalesforce(org, token="t", client_id="id", client_secret="s") as server, httpx.Client(
            base_url=server.base_url) as client:
        ok = client.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": "id",
                                                         "client_secret": "s"})
        assert ok.status_code == 200 and ok.json()["access_token"] == "t" and ok.json()["token_type"] == "Bearer"
        bad = client.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": "id",
                                                          "client_secret": "x"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
        assert all(r.is_read for r in server.requests) and org.daily_used == used_before  # logins are not counted


def test_serve_recorded_org_helper() -> None:
    with serve_recorded_org() as (base_url, token):
        response = httpx.get(f"{base_url}{V}/sobjects/Lead/describe", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert {f["name"] for f in response.json()["fields"]} >= {"Status", "Lead_Source_2__c", "Trade_Show_2022__c"}
    assert len(response.json()["fields"][0]) == 57  # every describe field carries the 57 recorded keys


def test_ids_look_like_salesforce_ids() -> None:
    value = sf_id("00N", "Lead.Score__c")
    assert len(value) == 18 and value.startswith("00N") and value == sf_id("00N", "Lead.Score__c")
