"""Segment's pure transforms, without HTTP: workspace items, tools through the catalogue, integration ids, delivery
bodies, integrations; and the small HTTP pieces (429 bodies, rate headers, media types) on hand-built responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackaudit_connectors.http import Outcome, TokenBucket
from stackaudit_connectors.http.client import origin_of
from stackaudit_connectors.segment import parse
from stackaudit_connectors.segment.api import BETA, GA, RateHeaders, SegmentAuth, classify_segment
from stackaudit_inventory import IntegrationStatus, Origin
from stackaudit_inventory.catalogue import load_catalogue

# Copies of ../shared/api-reference/segment/ examples, kept in the repo so the tests run in any clone.
REF = Path(__file__).resolve().parent / "reference"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def ref(name: str) -> Any:
    return json.loads((REF / name).read_text(encoding="utf-8"))


def test_sources_and_destinations_from_the_reference() -> None:
    items, problem = parse.items_of(ref("sources-list.CONSTRUCTED.json")["data"], "sources")
    assert problem is None
    sources = [parse.parse_source(s) for s in items]
    assert [(s.slug, s.enabled, s.kind) for s in sources if s] == [
        ("marketing-site", True, "Javascript"),
        ("web-app-staging", False, "Javascript"),
    ]
    dests = [parse.parse_destination(d) for d in ref("destinations-list.CONSTRUCTED.json")["data"]["destinations"]]
    assert [(d.name, d.enabled, d.product, d.source_id) for d in dests if d] == [
        ("Salesforce (prod)", True, "Salesforce", "qQEHquLrjRDN9j1ByrChyn"),
        ("Salesforce (old)", False, "Salesforce", "qQEHquLrjRDN9j1ByrChyn"),
    ]
    assert parse.items_of({"x": 1}, "sources")[1] == "'sources' is missing"
    assert parse.parse_source({"name": "no id"}) is None
    assert parse.parse_destination({"id": "d", "metadata": {}}) is None
    bare = parse.parse_destination({"id": "d", "name": "Hook", "enabled": None})
    assert bare is not None and bare.product == "Hook" and not bare.enabled
    wh = parse.parse_warehouse({"id": "w", "metadata": {"name": "BigQuery"}, "settings": {"name": "BQ prod"}})
    assert wh == parse.Warehouse("w", "BQ prod", True, "BigQuery")


def test_tool_resolver_names_products_and_prefers_the_manifest_ids() -> None:
    resolver = parse.ToolResolver(
        load_catalogue(), {"ga4": "Google Analytics 4", "hubspot": "HubSpot Marketing Hub", "sfdc": "Salesforce"}
    )
    ga = resolver.resolve("Google Analytics 4 Web")
    assert (ga.id, ga.declared, ga.entry and ga.entry.id) == ("ga4", True, "google-analytics-4")
    assert resolver.resolve("HubSpot Cloud Mode (Actions)").id == "hubspot"
    assert resolver.resolve("Salesforce (Actions)").id == "sfdc"
    mixpanel = resolver.resolve("Mixpanel (Actions)")
    assert (mixpanel.id, mixpanel.declared) == ("mixpanel", False)
    unknown = resolver.resolve("Webhooks (Actions)")
    assert (unknown.id, unknown.name, unknown.entry, unknown.declared) == ("webhooks", "Webhooks", None, False)
    assert resolver.resolve("Snowflake", warehouse=True).id == "snowflake"


def _conn(key: str, tool: str, slug: str | None, detail: str = "x") -> parse.Connection:
    src = parse.Source(f"id-{slug}", slug or "", slug or "", True, None) if slug else None
    return parse.Connection(key, tool, src, f"{slug} -> {detail}", True, detail)


def test_integration_ids_get_suffixes_only_when_two_reach_one_tool() -> None:
    ids = parse.integration_ids(
        "segment",
        [
            _conn("d1", "mixpanel", "web"),
            _conn("d2", "amplitude", "app"),
            _conn("d3", "amplitude", "web"),
            _conn("d4", "salesforce", "app", "Salesforce (prod)"),
            _conn("d5", "salesforce", "app", "Salesforce (old)"),
        ],
    )
    assert ids == {
        "d1": ("segment->mixpanel", None),
        "d2": ("segment->amplitude:app", "app"),
        "d3": ("segment->amplitude:web", "web"),
        "d4": ("segment->salesforce:app-salesforce-prod", "app-salesforce-prod"),
        "d5": ("segment->salesforce:app-salesforce-old", "app-salesforce-old"),
    }


def test_delivery_bodies_give_totals_newest_bucket_and_reasons() -> None:
    total, newest, reasons, problem = parse.parse_delivery(
        ref("delivery-overview-failed-delivery.CONSTRUCTED.json")["data"]
    )
    assert (total, problem) == (42, None)
    assert newest == datetime(2024, 1, 2, tzinfo=UTC)
    assert reasons == {"bad-request": 30, "rate-limited": 12}
    assert parse.parse_delivery({"dataset": []})[3] is not None
    assert parse.parse_delivery("x")[3] is not None
    empty = parse.parse_delivery(
        {"total": 0, "dataset": [{"total": 0, "series": [{"time": "2024-01-01T00:00:00Z", "count": 0}]}]}
    )
    assert empty[:2] == (0, None)


def test_integrations_carry_health_and_status() -> None:
    conn = _conn("d1", "hubspot", "app")
    delivery = parse.Delivery(7, successes=600, failures=400, last_success_at=NOW, reasons={"bad-request": 400})
    integ = parse.build_integration(
        conn,
        segment_tool="segment",
        integration_id="segment->hubspot",
        suffix=None,
        delivery=delivery,
        run_id="segment",
    )
    assert (integ.source, integ.target, integ.origin, integ.status) == (
        "segment",
        "hubspot",
        Origin.discovered,
        IntegrationStatus.active,
    )
    assert (integ.error_count, integ.success_count, integ.window_days, integ.error_rate) == (400, 600, 7, 0.4)
    assert integ.error_samples == ["delivery failures: bad-request x400"]
    assert integ.last_success_at == integ.last_sync_at == NOW
    failing = parse.build_integration(
        conn,
        segment_tool="segment",
        integration_id="i",
        suffix=None,
        delivery=parse.Delivery(7, successes=0, failures=5),
        run_id="s",
    )
    assert failing.status is IntegrationStatus.error
    off = parse.Connection("d2", "salesforce", None, "x", False, "x")
    disabled = parse.build_integration(
        off, segment_tool="segment", integration_id="i", suffix="x", delivery=None, run_id="s"
    )
    assert disabled.status is IntegrationStatus.disabled and disabled.name == "x" and disabled.error_count is None


def test_build_tools_keeps_one_per_product_with_its_newest_activity() -> None:
    resolver = parse.ToolResolver(load_catalogue(), {})
    amp = resolver.resolve("Amplitude (Actions)")
    earlier = datetime(2026, 11, 1, tzinfo=UTC)
    tools = parse.build_tools([(amp, earlier), (amp, NOW), (resolver.resolve("Webhooks"), None)], run_id="segment")
    assert [(t.id, t.origin, t.last_activity_at) for t in tools] == [
        ("amplitude", Origin.discovered, NOW),
        ("webhooks", Origin.discovered, None),
    ]
    assert tools[0].capabilities[0] == "product-analytics" and tools[1].capabilities == []


def test_tracking_plans_and_assets() -> None:
    plans = ref("tracking-plans-list.CONSTRUCTED.json")["data"]["trackingPlans"]
    asset = parse.tracking_plan_asset(plans[0], tool="segment")
    assert asset is not None and (asset.id, asset.kind, asset.name) == (
        "segment:tracking-plan/tp_2UXbYXVkvZx0KmWTLXpdF1Hd9Dn",
        "tracking-plan",
        "Web Tracking Plan",
    )
    assert parse.tracking_plan_asset({"name": "x"}, tool="segment") is None


# ------------------------------------------------------------------------------------------- HTTP pieces


def test_429_bodies_say_how_long_to_wait() -> None:
    verdict = classify_segment(httpx.Response(429, json=ref("error-429-rate-limit.json")))
    assert verdict.outcome is Outcome.retriable and verdict.rate_limited
    assert verdict.retry_after == pytest.approx(57.647)
    with_header = classify_segment(httpx.Response(429, headers={"Retry-After": "3"}, json={}))
    assert with_header.retry_after == 3
    assert classify_segment(httpx.Response(404, json=ref("error-404.CONSTRUCTED.json"))).outcome is Outcome.fatal


def test_rate_headers_pause_when_nothing_remains_and_keep_evidence() -> None:
    sleeps: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(10, 10, clock=lambda: now[0], sleep=sleep)
    headers = RateHeaders(bucket, now=lambda: NOW)
    headers.observe(httpx.Response(200, headers={"X-RateLimit-Consumed": "20", "X-RateLimit-Remaining": "5"}))
    assert headers.latest == {"Consumed": 20, "Remaining": 5}
    reset = "Mon, 30 Nov 2026 09:00:30 GMT"
    headers.observe(
        httpx.Response(
            200, headers={"X-RateLimit-Consumed": "25", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        )
    )
    bucket.acquire()
    assert sleeps == [30.0]
    headers.observe(httpx.Response(200))  # no headers: nothing changes
    assert headers.latest["Remaining"] == 0


def test_auth_sends_the_token_to_its_host_only_and_the_right_media_type() -> None:
    auth = SegmentAuth("sgmt-secret-1", origin_of(httpx.URL("https://api.segmentapis.com")))
    ga = next(auth.auth_flow(httpx.Request("GET", "https://api.segmentapis.com/sources")))
    beta = next(auth.auth_flow(httpx.Request("GET", "https://api.segmentapis.com/delivery-overview/failed-delivery")))
    other = next(auth.auth_flow(httpx.Request("GET", "https://evil.example.com/sources")))
    assert ga.headers["Authorization"] == "Bearer sgmt-secret-1" and ga.headers["Accept"] == GA
    assert beta.headers["Accept"] == BETA
    assert "Authorization" not in other.headers
    assert "sgmt-secret-1" not in repr(auth)
