"""Salesforce endpoints: HTTP and paging only (parsing lives in :mod:`.parse` and :mod:`.parse_assets`).

Paging
    - REST query (``GET /services/data/vXX.X/query/?q=``): ``{totalSize, done, records, nextRecordsUrl?}``; the
      next page is a GET of ``nextRecordsUrl`` (``/services/data/vXX.X/query/<locator>-2000``), absent on the last
      page. Batches hold up to 2,000 records. Aggregate queries never page.
    - Tooling query (``.../tooling/query/?q=``): ``{size, totalSize, done, queryLocator, entityTypeName, records}``
      (``entityTypeName`` is null when empty). Paging follows ``nextRecordsUrl`` when present, else the
      ``queryLocator`` (whether Tooling always sends ``nextRecordsUrl`` is unconfirmed, so both are followed).
    - ``MetadataComponentDependency``: at most 2,000 rows per query, no queryMore, no ORDER BY, no COUNT(): a page
      of exactly the cap means rows were cut off, so the caller partitions (see :mod:`.deps`).
    - Composite (``POST /services/data/vXX.X/composite``): up to 25 subrequests, of which at most 5 queries
      [unconfirmed; configurable]; the whole request counts as one API call. Each subrequest answers with its own
      ``httpStatusCode``, ``httpHeaders`` and ``body`` (an error array for 4xx, null for 304) under an outer 200.
      Describes (with ``If-Modified-Since``), describeGlobal and count queries go through it.

Limits
    - One rolling 24-hour allocation of API requests per org (``DailyApiRequests`` in ``/limits``; e.g. 15,000 for
      a Developer org, 100,000+ for Enterprise); every REST and Tooling call counts, a composite counts once, the
      OAuth token request does not. Past it: HTTP 403 ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded."
      (stop: it will not recover during the run). The same code with ``ConcurrentPerOrgLongTxn`` means too many
      long-running requests at once: wait and retry.
    - Every response carries ``Sforce-Limit-Info: api-usage=<used>/<max>``; :class:`LimitTracker` keeps the latest.
    - No per-second throttle is documented; the connector paces itself at ``requests_per_second`` anyway.
    - SOQL statements are limited to 100,000 characters and GET URLs to about 16,000; aggregate queries over
      millions of rows can end in ``QUERY_TIMEOUT`` (the connector samples such objects instead).

Read-only permissions (nothing else is ever requested)
    A user (or the client-credentials "run as" user) with API Enabled, View Setup and Configuration (describe,
    Tooling, ``/limits``, FlowDefinitionView, InstalledSubscriberPackage, UserLicense), View All Data (fill-rate
    counts see every record; without it counts cover only visible records) and Manage Users or View All Users
    (``OauthToken``). OAuth scope ``api``. The connector sends only GETs and POSTs to ``/composite`` (made only of
    GET subrequests) and to ``/services/oauth2/token``; the tests assert this against the fake org.

Quirks
    - Errors are always a JSON array ``[{"message", "errorCode", "fields"?}]``; ``INVALID_FIELD`` messages name the
      column (``No such column 'X' on entity 'Y'``), which lets a failed batch drop just that field.
    - describe has no descriptions and no created/modified dates: those come from Tooling ``CustomField``, whose
      ``DeveloperName`` has no namespace and no ``__c`` and whose ``TableEnumOrId`` is the object's API name for
      standard objects but the custom object's Id (``01I...``) for custom ones (resolved through ``CustomObject``).
    - ``FlowDefinitionView`` is a REST object: on the Tooling endpoint it is "not supported".
    - describeGlobal answers 304 to ``If-Modified-Since`` when no object's metadata changed since; describe does the
      same per object.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from ..base import ConnectorError
from ..http import (
    BearerAuth,
    HttpClient,
    MalformedError,
    Outcome,
    ResponseError,
    RetryPolicy,
    TokenBucket,
    Verdict,
    classify,
    iter_next_url,
    json_body,
    vendor_message,
)
from ..http.client import origin_of
from .config import SalesforceConfig
from .parse import parse_limit_info

__all__ = [
    "LimitTracker",
    "SalesforceAPIError",
    "SubResponse",
    "build_salesforce_client",
    "classify_salesforce",
    "composite",
    "error_of",
    "fetch_token",
    "get_limits",
    "get_record_counts",
    "iter_more",
    "iter_query",
    "next_page_url",
    "query_once",
    "query_url",
]

REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"


def error_of(body: Any) -> tuple[str | None, str]:
    """The first ``(errorCode, message)`` of a Salesforce error array (or an OAuth error object)."""
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        first = body[0]
        return (str(first["errorCode"]) if first.get("errorCode") else None), str(first.get("message") or "")
    if isinstance(body, Mapping):
        code = body.get("errorCode") or body.get("error")
        return (str(code) if code else None), str(body.get("message") or body.get("error_description") or "")
    return None, ""


class SalesforceAPIError(ResponseError):
    """A 4xx carrying Salesforce's error array; ``error_code`` is its ``errorCode`` (INVALID_FIELD, ...)."""

    def __init__(
        self, connector: str, error_code: str | None, message: str, *, method: str, path: str, status: int
    ) -> None:
        self.error_code = error_code
        self.vendor_message = message
        line = " ".join(message.split())
        short = line if len(line) <= 200 else line[:199] + "…"
        super().__init__(
            connector, f"HTTP {status} {error_code or 'error'}: {short}", method=method, path=path, status=status
        )


