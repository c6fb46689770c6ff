"""Token bucket: spacing, window compliance, pauses, re-shaping and refusal past a deadline, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from stackaudit_connectors.http import TokenBucket


def take(bucket: TokenBucket, clock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        assert bucket.acquire()
        times.append(clock())
    return times


def max_in_window(times: list[float], window: float) -> int:
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t - start <= window))
    return best


@pytest.mark.parametrize(
    ("limit", "window", "headroom", "burst"),
    [(100, 10.0, 0.9, 1), (190, 10.0, 0.9, 1), (4, 1.0, 0.9, 1), (4, 1.0, 1.0 - 1e-9, 1), (100, 10.0, 0.9, 10)],
)
def test_no_window_ever_exceeds_the_vendor_limit(clock, limit, window, headroom, burst) -> None:
    bucket = TokenBucket.for_limit(limit, window, headroom=headroom, burst=burst, clock=clock, sleep=clock.sleep)
    times = take(bucket, clock, limit * 4)
    assert max_in_window(times, window) <= limit
    # ... and uses most of it: the sustained rate is the limit times the headroom.
    elapsed = times[-1] - times[0]
    assert (len(times) - burst) / elapsed == pytest.approx(bucket.rate, rel=0.01)
    assert bucket.rate * window >= limit * headroom - burst


def test_first_tokens_are_free_then_requests_are_spaced(clock) -> None:
    bucket = TokenBucket(rate=2.0, capacity=3, clock=clock, sleep=clock.sleep)
    times = take(bucket, clock, 5)
    assert times[:3] == [1000.0, 1000.0, 1000.0]
    assert times[3] == pytest.approx(1000.5)
    assert times[4] == pytest.approx(1001.0)
    assert bucket.waited == pytest.approx(1.0)


def test_tokens_refill_while_idle_up_to_capacity(clock) -> None:
    bucket = TokenBucket(rate=1.0, capacity=2, clock=clock, sleep=clock.sleep)
    take(bucket, clock, 2)
    clock.now += 100  # idle: refills to capacity only
    times = take(bucket, clock, 3)
    assert times[0] == times[1]
    assert times[2] - times[1] == pytest.approx(1.0)


def test_pause_makes_everyone_wait_and_restarts_empty(clock) -> None:
    bucket = TokenBucket(rate=10.0, capacity=5, clock=clock, sleep=clock.sleep)
    bucket.pause(3.0)
    start = clock()
    assert bucket.acquire()
    assert clock() - start == pytest.approx(3.0, abs=0.11)
    # No burst saved up during the pause.
    nxt = take(bucket, clock, 2)
    assert nxt[1] - nxt[0] == pytest.approx(0.1)


def test_max_wait_refuses_without_taking(clock) -> None:
    bucket = TokenBucket(rate=1.0, capacity=1, clock=clock, sleep=clock.sleep)
    assert bucket.acquire()
    assert not bucket.acquire(max_wait=0.5)
    assert clock.sleeps == []
    assert bucket.acquire(max_wait=1.0)  # the refused token was refunded: one second is enough


def test_set_limit_reshapes(clock) -> None:
    bucket = TokenBucket.for_limit(100, 10.0, clock=clock, sleep=clock.sleep)
    assert bucket.rate == pytest.approx(9.0)
    bucket.set_limit(190, 10.0)
    assert bucket.rate == pytest.approx(17.1)


def test_invalid_shapes_are_rejected() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, capacity=1)
    with pytest.raises(ValueError):
        TokenBucket.for_limit(10, 1.0, headroom=1.5)


def test_threads_share_one_bucket_fairly() -> None:
    """Real threads on a frozen clock: 20 takers reserve 20 distinct slots 0.1 s apart (no two share one)."""
    lock = threading.Lock()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    bucket = TokenBucket(rate=10.0, capacity=1, clock=lambda: 0.0, sleep=sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The first taker had the free token (no sleep); the others waited 0.1, 0.2, ... 1.9 s.
    assert sorted(round(w, 6) for w in waits) == [round(i * 0.1, 6) for i in range(1, 20)]


def test_slow_down_halves_the_rate_once_per_window_down_to_a_floor(clock) -> None:
    bucket = TokenBucket(rate=16.0, capacity=1, window=10.0, clock=clock, sleep=clock.sleep)
    assert bucket.slow_down()
    assert not bucket.slow_down()  # the same window's 429s are one overload
    assert bucket.rate == 8.0
    for _ in range(10):
        clock.now += 10
        bucket.slow_down()
    assert bucket.rate == 1.0  # a sixteenth of the configured rate
    # Quiet windows give the rate back, a tenth of the configured rate per window.
    for expected in (1.0, 2.6, 4.2):
        assert bucket.rate == pytest.approx(expected)
        clock.now += 10
        bucket.acquire()
    for _ in range(20):
        clock.now += 10
        bucket.acquire()
    assert bucket.rate == 16.0
    bucket.set_limit(100, 10.0, headroom=1.0)
    assert bucket.rate == pytest.approx(10.0)


def test_pause_reports_whether_it_started_a_pause(clock) -> None:
    bucket = TokenBucket(rate=10.0, capacity=1, clock=clock, sleep=clock.sleep)
    assert bucket.pause(2.0) is True
    assert bucket.pause(1.0) is False  # the same burst of 429s
    clock.now += 3
    assert bucket.pause(1.0) is True
