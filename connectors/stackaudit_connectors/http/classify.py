"""The one place that decides what a response means: ok, retriable, fatal, auth, missing scope or quota.

Vendors differ (HubSpot says which rate-limit policy it hit in a 429 body, Salesforce reports its daily limit as a
403, Marketo hides errors inside HTTP 200), so a vendor module wraps :func:`classify` with its own rules and falls
back to it for everything generic. The client only ever asks a classifier; no status code is interpreted anywhere
else.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = ["Classifier", "Outcome", "Verdict", "classify", "json_body", "parse_retry_after", "vendor_message"]


class Outcome(enum.StrEnum):
    ok = "ok"
    retriable = "retriable"  # wait and try again (429, 5xx, timeouts)
    fatal = "fatal"  # retrying will not help (400, 404, redirects)
    auth = "auth"  # the credentials are wrong or expired
    missing_scope = "missing_scope"  # the credentials lack a permission for this endpoint
    quota = "quota"  # a limit that will not reset during the run (daily): stop and keep what was read


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""
    retry_after: float | None = None
    # The vendor's own message, if any (the client scrubs secrets from it before it is used).
    detail: str | None = None
    rate_limited: bool = False


Classifier = Callable[[httpx.Response], Verdict]

# 5xx that mean "try later"; 501 and 505 mean the request can never work.
_NOT_RETRIABLE_5XX = frozenset({501, 505})
_RETRIABLE_4XX = frozenset({408, 425, 429})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or invalid."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when there is none or it does not parse (error bodies are often HTML)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def vendor_message(response: httpx.Response, limit: int = 200) -> str | None:
    """A short, single-line vendor message from an error body (``message`` or ``error_description``)."""
    body = json_body(response)
    message: Any = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_description") or body.get("error")
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        message = body[0].get("message")
    if not isinstance(message, str) or not message.strip():
        return None
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def classify(response: httpx.Response) -> Verdict:
    """Generic HTTP semantics. Vendor classifiers call this for whatever they do not special-case."""
    status = response.status_code
    if 200 <= status < 300:
        return Verdict(Outcome.ok)
    detail = vendor_message(response)
    if 300 <= status < 400:
        # Redirects are never followed: a redirect could carry the auth header to another host.
        return Verdict(Outcome.fatal, f"HTTP {status} redirect refused", detail=detail)
    if status == 401:
        return Verdict(Outcome.auth, "HTTP 401 unauthorized", detail=detail)
    if status == 403:
        return Verdict(Outcome.missing_scope, "HTTP 403 forbidden", detail=detail)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status in _RETRIABLE_4XX:
        return Verdict(
            Outcome.retriable, f"HTTP {status}", retry_after=retry_after, detail=detail, rate_limited=status == 429
        )
    if status >= 500 and status not in _NOT_RETRIABLE_5XX:
        return Verdict(Outcome.retriable, f"HTTP {status}", retry_after=retry_after, detail=detail)
    return Verdict(Outcome.fatal, f"HTTP {status}", detail=detail)
