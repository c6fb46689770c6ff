"""Retry policy and deadline, on their own."""

from __future__ import annotations

import random

import pytest

from stackaudit_connectors.http import Deadline, RetryPolicy


def test_backoff_grows_with_a_floor_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_base=1.0, backoff_cap=8.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        for _ in range(50):
            delay = policy.backoff(attempt, rng)
            assert ceiling / 2 <= delay <= ceiling
    # Jitter spreads threads that failed together.
    assert len({round(policy.backoff(3, rng), 6) for _ in range(20)}) > 10


def test_delay_honours_retry_after_and_the_attempt_bound() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_base=0.5, max_retry_after=60)
    rng = random.Random(1)
    assert 10.0 <= (policy.delay(1, 10.0, rng) or 0) <= 10.5
    assert policy.delay(1, 61.0, rng) is None  # longer than we are willing to wait
    assert policy.delay(2, None, rng) is not None
    assert policy.delay(3, None, rng) is None  # the third failure was the last attempt


def test_deadline_on_an_injected_clock() -> None:
    now = [100.0]
    deadline = Deadline(30, lambda: now[0])
    assert deadline.remaining() == 30 and not deadline.expired
    now[0] = 129.5
    assert deadline.remaining() == pytest.approx(0.5)
    now[0] = 131
    assert deadline.expired and deadline.remaining() == 0
    assert Deadline(None, lambda: now[0]).remaining() == float("inf")
