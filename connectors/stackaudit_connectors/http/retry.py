"""Retry policy (bounded attempts, exponential backoff with full jitter, ``Retry-After`` honoured) and a deadline.

Why not tenacity: the decision to retry comes from the classifier (a HubSpot 429 with policy DAILY must stop, one
with TEN_SECONDLY_ROLLING must wait), the wait comes from ``Retry-After`` or the backoff, every thread must pause
on a shared rate limiter, and the stop condition is a per-connector deadline on an injected clock. With tenacity
each of those would be a custom callable around its loop; the loop itself is ten lines in the client, and these
two small, tested pieces are what it uses.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Deadline", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to retry a retriable failure."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    # A Retry-After longer than this is not waited out: the call fails as retries exhausted instead.
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter" for the ``attempt``-th failure (1-based): half the step is
        fixed, half random. Full jitter can draw near-zero waits several times running, which never lets a
        vendor's rolling window drain when it sends no ``Retry-After``; this keeps a growing minimum."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before the next attempt, or None when the policy says give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            # Honour the vendor's wait, plus a little jitter so parallel threads do not return at the same instant.
            return retry_after + rng.uniform(0, self.backoff_base)
        return self.backoff(attempt, rng)


class Deadline:
    """An overall time budget on an injected monotonic clock (None = no budget)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = math.inf if seconds is None else clock() + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self._end