def classify_salesforce(response: httpx.Response) -> Verdict:
    """Salesforce's rules on top of :func:`classify`.

    - 304 (a conditional GET) is a success: the caller reuses what it has.
    - 403 ``REQUEST_LIMIT_EXCEEDED``: the daily allocation is spent (quota: stop), unless the message names the
      concurrent long-running-request limit (wait and retry).
    - 400 and 404 with an error array are handed back to :mod:`.api`, which raises :class:`SalesforceAPIError`
      with the ``errorCode`` (the connector isolates ``INVALID_FIELD`` and falls back on ``QUERY_TIMEOUT``).
    """
    status = response.status_code
    if status == 304:
        return Verdict(Outcome.ok)
    if status < 400:
        return classify(response)
    code, message = error_of(json_body(response))
    detail = vendor_message(response)
    if status == 401:
        return Verdict(Outcome.auth, f"HTTP 401 {code or 'unauthorized'}", detail=detail)
    if status == 403 and code == REQUEST_LIMIT_EXCEEDED:
        if "concurrent" in message.lower():
            return Verdict(Outcome.retriable, "HTTP 403 concurrent request limit", detail=detail, rate_limited=True)
        return Verdict(Outcome.quota, f"Salesforce daily API request limit reached ({code})", detail=detail)
    if status in (400, 404) and code:
        return Verdict(Outcome.ok)
    verdict = classify(response)
    return Verdict(verdict.outcome, f"{verdict.reason} {code}" if code else verdict.reason,
                   retry_after=verdict.retry_after, detail=detail, rate_limited=verdict.rate_limited)


@dataclass
class LimitTracker:
    """The latest ``Sforce-Limit-Info: api-usage=<used>/<max>`` seen (a response hook; thread-safe)."""

    used: int | None = None
    limit: int | None = None
    first_used: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, response: httpx.Response) -> None:
        seen = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if seen is None:
            return
        with self._lock:
            if self.first_used is None:
                self.first_used = seen[0]
            # Responses arrive out of order across threads: the largest count is the latest.
            self.used = seen[0] if self.used is None else max(self.used, seen[0])
            self.limit = seen[1]

    @property
    def remaining(self) -> int | None:
        with self._lock:
            return None if self.used is None or self.limit is None else max(0, self.limit - self.used)


def build_salesforce_client(
    config: SalesforceConfig,
    token: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    secrets: Sequence[str] = (),
) -> tuple[HttpClient, LimitTracker]:
    """The connector's client: one pacing bucket, the Salesforce classifier, the limit-header hook."""
    bucket = TokenBucket.for_limit(
        config.requests_per_second, 1.0, headroom=1.0, burst=max(1, int(config.requests_per_second)),
        name="pace", clock=clock, sleep=sleep,
    )
    tracker = LimitTracker()
    client = HttpClient(
        connector=config.connector_id,
        base_url=config.instance_url,
        auth=BearerAuth(token, origin_of(httpx.URL(config.instance_url))),
        secrets=(token, *secrets),  # the OAuth client secret too, when there is one
        classifier=classify_salesforce,
        buckets={"default": [bucket]},
        policy=policy or RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_cap=20.0),
        deadline_seconds=config.deadline_seconds,
        timeout=config.timeout_seconds,
        clock=clock,
        sleep=sleep,
        rng=rng,
        transport=transport,
        response_hooks=[tracker.observe],
        max_connections=config.max_concurrency + 2,
    )
    return client, tracker


