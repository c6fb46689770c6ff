"""Marketo Engage REST endpoints: HTTP, the response envelope and paging only (parsing lives in :mod:`.parse`).

Hosts and auth
    One host per instance (``https://<munchkin>.mktorest.com``): lead database under ``/rest/v1``, assets under
    ``/rest/asset/v1``, bulk extract under ``/bulk/v1`` (no ``/rest`` prefix), identity under ``/identity``.
    Token: ``GET /identity/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..`` (query
    parameters are the documented way; httpx's URL log lines are redacted) -> ``access_token``, ``expires_in``
    (3,600 s when new). Calling it before expiry returns the *same* token with its remaining life. The token goes in
    ``Authorization: Bearer`` (the ``access_token`` query parameter is being withdrawn).

Envelope and errors
    Every REST body is ``{requestId, success, result, errors[{code, message}], warnings, moreResult,
    nextPageToken}``; errors arrive with **HTTP 200** and ``success: false``, codes as quoted strings.
    :func:`classify_marketo` reads them: 601/602 (token invalid/expired) -> auth, answered by :class:`MarketoApi`
    with one refresh and one retry; 606 (over 100 calls in 20 s) -> wait the 20-second window, every thread
    pausing; 615 (over 10 concurrent calls) and 604/608/611/713 (time-outs, unavailable) -> retry with backoff;
    607 (daily quota, resets at midnight US Central) -> stop and keep what was read; 603 -> missing permission;
    702 (no data) -> an empty result; anything else -> fatal for that call. Real HTTP errors are rare (413, 414,
    5xx) and take the generic path.

Paging
    - Lead database lists: ``batchSize`` (at most 300) and ``nextPageToken``; more pages while a token comes back
      and ``moreResult`` is not false (some bodies carry a token and no ``moreResult``). A repeated token is an
      error, never a loop.
    - Asset lists: ``offset`` + ``maxReturn`` (at most 200). The end is ``success: true`` with the warning "No
      assets found for the given search criteria." and no ``result`` (a short page is not trusted as the end).
    - Unpaged: ``leads/describe.json``, ``leads/describe2.json``, ``customobjects.json``, stats.

Limits
    50,000 calls a day per subscription, 100 calls per rolling 20 s per instance, 10 concurrent; identity calls
    count toward neither. Bulk extract: 2 concurrent and 10 queued jobs, 500 MB of export files a day, a
    ``createdAt`` window of at most 31 days. No rate-limit headers exist; the stats endpoints report usage.

Read-only permissions
    An API-only user whose role grants Read-Only Lead (describe, schema fields, bulk lead extract), Read-Only
    Assets (forms, smart campaigns, programs) and Read-Only Custom Objects. The connector sends GETs, plus the two
    POSTs that create and enqueue a bulk lead extract job (they write no record and change no setting).

Quirks
    - Dates look like ``2015-11-18T15:25:35Z+0000`` (a ``Z`` *and* an offset).
    - Form fields name lead fields by their SOAP names (``FirstName``); the lead database uses REST names
      (``firstName``). Only ``leads/describe.json`` (superseded by describe2 but kept) gives both.
    - ``describe2`` alone says ``crmManaged``; ``leads/schema/fields`` alone says ``isCustom`` and gives the
      description; so all three describe calls are made.
    - Smart-campaign flow steps are not exposed, and neither is a campaign's last run time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from ..http import (
    AuthError,
    HttpClient,
    MalformedError,
    Outcome,
    RetryPolicy,
    TokenBucket,
    Verdict,
    classify,
    iter_cursor,
    iter_offset,
    json_body,
)
from ..http.client import origin_of
from .auth import IDENTITY_PATH, MarketoAuth, TokenManager, install_log_redaction
from .config import MarketoConfig
from .parse import parse_token

__all__ = [
    "ASSET_PAGE",
    "LEAD_PAGE",
    "MarketoApi",
    "build_marketo_api",
    "classify_marketo",
    "envelope_error",
]

LEAD_PAGE = 300
ASSET_PAGE = 200
RATE_WINDOW_SECONDS = 20.0

_AUTH = frozenset({"601", "602"})
_TRANSIENT = frozenset({"604", "608", "611", "713"})


def envelope_error(body: Any) -> tuple[str, str] | None:
    """``(code, message)`` of a ``success: false`` envelope, or None for a successful (or non-envelope) body."""
    if not isinstance(body, Mapping) or body.get("success") is not False:
        return None
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
    code = str(first.get("code") or "unknown").strip()
    message = " ".join(str(first.get("message") or "no message").split())[:200]
    return code, message


def classify_marketo(response: httpx.Response) -> Verdict:
    """Marketo's errors inside HTTP 200 on top of :func:`classify` (which handles real HTTP statuses)."""
    if response.status_code != 200:
        return classify(response)
    if "json" not in response.headers.get("Content-Type", "json").lower():
        return Verdict(Outcome.ok)  # a bulk extract file (CSV)
    found = envelope_error(json_body(response))
    if found is None:
        return Verdict(Outcome.ok)
    code, message = found
    reason = f"Marketo error {code}"
    if code in _AUTH:
        return Verdict(Outcome.auth, reason, detail=message)
    if code == "606":
        return Verdict(Outcome.retriable, reason, retry_after=RATE_WINDOW_SECONDS, detail=message, rate_limited=True)
    if code == "615" or code in _TRANSIENT:
        return Verdict(Outcome.retriable, reason, detail=message)
    if code == "607":
        return Verdict(Outcome.quota, f"{reason}: daily API quota reached", detail=message)
    if code == "603":
        return Verdict(Outcome.missing_scope, f"{reason}: access denied", detail=message)
    if code == "702":
        return Verdict(Outcome.ok)  # "no data found": an empty result, read as such by the caller
    return Verdict(Outcome.fatal, reason, detail=message)


