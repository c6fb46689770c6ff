"""Bounded concurrency: per-item results, stop errors cancel the rest, bugs propagate."""

from __future__ import annotations

import threading
import time

import pytest

from stackaudit_connectors.http import QuotaError, ResponseError, run_bounded


def test_results_keep_input_order_and_per_item_errors() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise ResponseError("c", "bad item", path=f"/items/{i}")
        return i * 10

    run = run_bounded(work, range(8), workers=3)
    assert [r.item for r in run.results] == list(range(8))
    assert run.values == [0, 10, 20, 40, 50, 60, 70]
    assert [r.item for r in run.errors] == [3]
    assert run.stopped is None


def test_never_more_than_workers_in_flight() -> None:
    lock = threading.Lock()
    active, peak = [0], [0]

    def work(_: int) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1

    run_bounded(work, range(20), workers=3)
    assert 1 < peak[0] <= 3


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stop_error_cancels_what_has_not_started(workers: int) -> None:
    def work(i: int) -> int:
        if i == 2:
            raise QuotaError("c", "daily limit")
        time.sleep(0.005)
        return i

    run = run_bounded(work, range(50), workers=workers)
    assert isinstance(run.stopped, QuotaError)
    assert 0 in run.values and 1 in run.values  # what was pulled is kept
    assert sum(1 for r in run.results if not r.ran) > 30


def test_bugs_are_not_data() -> None:
    def work(i: int) -> int:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_bounded(work, range(3), workers=2)