def fetch_token(
    config: SalesforceConfig,
    client_id: str,
    client_secret: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """An access token from the OAuth client-credentials flow at ``{instance_url}/services/oauth2/token``.

    A bare client (no bearer token yet, no redirects, same host), since the shared client only posts JSON and the
    token endpoint wants a form. Raises :class:`ConnectorError` (``auth``) naming what to check, never a secret.
    """
    cid = config.connector_id
    url = f"{config.instance_url}/services/oauth2/token"
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    try:
        with httpx.Client(timeout=config.timeout_seconds, follow_redirects=False, transport=transport) as http:
            response = http.post(url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ConnectorError(cid, f"OAuth token request failed ({exc.__class__.__name__})", code="network",
                             where="/services/oauth2/token") from None
    body = json_body(response)
    token = body.get("access_token") if isinstance(body, dict) else None
    if response.status_code == 200 and isinstance(token, str) and token:
        return token
    code, message = error_of(body)
    detail = f"{code}: {message}" if code else f"HTTP {response.status_code}"
    for secret in (client_id, client_secret):
        detail = detail.replace(secret, "***")
    raise ConnectorError(
        cid,
        f"OAuth client-credentials login failed ({detail}); check client_id and client_secret and that the "
        "connected app allows the client-credentials flow with a run-as user",
        code="auth",
        where="/services/oauth2/token",
    )


# ------------------------------------------------------------------------------------------------- helpers


def _v(version: str) -> str:
    return f"/services/data/v{version}"


def query_url(version: str, soql: str, *, tooling: bool = False) -> str:
    """The URL of a query (for a GET or a composite subrequest)."""
    return f"{_v(version)}/{'tooling/' if tooling else ''}query/?q={quote(soql, safe='')}"


def _send(client: HttpClient, method: str, path: str, *, params: Mapping[str, Any] | None = None,
          body: Any = None) -> Any:
    response = client.request(method, path, params=params, json_body=body)
    where = path.split("?", 1)[0]
    try:
        parsed = json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        raise MalformedError(client.connector, "response is not valid JSON", method=method, path=where,
                             status=response.status_code) from None
    if response.status_code >= 400:
        code, message = error_of(parsed)
        raise SalesforceAPIError(client.connector, code, client.scrub(message), method=method, path=where,
                                 status=response.status_code)
    return parsed


def _mapping(client: HttpClient, body: Any, path: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedError(client.connector, "expected a JSON object", method="GET", path=path.split("?")[0])
    return body


# ----------------------------------------------------------------------------------------------- endpoints


def get_limits(client: HttpClient, version: str) -> dict[str, Any]:
    path = f"{_v(version)}/limits"
    return _mapping(client, _send(client, "GET", path), path)


def get_record_counts(client: HttpClient, version: str, names: Sequence[str]) -> dict[str, Any]:
    """``{"sObjects": [{"count", "name"}]}``; counts are approximate (Salesforce refreshes them periodically)."""
    path = f"{_v(version)}/limits/recordCount"
    return _mapping(client, _send(client, "GET", path, params={"sObjects": ",".join(names)}), path)


def _next(version: str, tooling: bool) -> Callable[[dict[str, Any]], str | None]:
    def nxt(page: dict[str, Any]) -> str | None:
        url = page.get("nextRecordsUrl")
        if isinstance(url, str) and url:
            return url
        locator = page.get("queryLocator")
        if tooling and page.get("done") is False and isinstance(locator, str) and locator:
            return f"{_v(version)}/tooling/query/{locator}"
        return None

    return nxt


def query_once(client: HttpClient, version: str, soql: str, *, tooling: bool = False) -> dict[str, Any]:
    """The first page of a query only (aggregates, capped Tooling objects)."""
    url = query_url(version, soql, tooling=tooling)
    return _mapping(client, _send(client, "GET", url), url)


def iter_query(client: HttpClient, version: str, soql: str, *, tooling: bool = False) -> Iterator[dict[str, Any]]:
    """Every page of a REST or Tooling query; a next link that repeats is a :class:`PaginationError`."""
    return iter_more(client, version, query_url(version, soql, tooling=tooling), tooling=tooling)


def iter_more(client: HttpClient, version: str, url: str, *, tooling: bool = False) -> Iterator[dict[str, Any]]:
    """Pages from ``url`` on (a query URL, or the ``nextRecordsUrl`` of a page read in a composite request)."""

    def fetch(page_url: str) -> dict[str, Any]:
        return _mapping(client, _send(client, "GET", page_url), page_url)

    return iter_next_url(fetch, _next(version, tooling), url, connector=client.connector)


def next_page_url(page: dict[str, Any], version: str, *, tooling: bool = False) -> str | None:
    """The URL of the page after ``page``, if any."""
    return _next(version, tooling)(page)


@dataclass(frozen=True)
class SubResponse:
    reference_id: str
    status: int
    headers: dict[str, str]
    body: Any


def composite(client: HttpClient, version: str, requests: Sequence[Mapping[str, Any]]) -> list[SubResponse]:
    """One composite call of GET subrequests (``referenceId``, ``url``, optional ``httpHeaders``)."""
    path = f"{_v(version)}/composite"
    subs = [{"method": "GET", **r} for r in requests]
    body = _mapping(client, _send(client, "POST", path, body={"allOrNone": False, "compositeRequest": subs}), path)
    items = body.get("compositeResponse")
    if not isinstance(items, list):
        raise MalformedError(client.connector, "composite response has no compositeResponse", method="POST", path=path)
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        raw_headers = item.get("httpHeaders")
        headers: dict[str, Any] = raw_headers if isinstance(raw_headers, dict) else {}
        try:
            status = int(item.get("httpStatusCode") or 0)
        except (TypeError, ValueError):
            status = 0
        out.append(SubResponse(str(item.get("referenceId")), status, {str(k): str(v) for k, v in headers.items()},
                               item.get("body")))
    return out