class _ScrubbingClient(HttpClient):
    """The shared client, scrubbing the run's access tokens (issued after it was built) from vendor text too."""

    tokens: TokenManager | None = None

    def scrub(self, text: str) -> str:
        text = super().scrub(text)
        for token in self.tokens.secrets() if self.tokens else ():
            text = text.replace(token, "***")
        return text


class MarketoApi:
    """Calls with a valid token: fetched before the first call, refreshed near expiry and once on 601/602."""

    def __init__(self, client: HttpClient, tokens: TokenManager) -> None:
        self.client = client
        self.tokens = tokens
        self.refreshes = 0  # refreshes forced by 601/602

    @property
    def connector(self) -> str:
        return self.client.connector

    def _call(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        token = self.tokens.ensure()
        try:
            return send()
        except AuthError as exc:
            if exc.status != 200:  # HTTP 401: the credentials themselves are wrong
                raise
            # 601/602 inside HTTP 200: the token expired or was revoked mid-pull. Refresh once and retry once.
            self.tokens.invalidate(token)
            self.refreshes += 1
            return send()

    def _body(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        body = json_body(response)
        if not isinstance(body, dict):
            raise MalformedError(self.connector, "expected a JSON object", method=method, path=path, status=200)
        return body

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self._call(lambda: self.client.request("GET", path, params=params))
        return self._body(response, "GET", path)

    def post(self, path: str, body: Any = None) -> dict[str, Any]:
        response = self._call(lambda: self.client.request("POST", path, json_body=body))
        return self._body(response, "POST", path)

    def get_text(self, path: str) -> str:
        return self._call(lambda: self.client.request("GET", path)).text

    # ------------------------------------------------------------------------------------------------ paging

    def iter_token_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Lead-database pages (``batchSize`` + ``nextPageToken``)."""

        def fetch(token: str | None) -> dict[str, Any]:
            query = {**(params or {}), "batchSize": LEAD_PAGE, **({"nextPageToken": token} if token else {})}
            return self.get(path, query)

        def next_token(page: dict[str, Any]) -> str | None:
            token = page.get("nextPageToken")
            result = page.get("result")
            if not token or page.get("moreResult") is False or not result:
                return None
            return str(token)

        return iter_cursor(fetch, next_token, connector=self.connector, where=path)

    def iter_asset_pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Asset pages (``offset`` + ``maxReturn``) until the "No assets found" warning (a page without ``result``).

        A short page is not taken as the end: the documented end is the warning, and it costs one call a listing."""
        offsets: list[int] = []

        def fetch(offset: int) -> dict[str, Any]:
            offsets.append(offset)
            return self.get(path, {**(params or {}), "offset": offset, "maxReturn": ASSET_PAGE})

        def next_offset(page: dict[str, Any]) -> int | None:
            result = page.get("result")
            if not isinstance(result, list) or not result:
                return None
            return offsets[-1] + len(result)

        return iter_offset(fetch, next_offset, connector=self.connector, where=path)

    # --------------------------------------------------------------------------------------------- endpoints

    def get_describe(self) -> dict[str, Any]:
        return self.get("/rest/v1/leads/describe.json")

    def get_describe2(self) -> dict[str, Any]:
        return self.get("/rest/v1/leads/describe2.json")

    def iter_lead_schema_fields(self) -> Iterator[dict[str, Any]]:
        return self.iter_token_pages("/rest/v1/leads/schema/fields.json")

    def get_custom_objects(self) -> dict[str, Any]:
        return self.get("/rest/v1/customobjects.json")

    def get_custom_object_describe(self, name: str) -> dict[str, Any]:
        return self.get(f"/rest/v1/customobjects/{name}/describe.json")

    def iter_forms(self) -> Iterator[dict[str, Any]]:
        return self.iter_asset_pages("/rest/asset/v1/forms.json")

    def get_form_fields(self, form_id: str) -> dict[str, Any]:
        return self.get(f"/rest/asset/v1/form/{form_id}/fields.json")

    def iter_smart_campaigns(self) -> Iterator[dict[str, Any]]:
        return self.iter_asset_pages("/rest/asset/v1/smartCampaigns.json")

    def iter_programs(self) -> Iterator[dict[str, Any]]:
        return self.iter_asset_pages("/rest/asset/v1/programs.json")

    def get_usage_last7days(self) -> dict[str, Any]:
        return self.get("/rest/v1/stats/usage/last7days.json")

    def get_errors_last7days(self) -> dict[str, Any]:
        return self.get("/rest/v1/stats/errors/last7days.json")

    # ----------------------------------------------------------------------------------------- bulk extract

    def create_lead_export(self, fields: Sequence[str], start: datetime, end: datetime) -> dict[str, Any]:
        """Create (not yet run) a CSV export of ``fields`` for the people created in ``[start, end]``."""
        window = {"startAt": _iso(start), "endAt": _iso(end)}
        body = {"fields": list(fields), "format": "CSV", "filter": {"createdAt": window}}
        return self.post("/bulk/v1/leads/export/create.json", body)

    def enqueue_lead_export(self, export_id: str) -> dict[str, Any]:
        return self.post(f"/bulk/v1/leads/export/{export_id}/enqueue.json")

    def get_lead_export_status(self, export_id: str) -> dict[str, Any]:
        return self.get(f"/bulk/v1/leads/export/{export_id}/status.json")

    def get_lead_export_file(self, export_id: str) -> str:
        return self.get_text(f"/bulk/v1/leads/export/{export_id}/file.json")


def _iso(moment: datetime) -> str:
    """ISO 8601 without milliseconds, as the bulk extract filter wants."""
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_marketo_api(
    config: MarketoConfig,
    client_id: str,
    client_secret: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> MarketoApi:
    """The connector's API: one 20-second bucket for every call, the HTTP-200 error classifier, the token manager."""
    install_log_redaction()
    limits = config.limits
    # A burst of up to the concurrency limit, then a steady pace: no 20-second window ever holds more than the
    # headroom's share of the limit (see TokenBucket.for_limit).
    bucket = TokenBucket.for_limit(
        limits.calls_per_20s,
        RATE_WINDOW_SECONDS,
        headroom=limits.headroom,
        burst=limits.concurrent_calls,
        name="20s",
        clock=clock,
        sleep=sleep,
    )
    holder: dict[str, HttpClient] = {}
    tokens = TokenManager(lambda: _fetch_token(holder["client"], client_id, client_secret), clock=clock)
    client = _ScrubbingClient(
        connector=config.connector_id,
        base_url=config.base_url,
        auth=MarketoAuth(tokens, origin_of(httpx.URL(config.base_url))),
        secrets=(client_secret, client_id),
        classifier=classify_marketo,
        buckets={"default": [bucket]},
        policy=policy or RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_cap=20.0),
        deadline_seconds=config.deadline_seconds,
        timeout=config.timeout_seconds,
        clock=clock,
        sleep=sleep,
        rng=rng,
        transport=transport,
        max_connections=min(config.max_concurrency, limits.concurrent_calls) + 1,
    )
    client.tokens = tokens
    holder["client"] = client
    return MarketoApi(client, tokens)


def _fetch_token(client: HttpClient, client_id: str, client_secret: str) -> tuple[str, float, str | None]:
    params = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    body = client.get_json(IDENTITY_PATH, params=params)
    try:
        return parse_token(body)
    except ValueError as exc:
        raise MalformedError(client.connector, str(exc), method="GET", path=IDENTITY_PATH, status=200) from None
