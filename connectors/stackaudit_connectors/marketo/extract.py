"""Fill rates from one bulk lead extract: the people created in a recent window, every lead field, counts only.

Why a bulk extract: the REST lead endpoints need a filter value per call (ids, emails) and cannot list "recent
people", while one extract job returns every field of every person created in a window of up to 31 days for a
handful of calls (create, enqueue, a few status polls, the file). The figures are *sampled* (recent people only,
which is what a stale field shows first) and the note on each says which window they cover. A job that fails, or
does not finish within the configured wait, leaves every fill rate unknown: nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stackaudit_inventory import FillRate

from ..http import MalformedError
from .api import MarketoApi
from .parse import fill_rates, results_of, tally_csv

__all__ = ["ExtractResult", "extract_fill_rates"]

_DONE = "completed"
_FAILED = frozenset({"failed", "cancelled"})


@dataclass
class ExtractResult:
    rates: dict[str, FillRate] = field(default_factory=dict)
    rows: int = 0
    polls: int = 0
    problem: str | None = None  # why the fill rates stayed unknown


def _first(api: MarketoApi, body: Any, what: str) -> Mapping[str, Any]:
    items, problem = results_of(body)
    if problem or not items or not isinstance(items[0], Mapping):
        raise MalformedError(api.connector, f"{what}: {problem or 'no job in the result'}", path=what)
    return items[0]


def extract_fill_rates(
    api: MarketoApi,
    names: Sequence[str],
    *,
    now: datetime,
    window_days: int,
    poll_seconds: float,
    max_wait_seconds: float,
    sleep: Callable[[float], None],
) -> ExtractResult:
    """Create, enqueue and wait for one export job, then count the file. HTTP errors propagate to the caller."""
    out = ExtractResult()
    start = now - timedelta(days=window_days)
    job = _first(api, api.create_lead_export(names, start, now), "/bulk/v1/leads/export/create.json")
    export_id = str(job.get("exportId") or "")
    if not export_id:
        raise MalformedError(api.connector, "export job has no exportId", path="/bulk/v1/leads/export/create.json")
    api.enqueue_lead_export(export_id)
    waited = 0.0
    while True:
        status = _first(api, api.get_lead_export_status(export_id), "/bulk/v1/leads/export/status.json")
        out.polls += 1
        shown = str(status.get("status") or "pending")
        state = shown.lower()
        if state == _DONE:
            break
        if state in _FAILED:
            out.problem = f"bulk extract job {export_id} ended {shown}"
            return out
        if waited >= max_wait_seconds:
            out.problem = f"bulk extract job {export_id} still {shown} after {waited:.0f}s"
            return out
        sleep(poll_seconds)
        waited += poll_seconds
    tally = tally_csv(api.get_lead_export_file(export_id))
    out.rows = tally.rows
    note = (
        f"bulk lead extract of the {tally.rows:,} people created {start.date().isoformat()} to "
        f"{now.date().isoformat()} (createdAt filter)"
    )
    out.rates = fill_rates(tally, names, measured_at=now, note=note)
    return out
