"""A fake Salesforce org on loopback: real HTTP (``ThreadingHTTPServer`` in a thread), built from a :class:`FakeOrg`.

It follows ../shared/api-reference/salesforce: Bearer auth with the documented ``INVALID_SESSION_ID`` 401 array;
a rolling daily request allocation that runs out with ``403 REQUEST_LIMIT_EXCEEDED`` (a composite request counts
once); ``Sforce-Limit-Info: api-usage=N/M`` on every data-API response; the OAuth client-credentials token
endpoint (form-encoded, not counted against the allocation). Routes and query semantics live in
:mod:`.routes` and :mod:`.execute`.

Every request is recorded (method, path, query, body, status, and a composite's subrequest methods) so tests can
assert that a connector only read. Fault switches (:class:`Faults`) inject 5xx bursts, replaced bodies, an
exhausted daily allocation and a session that expires mid-run.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .org import FakeOrg, sf_id
from .routes import Routes, sf_error

__all__ = ["FakeSalesforce", "Faults", "RecordedRequest"]

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a URL path, not a password
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
LIMIT_EXCEEDED = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    sub_methods: tuple[str, ...] = ()
    sub_urls: tuple[str, ...] = ()

    @property
    def is_read(self) -> bool:
        """GET; a composite made only of GETs; or the token request (a login, not a write)."""
        if self.method == "GET" or (self.method == "POST" and self.path == TOKEN_PATH):
            return True
        return self.method == "POST" and self.path.rstrip("/").endswith("/composite") and all(
            m == "GET" for m in self.sub_methods
        )


@dataclass
class _Fault:
    kind: str  # status | body
    times: int
    path: str | None = None
    status: int = 500
    body: Any = None

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


@dataclass
class Faults:
    """Switches a test flips; each rule fires for the next ``times`` matching requests (path prefix)."""

    rules: list[_Fault] = field(default_factory=list)
    daily_exhausted_after: int | None = None
    session_expires_after: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fail(self, times: int = 3, *, status: int = 500, path: str | None = None, body: Any = None) -> None:
        """The next ``times`` requests under ``path`` answer ``status`` (with ``body``, default an error array)."""
        with self._lock:
            self.rules.append(_Fault("status", times, path, status, body))

    def replace_body(self, body: Any, *, path: str | None = None, times: int = 1) -> None:
        with self._lock:
            self.rules.append(_Fault("body", times, path, body=body))

    def exhaust_daily(self, after: int = 0) -> None:
        """The org's daily allocation runs out after ``after`` more counted requests."""
        with self._lock:
            self.daily_exhausted_after = after

    def expire_session(self, after: int = 0) -> None:
        """The access token stops working after ``after`` more requests."""
        with self._lock:
            self.session_expires_after = after

    def take(self, path: str, kind: str) -> _Fault | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.kind == kind and rule.matches(path):
                    rule.times -= 1
                    return rule
        return None

    def countdown(self, name: str) -> bool:
        """True once the named countdown has run out (it then stays out)."""
        with self._lock:
            left = getattr(self, name)
            if left is None:
                return False
            if left > 0:
                setattr(self, name, left - 1)
                return False
            return True


