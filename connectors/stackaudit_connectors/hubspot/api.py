"""HubSpot endpoints: HTTP and paging only (parsing lives in :mod:`.parse`).

Paging
    - ``after`` cursors (request ``?after=&limit=``, response ``paging.next.after``; absent on the last page):
      owners, forms, automation v4 flows, object records. Cursors are opaque and must never repeat.
    - No paging (one ``results`` array): properties, property groups, object schemas, pipelines, account info,
      API usage, limits.
    - CRM search (``POST /crm/v3/objects/{type}/search``): body ``after``/``limit`` (at most 200), response
      ``total``; HTTP 400 past 10,000 results, so we only ever read ``total`` (``limit: 1``), never page it.
    - Lists search (``POST /crm/v3/lists/search``): body ``offset``/``count``, response ``offset`` (the next
      one), ``hasMore``, ``total``. Search results carry no filters: definitions need ``GET /crm/v3/lists?
      listIds=..&includeFilters=true``.

Limits
    - Private apps: 100 requests per rolling 10 s (Free/Starter), 190 (Professional/Enterprise), 250 with the
      capacity pack; daily 250,000 / 650,000 / 1,000,000, reset at midnight in the portal's time zone. Public
      OAuth apps: 100 per 10 s, no daily limit.
    - CRM search: separately limited to 4 requests per second per token; 5 filter groups (the spec says 6),
      10 filters per group, 25 in all.
    - A 429 body says which policy was hit: ``policyName`` ``DAILY`` (stop: it will not reset during the run),
      ``TEN_SECONDLY_ROLLING`` or ``SECONDLY`` (wait and retry). Whether 429s carry ``Retry-After`` is
      unconfirmed; it is honoured when present.
    - Non-search responses may carry ``X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds`` and
      ``-Daily/-Daily-Remaining`` (OAuth calls: no daily headers; some private apps: none at all; search: never).
      When present they re-shape the 10-second bucket to the account's real tier and are kept as quota evidence.

Scopes (read-only; nothing else is ever requested)
    ``crm.objects.contacts.read``, ``crm.objects.companies.read``, ``crm.objects.deals.read``, ``tickets``,
    ``e-commerce`` (products, line items), ``crm.objects.quotes.read``, ``crm.objects.custom.read``,
    ``crm.objects.owners.read``, ``crm.schemas.contacts.read``, ``crm.schemas.companies.read``,
    ``crm.schemas.deals.read``, ``crm.schemas.custom.read``, ``crm.lists.read``, ``forms``, ``automation``,
    ``oauth`` (account info). HubSpot has no read-only variant of ``forms`` and ``automation``; this connector
    only sends GET requests and POSTs to search endpoints, which the tests assert against the fake.
    A missing scope is a 403 (category ``MISSING_SCOPES``): that capability is recorded as missing, the rest go on.

Quirks
    - Custom properties have no ``hubspotDefined`` key at all; HubSpot-defined ones carry ``true`` and no
      ``createdUserId``.
    - Properties of an object can be too many for one URL when reading records: the ``properties=`` list is
      split into chunks of at most ``max_properties_chars`` encoded characters (HubSpot rejects long URLs).
    - Record reads return requested-but-empty properties as ``null`` or omit them; both mean "no value".
    - The v4 flows list has no actions or criteria: details are one call per flow.
    - There is no API for the HubSpot-Salesforce connector (mappings, errors): its evidence is the
      HubSpot-defined ``salesforce*`` properties and the newest ``salesforcelastsynctime`` value.
    - Objects are addressed by name (``contacts``) for standard objects and by fully qualified name
      (``p<portal>_<name>``) for custom ones; both are accepted wherever ``{objectType}`` appears.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import httpx

from ..http import (
    HttpClient,
    MalformedError,
    Outcome,
    RetryPolicy,
    TokenBucket,
    Verdict,
    build_client,
    classify,
    iter_cursor,
    iter_offset,
    json_body,
)
from .config import HubSpotConfig

__all__ = [
    "RateHeaders",
    "build_hubspot_client",
    "chunk_properties",
    "classify_hubspot",
    "count_records",
    "get_account_details",
    "get_custom_property_limits",
    "get_daily_usage",
    "get_flow",
    "get_lists_with_filters",
    "get_pipelines",
    "get_properties",
    "get_property_groups",
    "get_schemas",
    "iter_flows",
    "iter_forms",
    "iter_lists",
    "iter_owners",
    "iter_record_pages",
    "search_has_property",
    "search_newest_records",
    "search_newest_value",
]

SEARCH = "search"
LIST_IDS_PER_CALL = 50  # ids per GET /crm/v3/lists call (the maximum is not documented)


def classify_hubspot(response: httpx.Response) -> Verdict:
    """HubSpot's rules on top of :func:`classify`: a 429's ``policyName`` decides between stop and wait."""
    status = response.status_code
    if status not in (429, 403):
        return classify(response)
    body = json_body(response)
    body = body if isinstance(body, dict) else {}
    verdict = classify(response)
    if status == 429:
        policy = str(body.get("policyName") or "unknown policy")
        if policy == "DAILY":
            return Verdict(Outcome.quota, "HubSpot daily API limit reached (policy DAILY)", detail=verdict.detail)
        return replace(verdict, reason=f"HTTP 429 rate limit ({policy})")
    category = str(body.get("category") or "")
    reason = "HTTP 403 missing scopes" if category == "MISSING_SCOPES" else "HTTP 403 forbidden"
    return replace(verdict, reason=reason)


class RateHeaders:
    """Reads ``X-HubSpot-RateLimit-*`` when present: re-shapes the bucket to the real tier, keeps quota evidence."""

    def __init__(self, bucket: TokenBucket, headroom: float) -> None:
        self._bucket = bucket
        self._headroom = headroom
        self._lock = threading.Lock()
        self._shape: tuple[int, float] | None = None
        self.latest: dict[str, int] = {}

    def observe(self, response: httpx.Response) -> None:
        seen: dict[str, int] = {}
        for key in ("Max", "Remaining", "Interval-Milliseconds", "Daily", "Daily-Remaining"):
            raw = response.headers.get(f"X-HubSpot-RateLimit-{key}")
            if raw is not None and raw.strip().isdigit():
                seen[key] = int(raw)
        if not seen:
            return  # absent headers are normal: keep the configured limits
        limit, interval_ms = seen.get("Max", 0), seen.get("Interval-Milliseconds", 0)
        with self._lock:
            self.latest.update(seen)
            shape = (limit, interval_ms / 1000)
            if limit > 0 and interval_ms > 0 and shape != self._shape:
                self._shape = shape
                self._bucket.set_limit(limit, interval_ms / 1000, headroom=self._headroom)
        if seen.get("Remaining") == 0 and "Interval-Milliseconds" in seen:
            # The window is spent (another app shares the account's limit): let a tenth of it roll off.
            self._bucket.pause(seen["Interval-Milliseconds"] / 10_000)


def build_hubspot_client(
    config: HubSpotConfig,
    token: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> tuple[HttpClient, RateHeaders]:
    """The connector's client: a 10-second bucket for every call, plus a per-second bucket for CRM search."""
    limits = config.limits
    burst = TokenBucket.for_limit(
        limits.requests_per_10s, 10.0, headroom=limits.headroom, name="10s", clock=clock, sleep=sleep
    )
    search = TokenBucket.for_limit(
        limits.search_per_second, 1.0, headroom=limits.headroom, name="search", clock=clock, sleep=sleep
    )
    headers = RateHeaders(burst, limits.headroom)
    client = build_client(
        connector=config.connector_id,
        base_url=config.base_url,
        token=token,
        classifier=classify_hubspot,
        buckets={"default": [burst], SEARCH: [burst, search]},
        policy=policy or RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=20.0),
        deadline_seconds=config.deadline_seconds,
        timeout=config.timeout_seconds,
        clock=clock,
        sleep=sleep,
        rng=rng,
        transport=transport,
        response_hooks=[headers.observe],
        max_connections=config.max_concurrency + 2,
    )
    return client, headers


