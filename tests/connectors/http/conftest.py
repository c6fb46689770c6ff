"""Fixtures for the shared HTTP layer: a fake monotonic clock whose sleep advances it."""

from __future__ import annotations

import pytest


class FakeClock:
    """``clock()`` returns the current fake time; ``sleep(s)`` advances it and records the wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
