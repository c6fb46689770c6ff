"""A fake Marketo REST API on loopback: real HTTP (``ThreadingHTTPServer`` in a thread), built from a
:class:`FakeInstance`.

It follows ../shared/api-reference/marketo: identity tokens from ``/identity/oauth/token`` (query parameters,
GET or POST; asking again before expiry returns the same token with its remaining life); ``Authorization:
Bearer`` (or the ``access_token`` parameter, still accepted); response-level errors as **HTTP 200** with
``success: false`` — 601 for an unknown token, 602 for an expired one, 606 past 100 calls in 20 seconds, 615
past 10 concurrent calls, 607 past the daily quota. Error responses do not count toward the limits, and identity
calls count toward none.

The fake's clock (token lifetimes, the 20-second window) is injectable so tests can expire a token or roll the
window without sleeping. Every request is recorded (method, path, query, body, status, error code) so tests can
assert that a connector only read. Fault switches (:class:`Faults`) return a chosen error code or HTTP status,
expire or revoke the current token, or exhaust the daily quota after N more calls.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .instance import FakeInstance
from .routes import JSON, Routes, envelope_error

__all__ = ["READ_ONLY_POSTS", "FakeMarketo", "Faults", "RecordedRequest"]

# POSTs that change no record and no setting: creating and enqueueing a bulk extract job (the connector's only
# POSTs). Anything else that is not a GET writes.
READ_ONLY_POSTS = ("/bulk/v1/leads/export/create.json", "/enqueue.json")
IDENTITY = "/identity/oauth/token"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    code: str | None  # Marketo's response-level error code, if the body was an error envelope

    @property
    def is_read(self) -> bool:
        return self.method == "GET" or (
            self.method == "POST" and (self.path == IDENTITY or self.path.endswith(READ_ONLY_POSTS))
        )


@dataclass
class _Fault:
    kind: str  # code | status
    times: int
    value: str | int
    path: str | None = None
    message: str | None = None

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


@dataclass
class Faults:
    """Switches a test flips; each rule fires for the next ``times`` matching REST requests (path prefix)."""

    rules: list[_Fault] = field(default_factory=list)
    daily_exhausted_after: int | None = None
    expire_after: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def code(self, code: str, *, times: int = 1, path: str | None = None, message: str | None = None) -> None:
        """Answer HTTP 200 ``success: false`` with ``code`` (e.g. 606, 615, 604), and ``message`` if given."""
        with self._lock:
            self.rules.append(_Fault("code", times, code, path, message))

    def fail(self, status: int = 500, *, times: int = 1, path: str | None = None) -> None:
        """Answer a real HTTP error status."""
        with self._lock:
            self.rules.append(_Fault("status", times, status, path))

    def exhaust_daily(self, after: int = 0) -> None:
        """The daily quota runs out after ``after`` more counted calls (then 607)."""
        with self._lock:
            self.daily_exhausted_after = after

    def expire_token_after(self, calls: int) -> None:
        """The current token expires after ``calls`` more REST calls (then 602 until a new one is fetched)."""
        with self._lock:
            self.expire_after = calls

    def take(self, path: str) -> _Fault | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.matches(path):
                    rule.times -= 1
                    return rule
        return None

    def count_down(self, attr: str) -> bool:
        """True when the countdown ``attr`` reaches zero (it then stays off)."""
        with self._lock:
            left = getattr(self, attr)
            if left is None:
                return False
            if left > 0:
                setattr(self, attr, left - 1)
                return False
            if attr == "expire_after":
                self.expire_after = None
            return True


class FakeMarketo:
    """``with FakeMarketo(instance) as fake: fake.base_url`` serves ``instance`` until the block ends."""

    def __init__(
        self,
        instance: FakeInstance,
        *,
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",  # noqa: S107 - the fake's own test value
        token_ttl: int = 3600,
        rate_limit: tuple[int, float] | None = (100, 20.0),
        concurrency_limit: int | None = 10,
        clock: Callable[[], float] = time.monotonic,
        latency: float = 0.0,
        max_page_size: int | None = None,
        bulk_polls: int = 1,
        token_on_last_page: bool = False,
    ) -> None:
        self.instance = instance
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.rate_limit = rate_limit
        self.concurrency_limit = concurrency_limit
        self.clock = clock
        self.latency = latency
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.tokens_issued: list[str] = []
        self.routes = Routes(
            instance, max_page_size=max_page_size, bulk_polls=bulk_polls, token_on_last_page=token_on_last_page
        )
        self._token: str | None = None
        self._expires = 0.0
        self._window: deque[float] = deque()
        self._in_flight = 0
        self._served = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeMarketo:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-marketo", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Marketo server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def daily_used(self) -> int:
        return self.instance.usage_today + self._served

    # --------------------------------------------------------------------------------------------- queries

    def calls(self, method: str | None = None, prefix: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (prefix is None or r.path.startswith(prefix))
            ]

    def non_read_requests(self) -> list[RecordedRequest]:
        return [r for r in self.calls() if not r.is_read]

    def codes(self) -> list[str]:
        """Response-level error codes served, in order."""
        return [r.code for r in self.calls() if r.code]

    def expire_token(self) -> None:
        """The current token expires now: the next REST call gets 602."""
        with self._lock:
            self._expires = self.clock()

    # -------------------------------------------------------------------------------------------- dispatch

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None
    ) -> tuple[int, bytes, str]:
        with self._lock:
            self._in_flight += 1
            crowded = self.concurrency_limit is not None and self._in_flight > self.concurrency_limit
        try:
            if crowded:
                status, payload, ctype = 200, envelope_error("615"), JSON
            else:
                status, payload, ctype = self._dispatch(method, path, query, body, auth)
        finally:
            with self._lock:
                self._in_flight -= 1
        code = None
        if isinstance(payload, dict) and payload.get("success") is False:
            code = str(payload["errors"][0]["code"])
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, body, status, code))
        return status, data, ctype

    def _identity(self, query: dict[str, list[str]]) -> tuple[int, Any, str]:
        def one(key: str) -> str | None:
            values = query.get(key)
            return values[0] if values else None

        if one("grant_type") != "client_credentials":
            return 400, {"error": "invalid_request", "error_description": "grant_type is required"}, JSON
        if one("client_id") != self.client_id or one("client_secret") != self.client_secret:
            return 401, {"error": "unauthorized", "error_description": "Bad client credentials"}, JSON
        with self._lock:
            now = self.clock()
            if self._token is None or now >= self._expires:
                self._token = f"{uuid.uuid4()}:ab"
                self._expires = now + self.token_ttl
                self.tokens_issued.append(self._token)
            remaining = max(0, int(self._expires - now))
            token = self._token
        return (
            200,
            {"access_token": token, "token_type": "bearer", "expires_in": remaining, "scope": "api@northwind"},
            JSON,
        )

    def _auth_code(self, query: dict[str, list[str]], auth: str | None) -> str | None:
        param = query.get("access_token") or []
        token = auth[7:] if auth and auth.startswith("Bearer ") else (param[0] if param else None)
        with self._lock:
            if token is None or token not in self.tokens_issued:
                return "601"
            if token != self._token or self.clock() >= self._expires:
                return "602"
        if self.faults.count_down("expire_after"):
            self.expire_token()
            return "602"
        return None

    def _admit(self) -> bool:
        if self.rate_limit is None:
            return True
        limit, seconds = self.rate_limit
        with self._lock:
            now = self.clock()
            while self._window and now - self._window[0] >= seconds:
                self._window.popleft()
            return len(self._window) < limit

    def _count(self) -> None:
        with self._lock:
            self._window.append(self.clock())
            self._served += 1

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str | None
    ) -> tuple[int, Any, str]:
        if self.latency:
            time.sleep(self.latency)
        if path == IDENTITY and method in ("GET", "POST"):
            return self._identity(query)
        code = self._auth_code(query, auth)
        if code is not None:
            return 200, envelope_error(code), JSON
        if self.faults.count_down("daily_exhausted_after") or self.daily_used >= self.instance.daily_limit:
            return 200, envelope_error("607"), JSON
        if not self._admit():
            return 200, envelope_error("606"), JSON
        fault = self.faults.take(path)
        if fault is not None and fault.kind == "code":
            return 200, envelope_error(str(fault.value), fault.message), JSON
        if fault is not None:
            return int(fault.value), {"message": "injected failure"}, JSON
        status, payload, ctype = self.routes.dispatch(method, path, query, body)
        if status == 200 and not (isinstance(payload, dict) and payload.get("success") is False):
            self._count()
        return status, payload, ctype


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms to every
    # keep-alive response.
    disable_nagle_algorithm = True
    fake: FakeMarketo

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the fake records requests itself."""

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
                status, data, ctype = 200, json.dumps(envelope_error("609", "Invalid JSON")).encode(), JSON
                self._send(status, data, ctype)
                return
        status, data, ctype = self.fake.handle(method, parts.path, query, body, self.headers.get("Authorization"))
        self._send(status, data, ctype)

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")
