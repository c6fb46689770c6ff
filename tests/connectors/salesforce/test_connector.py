"""The Salesforce connector against the demo org on the fake server: completeness, planted problems, reads only,
failures (session, daily limit, refused fields), the quota guard, repeat pulls, OAuth and unconfirmed shapes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from stackaudit.fakes.salesforce import FakeOrg, FakeSalesforce, load_org, recorded_org_path
from stackaudit_connectors.base import ConnectorError, PullResult, available_types, load_connector_class
from stackaudit_inventory import Capability, CoverageStatus, FieldDef, FillMethod, RunStatus

from .conftest import NOW, TOKEN, Pull, make_connector

AUDITED = ["Account", "Campaign", "CampaignMember", "Case", "Contact", "Event", "Lead", "Opportunity",
           "Partner_Referral__c", "Product_Usage__c", "Task", "User"]


def fields_by_id(result: PullResult) -> dict[str, FieldDef]:
    return {f.id: f for f in result.part.fields}


def test_registered_as_entry_point() -> None:
    assert available_types().get("salesforce") is None
    assert load_connector_class("salesforce").__name__ == "SalesforceConnector"


def test_every_field_of_every_audited_object_arrives_complete(pull: Pull, demo_org: FakeOrg) -> None:
    result = pull()
    assert result.run.status is RunStatus.complete, result.run.errors
    assert sorted(o.name for o in result.part.objects) == AUDITED
    got = fields_by_id(result)
    users = demo_org.users
    for name in AUDITED:
        obj = demo_org.sobject(name)
        assert obj is not None
        for fake in obj.fields.values():
            fld = got[f"salesforce:{name}.{fake.name}"]
            assert fld.vendor_type == fake.type and fld.type and fld.label == fake.label
            assert fld.custom is fake.custom
            if fake.type in ("picklist", "multipicklist"):
                assert [o.value for o in fld.options or []] == [v["value"] for v in fake.values]
            if fake.reference_to:
                assert fld.reference_to == fake.reference_to
            assert fld.fill is not None, fld.id
            if fake.type in ("address", "location"):
                assert fld.fill.method is FillMethod.unknown and "compound" in (fld.fill.note or "")
                continue
            assert fld.fill.method in (FillMethod.exact, FillMethod.sampled), fld.id
            if fld.fill.method is FillMethod.exact and fake.type != "boolean":
                assert fld.fill.filled == (fake.bits.bit_count() if fake.name not in ("Id", "CreatedDate")
                                           else obj.records.count), fld.id
                assert fld.fill.total == obj.records.count
            if fake.custom:
                assert fld.description == fake.description
                assert fld.created_at is not None and fld.created_at.isoformat()[:19] == fake.created[:19]
                assert fld.created_by == users[fake.created_by or ""]
                assert fld.updated_at is not None and fld.updated_by
                assert fld.namespace == fake.namespace
    for fid, owner in [("salesforce:Lead.LeanData__Routing_Action__c", "leandata"),
                       ("salesforce:Account.x6sense__Intent_Score__c", "6sense"),
                       ("salesforce:Opportunity.Gong__Last_Call_Date__c", "gong")]:
        assert got[fid].owning_tool == owner
    assert got["salesforce:Lead.Lead_Source_2__c"].owning_tool is None


def test_references_come_from_flows_dependencies_and_packages(pull: Pull) -> None:
    result = pull()
    assets = {a.id: a for a in result.part.assets}
    refs: dict[str, set[str]] = {}
    for ref in result.part.references:
        refs.setdefault(ref.field, set()).add(ref.asset)

    def names(fid: str) -> dict[str, bool]:
        return {assets[a].name: assets[a].active for a in refs.get(fid, set())}

    assert names("salesforce:Lead.HubSpot_Score__c") == {
        "Lead Scoring Flow": True, "LeadScoreService": True, "Lead Layout": True}
    assert names("salesforce:Lead.Webinar_Attended__c") == {"Old Lead Router": False}
    assert names("salesforce:Lead.LeanData__Routing_Action__c") == {"LeanData (LeanData)": True}
    assert names("salesforce:Account.Legacy_Region__c") == {}
    flows = {a.name: a for a in result.part.assets if a.kind in ("flow", "process_builder")}
    assert flows["Old Lead Router"].kind == "process_builder" and not flows["Old Lead Router"].active
    assert flows["Lead Scoring Flow"].trigger_object == "Lead"
    cov = result.run.coverage[Capability.references]
    assert cov.status is CoverageStatus.partial and "reports" in (cov.reason or "")


def test_planted_problems_are_visible(pull: Pull) -> None:
    result = pull()
    got = fields_by_id(result)
    for fid in ("Lead.Trade_Show_2022__c", "Lead.Fax_Opt_In__c", "Contact.Webinar_Count__c", "Account.Old_ERP_ID__c",
                "Opportunity.Promo_Code_Q3__c", "Lead.Partner_Referral_Code__c"):
        fill = got[f"salesforce:{fid}"].fill
        assert fill is not None and fill.method is FillMethod.exact and fill.filled == 0 and fill.total, fid
    legacy = got["salesforce:Account.Legacy_Region__c"].fill
    assert legacy is not None and legacy.filled and legacy.filled > 500
    dup = got["salesforce:Lead.Lead_Source_2__c"]
    assert dup.fill is not None and dup.fill.newest_value_at is not None and dup.fill.newest_value_at.year == 2023
    status = got["salesforce:Lead.Status"]
    values = [o.value for o in status.options or []]
    assert "Unqualified" in values and "Recycled" in values and "Nurture" not in values
    assert result.part.lifecycle is not None
    assert {"salesforce:Lead.Status", "salesforce:Opportunity.StageName", "salesforce:Lead.Lifecycle_Stage__c",
            "salesforce:Contact.Lifecycle_Stage__c"} <= set(result.part.lifecycle.stage_fields)
    integrations = {i.id: i for i in result.part.integrations}
    intercom = integrations["intercom->salesforce:connected-app"]
    assert intercom.last_sync_at is not None and (NOW - intercom.last_sync_at).days == 119
    assert intercom.status.value == "unknown"
    hubspot = integrations["hubspot->salesforce:connected-app"].last_sync_at
    assert hubspot is not None and hubspot.isoformat().startswith("2026-11-10")
    tools = {t.id: t for t in result.part.tools}
    seats = tools["salesforce"].seats
    assert seats is not None and (seats.bought, seats.used) == (120, 112)
    assert {"leandata", "6sense", "gong", "hubspot"} <= set(tools)
    assert not any("mobile" in t or "workbench" in t or "sf-com" in t for t in tools)
    assert any("Workbench" in n and "Salesforce app" in n for n in result.run.notes)


def test_only_reads_and_calls_are_counted(pull: Pull, demo_fake: FakeSalesforce) -> None:
    result = pull()
    assert demo_fake.non_read_requests() == []
    assert all(m == "GET" for r in demo_fake.requests for m in r.sub_methods)
    assert {r.method for r in demo_fake.requests} <= {"GET", "POST"}
    assert result.run.api_calls == len(demo_fake.requests)
    quota = {q.name: q for q in result.run.quota}
    assert quota["daily_api_requests"].limit == 100_000
    assert quota["daily_api_requests"].used == quota["api_requests_before_pull"].used + result.run.api_calls - 1


def test_invalid_session_is_one_line_naming_what_to_refresh(demo_fake: FakeSalesforce) -> None:
    conn = make_connector(demo_fake, env={"SALESFORCE_ACCESS_TOKEN": "00DTEST!expired-token-value"})
    with pytest.raises(ConnectorError) as info:
        conn.pull()
    err = info.value
    assert err.code == "auth"
    text = str(err)
    assert "\n" not in text and text.startswith("connector 'salesforce': ")
    assert "INVALID_SESSION_ID" in text and "refresh the access token" in text
    assert "expired-token-value" not in text and TOKEN not in text


def test_session_expiring_mid_pull_is_the_same_line(demo_fake: FakeSalesforce) -> None:
    demo_fake.faults.expire_session(after=6)
    with pytest.raises(ConnectorError) as info:
        make_connector(demo_fake).pull()
    assert info.value.code == "auth" and TOKEN not in str(info.value)


def _first_fill_call(org: FakeOrg) -> int:
    with FakeSalesforce(org, token=TOKEN, page_size=15, tooling_page_size=25) as fake:
        make_connector(fake).pull()
        return next(i for i, r in enumerate(fake.requests) if any("COUNT" in u for u in r.sub_urls))


def test_request_limit_exceeded_keeps_a_partial_result_that_says_so() -> None:
    index = _first_fill_call(load_org(recorded_org_path()))
    with FakeSalesforce(load_org(recorded_org_path()), token=TOKEN, page_size=15, tooling_page_size=25) as fake:
        fake.faults.exhaust_daily(after=index + 2)
        result = make_connector(fake).pull()
    run = result.run
    assert run.status is RunStatus.partial
    assert any(e.code == "quota" and "REQUEST_LIMIT_EXCEEDED" in e.message for e in run.errors)
    assert result.part.fields, "fields read before the limit are kept"
    assert run.coverage[Capability.fields].status is CoverageStatus.complete
    for cap in (Capability.integrations, Capability.seats):
        assert run.coverage[cap].status is CoverageStatus.missing
        assert "daily API request limit" in (run.coverage[cap].reason or "")
    assert run.coverage[Capability.fill_rates].status in (CoverageStatus.partial, CoverageStatus.missing)
    assert any(f.fill and f.fill.method is FillMethod.exact for f in result.part.fields)


def test_invalid_field_in_a_count_batch_is_isolated(demo_org: FakeOrg) -> None:
    lead = demo_org.sobject("Lead")
    assert lead is not None
    bad = lead.field("UTM_Campaign__c")
    assert bad is not None
    bad.query_error = "INVALID_FIELD"
    with FakeSalesforce(demo_org, token=TOKEN) as fake:
        result = make_connector(fake).pull()
    got = fields_by_id(result)
    fill = got["salesforce:Lead.UTM_Campaign__c"].fill
    assert fill is not None and fill.method is FillMethod.unknown and "INVALID_FIELD" in (fill.note or "")
    others = [f for f in result.part.fields if f.object == "Lead" and f.name != "UTM_Campaign__c"]
    assert all(f.fill and f.fill.method is not FillMethod.unknown for f in others if f.type != "compound")
    assert [e.where for e in result.run.errors] == ["Lead.UTM_Campaign__c"]
    assert result.run.status is RunStatus.partial


def test_a_field_describe_calls_aggregatable_but_is_not_is_still_measured(demo_org: FakeOrg) -> None:
    lead = demo_org.sobject("Lead")
    assert lead is not None
    liar = lead.field("Description")
    assert liar is not None
    liar.describe = {"aggregatable": True}  # describe says yes; COUNT(Description) is refused
    with FakeSalesforce(demo_org, token=TOKEN) as fake:
        result = make_connector(fake).pull()
    fill = fields_by_id(result)["salesforce:Lead.Description"].fill
    assert fill is not None and fill.method in (FillMethod.exact, FillMethod.sampled) and fill.filled
    assert result.run.errors == []


def test_quota_guard_refuses_a_pull_above_its_share(demo_org: FakeOrg) -> None:
    demo_org.daily_used = demo_org.daily_limit - 150  # 150 left: 10% allows 15 calls
    with FakeSalesforce(demo_org, token=TOKEN) as fake:
        with pytest.raises(ConnectorError) as info:
            make_connector(fake).pull()
        assert info.value.code == "quota_guard"
        assert "max_api_share" in str(info.value) and "\n" not in str(info.value)
        assert len(fake.requests) <= 4, "only the discovery reads ran"
        assert not any(r.sub_urls and "describe" in r.sub_urls[0] for r in fake.requests)
        result = make_connector(fake, options={"max_api_share": 0.5}).pull()
    assert result.run.status is RunStatus.complete
    assert any("quota guard" in n and "50%" in n for n in result.run.notes)


def test_repeat_pull_reuses_describes_and_counts(demo_fake: FakeSalesforce, tmp_path: Path) -> None:
    options = {"cache_dir": str(tmp_path)}
    first = make_connector(demo_fake, options=options).pull()
    demo_fake.reset_log()
    second = make_connector(demo_fake, options=options).pull()
    assert second.run.status is RunStatus.complete
    assert not any(r.sub_urls and "/describe" in r.sub_urls[0] for r in demo_fake.requests)
    assert second.run.api_calls <= first.run.api_calls / 2, (first.run.api_calls, second.run.api_calls)
    assert {f.id: f.fill.filled for f in second.part.fields if f.fill} == {
        f.id: f.fill.filled for f in first.part.fields if f.fill}
    assert [f.model_dump(exclude={"fill"}) for f in second.part.fields] == [
        f.model_dump(exclude={"fill"}) for f in first.part.fields]


def test_changed_object_is_described_and_counted_again(demo_fake: FakeSalesforce, tmp_path: Path) -> None:
    options = {"cache_dir": str(tmp_path)}
    make_connector(demo_fake, options=options).pull()
    demo_fake.org.touch("Lead")
    demo_fake.org.touch_records("Account")
    demo_fake.reset_log()
    result = make_connector(demo_fake, options=options).pull()
    describes = [u for r in demo_fake.requests for u in r.sub_urls if u.endswith("/describe")]
    assert len(describes) == len(AUDITED)  # one composite, If-Modified-Since on each; only Lead answers 200
    described = next(r for r in demo_fake.requests if r.sub_urls and r.sub_urls[0].endswith("/describe"))
    assert all("If-Modified-Since" in (s.get("httpHeaders") or {}) for s in described.body["compositeRequest"])
    assert any("1 fetched, 11 reused" in n for n in result.run.notes)
    soql = [unquote(u.split("?q=", 1)[1]) for r in demo_fake.requests for u in r.sub_urls if "/query/?q=" in u]
    recounted = {q.split(" FROM ")[1].split(" ")[0] for q in soql if "COUNT(" in q or "ORDER BY CreatedDate" in q
                 if not q.startswith("SELECT COUNT(Id), MAX(SystemModstamp) FROM ") or q.count("COUNT(") > 1}
    assert recounted == {"Account"}


def test_oauth_client_credentials(demo_org: FakeOrg) -> None:
    with FakeSalesforce(demo_org, token=TOKEN, client_id="cid-123", client_secret="csecret-456") as fake:
        conn = make_connector(fake, access_token=None, client_id="${SF_ID}", client_secret="${SF_SECRET}",
                              env={"SF_ID": "cid-123", "SF_SECRET": "csecret-456"})
        result = conn.pull()
        assert result.run.status is RunStatus.complete
        assert fake.calls("POST", "/services/oauth2/token")
        assert result.run.api_calls == len(fake.requests)
        bad = make_connector(fake, access_token=None, client_id="${SF_ID}", client_secret="${SF_SECRET}",
                             env={"SF_ID": "cid-123", "SF_SECRET": "wrong-secret-789"})
        with pytest.raises(ConnectorError) as info:
            bad.pull()
    assert info.value.code == "auth" and "invalid_client" in str(info.value)
    assert "wrong-secret-789" not in str(info.value) and "cid-123" not in str(info.value)


def test_unconfirmed_fields_and_locator_paging_are_tolerated(demo_org: FakeOrg) -> None:
    demo_org.quirks.update({"flow_trigger_fields": False, "package_names": False})
    with FakeSalesforce(demo_org, token=TOKEN, tooling_page_size=5, tooling_next_url=False) as fake:
        result = make_connector(fake).pull()
    assert result.run.status is RunStatus.complete, result.run.errors
    flows = [a for a in result.part.assets if a.kind in ("flow", "process_builder")]
    assert len(flows) == 5 and all(a.trigger_object is None for a in flows)
    assert any("FlowDefinitionView: TriggerObjectOrEventLabel not available" in n for n in result.run.notes)
    assert {"leandata", "gong"} <= {t.id for t in result.part.tools}  # by namespace, without package names
    assert all(f.created_at for f in result.part.fields if f.custom)  # every CustomField page was followed


def test_composite_query_limit_lower_than_configured_is_halved(demo_org: FakeOrg) -> None:
    with FakeSalesforce(demo_org, token=TOKEN, max_composite_queries=2) as fake:
        result = make_connector(fake).pull()
    assert result.run.status is RunStatus.complete, result.run.errors
    assert all(f.fill is not None for f in result.part.fields)


def test_query_timeout_falls_back_to_a_recent_sample(demo_org: FakeOrg) -> None:
    demo_org.quirks["timeout_records"] = 2000
    with FakeSalesforce(demo_org, token=TOKEN) as fake:
        result = make_connector(fake).pull()
    got = fields_by_id(result)
    task = got["salesforce:Task.Gong_Call_URL__c"].fill
    assert task is not None and task.method is FillMethod.sampled and "created since 2026-09-01" in (task.note or "")
    account = got["salesforce:Account.Old_ERP_ID__c"].fill
    assert account is not None and account.method is FillMethod.exact  # 640 records: counted in full
    assert result.run.status is RunStatus.complete


def test_dependencies_are_partitioned_under_a_row_cap(demo_org: FakeOrg) -> None:
    demo_org.quirks["dependency_cap"] = 10
    with FakeSalesforce(demo_org, token=TOKEN) as fake:
        small = make_connector(fake, dependency_row_cap=10).pull()
    with FakeSalesforce(load_org(recorded_org_path()), token=TOKEN) as fake:
        full = make_connector(fake).pull()
    pairs = {(r.asset, r.field) for r in small.part.references}
    assert pairs == {(r.asset, r.field) for r in full.part.references}
    assert small.run.coverage[Capability.references].status is CoverageStatus.partial
    assert any("MetadataComponentDependency queries" in n and not n.startswith("where-used: 1 ")
               for n in small.run.notes)


def test_fill_rates_off(pull: Pull, demo_fake: FakeSalesforce) -> None:
    result = pull(options={"fill_rates": "off"})
    assert all(f.fill is None for f in result.part.fields)
    assert result.run.coverage[Capability.fill_rates].status is CoverageStatus.not_supported
    assert not any("COUNT%28" in u for r in demo_fake.requests for u in r.sub_urls)


def test_no_secret_in_errors(demo_fake: FakeSalesforce) -> None:
    body = [{"errorCode": "MALFORMED_QUERY", "message": f"cannot use session {TOKEN} here"}]
    demo_fake.faults.fail(times=1, status=400, path="/services/data/v62.0/tooling/query", body=body)
    result = make_connector(demo_fake).pull()
    text = " ".join(e.message for e in result.run.errors) + " ".join(result.run.notes)
    assert result.run.errors and TOKEN not in text and "***" in text


def test_instance_url_from_the_environment(demo_fake: FakeSalesforce) -> None:
    conn = make_connector(demo_fake, instance_url="${SF_URL}", env={"SF_URL": demo_fake.base_url + "/"})
    assert conn.pull().run.status is RunStatus.complete
    missing = make_connector(demo_fake, instance_url="${SF_URL}")
    with pytest.raises(ConnectorError) as info:
        missing.pull()
    assert info.value.code == "config" and "SF_URL is not set" in str(info.value)
