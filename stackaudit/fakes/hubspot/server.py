"""A fake HubSpot API on loopback: real HTTP (``ThreadingHTTPServer`` in a thread), built from a :class:`FakePortal`.

It follows ../shared/api-reference/hubspot: Bearer auth with the documented 401 body; ``after`` cursors answered
with ``paging.next.after``; unpaged properties, groups, schemas and pipelines; CRM search with ``total``, at most
``max_filter_groups`` filter groups, 200 results a page and HTTP 400 past 10,000 results; flows listed without
actions (details one call per flow); list filters only with ``includeFilters=true``; 429 bodies
(``TEN_SECONDLY_ROLLING`` for the 10-second window, ``SECONDLY`` for search, ``DAILY``) when its own limits are
exceeded; ``X-HubSpot-RateLimit-*`` headers on non-search responses (switchable off, as some accounts see none).

Every request is recorded (method, path, query, body, status) so tests can assert what a connector did, e.g. that
it only read. Fault switches (:class:`Faults`) inject 5xx bursts, truncated JSON, replaced bodies and an exhausted
daily quota.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .portal import FakePortal
from .routes import Routes

__all__ = ["FakeHubSpot", "Faults", "RecordedRequest"]

Reply = tuple[int, Any]

# POST endpoints that only read (search and batch read); everything else that is not a GET writes.
READ_ONLY_POSTS = ("/search", "/batch/read")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int

    @property
    def is_read(self) -> bool:
        return self.method == "GET" or (self.method == "POST" and self.path.endswith(READ_ONLY_POSTS))


@dataclass
class _Fault:
    kind: str  # status | truncate | body
    times: int
    path: str | None = None
    method: str | None = None
    status: int = 500
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or path.startswith(self.path)) and (self.method in (None, method))


@dataclass
class Faults:
    """Switches a test flips: each rule fires for the next ``times`` matching requests (path prefix, method)."""

    rules: list[_Fault] = field(default_factory=list)
    daily_exhausted_after: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail(self, times: int = 3, *, status: int = 500, path: str | None = None, method: str | None = None) -> None:
        with self._lock:
            self.rules.append(_Fault("status", times, path, method, status))

    def truncate(self, *, path: str | None = None, times: int = 1, method: str | None = None) -> None:
        with self._lock:
            self.rules.append(_Fault("truncate", times, path, method))

    def replace_body(self, body: Any, *, path: str | None = None, times: int = 1, method: str | None = None) -> None:
        with self._lock:
            self.rules.append(_Fault("body", times, path, method, body=body))

    def exhaust_daily(self, after: int = 0) -> None:
        """The daily quota runs out after ``after`` more requests."""
        with self._lock:
            self.daily_exhausted_after = after

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.daily_exhausted_after = None

    def take(self, method: str, path: str, kinds: tuple[str, ...]) -> _Fault | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.kind in kinds and rule.matches(method, path):
                    rule.times -= 1
                    return rule
        return None

    def daily_gone(self) -> bool:
        with self._lock:
            if self.daily_exhausted_after is None:
                return False
            if self.daily_exhausted_after > 0:
                self.daily_exhausted_after -= 1
                return False
            return True


class _Window:
    """A rolling window log: at most ``limit`` requests in any ``seconds``."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> tuple[bool, int]:
        with self._lock:
            now = time.monotonic()
            while self._times and now - self._times[0] >= self.seconds:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return False, 0
            self._times.append(now)
            return True, self.limit - len(self._times)


def error_body(category: str, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}


def rate_limit_body(policy: str) -> dict[str, Any]:
    message = {
        "DAILY": "You have reached your daily limit.",
        "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    }.get(policy, f"You have reached your {policy.lower()} limit.")
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }


_FAULT_BODIES = {
    400: ("VALIDATION_ERROR", "Invalid input (injected)"),
    401: ("INVALID_AUTHENTICATION", "The OAuth token used to make this call expired (injected)."),
    403: ("MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call."),
    404: ("OBJECT_NOT_FOUND", "resource not found (injected)"),
}

