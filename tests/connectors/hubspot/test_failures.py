"""Failure paths against the fake: bad tokens, throttling, the daily limit, broken pages, missing scopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stackaudit.fakes.hubspot import FakeHubSpot
from stackaudit_connectors.base import ConnectorConfigError, ConnectorError, PullResult
from stackaudit_connectors.http import RetryPolicy
from stackaudit_inventory import Capability, CoverageStatus, RunStatus

Puller = Callable[..., PullResult]


def field_ids(result: PullResult) -> set[str]:
    return {f.id for f in result.part.fields}


def codes(result: PullResult) -> list[str]:
    return [e.code for e in result.run.errors]


def test_rejected_token_is_one_line_naming_connector_and_env_var(fake: FakeHubSpot, pull: Puller, token: str) -> None:
    with pytest.raises(ConnectorError) as err:
        pull(env={"HUBSPOT_TOKEN": "pat-na1-wrong-" + token[::-1]})
    message = str(err.value)
    assert message.startswith("connector 'hubspot': HubSpot rejected the token from environment variable HUBSPOT_TOKEN")
    assert "\n" not in message and err.value.code == "auth"
    assert token[::-1] not in message and token not in message
    assert len(fake.requests) == 1  # the first call checks the token; nothing else is tried


def test_missing_token(fake: FakeHubSpot, pull: Puller) -> None:
    with pytest.raises(ConnectorConfigError, match="environment variable HUBSPOT_TOKEN is not set"):
        pull(env={})
    with pytest.raises(ConnectorConfigError, match="'token' is not set"):
        pull(token=None)
    assert fake.requests == []


def test_ten_secondly_429_is_waited_out(
    serve: Callable[..., Any], spec: Callable[[], dict[str, Any]], puller: Puller
) -> None:
    # The fake allows 50 requests per rolling second and sends neither rate headers nor Retry-After; the
    # connector is told twice that. It must back off, slow down, and lose nothing.
    with serve(spec(), rate_limit=(50, 1.0), rate_headers=False) as fake:
        # Backoff scaled to the fake's 1-second window as production's is to HubSpot's 10 seconds.
        policy = RetryPolicy(max_attempts=6, backoff_base=0.1, backoff_cap=2.0)
        result = puller(fake, limits={"requests_per_10s": 1000, "search_per_second": 1000}, retry_policy=policy)
    throttled = [r for r in fake.requests if r.status == 429]
    assert throttled, "the fake never throttled: the test proves nothing"
    assert result.run.errors == []
    assert result.run.status is RunStatus.complete
    assert len(result.part.fields) == 24
    assert any("throttled by HubSpot" in n and " 0 throttled" not in n for n in result.run.notes)


def test_no_429_when_the_limits_are_known(
    serve: Callable[..., Any], spec: Callable[[], dict[str, Any]], puller: Puller
) -> None:
    """Told the truth (or reading it from headers), the limiter keeps the vendor from ever saying 429."""
    with serve(spec(), rate_limit=(40, 1.0), search_rate_limit=(20, 1.0)) as fake:
        result = puller(fake, limits={"requests_per_10s": 400, "search_per_second": 20})
    assert [r for r in fake.requests if r.status == 429] == []
    assert result.run.status is RunStatus.complete


def test_daily_limit_ends_the_pull_with_a_partial_snapshot(fake: FakeHubSpot, pull: Puller) -> None:
    fake.faults.exhaust_daily(after=70)  # during the contacts sample
    result = pull()
    run = result.run
    assert run.status is RunStatus.partial
    assert "quota" in codes(result)
    [quota] = [e for e in run.errors if e.code == "quota"]
    assert "daily" in quota.message and "what was read is kept" in quota.message
    # Properties were read before the limit: kept. The fill rates that needed more calls are not.
    assert "hubspot:contacts.email" in field_ids(result)
    cov = run.coverage
    assert cov[Capability.fields].status is CoverageStatus.complete
    assert cov[Capability.fill_rates].status is CoverageStatus.partial
    assert "daily API limit" in (cov[Capability.fill_rates].reason or "")
    assert "companies" in (cov[Capability.fill_rates].detail or "")  # never reached: named, not silently empty
    assert cov[Capability.sync_health].status is CoverageStatus.missing
    # Nothing is retried against a daily limit: only the requests already in flight (4 threads) saw the 429.
    assert 1 <= sum(1 for r in fake.requests if r.status == 429) <= 4
    assert run.api_calls == len(fake.requests)


def test_malformed_page_loses_only_that_object(fake: FakeHubSpot, pull: Puller) -> None:
    fake.faults.truncate(path="/crm/v3/properties/companies", times=1)
    fake.faults.replace_body({"id": "102", "oops": True}, path="/automation/v4/flows/102")
    result = pull()
    ids = field_ids(result)
    assert not any(i.startswith("hubspot:companies.") for i in ids)
    assert "hubspot:contacts.email" in ids and "hubspot:deals.amount" in ids
    assert result.run.status is RunStatus.partial
    assert codes(result).count("malformed") == 2
    fields_cov = result.run.coverage[Capability.fields]
    assert fields_cov.status is CoverageStatus.partial and "companies" in (fields_cov.detail or "")
    # The workflow whose details were malformed is kept from its listing, without references.
    assets = {a.id: a for a in result.part.assets}
    assert assets["hubspot:workflow/102"].name == "Old partner routing"
    assert not [r for r in result.part.references if r.asset == "hubspot:workflow/102"]
    assert result.run.coverage[Capability.references].status is CoverageStatus.partial


def test_malformed_property_is_skipped_and_reported(
    serve: Callable[..., Any], spec: Callable[[], dict[str, Any]], puller: Puller
) -> None:
    description = spec()
    description["objects"]["contacts"]["properties"].append({"raw": {"label": "no name", "type": "string"}})
    with serve(description) as fake:
        result = puller(fake)
    assert len(result.part.fields) == 24
    assert codes(result) == ["malformed"]
    assert "property #15" in result.run.errors[0].message


def test_5xx_bursts_are_retried(fake: FakeHubSpot, pull: Puller) -> None:
    fake.faults.fail(times=3, status=500, path="/crm/v3/owners")
    fake.faults.fail(times=2, status=503, path="/crm/v3/objects/contacts/search")
    result = pull()
    assert result.run.status is RunStatus.complete
    assert result.part.tools[0].seats is not None and result.part.tools[0].seats.used == 5
    assert any("5 retries" in n for n in result.run.notes)


def test_missing_scope_is_recorded_and_the_rest_goes_on(fake: FakeHubSpot, pull: Puller) -> None:
    fake.faults.fail(times=100, status=403, path="/automation/")
    result = pull()
    refs = result.run.coverage[Capability.references]
    assert refs.status is CoverageStatus.partial and "workflows" in (refs.reason or "")
    [err] = [e for e in result.run.errors if e.code == "scope"]
    assert "grant the read scope automation" in err.message
    assert result.run.coverage[Capability.fields].status is CoverageStatus.complete
    assert not [a for a in result.part.assets if a.kind == "workflow"]
    assert [a for a in result.part.assets if a.kind == "form"]


def test_a_token_that_stops_working_mid_pull_keeps_what_was_read(fake: FakeHubSpot, pull: Puller) -> None:
    fake.faults.fail(times=100, status=401, path="/marketing/v3/forms")
    result = pull()
    assert result.run.status is RunStatus.partial
    assert "auth" in codes(result)
    assert "hubspot:contacts.email" in field_ids(result)
    assert result.run.coverage[Capability.fill_rates].status is CoverageStatus.missing


def test_errors_never_carry_the_token(fake: FakeHubSpot, pull: Puller, token: str) -> None:
    fake.faults.replace_body({"results": f"token {token}"}, path="/crm/v3/properties/deals")
    fake.faults.fail(times=100, status=403, path="/crm/v3/lists")
    result = pull()
    assert result.run.errors
    assert token not in result.model_dump_json()
