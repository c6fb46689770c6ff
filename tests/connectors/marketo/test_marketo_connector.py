"""The Marketo connector against the fake instance on loopback: what arrives, and every fault the reference names
(HTTP-200 error envelopes, a token expiring mid-pull, 606/615 waited out, 607 ending the pull with a partial result),
with only read requests and no secret in any message."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from stackaudit.fakes.marketo import FakeMarketo, load_instance, recorded_instance_path
from stackaudit_connectors.http import AuthError, QuotaError
from stackaudit_inventory import (
    Capability,
    CoverageStatus,
    FillMethod,
    IntegrationStatus,
    Origin,
    RunStatus,
)


def _summary(result: Any) -> dict[str, Any]:
    part = result.part
    return {
        "fields": sorted(f.id for f in part.fields),
        "assets": sorted(a.id for a in part.assets),
        "references": sorted((r.asset, r.field, r.mode) for r in part.references),
        "integrations": sorted(i.id for i in part.integrations),
    }


# --------------------------------------------------------------------------------------- what arrives


def test_demo_instance_fields_assets_references_and_sync(fake: FakeMarketo, pull: Any) -> None:
    result, _ = pull(fake)
    run, part = result.run, result.part
    assert run.status is RunStatus.complete, run.errors
    assert run.connector_type == "marketo" and run.tool == "marketo"
    assert run.api_calls == len(fake.requests)

    fields = {f.id: f for f in part.fields}
    email = fields["marketo:leads.email"]
    assert (email.type, email.custom, email.owning_tool, email.label) == (
        "string",
        False,
        "salesforce",
        "Email Address",
    )
    lsd = fields["marketo:leads.Lead_Source_Detail__c"]
    assert lsd.custom and lsd.owning_tool == "salesforce" and lsd.description == "Synced from Salesforce."
    assert fields["marketo:leads.trialWorkspaceId"].hidden
    assert fields["marketo:leads.fullName"].calculated
    assert fields["marketo:leads.numberOfEmployees"].type == "number"
    custom = sorted(f.name for f in part.fields if f.custom and f.object == "leads")
    assert custom == sorted(
        [
            "mqlDate",
            "Lead_Source_Detail__c",
            "Preferred_Language__c",
            "Product_Interest__c",
            "webinar2023Attended",
            "partnerReferralCode",
            "trialWorkspaceId",
            "leadScoreLegacy",
            "fullName",
        ]
    )
    # The custom object is listed without fields: they come from its describe call.
    assert [o.id for o in part.objects] == ["marketo:leads", "marketo:subscription_c"]
    assert fields["marketo:subscription_c.plan"].custom and not fields["marketo:subscription_c.marketoGUID"].custom
    assert fake.calls("GET", "/rest/v1/customobjects/subscription_c/describe.json")

    # Fill rates: one bulk extract of the last 30 days, sampled, counts only.
    fill = email.fill
    assert fill is not None and fill.method is FillMethod.sampled and fill.filled == fill.total == 431
    phone = fields["marketo:leads.phone"].fill
    assert phone is not None and phone.total == 431 and abs((phone.filled or 0) - 0.44 * 431) <= 1
    assert fields["marketo:leads.webinar2023Attended"].fill.filled == 0  # type: ignore[union-attr]
    assert fields["marketo:subscription_c.plan"].fill.method is FillMethod.unknown  # type: ignore[union-attr]
    assert "created 2026-10-31 to 2026-11-30" in (fill.note or "")

    assets = {a.id: a for a in part.assets}
    assert assets["marketo:form/1001"].active and not assets["marketo:form/1004"].active  # 1004 is a draft
    assert assets["marketo:smart-campaign/2001"].active and not assets["marketo:smart-campaign/2007"].active
    assert (
        assets["marketo:program/3003"].external_targets == ["salesforce"] and not assets["marketo:program/3003"].active
    )
    assert len([a for a in part.assets if a.kind == "smart-campaign"]) == 8

    refs = {(r.asset, r.field, r.mode) for r in part.references}
    assert ("marketo:form/1001", "marketo:leads.email", "write") in refs
    assert ("marketo:form/1001", "marketo:leads.country", "read") in refs  # visibility rule of State
    assert ("marketo:form/1002", "marketo:leads.webinar2023Attended", "write") in refs
    assert ("marketo:form/1003", "marketo:leads.Preferred_Language__c", "write") in refs
    assert not any("HtmlText" in r[1] for r in refs)

    (sync,) = part.integrations
    assert (sync.id, sync.source, sync.target, sync.direction, sync.origin) == (
        "marketo->salesforce",
        "marketo",
        "salesforce",
        "two-way",
        Origin.discovered,
    )
    mapped = {(m.source, m.target, m.direction, m.precedence) for m in sync.mappings}
    assert ("marketo:leads.email", "salesforce:Lead.Email", "both", "salesforce") in mapped
    assert ("marketo:leads.numberOfEmployees", "salesforce:Lead.NumberOfEmployees", "both", "salesforce") in mapped
    assert not any("sfdc" in m.source.lower() or "sfdc" in m.target.lower() for m in sync.mappings)
    assert sync.status is IntegrationStatus.error  # the spike is on the last two days
    assert (sync.window_days, sync.error_count) == (7, 2468)
    assert sync.error_rate is not None and sync.error_rate > 0.05
    assert sync.error_samples[0].startswith("REST API errors spiked on 2026-11-29: 1,659")

    (quota,) = run.quota
    assert (quota.used, quota.limit, quota.period) == (930, 50_000, "day")
    assert run.coverage[Capability.fill_rates].status is CoverageStatus.complete
    assert run.coverage[Capability.references].status is CoverageStatus.partial
    assert run.coverage[Capability.sync_health].status is CoverageStatus.partial
    (tool,) = part.tools
    assert (tool.id, tool.origin, tool.capabilities[0]) == ("marketo", Origin.discovered, "marketing-automation")
    assert fake.non_read_requests() == []


def test_only_reads_and_pages_are_followed(clock: Any, pull: Any) -> None:
    instance = load_instance(recorded_instance_path())
    with FakeMarketo(
        instance, client_id="mkto-test-client-id", client_secret="mkto-test-client-secret-8d1f", clock=clock
    ) as whole:
        baseline, _ = pull(whole)
    with FakeMarketo(
        instance,
        client_id="mkto-test-client-id",
        client_secret="mkto-test-client-secret-8d1f",
        clock=clock,
        max_page_size=2,
        token_on_last_page=True,
    ) as paged:
        result, _ = pull(paged)
    assert _summary(result) == _summary(baseline)
    assert len(paged.calls("GET", "/rest/v1/leads/schema/fields.json")) == 15  # 30 fields, 2 a page
    assert len(paged.calls("GET", "/rest/asset/v1/smartCampaigns.json")) == 5  # 8 campaigns, then "No assets found"
    assert paged.non_read_requests() == []
    assert {r.method for r in paged.requests} <= {"GET", "POST"}
    assert {r.path for r in paged.requests if r.method == "POST"} <= {
        "/bulk/v1/leads/export/create.json",
        *(r.path for r in paged.requests if r.path.endswith("/enqueue.json")),
    }


# ------------------------------------------------------------------------------------------- tokens


def test_token_expiring_mid_pull_is_refreshed_without_losing_data(fake: FakeMarketo, pull: Any, clock: Any) -> None:
    baseline, _ = pull(fake)
    fake.requests.clear()
    fake.faults.expire_token_after(6)
    result, connector = pull(fake)
    assert result.run.status is RunStatus.complete, result.run.errors
    assert _summary(result) == _summary(baseline)
    assert fake.codes() == ["602"]
    assert len(fake.calls(prefix="/identity/")) == 2
    assert connector.api.refreshes == 1
    assert any("refreshed 1 time" in n for n in result.run.notes)


def test_revoked_token_gets_one_refresh_then_the_pull_stops_keeping_what_it_read(fake: FakeMarketo, pull: Any) -> None:
    fake.faults.code("601", times=2, path="/rest/asset/v1/programs.json")
    result, connector = pull(fake)
    run = result.run
    assert fake.codes() == ["601", "601"]  # refreshed once in between, then given up
    assert connector.api.refreshes == 1
    assert run.status is RunStatus.partial
    assert any(e.code == "auth" and "601" in e.message for e in run.errors)
    assert run.notes[0] == "Partial pull: stopped at /rest/asset/v1/programs.json: auth; what was read before is kept."
    assert result.part.fields and not result.part.assets


def test_a_token_refused_at_the_first_call_fails_the_run(fake: FakeMarketo, pull: Any) -> None:
    fake.faults.code("601", times=2, path="/rest/v1/leads/describe2.json")
    with pytest.raises(AuthError, match="601"):
        pull(fake)


def test_bad_credentials_fail_the_run_without_leaking_the_secret(fake: FakeMarketo, pull: Any, secret: str) -> None:
    fake.client_secret = "another-secret"
    with pytest.raises(AuthError) as info:
        pull(fake)
    assert "401" in str(info.value) and "/identity/oauth/token" in str(info.value)
    assert secret not in str(info.value) and "client_secret" not in str(info.value)


# --------------------------------------------------------------------------------------- rate limits


@pytest.mark.parametrize("code", ["606", "615", "604"])
def test_throttle_codes_are_waited_out(fake: FakeMarketo, pull: Any, clock: Any, code: str) -> None:
    baseline, _ = pull(fake)
    clock.sleeps.clear()
    fake.faults.code(code, times=2, path="/rest/asset/v1/programs.json")
    result, connector = pull(fake)
    assert result.run.status is RunStatus.complete, result.run.errors
    assert _summary(result) == _summary(baseline)
    assert fake.codes().count(code) == 2
    assert connector.api.client.counter.retries == 2
    if code == "606":
        # Every thread waits out Marketo's 20-second window (on the fake clock: no real sleeping).
        assert sum(clock.sleeps) >= 40


def test_rate_window_of_the_fake_is_respected(clock: Any, pull: Any) -> None:
    instance = load_instance(recorded_instance_path())
    with FakeMarketo(
        instance,
        client_id="mkto-test-client-id",
        client_secret="mkto-test-client-secret-8d1f",
        clock=clock,
        rate_limit=(8, 20.0),
    ) as fake:
        result, _ = pull(fake, limits={"calls_per_20s": 8, "concurrent_calls": 2})
    assert result.run.status is RunStatus.complete, result.run.errors
    assert "606" not in fake.codes()  # the connector paced itself under the limit


def test_daily_quota_stops_the_pull_with_a_partial_result_that_says_so(fake: FakeMarketo, pull: Any) -> None:
    fake.faults.exhaust_daily(after=9)
    result, _ = pull(fake)
    run = result.run
    assert run.status is RunStatus.partial
    assert "607" in fake.codes()
    assert any(e.code == "quota" and "607" in e.message for e in run.errors)
    assert run.notes[0].startswith("Partial pull: stopped at")
    assert result.part.fields  # what was read before the quota ran out is kept
    assert run.coverage[Capability.references].status is CoverageStatus.partial
    calls_after = [r for r in fake.requests if r.code == "607"]
    assert len(calls_after) == 1  # the pull stopped at the first 607
    (sync,) = result.part.integrations  # built from the fields read before the stop, without API statistics
    assert sync.id == "marketo->salesforce" and sync.mappings and sync.error_count is None


def test_daily_quota_at_the_first_call_fails_the_run(fake: FakeMarketo, pull: Any) -> None:
    fake.faults.exhaust_daily(after=0)
    with pytest.raises(QuotaError, match="607"):
        pull(fake)


def test_transient_http_errors_are_retried(fake: FakeMarketo, pull: Any) -> None:
    fake.faults.fail(503, times=2, path="/rest/v1/leads/describe.json")
    result, _ = pull(fake)
    assert result.run.status is RunStatus.complete


# ----------------------------------------------------------------------------------------- fill rates


def test_fill_rates_off_are_unknown_never_guessed(fake: FakeMarketo, pull: Any) -> None:
    result, _ = pull(fake, options={"fill_rates": "off"})
    assert not fake.calls(prefix="/bulk/")
    assert all(f.fill is not None and f.fill.method is FillMethod.unknown for f in result.part.fields)
    assert result.run.coverage[Capability.fill_rates].status is CoverageStatus.missing


def test_a_refused_extract_leaves_fill_rates_unknown(fake: FakeMarketo, pull: Any) -> None:
    fake.faults.code("1029", path="/bulk/v1/leads/export/create.json", message="Export daily quota exceeded")
    result, _ = pull(fake)
    run = result.run
    assert run.status is RunStatus.partial
    assert run.coverage[Capability.fill_rates].status is CoverageStatus.missing
    assert all(f.fill is not None and f.fill.method is FillMethod.unknown for f in result.part.fields)
    assert any("1029" in e.message and "Export daily quota exceeded" in e.message for e in run.errors)


def test_an_extract_that_never_finishes_is_abandoned(fake: FakeMarketo, pull: Any, clock: Any) -> None:
    fake.routes.bulk_polls = 1000
    result, _ = pull(fake, extract_max_wait_seconds=60)
    cov = result.run.coverage[Capability.fill_rates]
    assert cov.status is CoverageStatus.missing and "still Processing" in (cov.reason or "")
    assert len(fake.calls("GET", "/bulk/")) == 13  # a poll every 5 s for 60 s, then give up


# -------------------------------------------------------------------------------------------- secrets


def test_no_secret_in_errors_logs_or_reprs(
    fake: FakeMarketo, pull: Any, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    token_holder: list[str] = []

    def leaky(*_: Any) -> None:
        token_holder.append(fake._token or "")

    fake.faults.code("1003", path="/rest/v1/leads/describe.json", message=f"bad request for secret {secret}")
    with caplog.at_level(logging.DEBUG):
        result, connector = pull(fake)
    token = fake.tokens_issued[-1]
    fake.faults.code("1003", path="/rest/asset/v1/forms.json", message=f"token {token} rejected")
    result2, _ = pull(fake)
    texts = [e.message for e in result.run.errors + result2.run.errors] + result.run.notes
    texts += [repr(connector.api.client), repr(connector.api.tokens), repr(connector.cfg), str(connector.cfg)]
    texts += [repr(connector.api.client._client.auth), caplog.text]
    joined = "\n".join(texts)
    assert "***" in joined
    assert secret not in joined and token not in joined
    assert "client_secret=***" in caplog.text  # httpx logs the identity URL; its query is redacted


# ------------------------------------------------------------------------------------------ call budget


def test_call_budget_of_a_larger_instance(clock: Any, pull: Any) -> None:
    """Calls grow with forms (one each) and pages, never with fields: 1 identity, 4 lead-schema calls (describe2,
    describe, schema pages of 300), 1 custom-object list, 5 for the bulk extract (create, enqueue, 2 polls, file),
    asset listings (pages of 200 plus the closing empty page), one per form, 2 stats."""
    from stackaudit.fakes.marketo import synthetic_instance

    instance = synthetic_instance(n_fields=350, n_forms=20, n_campaigns=250, n_programs=10, n_people=200)
    with FakeMarketo(
        instance, client_id="mkto-test-client-id", client_secret="mkto-test-client-secret-8d1f", clock=clock
    ) as fake:
        result, _ = pull(fake)
    assert result.run.status is RunStatus.complete
    assert len(result.part.fields) == 350 and len(result.part.assets) == 280
    assert result.run.api_calls == 1 + 4 + 1 + 5 + (2 + 3 + 2) + 20 + 2


def test_deadline_during_form_fields_ends_the_pull_as_partial(clock: Any, pull: Any) -> None:
    instance = load_instance(recorded_instance_path())
    with FakeMarketo(
        instance, client_id="mkto-test-client-id", client_secret="mkto-test-client-secret-8d1f", clock=clock
    ) as fake:
        fake.faults.code("606", times=50, path="/rest/asset/v1/form/")
        result, _ = pull(fake, deadline_seconds=100)
    run = result.run
    assert run.status is RunStatus.partial
    assert any(e.code == "deadline" for e in run.errors)
    assert run.notes[0].startswith("Partial pull: stopped at")
    assert result.part.fields and any(a.kind == "form" for a in result.part.assets)
