"""A fake Segment Public API on loopback: real HTTP (``ThreadingHTTPServer`` in a thread), built from a
:class:`FakeWorkspace`.

It follows ../shared/api-reference/segment: ``Authorization: Bearer``; the vendor's ``Accept`` media types
(``application/vnd.segment.v1+json``, ``v1beta``, ``v1alpha`` or ``application/json``; anything else is 406);
wrapped bodies and cursor paging (:mod:`.routes`); a points-based rate limit answered with the documented 429
body (``msBeforeNext``) and ``X-RateLimit-Consumed/-Remaining/-Reset`` on every success (the reset as an RFC 5322
date in the workspace's time, ``workspace.clock``).

Every request is recorded (method, path, query, Accept, status) so tests can assert that a connector only read and
sent the right media types. Fault switches (:class:`Faults`) inject 429s (with a chosen ``msBeforeNext``), HTTP
errors and replaced bodies.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .routes import Routes, error_body
from .workspace import FakeWorkspace

__all__ = ["ACCEPTED_MEDIA_TYPES", "FakeSegment", "Faults", "RecordedRequest", "rate_limit_body"]

ACCEPTED_MEDIA_TYPES = (
    "application/vnd.segment.v1+json",
    "application/vnd.segment.v1beta+json",
    "application/vnd.segment.v1alpha+json",
    "application/json",
)


def rate_limit_body(ms_before_next: int, consumed: int) -> dict[str, Any]:
    data = {"remainingPoints": 0, "msBeforeNext": ms_before_next, "consumedPoints": consumed}
    return {"errors": [{"type": "RequestError", "message": "Too many requests", "data": data}]}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    accept: str | None
    status: int

    @property
    def is_read(self) -> bool:
        return self.method == "GET"


@dataclass
class _Fault:
    kind: str  # throttle | status | body
    times: int
    path: str | None
    value: Any

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


@dataclass
class Faults:
    """Switches a test flips; each rule fires for the next ``times`` matching requests (path prefix)."""

    rules: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def throttle(self, *, times: int = 1, ms_before_next: int = 57647, path: str | None = None) -> None:
        """Answer 429 with the documented body."""
        with self._lock:
            self.rules.append(_Fault("throttle", times, path, ms_before_next))

    def fail(self, status: int = 500, *, times: int = 1, path: str | None = None) -> None:
        with self._lock:
            self.rules.append(_Fault("status", times, path, status))

    def replace_body(self, body: Any, *, times: int = 1, path: str | None = None) -> None:
        with self._lock:
            self.rules.append(_Fault("body", times, path, body))

    def take(self, path: str) -> _Fault | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.matches(path):
                    rule.times -= 1
                    return rule
        return None


class FakeSegment:
    """``with FakeSegment(workspace) as fake: fake.base_url`` serves ``workspace`` until the block ends."""

    def __init__(
        self,
        workspace: FakeWorkspace,
        *,
        token: str = "test-segment-token",  # noqa: S107 - the fake's own test value
        rate_limit: tuple[int, float] | None = (600, 60.0),
        clock: Callable[[], float] = time.monotonic,
        max_count: int = 200,
        require_pagination: bool = True,
        delivery_overview: bool = True,
        rate_headers: bool = True,
    ) -> None:
        self.workspace = workspace
        self.token = token
        self.rate_limit = rate_limit
        self.clock = clock
        self.rate_headers = rate_headers
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.routes = Routes(
            workspace, max_count=max_count, require_pagination=require_pagination, delivery_overview=delivery_overview
        )
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> FakeSegment:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-segment", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Segment server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], auth: str | None, accept: str | None
    ) -> tuple[int, bytes, dict[str, str]]:
        status, payload, headers = self._dispatch(method, path, query, auth, accept)
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, accept, status))
        return status, json.dumps(payload).encode(), headers

    def _limit(self) -> tuple[bool, int, int, float]:
        """``(admitted, consumed, remaining, seconds to reset)`` of the points window (one point per request)."""
        if self.rate_limit is None:
            return True, 0, 0, 0.0
        limit, seconds = self.rate_limit
        with self._lock:
            now = self.clock()
            while self._window and now - self._window[0] >= seconds:
                self._window.popleft()
            reset = seconds - (now - self._window[0]) if self._window else seconds
            if len(self._window) >= limit:
                return False, len(self._window), 0, reset
            self._window.append(now)
            return True, len(self._window), limit - len(self._window), reset

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], auth: str | None, accept: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        headers: dict[str, str] = {}
        if auth != f"Bearer {self.token}":
            return 401, error_body(401, "Unauthorized", kind="Unauthorized"), headers
        if accept not in ACCEPTED_MEDIA_TYPES:
            return 406, error_body(406, f"unsupported Accept {accept!r}", kind="NotAcceptable"), headers
        fault = self.faults.take(path)
        admitted, consumed, remaining, reset = self._limit()
        if fault is not None and fault.kind == "throttle":
            return 429, rate_limit_body(int(fault.value), consumed), headers
        if not admitted:
            return 429, rate_limit_body(int(reset * 1000), consumed), headers
        if fault is not None and fault.kind == "status":
            return int(fault.value), error_body(int(fault.value), "injected failure"), headers
        status, payload = self.routes.dispatch(method, path, query)
        if fault is not None and fault.kind == "body" and status == 200:
            payload = fault.value
        if self.rate_headers and status == 200 and self.rate_limit is not None:
            headers = {
                "X-RateLimit-Consumed": str(consumed),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": format_datetime(self.workspace.clock + timedelta(seconds=reset), usegmt=True),
            }
        return status, payload, headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms to every
    # keep-alive response.
    disable_nagle_algorithm = True
    fake: FakeSegment

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the fake records requests itself."""

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, data, headers = self.fake.handle(
            method, parts.path, query, self.headers.get("Authorization"), self.headers.get("Accept")
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")
