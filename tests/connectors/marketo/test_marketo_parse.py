"""Marketo's pure transforms, without HTTP: dates, tokens, the envelope, lead fields, assets, stats, CRM mappings,
fill-rate tallies, and how HTTP-200 error envelopes are classified."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackaudit_connectors.http import Outcome
from stackaudit_connectors.marketo import parse, parse_assets, parse_sync
from stackaudit_connectors.marketo.api import classify_marketo, envelope_error
from stackaudit_inventory import FillMethod, IntegrationStatus
from stackaudit_inventory.catalogue import load_catalogue

# Copies of ../shared/api-reference/marketo/ examples, kept in the repo so the tests run in any clone.
REF = Path(__file__).resolve().parent / "reference"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def ref(name: str) -> Any:
    return json.loads((REF / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------- primitives


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-11-18T15:25:35Z+0000", datetime(2015, 11, 18, 15, 25, 35, tzinfo=UTC)),
        ("2024-01-01T10:00:00Z", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        ("2024-01-01T10:00:00+0100", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        ("2024-01-01", datetime(2024, 1, 1, tzinfo=UTC)),
        ("not a date", None),
        (None, None),
        ("", None),
    ],
)
def test_parse_time_reads_marketo_dates(text: Any, expected: datetime | None) -> None:
    assert parse.parse_time(text) == expected


def test_parse_token_from_the_reference_and_bad_bodies() -> None:
    token, expires, scope = parse.parse_token(ref("identity-oauth-token.json"))
    assert token.endswith(":int") and expires == 3599 and scope == "apis@acmeinc.com"
    with pytest.raises(ValueError, match="access_token"):
        parse.parse_token({"expires_in": 10})
    with pytest.raises(ValueError):
        parse.parse_token([])


def test_results_of_treats_the_no_assets_warning_as_an_empty_page() -> None:
    assert parse.results_of(ref("asset-no-more-results.CONSTRUCTED.json")) == ([], None)
    assert parse.results_of({"result": {"x": 1}})[1] == "'result' is dict, not a list"
    assert parse.results_of("nope")[1] is not None


@pytest.mark.parametrize(
    ("file", "outcome", "rate_limited"),
    [
        ("error-601-response-level.json", Outcome.auth, False),
        ("error-602-token-expired.CONSTRUCTED.json", Outcome.auth, False),
        ("error-606-rate-limit.CONSTRUCTED.json", Outcome.retriable, True),
        ("error-615-concurrency.CONSTRUCTED.json", Outcome.retriable, False),
        ("error-607-daily-quota.CONSTRUCTED.json", Outcome.quota, False),
        ("rest-v1-leads-describe2.json", Outcome.ok, False),
    ],
)
def test_classify_reads_errors_inside_http_200(file: str, outcome: Outcome, rate_limited: bool) -> None:
    response = httpx.Response(200, json=ref(file))
    verdict = classify_marketo(response)
    assert verdict.outcome is outcome
    assert verdict.rate_limited is rate_limited
    if file.startswith("error-606"):
        assert verdict.retry_after == 20.0


def test_classify_other_codes_and_http_statuses() -> None:
    def verdict(code: str) -> Outcome:
        return classify_marketo(httpx.Response(200, json={"success": False, "errors": [{"code": code}]})).outcome

    assert verdict("603") is Outcome.missing_scope
    assert verdict("604") is Outcome.retriable
    assert verdict("702") is Outcome.ok
    assert verdict("1003") is Outcome.fatal
    assert classify_marketo(httpx.Response(401, json={})).outcome is Outcome.auth
    assert classify_marketo(httpx.Response(503)).outcome is Outcome.retriable
    csv_file = httpx.Response(200, text="email\nx\n", headers={"Content-Type": "text/csv"})
    assert classify_marketo(csv_file).outcome is Outcome.ok
    assert envelope_error({"success": False}) == ("unknown", "no message")
    assert envelope_error({"success": True, "errors": [{"code": "601"}]}) is None


# ------------------------------------------------------------------------------------------- lead fields


def _describe2(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"success": True, "result": [{"name": "API Lead", "searchableFields": [], "fields": list(fields)}]}


def test_lead_fields_merge_the_three_describe_sources() -> None:
    describe2 = _describe2(
        {"name": "email", "displayName": "Email", "dataType": "email", "updateable": True, "crmManaged": True},
        {
            "name": "Lead_Source_Detail__c",
            "displayName": "LSD",
            "dataType": "string",
            "length": 255,
            "updateable": True,
            "crmManaged": True,
        },
        {
            "name": "fullName",
            "displayName": "Full Name",
            "dataType": "formula",
            "updateable": False,
            "crmManaged": False,
        },
        {
            "name": "sfdcLeadId",
            "displayName": "SFDC Lead ID",
            "dataType": "string",
            "updateable": False,
            "crmManaged": True,
        },
    )
    schema = [
        {"name": "email", "isCustom": False, "description": None, "isHidden": False, "dataType": "email"},
        {"name": "Lead_Source_Detail__c", "isCustom": True, "description": " Synced ", "isHidden": True},
        {"name": "fullName", "isCustom": True},
        {"name": "onlyInSchema", "displayName": "Only", "dataType": "integer", "isCustom": True},
    ]
    describe = {"result": [{"id": 48, "rest": {"name": "email"}, "soap": {"name": "Email"}}]}
    out = parse.parse_lead_fields(describe2, schema, describe, tool="marketo", crm="salesforce")
    by_name = {f.name: f for f in out.fields}
    assert list(by_name) == ["email", "Lead_Source_Detail__c", "fullName", "sfdcLeadId", "onlyInSchema"]
    assert by_name["email"].id == "marketo:leads.email" and by_name["email"].type == "string"
    assert by_name["email"].owning_tool == "salesforce" and not by_name["email"].custom
    lsd = by_name["Lead_Source_Detail__c"]
    assert lsd.custom and lsd.hidden and lsd.description == "Synced" and lsd.length == 255
    assert by_name["fullName"].calculated and by_name["fullName"].owning_tool is None
    assert by_name["onlyInSchema"].type == "number"
    assert out.crm_managed == {"email": True, "Lead_Source_Detail__c": True, "sfdcLeadId": False}
    assert out.soap_to_rest == {"Email": "email"}
    assert out.rest_name("Email") == "email"
    assert out.rest_name("lead_source_detail__c") == "Lead_Source_Detail__c"  # case-insensitive fallback
    assert out.rest_name("HtmlText_1") is None


def test_lead_fields_from_the_reference_examples() -> None:
    out = parse.parse_lead_fields(
        ref("rest-v1-leads-describe2.json"),
        parse.results_of(ref("rest-v1-leads-schema-fields.json"))[0],
        ref("rest-v1-leads-describe.json"),
        tool="marketo",
        crm=None,
        catalogue=load_catalogue(),
    )
    names = [f.name for f in out.fields]
    assert names[:3] == ["AccountSource", "acquisitionProgramId", "annualRevenue"]
    assert {"salutation", "firstName"} <= set(names)
    assert out.soap_to_rest["Company"] == "company"
    assert not out.problems


def test_lead_fields_without_schema_or_describe_still_parse() -> None:
    out = parse.parse_lead_fields(_describe2({"name": "x", "dataType": "string"}), None, None, tool="mkto", crm=None)
    assert [f.id for f in out.fields] == ["mkto:leads.x"]
    assert not out.custom_known and not out.fields[0].custom
    bad = parse.parse_lead_fields({"result": "oops"}, [], None, tool="m", crm=None)
    assert bad.problems


def test_custom_objects_listed_with_or_without_fields() -> None:
    body = {
        "result": [
            {
                "name": "car_c",
                "displayName": "Car",
                "fields": [
                    {"name": "marketoGUID", "dataType": "string"},
                    {"name": "vin", "dataType": "string", "crmManaged": True},
                ],
            },
            {"apiName": "bare_c"},
            {"displayName": "no name"},
        ]
    }
    objects, raws, problems = parse.parse_custom_objects(body, tool="marketo")
    assert [o.id for o in objects] == ["marketo:car_c", "marketo:bare_c"] and all(o.custom for o in objects)
    assert len(problems) == 1
    fields = parse.custom_object_fields(raws[0], tool="marketo", crm="salesforce")
    assert [(f.id, f.custom, f.owning_tool) for f in fields] == [
        ("marketo:car_c.marketoGUID", False, None),
        ("marketo:car_c.vin", True, "salesforce"),
    ]
    assert parse.custom_object_fields(raws[1], tool="marketo", crm=None) == []


# ------------------------------------------------------------------------------------------------- fill


def test_tally_and_fill_rates_keep_counts_only() -> None:
    tally = parse.tally_csv('email,phone,score\na@b.c,,1\nd@e.f,null,\n"x,y",+1,2\n')
    assert tally.rows == 3 and tally.filled == {"email": 3, "phone": 1, "score": 2}
    rates = parse.fill_rates(tally, ["email", "phone", "absent"], measured_at=NOW, note="extract")
    assert rates["email"].method is FillMethod.sampled and rates["email"].rate == 1.0
    assert (rates["phone"].filled, rates["phone"].total) == (1, 3)
    assert rates["absent"].method is FillMethod.unknown and "not in the extract" in (rates["absent"].note or "")
    empty = parse.fill_rates(parse.tally_csv("email\n"), ["email"], measured_at=NOW, note="n")
    assert empty["email"].method is FillMethod.unknown and "no person" in (empty["email"].note or "")
    assert parse.tally_csv("").rows == 0


# ----------------------------------------------------------------------------------------------- assets


def test_forms_campaigns_and_programs_from_the_reference() -> None:
    form = parse_assets.form_asset(parse.results_of(ref("rest-asset-v1-forms.json"))[0][0], tool="marketo")
    assert form.id == "marketo:form/227" and form.kind == "form" and not form.active  # a draft
    assert form.last_modified_at == datetime(2016, 5, 18, 20, 36, 20, tzinfo=UTC)
    campaigns = [
        parse_assets.smart_campaign_asset(c, tool="marketo")
        for c in parse.results_of(ref("rest-asset-v1-smartCampaigns.json"))[0]
    ]
    assert [c.id for c in campaigns] == ["marketo:smart-campaign/1001", "marketo:smart-campaign/1002"]
    assert not any(c.active for c in campaigns)
    programs = [
        parse_assets.program_asset(p, tool="marketo", crm="salesforce")
        for p in parse.results_of(ref("rest-asset-v1-programs.json"))[0]
    ]
    assert [(p.name, p.active) for p in programs] == [("clone it", True), ("email prog", False)]
    synced = parse_assets.program_asset({"id": 9, "status": "off", "sfdcId": "701"}, tool="m", crm="salesforce")
    assert synced.external_targets == ["salesforce"] and not synced.active


def test_form_fields_write_lead_fields_and_visibility_rules_read_them() -> None:
    lead = parse.parse_lead_fields(
        _describe2({"name": "email"}, {"name": "firstName"}, {"name": "country"}),
        None,
        {
            "result": [
                {"rest": {"name": "email"}, "soap": {"name": "Email"}},
                {"rest": {"name": "firstName"}, "soap": {"name": "FirstName"}},
            ]
        },
        tool="marketo",
        crm=None,
    )
    items = ref("rest-asset-v1-form-id-fields.json")["result"] + [
        {"id": "HtmlText_2024", "dataType": "htmltext"},
        {
            "id": "State",
            "dataType": "string",
            "visibilityRules": {"ruleType": "show", "rules": [{"subjectField": "Country"}]},
        },
        {"id": "Email", "dataType": "email"},
    ]
    refs = parse_assets.form_references("marketo:form/1", items, lead_fields=lead, tool="marketo")
    assert [(r.field, r.mode, r.context) for r in refs.references] == [
        ("marketo:leads.firstName", "write", "form field"),
        ("marketo:leads.email", "write", "form field"),
        ("marketo:leads.country", "read", "form visibility rule"),
    ]
    assert refs.unresolved == ["State"]


# ------------------------------------------------------------------------------------------- CRM and stats


def test_stats_from_the_reference_give_quota_and_counts() -> None:
    stats = parse_sync.parse_stats(ref("rest-v1-stats-usage.json"), ref("rest-v1-stats-errors.json"))
    assert stats.usage == {date(2015, 10, 17): 1120}
    assert stats.error_total == 73 and stats.record_errors == 0 and stats.successes == 1120
    quota = stats.quota(limit=50_000, observed_at=NOW)
    assert quota is not None and (quota.used, quota.limit, quota.period) == (1120, 50_000, "day")
    assert parse_sync.parse_stats(None, None).days == 0


def _stats(errors: list[int], usage: int = 1000) -> parse_sync.ApiStats:
    days = [f"2026-11-{d:02d}" for d in range(24, 24 + len(errors))]
    return parse_sync.parse_stats(
        {"result": [{"date": d, "total": usage} for d in days]},
        {
            "result": [
                {"date": d, "errors": [{"errorCode": "1003", "count": n}]} for d, n in zip(days, errors, strict=True)
            ]
        },
    )


def test_error_spikes_make_the_sync_integration_an_error() -> None:
    stats = _stats([10, 12, 9, 11, 10, 400, 250])
    assert [d.day.day for d, _ in stats.spikes(3.0)] == [29, 30]
    integ = parse_sync.sync_integration(
        tool="marketo", crm="salesforce", mappings=[], stats=stats, spike_factor=3.0, run_id="marketo"
    )
    assert integ.id == "marketo->salesforce" and integ.direction == "two-way"
    assert (integ.error_count, integ.window_days) == (702, 7)
    assert integ.success_count == 7000 - 702  # 1xxx errors happen inside counted calls
    assert integ.status is IntegrationStatus.error
    assert integ.error_samples[0].startswith("REST API errors spiked on 2026-11-29: 400")
    calm = parse_sync.sync_integration(
        tool="marketo", crm="salesforce", mappings=[], stats=_stats([10, 12, 9]), spike_factor=3.0, run_id="m"
    )
    assert calm.status is IntegrationStatus.active and len(calm.error_samples) == 1
    bare = parse_sync.sync_integration(
        tool="marketo", crm="salesforce", mappings=[], stats=None, spike_factor=3.0, run_id="m"
    )
    assert bare.error_count is None and bare.success_count is None


def test_crm_mappings_by_salesforce_api_name() -> None:
    lead = parse.parse_lead_fields(
        _describe2(
            {"name": "email", "crmManaged": True, "updateable": True},
            {"name": "Region__c", "crmManaged": True, "updateable": False},
            {"name": "sfdcLeadId", "crmManaged": True, "updateable": False},
            {"name": "mystery", "crmManaged": True},
            {"name": "leadScore", "crmManaged": False},
        ),
        None,
        {"result": [{"rest": {"name": "email"}, "soap": {"name": "Email"}}]},
        tool="marketo",
        crm="salesforce",
    )
    mappings, skipped = parse_sync.crm_mappings(lead, tool="marketo", crm="salesforce", objects=["Lead", "Contact"])
    pairs = [(m.source, m.target, m.direction, m.precedence) for m in mappings]
    assert pairs == [
        ("salesforce:Lead.Region__c", "marketo:leads.Region__c", "forward", None),
        ("salesforce:Contact.Region__c", "marketo:leads.Region__c", "forward", None),
        ("marketo:leads.email", "salesforce:Lead.Email", "both", "salesforce"),
        ("marketo:leads.email", "salesforce:Contact.Email", "both", "salesforce"),
    ]
    assert skipped == ["mystery"]


def test_resolve_crm_prefers_config_then_sfdc_fields_then_the_manifest() -> None:
    cat = load_catalogue()
    sfdc = parse.parse_lead_fields(_describe2({"name": "sfdcLeadId"}), None, None, tool="m", crm=None)
    plain = parse.parse_lead_fields(_describe2({"name": "email"}), None, None, tool="m", crm=None)
    assert parse_sync.resolve_crm("dynamics", {}, sfdc, cat)[:2] == ("dynamics", False)
    assert parse_sync.resolve_crm(None, {"sfdc": "Salesforce Sales Cloud"}, sfdc, cat)[:2] == ("sfdc", True)
    assert parse_sync.resolve_crm(None, {}, sfdc, cat)[:2] == ("salesforce", True)
    assert parse_sync.resolve_crm(None, {"salesforce": "Salesforce"}, plain, cat)[:2] == ("salesforce", True)
    none = parse_sync.resolve_crm(None, {"hubspot-x": "Mailchimp"}, plain, cat)
    assert none[0] is None and "set `crm`" in none[2]
    two = parse_sync.resolve_crm(None, {"salesforce": "Salesforce", "pipedrive": "Pipedrive"}, plain, cat)
    assert two[0] is None and "several CRMs" in two[2]
