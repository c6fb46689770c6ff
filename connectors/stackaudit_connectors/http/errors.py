"""Errors raised by the shared HTTP layer.

Error tree::

    ConnectorError (stackaudit_connectors.base)
     └── HttpError               a request failed after the SDK did what it could (``method``, ``path``, ``status``)
          ├── AuthError          401: the credentials are missing, invalid or expired
          ├── ScopeError         403: the credentials lack a scope or permission for this endpoint
          ├── QuotaError         a quota that will not recover during the run (a daily limit): stop, keep what was read
          ├── RetryError         a retriable failure (429, 5xx, timeout, connection) outlasted the attempts
          │    └── DeadlineError the connector's overall time budget ran out (nothing hangs forever)
          ├── ResponseError      any other non-success status (400, 404, a refused redirect): retrying would not help
          ├── MalformedError     the body is not the JSON the endpoint promises (truncated, HTML, wrong shape)
          ├── PaginationError    a cursor, offset or next link repeated: the vendor would loop us forever
          └── UnsafeURLError     a URL on another host than the configured base URL (the token would leak there)

Messages are one line: ``connector 'hubspot': GET /crm/v3/owners: HTTP 503 after 5 attempts``. They name the
method and path (never the query string, which some vendors use for keys) and never carry a token: the client
scrubs every secret it knows from vendor text before it reaches an exception.
"""

from __future__ import annotations

from ..base import ConnectorError

__all__ = [
    "AuthError",
    "DeadlineError",
    "HttpError",
    "MalformedError",
    "PaginationError",
    "QuotaError",
    "ResponseError",
    "RetryError",
    "ScopeError",
    "UnsafeURLError",
]


class HttpError(ConnectorError):
    """Base of the HTTP layer's errors. ``code`` is the short machine code recorded in a run's errors."""

    default_code = "http"

    def __init__(
        self,
        connector: str,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        where = f"{method} {path}" if method and path else path
        text = f"{where}: {message}" if where else message
        super().__init__(connector, text, code=code or self.default_code, where=path)


class AuthError(HttpError):
    default_code = "auth"


class ScopeError(HttpError):
    default_code = "scope"


class QuotaError(HttpError):
    default_code = "quota"


class RetryError(HttpError):
    default_code = "retries_exhausted"


class DeadlineError(RetryError):
    default_code = "deadline"


class ResponseError(HttpError):
    default_code = "http_4xx"


class MalformedError(HttpError):
    default_code = "malformed"


class PaginationError(HttpError):
    default_code = "pagination"


class UnsafeURLError(HttpError):
    default_code = "unsafe_url"
