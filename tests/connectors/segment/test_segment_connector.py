"""The Segment connector against the fake workspace on loopback: tools, integrations and delivery health arrive
correctly; wrapped bodies, cursors, media types and 429s are handled; only GETs; no token in any message."""

from __future__ import annotations

from typing import Any

import pytest

from stackaudit.fakes.segment import ACCEPTED_MEDIA_TYPES, FakeSegment, load_workspace, recorded_workspace_path
from stackaudit_connectors.http import AuthError
from stackaudit_connectors.segment.api import BETA, GA
from stackaudit_inventory import Capability, CoverageStatus, IntegrationStatus, Origin, RunStatus

HOUR_WINDOW = 7 * 24


def _summary(result: Any) -> dict[str, Any]:
    part = result.part
    return {
        "tools": sorted(t.id for t in part.tools),
        "assets": sorted(a.id for a in part.assets),
        "integrations": sorted(
            (i.id, i.status, i.error_count, i.success_count, i.last_success_at) for i in part.integrations
        ),
    }


def test_demo_workspace_tools_integrations_and_health(fake: FakeSegment, pull: Any) -> None:
    result, _ = pull(fake)
    run, part = result.run, result.part
    assert run.status is RunStatus.complete, run.errors
    assert run.api_calls == len(fake.requests)

    tools = {t.id: t for t in part.tools}
    assert sorted(tools) == [
        "amplitude",
        "appcues",
        "fullstory",
        "google-ads",
        "google-analytics-4",
        "hubspot",
        "linkedin-ads",
        "mixpanel",
        "salesforce",
        "segment",
        "snowflake",
    ]
    assert all(t.origin is Origin.discovered and t.discovered_by == ["segment"] for t in tools.values())
    assert tools["mixpanel"].capabilities[0] == tools["amplitude"].capabilities[0] == "product-analytics"
    assert tools["fullstory"].capabilities[0] == "session-replay"
    assert tools["mixpanel"].last_activity_at is not None and tools["salesforce"].last_activity_at is None
    assert "Destinations whose tools the manifest does not declare: fullstory." in run.notes

    flows = {i.id: i for i in part.integrations}
    assert sorted(flows) == [
        "segment->amplitude",
        "segment->appcues",
        "segment->fullstory",
        "segment->google-ads",
        "segment->google-analytics-4",
        "segment->hubspot",
        "segment->linkedin-ads",
        "segment->mixpanel",
        "segment->salesforce",
        "segment->snowflake",
    ]
    hubspot = flows["segment->hubspot"]
    assert (hubspot.source, hubspot.target, hubspot.origin, hubspot.window_days) == (
        "segment",
        "hubspot",
        Origin.discovered,
        7,
    )
    # Successes stop at the last delivery (08:59), one minute before the window ends.
    assert (hubspot.success_count, hubspot.error_count) == (int(800 * (HOUR_WINDOW - 1 / 60)), 520 * HOUR_WINDOW)
    assert hubspot.error_rate is not None and hubspot.error_rate > 0.35
    assert hubspot.error_samples[0].startswith("delivery failures: bad-request x")
    assert hubspot.status is IntegrationStatus.active
    mixpanel = flows["segment->mixpanel"]
    assert mixpanel.error_rate is not None and mixpanel.error_rate < 0.001
    # Last successful delivery known to the minute (a bucket start: never later than the truth).
    assert mixpanel.last_success_at is not None and mixpanel.last_success_at.isoformat() == "2026-11-30T08:58:00+00:00"
    linkedin = flows["segment->linkedin-ads"]
    assert (linkedin.error_count, linkedin.error_samples) == (0, [])
    salesforce = flows["segment->salesforce"]
    assert salesforce.status is IntegrationStatus.disabled and salesforce.error_count is None
    assert any("disabled but still connected" in n and "segment->salesforce" in n for n in run.notes)
    assert flows["segment->snowflake"].status is IntegrationStatus.active
    # Appcues' destination was switched off in May: still configured, nothing delivered.
    assert flows["segment->appcues"].status is IntegrationStatus.disabled
    assert any("disabled but still connected" in n and "segment->appcues" in n for n in run.notes)

    assets = {a.id: a for a in part.assets}
    assert assets["segment:destination/kL2vtV17MYby4bBRw263ls"].external_targets == ["hubspot"]
    assert not assets["segment:destination/lM3wuW28NZcz5cCSx374mt"].active
    assert not assets["segment:source/sT6CEaq7RElwYGDljcn2qS"].active
    assert assets["segment:warehouse/wA1bCdEfGhIjKlMnOpQrSt"].external_targets == ["snowflake"]
    assert "segment:tracking-plan/tp_2UXbYXVkvZx0KmWTLXpdF1Hd9Dn" in assets
    assert "Tracking plan 'Product Events' governs: Northwind App (server)." in run.notes
    assert "Enabled sources without a tracking plan: Northwind Web." in run.notes

    (quota,) = run.quota
    assert quota.name == "rate_limit_points" and quota.limit == 600 and quota.used is not None
    assert {c: run.coverage[c].status for c in run.coverage} == {
        Capability.tools: CoverageStatus.complete,
        Capability.integrations: CoverageStatus.complete,
        Capability.sync_health: CoverageStatus.complete,
        Capability.quota: CoverageStatus.complete,
    }


