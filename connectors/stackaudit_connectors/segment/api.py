"""Segment Public API endpoints: HTTP, media types and paging only (parsing lives in :mod:`.parse`).

Host, auth, versions
    ``https://api.segmentapis.com`` (EU workspaces: ``https://eu1.api.segmentapis.com``), ``Authorization:
    Bearer <workspace token>``. The API is versioned by media type: generally available endpoints are asked for
    ``application/vnd.segment.v1+json``, the beta Delivery Overview for ``application/vnd.segment.v1beta+json``
    (the shared client has no per-request headers, so :class:`SegmentAuth` sets ``Accept`` by path). Every success
    body is wrapped: ``{"data": {...}}``.

Paging
    List endpoints take ``pagination.count`` (1 to 200 here; the docs have said both 200 and 1000) and
    ``pagination.cursor``, and answer ``data.pagination = {current, next, previous, totalEntries}``; the listing
    ends when ``next`` is null or absent. A repeated cursor is an error, never a loop. Some list endpoints fail
    validation without ``pagination``, so it is always sent.

Limits and errors
    Limits are per token, per caller IP and per request cost, and not published. Successful responses carry
    ``X-RateLimit-Consumed``/``-Remaining``/``-Reset`` (reset as an RFC 5322 date): at ``Remaining: 0`` every
    thread pauses until the reset, and the last values are kept as quota evidence. A 429 body is ``{"errors":
    [{"type": "RequestError", "message": "Too many requests", "data": {"remainingPoints", "msBeforeNext",
    "consumedPoints"}}]}``: the wait is ``msBeforeNext`` (or ``Retry-After``, if ever sent). Errors are
    ``{"errors": [{type, message, field, data, status}]}`` for 404, 422 and 429.

Endpoints used (all GET)
    ``/sources``, ``/destinations`` (each destination instance names its one ``sourceId``: the connections),
    ``/sources/{id}/connected-warehouses``, ``/tracking-plans``, ``/tracking-plans/{id}/sources``, and
    ``/delivery-overview/successful-delivery`` and ``/failed-delivery`` (``sourceId``, ``destinationConfigId``,
    ``startTime``, ``endTime`` exclusive, ``granularity`` MINUTE for at most 4 hours within the last 48, HOUR for
    at most 14 days within the last 30, DAY for at most 30 days; optional ``groupBy``).

Read-only permissions
    A token whose role is Workspace Member (or Source Read-only on the sources to audit). The connector sends GETs
    only, which the tests assert against the fake.

Quirks
    - Delivery Overview is a beta API; a workspace without it answers 403/404, recorded as missing sync health.
    - The SDK documents ``groupBy`` values with spaces (``discard Reason``), most likely a rendering artefact of
      ``discardReason``: the connector sends ``discardReason`` and, if refused, asks again without grouping.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..http import (
    HttpClient,
    MalformedError,
    Outcome,
    RetryPolicy,
    TokenBucket,
    Verdict,
    classify,
    iter_cursor,
    json_body,
)
from ..http.client import Origin, origin_of
from .config import SegmentConfig

__all__ = [
    "BETA",
    "GA",
    "RateHeaders",
    "SegmentApi",
    "SegmentAuth",
    "build_segment_api",
    "classify_segment",
]

GA = "application/vnd.segment.v1+json"
BETA = "application/vnd.segment.v1beta+json"
_BETA_PREFIXES = ("/delivery-overview/",)


class SegmentAuth(httpx.Auth):
    """``Authorization: Bearer`` to the pinned origin only, and the vendor media type each endpoint wants."""

    def __init__(self, token: str, origin: Origin) -> None:
        self._token = token
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        beta = request.url.path.startswith(_BETA_PREFIXES) or request.url.path.endswith("/delivery-metrics")
        request.headers["Accept"] = BETA if beta else GA
        yield request

    def __repr__(self) -> str:
        return f"SegmentAuth(token=***, origin={self._origin[1]})"


def classify_segment(response: httpx.Response) -> Verdict:
    """Segment's 429 body says how long to wait (``msBeforeNext``); the rest is generic HTTP."""
    verdict = classify(response)
    if response.status_code != 429 or verdict.retry_after is not None:
        return verdict
    body = json_body(response)
    errors = body.get("errors") if isinstance(body, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    data = first.get("data") if isinstance(first.get("data"), Mapping) else {}
    wait = data.get("msBeforeNext") if isinstance(data, Mapping) else None
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
        return Verdict(
            Outcome.retriable,
            "HTTP 429 too many requests",
            retry_after=wait / 1000,
            detail=verdict.detail,
            rate_limited=True,
        )
    return verdict


class RateHeaders:
    """Reads ``X-RateLimit-*``: pauses every thread when nothing remains, keeps the last values as evidence."""

    def __init__(self, bucket: TokenBucket, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._bucket = bucket
        self._now = now
        self._lock = threading.Lock()
        self.latest: dict[str, int] = {}
        self.reset: str | None = None

    def observe(self, response: httpx.Response) -> None:
        seen: dict[str, int] = {}
        for key in ("Consumed", "Remaining"):
            raw = response.headers.get(f"X-RateLimit-{key}")
            if raw is not None and raw.strip().isdigit():
                seen[key] = int(raw)
        if not seen:
            return
        reset = response.headers.get("X-RateLimit-Reset")
        with self._lock:
            self.latest = seen
            self.reset = reset
        if seen.get("Remaining") == 0 and reset:
            wait = _seconds_until(reset, self._now())
            if wait is not None:
                self._bucket.pause(min(wait, 60.0))


def _seconds_until(value: str, now: datetime) -> float | None:
    """Seconds from ``now`` to an RFC 5322 date (or epoch seconds); None when unreadable."""
    text = value.strip()
    if text.isdigit():
        return max(0.0, float(text) - now.timestamp())
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class SegmentApi:
    """The workspace's endpoints over one :class:`HttpClient`."""

    def __init__(self, client: HttpClient, headers: RateHeaders, *, page_size: int) -> None:
        self.client = client
        self.headers = headers
        self.page_size = page_size

    @property
    def connector(self) -> str:
        return self.client.connector

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = self.client.get_json(path, params=params)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise MalformedError(self.connector, "expected a JSON object with 'data'", method="GET", path=path)
        data: dict[str, Any] = body["data"]
        return data

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """The ``data`` of each page of a list endpoint."""

        def fetch(cursor: str | None) -> dict[str, Any]:
            query = {**(params or {}), "pagination.count": self.page_size}
            if cursor:
                query["pagination.cursor"] = cursor
            return self.get(path, query)

        def next_cursor(page: dict[str, Any]) -> str | None:
            pagination = page.get("pagination")
            nxt = pagination.get("next") if isinstance(pagination, Mapping) else None
            return str(nxt) if nxt not in (None, "") else None

        return iter_cursor(fetch, next_cursor, connector=self.connector, where=path)

    def iter_sources(self) -> Iterator[dict[str, Any]]:
        return self.iter_pages("/sources")

    def iter_destinations(self) -> Iterator[dict[str, Any]]:
        return self.iter_pages("/destinations")

    def iter_connected_warehouses(self, source_id: str) -> Iterator[dict[str, Any]]:
        return self.iter_pages(f"/sources/{source_id}/connected-warehouses")

    def iter_tracking_plans(self) -> Iterator[dict[str, Any]]:
        return self.iter_pages("/tracking-plans")

    def iter_tracking_plan_sources(self, plan_id: str) -> Iterator[dict[str, Any]]:
        return self.iter_pages(f"/tracking-plans/{plan_id}/sources")

    def get_delivery(
        self,
        kind: str,
        *,
        source_id: str,
        destination_id: str,
        start: datetime,
        end: datetime,
        granularity: str,
        group_by: str | None = None,
    ) -> dict[str, Any]:
        """``kind`` is ``successful-delivery`` or ``failed-delivery``; ``end`` is exclusive."""
        params: dict[str, Any] = {
            "sourceId": source_id,
            "destinationConfigId": destination_id,
            "startTime": _iso(start),
            "endTime": _iso(end),
            "granularity": granularity,
        }
        if group_by:
            params["groupBy"] = group_by
        return self.get(f"/delivery-overview/{kind}", params)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_segment_api(
    config: SegmentConfig,
    token: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SegmentApi:
    """The connector's API: one pacing bucket, 429 bodies honoured, rate headers observed, media types by path."""
    burst = max(1, int(config.requests_per_second))
    bucket = TokenBucket(config.requests_per_second, burst, name="segment", clock=clock, sleep=sleep)
    headers = RateHeaders(bucket, now=now)
    client = HttpClient(
        connector=config.connector_id,
        base_url=config.base_url,
        auth=SegmentAuth(token, origin_of(httpx.URL(config.base_url))),
        secrets=(token,),
        classifier=classify_segment,
        buckets={"default": [bucket]},
        policy=policy or RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=20.0),
        deadline_seconds=config.deadline_seconds,
        timeout=config.timeout_seconds,
        clock=clock,
        sleep=sleep,
        rng=rng,
        transport=transport,
        response_hooks=[headers.observe],
        headers={"Accept": GA},
        max_connections=config.max_concurrency + 1,
    )
    return SegmentApi(client, headers, page_size=config.page_size)
