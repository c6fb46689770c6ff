"""The floor: the least wall time a vendor's published limits allow for a given mix of calls.

A rolling window of ``limit`` calls per ``seconds`` lets ``limit`` calls go at once, the next ``limit`` one window
later, and so on: ``n`` calls need ``(ceil(n / limit) - 1) * seconds`` before the last one can start, plus that last
call's latency. A limit on calls in flight (Marketo's 10) bounds it from the other side: ``ceil(n / in_flight)``
round trips. The floor ignores the order calls depend on each other (a describe before the counts it enables), so
it is a lower bound no strategy can beat; the ratio to it says how much time the strategy's pacing and ordering
cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """``limit`` calls per rolling ``seconds``, applying to ``calls`` of a run (all, or only the searches)."""

    limit: int
    seconds: float
    calls: int


def window_floor(window: Window) -> float:
    """Seconds before the last of ``window.calls`` may start under the window."""
    if window.calls <= 0:
        return 0.0
    return (math.ceil(window.calls / window.limit) - 1) * window.seconds


def floor_seconds(windows: list[Window], *, calls: int, latency: float, in_flight: int | None = None) -> float:
    """The least wall time for ``calls`` calls of ``latency`` seconds each under ``windows`` and ``in_flight``."""
    if calls <= 0:
        return 0.0
    by_windows = max((window_floor(w) for w in windows), default=0.0) + latency
    by_flight = math.ceil(calls / in_flight) * latency if in_flight else latency
    return max(by_windows, by_flight)


def per_doubling(t_small: float, t_large: float, n_small: int, n_large: int) -> float:
    """The factor by which time grows per doubling of size between two measurements (1.0: flat, 2.0: linear)."""
    if t_small <= 0 or n_large <= n_small:
        return float("nan")
    return float((t_large / t_small) ** (1 / math.log2(n_large / n_small)))
