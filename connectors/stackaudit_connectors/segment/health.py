"""Delivery health of Segment connections: delivered and failed events over a window, and the last delivery.

Per enabled connection (source -> destination instance), from the beta Delivery Overview API:

1. failed deliveries, hourly over the window, grouped by discard reason (the reasons become error samples);
2. successful deliveries, hourly over the window: the success count, and the newest hour holding one;
3. if that hour is within the last 5 hours, successful deliveries by the minute over the last 4 hours, so the
   last successful delivery is known to the minute rather than the hour.

Times are bucket starts: a lower bound, never later than the truth, so a stale-sync verdict is never softened by
rounding. A workspace without the beta API answers the first call with 403/404: sync health is then recorded as
missing once, not as an error per connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from stackaudit_inventory import Capability, CoverageStatus

from ..http import (
    AuthError,
    DeadlineError,
    HttpError,
    MalformedError,
    QuotaError,
    ResponseError,
    ScopeError,
    run_bounded,
)
from ..marketo.state import PullState
from .api import SegmentApi
from .parse import Connection, Delivery, parse_delivery

__all__ = ["read_delivery"]

HEALTH = Capability.sync_health
FINE_WINDOW = timedelta(hours=4)
GROUP_BY = "discardReason"


def _window(now: datetime, days: int) -> tuple[datetime, datetime]:
    end = now.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=days), end


def _read(
    api: SegmentApi,
    kind: str,
    conn: Connection,
    start: datetime,
    end: datetime,
    granularity: str,
    group_by: str | None = None,
) -> tuple[int, datetime | None, dict[str, int]]:
    assert conn.source is not None
    try:
        data = api.get_delivery(
            kind,
            source_id=conn.source.id,
            destination_id=conn.key,
            start=start,
            end=end,
            granularity=granularity,
            group_by=group_by,
        )
    except ResponseError as exc:
        if group_by is None or exc.status not in (400, 422):
            raise
        return _read(api, kind, conn, start, end, granularity)  # the grouping was refused: ask without it
    total, newest, reasons, problem = parse_delivery(data)
    if problem or total is None:
        raise MalformedError(api.connector, problem or "no total", method="GET", path=f"/delivery-overview/{kind}")
    return total, newest, reasons


def _one(api: SegmentApi, conn: Connection, *, now: datetime, window_days: int) -> Delivery:
    start, end = _window(now, window_days)
    out = Delivery(window_days)
    out.failures, out.last_failure_at, out.reasons = _read(
        api, "failed-delivery", conn, start, end, "HOUR", group_by=GROUP_BY
    )
    out.successes, out.last_success_at, _ = _read(api, "successful-delivery", conn, start, end, "HOUR")
    fine_end = now.replace(second=0, microsecond=0)
    if out.last_success_at is not None and out.last_success_at >= fine_end - FINE_WINDOW - timedelta(hours=1):
        _, newest, _ = _read(api, "successful-delivery", conn, fine_end - FINE_WINDOW, fine_end, "MINUTE")
        if newest is not None and newest > out.last_success_at:
            out.last_success_at = newest
    return out


def read_delivery(
    api: SegmentApi,
    state: PullState,
    connections: Sequence[Connection],
    *,
    now: datetime,
    window_days: int,
    workers: int = 4,
) -> dict[str, Delivery]:
    """Delivery per connection key. Failures are recorded in ``state``; a stop error (deadline, quota, credentials)
    ends the reads and is recorded as ``state.stopped``, keeping what was read."""
    out: dict[str, Delivery] = {}
    if not connections:
        return out
    first, rest = connections[0], list(connections[1:])
    try:
        out[first.key] = _one(api, first, now=now, window_days=window_days)
    except (ScopeError, ResponseError) as exc:
        state.http_failure(HEALTH, f"delivery of {first.label}", exc)
        if isinstance(exc, ScopeError) or exc.status in (403, 404):
            state.set_coverage(
                HEALTH, CoverageStatus.missing, "Delivery Overview (beta) is not available to this token"
            )
            return out
    except (QuotaError, DeadlineError, AuthError) as exc:
        state.http_failure(HEALTH, f"delivery of {first.label}", exc)
        state.stopped = state.stopped or f"stopped at delivery health: {exc.code}"
        return out
    except HttpError as exc:
        state.http_failure(HEALTH, f"delivery of {first.label}", exc)
    run = run_bounded(lambda c: _one(api, c, now=now, window_days=window_days), rest, workers=workers)
    for result in run.results:
        if result.value is not None:
            out[result.item.key] = result.value
        elif isinstance(result.error, HttpError):
            state.http_failure(HEALTH, f"delivery of {result.item.label}", result.error)
        else:
            state.failed(HEALTH, f"delivery of {result.item.label}")
    if run.stopped is not None:
        code = run.stopped.code if isinstance(run.stopped, HttpError) else "error"
        state.stopped = state.stopped or f"stopped at delivery health: {code}"
    return out
