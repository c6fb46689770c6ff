"""A token bucket per vendor limit, shared by a connector's threads, with the clock and sleep injected.

A vendor limit of N requests per rolling window W becomes a bucket of ``burst`` tokens refilled at
``(N * headroom - burst + 1) / W`` per second: requests then come at least ``1 / rate`` apart once the burst is
spent, so any closed window of length W holds at most ``floor(N * headroom) + 1`` of them: never more than N
while headroom is below 1. Sending just under the vendor's limit (rather than at it) absorbs the difference
between when we count a request and when the vendor does (latency, clock skew), so the rate limiter, not the
vendor's 429, paces us.

Takers reserve tokens under a lock and sleep outside it, so several threads share one bucket fairly. A bucket can
also be paused (after a 429, every thread waits) and re-limited when the vendor reports its real limit in headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Tokens refill at ``rate`` per second up to ``capacity``; :meth:`acquire` blocks until one is available."""

    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        name: str = "",
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and a capacity of at least 1")
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._last = clock()
        self._paused_until = -math.inf
        self._configured = rate
        self._floor = rate / 16
        self._window = window
        self._slowed_at = -math.inf
        self._stepped_at = -math.inf
        self.waited = 0.0  # total seconds callers spent waiting (reported in run notes)

    @classmethod
    def for_limit(
        cls,
        limit: float,
        per_seconds: float,
        *,
        headroom: float = 0.9,
        burst: int = 1,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> TokenBucket:
        """A bucket that keeps any window of ``per_seconds`` under ``limit * headroom`` requests."""
        rate, capacity = cls._shape(limit, per_seconds, headroom, burst)
        return cls(rate, capacity, name=name, window=per_seconds, clock=clock, sleep=sleep)

    @staticmethod
    def _shape(limit: float, per_seconds: float, headroom: float, burst: int = 1) -> tuple[float, float]:
        if limit <= 0 or per_seconds <= 0 or not 0 < headroom <= 1 or burst < 1:
            raise ValueError("limit, window and burst must be positive and headroom in (0, 1]")
        allowed = limit * headroom
        capacity = float(min(burst, max(1, math.floor(allowed))))
        rate = max(allowed - capacity + 1, allowed / 10) / per_seconds
        return rate, capacity

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def capacity(self) -> float:
        return self._capacity

    def set_limit(self, limit: float, per_seconds: float, *, headroom: float = 0.9, burst: int = 1) -> None:
        """Re-shape the bucket (e.g. when the vendor's headers reveal the account's real tier)."""
        rate, capacity = self._shape(limit, per_seconds, headroom, burst)
        with self._lock:
            self._refill(self._clock())
            self._rate = rate
            self._configured = rate
            self._floor = rate / 16
            self._window = per_seconds
            self._capacity = capacity
            self._tokens = min(self._tokens, capacity)

    def slow_down(self, factor: float = 0.5) -> bool:
        """Multiply the rate by ``factor`` (not below a sixteenth of the configured rate): the vendor said 429,
        so the configured limit was too high (a lower tier, or another app sharing the account's limit). At most
        once per window: the 429s of one window are one overload, not several. Returns True if it slowed.

        Each later window without a slow-down gives back a tenth of the configured rate (additive increase,
        multiplicative decrease), so one 429 caused by jitter costs a few windows, not the rest of the run."""
        with self._lock:
            now = self._clock()
            if now - self._slowed_at < self._window:
                return False
            self._refill(now)
            self._slowed_at = now
            self._rate = max(self._floor, self._rate * factor)
            return True

    def pause(self, seconds: float) -> bool:
        """Hand out no token for ``seconds`` (every thread waits, e.g. after the vendor said 429). Returns True
        when this starts a pause, False when one was already running (the same burst of 429s)."""
        if seconds <= 0:
            return False
        with self._lock:
            now = self._clock()
            self._refill(now)
            fresh = self._paused_until <= now
            self._paused_until = max(self._paused_until, now + seconds)
            self._tokens = min(self._tokens, 0.0)
            return fresh

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._last = now
        # No refill accrues while paused: the pause drains the bucket and it restarts empty.
        if now > self._paused_until:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)

    def _recover(self, now: float) -> None:
        if self._rate < self._configured and now - max(self._slowed_at, self._stepped_at) >= self._window:
            self._rate = min(self._configured, self._rate + self._configured / 10)
            self._stepped_at = now

    def _reserve(self, tokens: float) -> float:
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._recover(now)
            self._tokens -= tokens
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self._rate
            return max(wait, self._paused_until - now)

    def _refund(self, tokens: float) -> None:
        with self._lock:
            self._tokens = min(self._capacity, self._tokens + tokens)

    def acquire(self, tokens: float = 1.0, *, max_wait: float | None = None) -> bool:
        """Take ``tokens``, sleeping as needed. Returns False (taking nothing) if that would exceed ``max_wait``."""
        wait = self._reserve(tokens)
        if max_wait is not None and wait > max_wait:
            self._refund(tokens)
            return False
        while wait > 0:
            self._sleep(wait)
            self.waited += wait
            # A pause may have started while we slept: honour it before going.
            with self._lock:
                wait = self._paused_until - self._clock()
            if max_wait is not None and wait > max_wait:
                return False
        return True