def test_only_gets_with_the_vendor_media_types(fake: FakeSegment, pull: Any) -> None:
    pull(fake)
    assert fake.non_read_requests() == []
    assert {r.accept for r in fake.requests} <= set(ACCEPTED_MEDIA_TYPES)
    assert all(r.accept == BETA for r in fake.calls(prefix="/delivery-overview/"))
    assert all(r.accept == GA for r in fake.requests if not r.path.startswith("/delivery-overview/"))
    # Two hourly reads per enabled connection, a minute read where the last delivery is recent.
    assert len(fake.calls(prefix="/delivery-overview/failed-delivery")) == 7
    assert len(fake.calls(prefix="/delivery-overview/successful-delivery")) == 14
    grouped = fake.calls(prefix="/delivery-overview/failed-delivery")[0].query
    assert grouped["groupBy"] == ["discardReason"] and grouped["granularity"] == ["HOUR"]


def test_cursors_are_followed(clock: Any, pull: Any, token: str) -> None:
    ws = load_workspace(recorded_workspace_path())
    with FakeSegment(ws, token=token, clock=clock) as whole:
        baseline, _ = pull(whole)
    with FakeSegment(ws, token=token, clock=clock, max_count=2) as paged:
        result, _ = pull(paged, page_size=2)
    assert _summary(result) == _summary(baseline)
    pages = paged.calls("GET", "/destinations")
    assert len(pages) == 5  # 9 destinations, 2 a page
    assert [r.query.get("pagination.cursor") for r in pages] == [None, ["Mg=="], ["NA=="], ["Ng=="], ["OA=="]]
    assert all(r.query["pagination.count"] == ["2"] for r in pages)


def test_a_repeated_cursor_is_an_error_not_a_loop(fake: FakeSegment, pull: Any) -> None:
    page = {"data": {"destinations": [], "pagination": {"current": "MA==", "next": "MA=="}}}
    fake.faults.replace_body(page, times=5, path="/destinations")
    result, _ = pull(fake)
    assert any(e.code == "pagination" for e in result.run.errors)
    assert len(fake.calls("GET", "/destinations")) == 2
    assert result.run.coverage[Capability.tools].status is CoverageStatus.partial


def test_429s_are_waited_out(fake: FakeSegment, pull: Any, clock: Any) -> None:
    baseline, _ = pull(fake)
    clock.sleeps.clear()
    fake.requests.clear()
    fake.faults.throttle(times=2, ms_before_next=1500, path="/sources")
    result, connector = pull(fake)
    assert result.run.status is RunStatus.complete
    assert _summary(result)["integrations"] == _summary(baseline)["integrations"]
    assert [r.status for r in fake.calls("GET", "/sources")][:3] == [429, 429, 200]
    assert connector.api.client.counter.throttled == 2
    assert sum(s for s in clock.sleeps if s >= 1.5) >= 3.0  # msBeforeNext honoured, on the fake clock


def test_an_exhausted_rate_window_pauses_everyone(clock: Any, pull: Any, token: str) -> None:
    ws = load_workspace(recorded_workspace_path())
    with FakeSegment(ws, token=token, clock=clock, rate_limit=(10, 60.0)) as fake:
        result, _ = pull(fake)
    assert result.run.status is RunStatus.complete, result.run.errors
    assert max(clock.sleeps) > 30  # waited for the window's reset instead of hammering into 429s


