"""The shared HTTP layer for API connectors: client factory, rate limiting, retries, classification, paging.

Small pieces, each tested on its own:

- :mod:`.client` — :func:`build_client` / :class:`HttpClient` (auth pinned to the base URL's host, timeouts, user
  agent, call counter, retry loop);
- :mod:`.ratelimit` — :class:`TokenBucket` per vendor limit, clock and sleep injected;
- :mod:`.retry` — :class:`RetryPolicy` (backoff with jitter, ``Retry-After``) and :class:`Deadline`;
- :mod:`.classify` — :func:`classify`, the one place deciding ok / retriable / fatal / auth / missing scope / quota;
- :mod:`.paginate` — cursor, offset and next-URL paginators that refuse to loop;
- :mod:`.concurrency` — :func:`run_bounded`, a small thread pool that keeps per-item results;
- :mod:`.errors` — the error tree.
"""

from .classify import Classifier, Outcome, Verdict, classify, json_body, parse_retry_after, vendor_message
from .client import BearerAuth, CallCounter, HttpClient, build_client, user_agent
from .concurrency import BoundedRun, TaskResult, run_bounded
from .errors import (
    AuthError,
    DeadlineError,
    HttpError,
    MalformedError,
    PaginationError,
    QuotaError,
    ResponseError,
    RetryError,
    ScopeError,
    UnsafeURLError,
)
from .paginate import iter_cursor, iter_next_url, iter_offset
from .ratelimit import TokenBucket
from .retry import Deadline, RetryPolicy

__all__ = [
    "AuthError",
    "BearerAuth",
    "BoundedRun",
    "CallCounter",
    "Classifier",
    "Deadline",
    "DeadlineError",
    "HttpClient",
    "HttpError",
    "MalformedError",
    "Outcome",
    "PaginationError",
    "QuotaError",
    "ResponseError",
    "RetryError",
    "RetryPolicy",
    "ScopeError",
    "TaskResult",
    "TokenBucket",
    "UnsafeURLError",
    "Verdict",
    "build_client",
    "classify",
    "iter_cursor",
    "iter_next_url",
    "iter_offset",
    "json_body",
    "parse_retry_after",
    "run_bounded",
    "user_agent",
    "vendor_message",
]