UNAUTHORIZED = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more "
    "details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class FakeHubSpot:
    """``with FakeHubSpot(portal) as fake: fake.base_url`` serves ``portal`` until the block ends."""

    def __init__(
        self,
        portal: FakePortal,
        *,
        token: str = "test-token",  # noqa: S107 - the fake's own test value
        rate_limit: tuple[int, float] | None = (190, 10.0),
        search_rate_limit: tuple[int, float] | None = (5, 1.0),
        latency: float = 0.0,
        rate_headers: bool = True,
        retry_after: float | None = None,
        max_page_size: int | None = None,
        empty_as_null: bool = True,
        max_filter_groups: int = 5,
    ) -> None:
        self.portal = portal
        self.token = token
        self.latency = latency
        self.rate_headers = rate_headers
        self.retry_after = retry_after
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self._burst = _Window(*rate_limit) if rate_limit else None
        self._search = _Window(*search_rate_limit) if search_rate_limit else None
        self._lock = threading.Lock()
        self._served = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.routes = Routes(
            portal,
            max_page_size=max_page_size,
            empty_as_null=empty_as_null,
            max_filter_groups=max_filter_groups,
            base_url=lambda: self.base_url,
            usage=lambda: self.daily_used,
        )

    # ------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeHubSpot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for one poll, and tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-hubspot", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake HubSpot server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def daily_used(self) -> int:
        return self.portal.daily_usage + self._served

    # ---------------------------------------------------------------------------------------------- queries

    def calls(self, method: str | None = None, prefix: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (prefix is None or r.path.startswith(prefix))
            ]

    def non_read_requests(self) -> list[RecordedRequest]:
        return [r for r in self.calls() if not r.is_read]

    # --------------------------------------------------------------------------------------------- dispatch

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None) -> tuple[
        int, bytes, dict[str, str]
    ]:
        status, payload, headers = self._dispatch(method, path, query, body, auth)
        data = json.dumps(payload).encode()
        if status == 200 and self.faults.take(method, path, ("truncate",)):
            data = data[: max(1, len(data) // 2)]
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, body, status))
        return status, data, headers

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        headers: dict[str, str] = {"X-HubSpot-Correlation-Id": str(uuid.uuid4())}
        if auth != f"Bearer {self.token}":
            return 401, error_body("INVALID_AUTHENTICATION", UNAUTHORIZED), headers
        is_search = method == "POST" and path.endswith("/search") and path.startswith("/crm/v3/objects/")
        with self._lock:
            self._served += 1
        if self.faults.daily_gone() or self.daily_used > self.portal.daily_limit:
            return 429, rate_limit_body("DAILY"), headers
        window = self._search if is_search else self._burst
        remaining = None
        if window is not None:
            admitted, remaining = window.admit()
            if not admitted:
                if self.retry_after is not None:
                    headers["Retry-After"] = f"{self.retry_after:g}"
                return 429, rate_limit_body("SECONDLY" if is_search else "TEN_SECONDLY_ROLLING"), headers
        if self.rate_headers and not is_search:
            headers.update(self._rate_headers(remaining))
        fault = self.faults.take(method, path, ("status", "body"))
        if fault is not None and fault.kind == "status":
            category, message = _FAULT_BODIES.get(fault.status, ("INTERNAL_ERROR", "internal error (injected)"))
            return fault.status, error_body(category, message), headers
        status, payload = self.routes.dispatch(method, path, query, body)
        if fault is not None and fault.kind == "body" and status == 200:
            payload = fault.body
        return status, payload, headers

    def _rate_headers(self, remaining: int | None) -> dict[str, str]:
        headers = {
            "X-HubSpot-RateLimit-Daily": str(self.portal.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.portal.daily_limit - self.daily_used)),
        }
        if self._burst is not None and remaining is not None:
            headers.update(
                {
                    "X-HubSpot-RateLimit-Max": str(self._burst.limit),
                    "X-HubSpot-RateLimit-Remaining": str(remaining),
                    "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self._burst.seconds * 1000)),
                    "X-HubSpot-RateLimit-Secondly": str(max(1, int(self._burst.limit / self._burst.seconds))),
                    "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, remaining // 10)),
                }
            )
        return headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeHubSpot

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle plus delayed ACKs add ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the fake records requests itself."""

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        if self.fake.latency:
            time.sleep(self.fake.latency)
        headers: dict[str, str] = {}
        if bad_json:
            status, data = 400, json.dumps(error_body("VALIDATION_ERROR", "Invalid JSON")).encode()
        else:
            status, data, headers = self.fake.handle(method, parts.path, query, body, self.headers.get("Authorization"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

