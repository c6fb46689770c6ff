"""The client every API connector uses: one sync ``httpx.Client`` with auth, limits, retries and a call counter.

What it guarantees:

- TLS verification on, timeouts on every request, user agent ``stackaudit/<version>``.
- The auth header goes only to the configured base URL's origin (scheme, host, port): redirects are never
  followed, an absolute URL to another origin is refused before anything is sent, and the auth hook itself checks
  the origin of every request it signs.
- Every attempt passes the rate limiter buckets named for the call, is counted, and is classified by one function;
  retriable outcomes are retried with backoff (honouring ``Retry-After``) within bounded attempts and the
  connector's overall deadline. Quota, auth and scope outcomes raise at once.
- No secret ever reaches an exception, a log line or a repr: vendor text is scrubbed of every known secret.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import Any

import httpx

from .classify import Classifier, Outcome, Verdict, classify
from .errors import (
    AuthError,
    DeadlineError,
    HttpError,
    MalformedError,
    QuotaError,
    ResponseError,
    RetryError,
    ScopeError,
    UnsafeURLError,
)
from .ratelimit import TokenBucket
from .retry import Deadline, RetryPolicy

__all__ = ["BearerAuth", "CallCounter", "HttpClient", "Origin", "build_client", "user_agent"]

log = logging.getLogger("stackaudit.connectors.http")

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


@cache
def user_agent() -> str:
    """``stackaudit/<version>`` from the installed distribution (looked up on first use, not at import)."""
    for dist in ("stackaudit", "stackaudit-connectors"):
        try:
            return f"stackaudit/{metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "stackaudit/0"


def origin_of(url: httpx.URL) -> Origin:
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme, 0)


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``, added only to requests for the pinned origin."""

    def __init__(self, token: str, origin: Origin) -> None:
        self._token = token
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return f"BearerAuth(token=***, origin={self._origin[1]})"


@dataclass
class CallCounter:
    """Every attempt sent, by bucket and by status (``error`` for a transport failure); thread-safe."""

    total: int = 0
    retries: int = 0
    throttled: int = 0
    by_bucket: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, bucket: str, status: int | None, *, retry: bool, throttled: bool) -> None:
        with self._lock:
            self.total += 1
            self.by_bucket[bucket] += 1
            self.by_status[str(status) if status is not None else "error"] += 1
            self.retries += int(retry)
            self.throttled += int(throttled)