def test_delivery_overview_missing_is_recorded_once(clock: Any, pull: Any, token: str) -> None:
    ws = load_workspace(recorded_workspace_path())
    with FakeSegment(ws, token=token, clock=clock, delivery_overview=False) as fake:
        result, _ = pull(fake)
    run = result.run
    assert run.coverage[Capability.sync_health].status is CoverageStatus.missing
    assert len(fake.calls(prefix="/delivery-overview/")) == 1
    assert len(run.errors) == 1 and run.status is RunStatus.partial
    assert all(i.error_count is None for i in result.part.integrations)
    assert len(result.part.integrations) == 10  # the flows are still there


def test_refused_grouping_is_asked_again_without_it(fake: FakeSegment, pull: Any, monkeypatch: Any) -> None:
    from stackaudit.fakes.segment import routes

    monkeypatch.setattr(routes, "_GROUPS", {})
    result, _ = pull(fake)
    hubspot = {i.id: i for i in result.part.integrations}["segment->hubspot"]
    assert hubspot.error_count == 520 * HOUR_WINDOW and hubspot.error_samples == []
    assert result.run.status is RunStatus.complete


def test_health_off_reads_no_delivery(fake: FakeSegment, pull: Any) -> None:
    result, _ = pull(fake, delivery_health=False, warehouses=False, tracking_plans=False)
    assert not fake.calls(prefix="/delivery-overview/") and not fake.calls(prefix="/tracking-plans")
    assert result.run.coverage[Capability.sync_health].status is CoverageStatus.missing
    assert len(fake.requests) == 2


def test_two_connections_to_one_tool_get_suffixes(clock: Any, pull: Any, token: str) -> None:
    description = {
        "sources": [{"id": "s1", "slug": "web", "name": "Web"}, {"id": "s2", "slug": "ios", "name": "iOS"}],
        "destinations": [
            {"id": "d1", "product": "Amplitude (Actions)", "sourceId": "s1", "delivery": {"success_per_hour": 10}},
            {"id": "d2", "product": "Actions Amplitude", "sourceId": "s2", "delivery": {"success_per_hour": 10}},
            {"id": "d3", "product": "Webhooks", "sourceId": "s2", "enabled": False},
        ],
    }
    with FakeSegment(load_workspace(description), token=token, clock=clock) as fake:
        result, _ = pull(fake, tools={"amp": "Amplitude Analytics"})
    flows = {i.id: i for i in result.part.integrations}
    assert sorted(flows) == ["segment->amp:ios", "segment->amp:web", "segment->webhooks"]
    assert flows["segment->amp:ios"].name == "ios"
    tools = {t.id: t for t in result.part.tools}
    assert "amp" in tools and "amplitude" not in tools  # the manifest's id, never a duplicate
    assert tools["webhooks"].capabilities == []


def test_bad_token_fails_without_leaking_it(fake: FakeSegment, pull: Any, token: str) -> None:
    fake.token = "another-token"
    with pytest.raises(AuthError) as info:
        pull(fake)
    assert "401" in str(info.value) and token not in str(info.value)


def test_no_token_in_errors_or_reprs(fake: FakeSegment, pull: Any, token: str) -> None:
    fake.faults.replace_body({"errors": [{"message": f"bad {token}"}]}, path="/tracking-plans")
    fake.faults.fail(500, times=9, path="/sources/rh5BDZp6QDHvXFCkibm1pR/connected-warehouses")
    result, connector = pull(fake)
    texts = [e.message for e in result.run.errors] + result.run.notes
    texts += [
        repr(connector.api.client),
        repr(connector.cfg),
        str(connector.cfg),
        repr(connector.api.client._client.auth),
    ]
    assert result.run.errors
    assert token not in "\n".join(texts)


def test_call_budget_of_a_larger_workspace(clock: Any, pull: Any, token: str) -> None:
    """Calls: one page each of sources and destinations (200 a page), one warehouse listing per source, the plan
    list plus one call per plan, and three delivery reads per enabled connection (failed and successful by the
    hour, successful by the minute when the last delivery is recent)."""
    from stackaudit.fakes.segment import synthetic_workspace

    with FakeSegment(synthetic_workspace(4, 3, 2), token=token, clock=clock) as fake:
        result, _ = pull(fake, tools={})
    assert result.run.status is RunStatus.complete
    assert len(result.part.integrations) == 12 + 1
    assert result.run.api_calls == 1 + 1 + 4 + (1 + 2) + 3 * 12