class FakeSalesforce:
    """``with FakeSalesforce(org) as fake: fake.base_url`` serves ``org`` until the block ends."""

    def __init__(
        self,
        org: FakeOrg,
        *,
        token: str = "test-token",  # noqa: S107 - the fake's own test value
        client_id: str | None = None,
        client_secret: str | None = None,
        page_size: int = 2000,
        tooling_page_size: int = 2000,
        max_composite: int = 25,
        max_composite_queries: int = 5,
        max_query_length: int = 100_000,
        tooling_next_url: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.org = org
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        self.latency = latency
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.routes = Routes(
            org,
            page_size=page_size,
            tooling_page_size=tooling_page_size,
            max_composite=max_composite,
            max_composite_queries=max_composite_queries,
            max_query_length=max_query_length,
            tooling_next_url=tooling_next_url,
        )
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeSalesforce:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-salesforce", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Salesforce server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # ---------------------------------------------------------------------------------------------- queries

    def calls(self, method: str | None = None, prefix: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r for r in self.requests
                if (method is None or r.method == method) and (prefix is None or r.path.startswith(prefix))
            ]

    def non_read_requests(self) -> list[RecordedRequest]:
        return [r for r in self.calls() if not r.is_read]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # --------------------------------------------------------------------------------------------- dispatch

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
               ) -> tuple[int, bytes, dict[str, str]]:
        if path == TOKEN_PATH:
            status, payload, out = self._token(method, body)
        else:
            status, payload, out = self._dispatch(method, path, query, headers, body)
        data = b"" if payload is None else json.dumps(payload).encode()
        subs = body.get("compositeRequest") if isinstance(body, dict) else None
        sub_methods = tuple(str(s.get("method", "GET")).upper() for s in subs if isinstance(s, dict)) if (
            isinstance(subs, list)) else ()
        sub_urls = tuple(str(s.get("url", "")) for s in subs if isinstance(s, dict)) if isinstance(subs, list) else ()
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, body, status, sub_methods, sub_urls))
        return status, data, out

    def _token(self, method: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        form = body if isinstance(body, dict) else {}
        if method != "POST":
            return 405, {"error": "invalid_request", "error_description": "must use HTTP POST"}, {}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, {}
        if (self.client_id is None or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret):
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}, {}
        return 200, {
            "access_token": self.token,
            "signature": "fake-signature=",
            "scope": "api",
            "instance_url": self.base_url,
            "id": f"{self.base_url}/id/{self.org.org_id}/{sf_id('005', 'integration-user')}",
            "token_type": "Bearer",
            "issued_at": str(int(self.org.clock.timestamp() * 1000)),
        }, {}

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
                  ) -> tuple[int, Any, dict[str, str]]:
        counted = path.startswith("/services/data/v")
        usage = ""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if self.faults.countdown("session_expires_after") or auth != f"Bearer {self.token}":
            return 401, INVALID_SESSION, {}
        if counted:
            if self.faults.countdown("daily_exhausted_after"):
                with self._lock:
                    self.org.daily_used = max(self.org.daily_used, self.org.daily_limit)
            with self._lock:
                over = self.org.daily_used >= self.org.daily_limit
                if not over:
                    self.org.daily_used += 1
                usage = f"api-usage={self.org.daily_used}/{self.org.daily_limit}"
            if over:
                return 403, LIMIT_EXCEEDED, {"Sforce-Limit-Info": usage}
        out: dict[str, str] = {"Sforce-Limit-Info": usage} if counted else {}
        fault = self.faults.take(path, "status")
        if fault is not None:
            status, payload, _ = sf_error(fault.status, "UNKNOWN_EXCEPTION", "An unexpected error occurred (injected)")
            return status, payload if fault.body is None else fault.body, out
        status, payload, extra = self.routes.dispatch(method, path, query, headers, body)
        replaced = self.faults.take(path, "body")
        if replaced is not None and status == 200:
            payload = replaced.body
        return status, payload, {**out, **extra}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms per request.
    disable_nagle_algorithm = True
    fake: FakeSalesforce

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the fake records requests itself."""

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        status: int | None = None
        if raw:
            ctype = self.headers.get("Content-Type", "")
            try:
                if "x-www-form-urlencoded" in ctype:
                    body = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                else:
                    body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                status = 400
        if self.fake.latency:
            time.sleep(self.fake.latency)
        headers = {k: v for k, v in self.headers.items()}
        if status is not None:
            data = json.dumps([{"message": "Invalid JSON", "errorCode": "JSON_PARSER_ERROR"}]).encode()
            out: dict[str, str] = {}
        else:
            status, data, out = self.fake.handle(method, parts.path, query, headers, body)
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in out.items():
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