class HttpClient:
    """A connector's HTTP client. Build it with :func:`build_client`; use it as a context manager.

    ``buckets`` maps a call's bucket name (``request(..., bucket="search")``) to the token buckets it must pass,
    account-wide first and most specific last (HubSpot: ``{"default": [ten_s], "search": [ten_s, search]}``);
    ``default`` serves any name without its own entry.
    """

    def __init__(
        self,
        *,
        connector: str,
        base_url: str,
        auth: httpx.Auth | None = None,
        secrets: Sequence[str] = (),
        classifier: Classifier = classify,
        buckets: Mapping[str, Sequence[TokenBucket]] | None = None,
        policy: RetryPolicy | None = None,
        deadline_seconds: float | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
        response_hooks: Sequence[Callable[[httpx.Response], None]] = (),
        headers: Mapping[str, str] | None = None,
        max_connections: int = 10,
    ) -> None:
        self.connector = connector
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        if self.base_url.scheme not in ("http", "https") or not self.base_url.host:
            raise UnsafeURLError(connector, "base URL must be an http or https URL", path=str(base_url))
        self.origin = origin_of(self.base_url)
        self._secrets = tuple(s for s in secrets if s)
        self._classifier = classifier
        self._buckets = dict(buckets or {})
        self.policy = policy or RetryPolicy()
        self.deadline = Deadline(deadline_seconds, clock)
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._hooks = tuple(response_hooks)
        self.counter = CallCounter()
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            headers={"User-Agent": user_agent(), "Accept": "application/json", **(headers or {})},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            verify=True,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    # ------------------------------------------------------------------------------------------------ plumbing

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"HttpClient(connector={self.connector!r}, base_url={str(self.base_url)!r})"

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def resolve(self, url: str) -> str:
        """A path relative to the base URL, or an absolute URL on the same origin; anything else is refused."""
        if "://" in url or url.startswith("//"):
            target = httpx.URL(url)
            if origin_of(target) != self.origin:
                raise UnsafeURLError(
                    self.connector, f"refusing a URL on another host ({target.host}) than the base URL", path=url
                )
            return url
        return url.lstrip("/")

    def bucket(self, name: str) -> Sequence[TokenBucket]:
        return self._buckets.get(name) or self._buckets.get("default") or ()

    # ----------------------------------------------------------------------------------------------- requests

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None, bucket: str = "default") -> Any:
        return self._json(self.request("GET", path, params=params, bucket=bucket), "GET", path)

    def post_json(self, path: str, body: Any, *, bucket: str = "default") -> Any:
        return self._json(self.request("POST", path, json_body=body, bucket=bucket), "POST", path)

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise MalformedError(
                self.connector, "response is not valid JSON", method=method, path=_path(path), status=200
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        bucket: str = "default",
    ) -> httpx.Response:
        """Send with rate limiting, classification and retries; return a successful response or raise."""
        url = self.resolve(path)
        where = _path(path)
        attempt = 0
        while True:
            attempt += 1
            self._acquire(bucket, method, where)
            verdict, response = self._attempt(method, url, params, json_body, bucket, retry=attempt > 1)
            if verdict.outcome is Outcome.ok and response is not None:
                return response
            self._raise_if_final(verdict, method, where, response)
            delay = self.policy.delay(attempt, verdict.retry_after, self._rng)
            if delay is None:
                raise RetryError(
                    self.connector,
                    f"{verdict.reason} after {attempt} attempts{self._detail(verdict)}",
                    method=method,
                    path=where,
                    status=response.status_code if response is not None else None,
                    code="rate_limit" if verdict.rate_limited else None,
                )
            if delay > self.deadline.remaining():
                raise self._deadline(method, where)
            log.info("%s %s: %s, retry %d in %.1fs", method, where, verdict.reason, attempt, delay)
            buckets = self.bucket(bucket)
            if verdict.rate_limited and buckets:
                # Everyone waits, not only this thread: the vendor counts requests per account. The next
                # acquire sleeps out the pause. The call's most specific bucket (the last one: search, not the
                # account-wide one) also slows down for a while (see TokenBucket.slow_down).
                for b in buckets:
                    b.pause(delay)
                buckets[-1].slow_down()
            else:
                self._sleep(delay)

    def _acquire(self, bucket: str, method: str, where: str) -> None:
        for b in self.bucket(bucket):
            if not b.acquire(max_wait=self.deadline.remaining()):
                raise self._deadline(method, where)
        if self.deadline.expired:
            raise self._deadline(method, where)

    def _attempt(
        self, method: str, url: str, params: Mapping[str, Any] | None, body: Any, bucket: str, *, retry: bool
    ) -> tuple[Verdict, httpx.Response | None]:
        try:
            response = self._client.request(method, url, params=params, json=body)
        except httpx.TimeoutException:
            self.counter.record(bucket, None, retry=retry, throttled=False)
            return Verdict(Outcome.retriable, "timeout"), None
        except httpx.TransportError as exc:
            self.counter.record(bucket, None, retry=retry, throttled=False)
            return Verdict(Outcome.retriable, f"connection error ({exc.__class__.__name__})"), None
        verdict = self._classifier(response)
        self.counter.record(bucket, response.status_code, retry=retry, throttled=verdict.rate_limited)
        for hook in self._hooks:
            hook(response)
        return verdict, response

    def _detail(self, verdict: Verdict) -> str:
        return f" ({self.scrub(verdict.detail)})" if verdict.detail else ""

    def _deadline(self, method: str, where: str) -> DeadlineError:
        budget = self.deadline.seconds
        return DeadlineError(
            self.connector, f"time budget of {budget:.0f}s exhausted", method=method, path=where, code="deadline"
        )

    def _raise_if_final(self, verdict: Verdict, method: str, where: str, response: httpx.Response | None) -> None:
        status = response.status_code if response is not None else None
        kinds: dict[Outcome, type[HttpError]] = {
            Outcome.auth: AuthError,
            Outcome.missing_scope: ScopeError,
            Outcome.quota: QuotaError,
            Outcome.fatal: ResponseError,
        }
        kind = kinds.get(verdict.outcome)
        if kind is not None:
            raise kind(
                self.connector, f"{verdict.reason}{self._detail(verdict)}", method=method, path=where, status=status
            )


def _path(url: str) -> str:
    """The path of ``url`` without its query string (which may hold keys) for messages."""
    path = url.split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return path if path.startswith("/") else "/" + path


def build_client(
    *,
    connector: str,
    base_url: str,
    token: str | None,
    **kwargs: Any,
) -> HttpClient:
    """An :class:`HttpClient` sending ``Authorization: Bearer <token>`` to ``base_url``'s origin only."""
    url = httpx.URL(base_url)
    auth = BearerAuth(token, origin_of(url)) if token else None
    secrets = (token,) if token else ()
    return HttpClient(connector=connector, base_url=base_url, auth=auth, secrets=secrets, **kwargs)
