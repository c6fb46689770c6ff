"""Marketo's identity tokens: fetched with client credentials, reused until shortly before expiry, refreshed once
when the API says 601/602, and never shown in a message, a log line or a repr.

The token is fetched by :class:`~.api.MarketoApi` *before* a call (never from inside an HTTP request), so the
auth hook below only reads the current token. Calling the identity endpoint before the old token expires returns
the same token with its remaining lifetime (a Marketo quirk): a token near its end is therefore used as it is,
and the 602 it may earn is answered by one refresh.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import httpx

from ..http.client import Origin, origin_of

__all__ = ["IDENTITY_PATH", "MarketoAuth", "TokenManager", "install_log_redaction"]

IDENTITY_PATH = "/identity/oauth/token"

# The identity endpoint takes the client secret in the query string (the documented way); httpx logs request URLs
# at INFO, so the secret would reach a debug log. This filter blanks it in httpx's log records.
_SECRET_PARAM = re.compile(r"(client_secret|client_id|access_token)=[^&\s\"']+")


class _RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = _SECRET_PARAM.sub(r"\1=***", record.msg)
        return True


def _redact(value: Any) -> Any:
    if isinstance(value, str | httpx.URL) and _SECRET_PARAM.search(str(value)):
        return _SECRET_PARAM.sub(r"\1=***", str(value))
    return value


_FILTER = _RedactCredentials()
_filter_lock = threading.Lock()


def install_log_redaction() -> None:
    """Add the redacting filter to httpx's loggers (once per process; called when a Marketo client is built)."""
    with _filter_lock:
        for name in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


class TokenManager:
    """The current access token and its expiry, shared by the connector's threads.

    ``fetch`` calls the identity endpoint and returns ``(access_token, expires_in seconds, scope)``. Tokens are
    refreshed when fewer than ``margin`` seconds remain, and on :meth:`invalidate` (a 601/602) unless another
    thread already replaced the stale token.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float, str | None]],
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = -math.inf
        self._seen: tuple[str, ...] = ()
        self.fetches = 0
        self.scope: str | None = None

    def __repr__(self) -> str:
        return f"TokenManager(token={'***' if self._token else None}, fetches={self.fetches})"

    def peek(self) -> str | None:
        """The current token without fetching (the auth hook's view)."""
        return self._token

    def ensure(self) -> str:
        """A token with more than ``margin`` seconds left, fetching one if needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._refresh()
            assert self._token is not None
            return self._token

    def invalidate(self, stale: str | None) -> str:
        """The API rejected ``stale`` (601/602): fetch a new token unless another thread already did."""
        with self._lock:
            if self._token is None or self._token == stale:
                self._refresh()
            assert self._token is not None
            return self._token

    def secrets(self) -> tuple[str, ...]:
        """Every token seen in this run (to scrub them from vendor text). Lock-free: it is called while a refresh
        holds the lock (scrubbing the identity call's own error), and the tuple is replaced, never mutated."""
        return self._seen

    def _refresh(self) -> None:
        token, expires_in, scope = self._fetch()
        self.fetches += 1
        self._token = token
        self.scope = scope
        # Refresh ``margin`` seconds before expiry. A token that comes back with less than twice that left is the
        # old one (Marketo returns the current token until it expires): use it to its end, and let the 602 it may
        # earn trigger the refresh, rather than asking again on every call.
        life = expires_in - self._margin if expires_in > 2 * self._margin else expires_in
        self._refresh_at = self._clock() + life
        if token not in self._seen:
            self._seen = (*self._seen, token)


class MarketoAuth(httpx.Auth):
    """``Authorization: Bearer <current token>`` on requests to the pinned origin, except the identity endpoint."""

    def __init__(self, tokens: TokenManager, origin: Origin) -> None:
        self._tokens = tokens
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._tokens.peek()
        if token and origin_of(request.url) == self._origin and not request.url.path.endswith(IDENTITY_PATH):
            request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def __repr__(self) -> str:
        return f"MarketoAuth(token=***, origin={self._origin[1]})"