# ------------------------------------------------------------------------------------------------- helpers


def _dict(client: HttpClient, body: Any, method: str, path: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedError(client.connector, "expected a JSON object", method=method, path=path)
    return body


def _next_after(page: dict[str, Any]) -> str | None:
    paging = page.get("paging")
    nxt = paging.get("next") if isinstance(paging, dict) else None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    return str(after) if after not in (None, "") else None


def _get(client: HttpClient, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return _dict(client, client.get_json(path, params=params), "GET", path)


def _iter_after(client: HttpClient, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    def fetch(cursor: str | None) -> dict[str, Any]:
        return _get(client, path, {**params, **({"after": cursor} if cursor else {})})

    return iter_cursor(fetch, _next_after, connector=client.connector, where=path)


# ----------------------------------------------------------------------------------------------- endpoints


def get_account_details(client: HttpClient) -> dict[str, Any]:
    return _get(client, "/account-info/v3/details")


def get_daily_usage(client: HttpClient) -> dict[str, Any]:
    return _get(client, "/account-info/v3/api-usage/daily/private-apps")


def get_custom_property_limits(client: HttpClient) -> dict[str, Any]:
    return _get(client, "/crm/v3/limits/custom-properties")


def get_schemas(client: HttpClient) -> dict[str, Any]:
    return _get(client, "/crm-object-schemas/v3/schemas")


def get_properties(client: HttpClient, object_type: str) -> dict[str, Any]:
    return _get(client, f"/crm/v3/properties/{object_type}")


def get_property_groups(client: HttpClient, object_type: str) -> dict[str, Any]:
    return _get(client, f"/crm/v3/properties/{object_type}/groups")


def get_pipelines(client: HttpClient, object_type: str) -> dict[str, Any]:
    return _get(client, f"/crm/v3/pipelines/{object_type}")


def iter_owners(client: HttpClient, *, archived: bool, page_size: int = 500) -> Iterator[dict[str, Any]]:
    return _iter_after(client, "/crm/v3/owners", {"limit": page_size, "archived": str(archived).lower()})


def iter_forms(client: HttpClient, *, archived: bool, page_size: int = 50) -> Iterator[dict[str, Any]]:
    return _iter_after(client, "/marketing/v3/forms", {"limit": page_size, "archived": str(archived).lower()})


def iter_flows(client: HttpClient, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
    return _iter_after(client, "/automation/v4/flows", {"limit": page_size})


def get_flow(client: HttpClient, flow_id: str) -> dict[str, Any]:
    return _get(client, f"/automation/v4/flows/{flow_id}")


def iter_lists(client: HttpClient, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
    path = "/crm/v3/lists/search"

    def fetch(offset: int) -> dict[str, Any]:
        body = {"offset": offset, "count": page_size, "additionalProperties": ["hs_list_size"]}
        return _dict(client, client.post_json(path, body), "POST", path)

    def next_offset(page: dict[str, Any]) -> int | None:
        if not page.get("hasMore"):
            return None
        nxt = page.get("offset")
        return int(nxt) if isinstance(nxt, int) else None

    return iter_offset(fetch, next_offset, connector=client.connector, where=path)


def get_lists_with_filters(client: HttpClient, list_ids: Sequence[str]) -> dict[str, Any]:
    return _get(client, "/crm/v3/lists", {"listIds": list(list_ids), "includeFilters": "true"})


def chunk_properties(names: Sequence[str], max_chars: int) -> list[list[str]]:
    """Split property names so each comma-joined, URL-encoded ``properties=`` value stays under ``max_chars``."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for name in names:
        cost = len(name) + (3 if current else 0)  # "," is sent as %2C
        if current and size + cost > max_chars:
            chunks.append(current)
            current, size = [], 0
            cost = len(name)
        current.append(name)
        size += cost
    if current:
        chunks.append(current)
    return chunks


def iter_record_pages(
    client: HttpClient, object_type: str, properties: Sequence[str], *, page_size: int = 100
) -> Iterator[dict[str, Any]]:
    """Record pages in HubSpot's default (id) order; the caller stops iterating when its sample is big enough."""
    return _iter_after(
        client, f"/crm/v3/objects/{object_type}", {"limit": page_size, "properties": ",".join(properties)}
    )


def _search(client: HttpClient, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
    path = f"/crm/v3/objects/{object_type}/search"
    return _dict(client, client.post_json(path, body, bucket=SEARCH), "POST", path)


def count_records(client: HttpClient, object_type: str) -> dict[str, Any]:
    """``total`` is the number of (non-archived) records."""
    return _search(client, object_type, {"filterGroups": [], "properties": ["hs_object_id"], "limit": 1})


def search_has_property(
    client: HttpClient, object_type: str, properties: Sequence[str], *, newest_by: str | None = None
) -> dict[str, Any]:
    """``total`` = records holding a value in any of ``properties`` (one OR-ed filter group each). With
    ``newest_by`` (the object's last-modified property) the one result is the newest such record."""
    body: dict[str, Any] = {
        "filterGroups": [{"filters": [{"propertyName": p, "operator": "HAS_PROPERTY"}]} for p in properties],
        "properties": ["hs_object_id"],
        "limit": 1,
    }
    if newest_by:
        body["sorts"] = [{"propertyName": newest_by, "direction": "DESCENDING"}]
    return _search(client, object_type, body)


def search_newest_records(
    client: HttpClient, object_type: str, properties: Sequence[str], *, newest_by: str, limit: int = 200
) -> dict[str, Any]:
    """The ``limit`` most recently modified records with ``properties`` (a sample from the other end of the
    record range than :func:`iter_record_pages`, which reads the oldest first)."""
    body = {
        "filterGroups": [],
        "properties": list(properties),
        "sorts": [{"propertyName": newest_by, "direction": "DESCENDING"}],
        "limit": limit,
    }
    return _search(client, object_type, body)


def search_newest_value(client: HttpClient, object_type: str, prop: str) -> dict[str, Any]:
    """The record with the highest value of ``prop`` (used only for ``salesforcelastsynctime``)."""
    body = {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "HAS_PROPERTY"}]}],
        "properties": [prop],
        "sorts": [{"propertyName": prop, "direction": "DESCENDING"}],
        "limit": 1,
    }
    return _search(client, object_type, body)
