"""Fill rates of every property of one object, spending calls where a verdict depends on them.

The CRM search API counts exactly (``HAS_PROPERTY`` filter, read ``total``) but allows about 4 requests a second;
reading records returns 100 records with hundreds of properties per call under a limit ten times larger. So:

1. one search counts the object's records (``total`` with no filter);
2. the oldest records are read with every property (the ``properties=`` list split to keep URLs short); when
   the object has no more records than the sample, the sample is the whole object and the counts are exact;
3. the properties that look empty are looked for in the newest records too (one search returns the 200 most
   recently modified records): a property created last year is filled on new records only, and the
   oldest-first sample cannot see it;
4. the properties that need confirming (``sampled`` mode: custom properties, the ones the orphaned-field
   verdict depends on; ``exact`` mode: every property) and still look empty are tested
   ``max_filter_groups`` properties per search (filter groups are OR-ed, so a
   ``total`` of 0 proves every one of them empty); a group with values is split in halves until each property
   with values stands alone, and a single-property search sorted by last modification returns its exact count
   and the newest record holding a value. In ``exact`` mode every other property gets a single-property search.

In ``exact`` mode, when reading every record costs no more calls than one search per property, every record is
read instead. Only counts and record ``updatedAt`` are kept, never a value.

Considered and rejected: one filter group of up to 10 ``NOT_HAS_PROPERTY`` filters counts the records holding
none of 10 properties, so ``records - total`` tests 10 at once; but a record created between the two counts
could turn a property with values into a false zero, and a false "empty" is the one error this must not make.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stackaudit_inventory import Capability, FillMethod, FillRate, SourceError

from ..http import HttpClient, HttpError, MalformedError, ResponseError, run_bounded
from ..http.concurrency import STOP_ERRORS
from . import api
from .config import FillRateMode
from .parse import parse_time, results_of

__all__ = ["FillResult", "PropertyInfo", "SampleTally", "measure_object"]

PAGE_SIZE = 100
NEWEST_SAMPLE = 200
Count = tuple[int, datetime | None]  # exact count, newest record holding a value (when the search told)


@dataclass(frozen=True)
class PropertyInfo:
    name: str
    custom: bool


@dataclass
class SampleTally:
    """Counts over the records read for a set of properties (no values are kept)."""

    records: int = 0
    exhaustive: bool = False
    filled: Counter[str] = field(default_factory=Counter)
    newest: dict[str, datetime] = field(default_factory=dict)

    def add(self, page: Any, names: Sequence[str]) -> None:
        """Count one page. Raises ValueError when the page has no usable ``results``."""
        results, problem = results_of(page)
        if problem:
            raise ValueError(problem)
        for record in results:
            if not isinstance(record, Mapping):
                continue
            props = record.get("properties")
            props = props if isinstance(props, Mapping) else {}
            updated = parse_time(record.get("updatedAt"))
            self.records += 1
            for name in names:
                value = props.get(name)
                if value is None or value == "":
                    continue
                self.filled[name] += 1
                if updated is not None and (name not in self.newest or updated > self.newest[name]):
                    self.newest[name] = updated


@dataclass
class FillResult:
    rates: dict[str, FillRate] = field(default_factory=dict)
    record_count: int | None = None
    errors: list[SourceError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: Exception | None = None


@dataclass(frozen=True)
class _Job:
    """Everything one object's measurement needs (keeps the step functions' signatures short)."""

    client: HttpClient
    object_name: str
    mode: FillRateMode
    workers: int
    newest_by: str
    max_groups: int
    max_search_properties: int
    measured: datetime


def _record(out: FillResult, object_name: str, exc: Exception | None, what: str) -> None:
    """Keep an HTTP failure as an error; a stop error is not kept here (the connector records it once)."""
    if isinstance(exc, HttpError) and not isinstance(exc, STOP_ERRORS):
        out.errors.append(
            SourceError(code=exc.code, message=f"{exc} ({what})", capability=Capability.fill_rates, where=object_name)
        )


def measure_object(
    client: HttpClient,
    object_name: str,
    props: Sequence[PropertyInfo],
    *,
    mode: FillRateMode,
    sample_size: int,
    max_chars: int,
    max_groups: int,
    max_search_properties: int = 100,
    workers: int,
    now: Callable[[], datetime],
    newest_by: str,
) -> FillResult:
    """Fill rates of ``props`` of ``object_name``. Stops early (``stopped``) on a daily quota or the deadline."""
    out = FillResult()
    try:
        out.record_count = int(api.count_records(client, object_name).get("total") or 0)
    except HttpError as exc:
        _record(out, object_name, exc, "record count")
        if isinstance(exc, STOP_ERRORS):
            out.stopped = exc
            return out
    except (TypeError, ValueError):
        out.errors.append(SourceError(code="malformed", message=f"{object_name}: search total is not a number"))
    job = _Job(client, object_name, mode, workers, newest_by, max_groups, max_search_properties, now())
    total = out.record_count
    if total == 0:
        empty = FillRate(method=FillMethod.exact, filled=0, total=0, measured_at=job.measured, note="no records")
        out.rates = {p.name: empty for p in props}
        return out
    names = [p.name for p in props]
    chunks = api.chunk_properties(names, max_chars)
    limit = sample_size
    if mode == "exact" and total is not None and math.ceil(total / PAGE_SIZE) * len(chunks) <= len(names):
        limit = total  # reading everything is cheaper than a search per property
    _sample_oldest(job, chunks, limit, total, out)
    if out.stopped is not None:
        return out
    sampled = [p for p in props if p.name in out.rates and out.rates[p.name].method is FillMethod.sampled]
    wanted = [p.name for p in sampled if mode == "exact" or p.custom]
    searches_before = client.counter.by_bucket[api.SEARCH]
    # Every property that looks empty is looked for among the newest records (a search covers 100 of them);
    # only the ones a verdict depends on go on to exact counts.
    _sample_newest(job, [p.name for p in sampled if out.rates[p.name].filled == 0], out)
    if out.stopped is None:
        still_empty = [n for n in wanted if out.rates[n].filled == 0]
        with_values = [n for n in wanted if n not in still_empty] if mode == "exact" else []
        confirmed = _confirm(job, still_empty, with_values, out)
        searches = client.counter.by_bucket[api.SEARCH] - searches_before
        if searches:
            out.notes.append(f"{object_name}: {confirmed} fill rates confirmed exactly with {searches} searches")
    return out


def _sample_oldest(job: _Job, chunks: list[list[str]], limit: int, total: int | None, out: FillResult) -> None:
    client, object_name = job.client, job.object_name

    def sample(chunk: list[str]) -> SampleTally:
        tally = SampleTally()
        for page in api.iter_record_pages(client, object_name, chunk, page_size=PAGE_SIZE):
            try:
                tally.add(page, chunk)
            except ValueError as exc:
                raise MalformedError(
                    client.connector, f"record page: {exc}", method="GET", path=f"/crm/v3/objects/{object_name}"
                ) from None
            if tally.records >= limit:
                break
        else:
            tally.exhaustive = True
        if total is not None and tally.records >= total:
            tally.exhaustive = True
        return tally

    run = run_bounded(sample, chunks, workers=job.workers)
    for result in run.results:
        if result.value is None:
            why = f"sample failed: {result.error}" if result.error else "not measured (the pull stopped)"
            _record(out, object_name, result.error, f"sample of {len(result.item)} properties")
            for name in result.item:
                out.rates[name] = FillRate(method=FillMethod.unknown, measured_at=job.measured, note=why[:200])
            continue
        tally = result.value
        of = total if total is not None else "?"
        for name in result.item:
            out.rates[name] = FillRate(
                method=FillMethod.exact if tally.exhaustive else FillMethod.sampled,
                filled=tally.filled[name],
                total=tally.records,
                newest_value_at=tally.newest.get(name),
                measured_at=job.measured,
                note="every record read" if tally.exhaustive else f"sample: the oldest {tally.records} of {of} records",
            )
    out.stopped = run.stopped


def _sample_newest(job: _Job, names: list[str], out: FillResult) -> None:
    """Look for ``names`` in the most recently modified records; a search that is refused is only skipped."""
    step = job.max_search_properties
    chunks = [names[i : i + step] for i in range(0, len(names), step)]

    def sample(chunk: list[str]) -> SampleTally:
        tally = SampleTally()
        body = api.search_newest_records(job.client, job.object_name, chunk, newest_by=job.newest_by)
        try:
            tally.add(body, chunk)
        except ValueError as exc:
            raise MalformedError(job.client.connector, f"search page: {exc}", method="POST", path="search") from None
        return tally

    run = run_bounded(sample, chunks, workers=job.workers, catch=(HttpError,))
    for result in run.results:
        if result.value is None:
            if not isinstance(result.error, ResponseError):  # a refused search only skips this refinement
                _record(out, job.object_name, result.error, "newest-records sample")
            continue
        tally = result.value
        for name in result.item:
            if tally.filled[name]:
                old = out.rates[name]
                seen = (old.total or 0) + tally.records
                out.rates[name] = old.model_copy(
                    update={
                        "filled": tally.filled[name],
                        "total": min(seen, out.record_count) if out.record_count else seen,
                        "newest_value_at": tally.newest.get(name),
                        "note": f"sample: the oldest {old.total} and the newest {tally.records} records",
                    }
                )
    out.stopped = run.stopped


def _confirm(job: _Job, empty: list[str], with_values: list[str], out: FillResult) -> int:
    """Exact counts for ``empty`` (grouped, split when a group holds values) and ``with_values`` (one each)."""
    client, object_name = job.client, job.object_name
    rejected: list[str] = []

    def search(group: list[str]) -> Count | None:
        """OR-count of ``group`` and its newest record; None when HubSpot refuses the search (HTTP 4xx)."""
        try:
            body = api.search_has_property(client, object_name, group, newest_by=job.newest_by)
        except ResponseError:
            if len(group) == 1:
                rejected.append(group[0])
            return None
        results, _ = results_of(body)
        newest = parse_time(results[0].get("updatedAt")) if results and isinstance(results[0], Mapping) else None
        return int(body.get("total") or 0), newest

    def resolve(group: list[str], found: Count | None) -> dict[str, Count]:
        if found is not None and found[0] == 0:
            return {n: (0, None) for n in group}
        if len(group) == 1:
            return {group[0]: found} if found is not None else {}
        half = len(group) // 2
        first, second = group[:half], group[half:]
        first_found = search(first)
        counts = resolve(first, first_found)
        if found is not None and first_found is not None and first_found[0] == 0:
            # Only the second half can hold the group's values: its OR-count is the group's.
            return counts | resolve(second, found)
        return counts | resolve(second, search(second))

    def confirm(group: list[str]) -> dict[str, Count]:
        return resolve(group, search(group))

    step = job.max_groups
    groups = [empty[i : i + step] for i in range(0, len(empty), step)] + [[n] for n in with_values]
    run = run_bounded(confirm, groups, workers=job.workers)
    confirmed = 0
    for result in run.results:
        _record(out, object_name, result.error, "exact count")
        for name, (count, newest) in (result.value or {}).items():
            previous = out.rates[name]
            out.rates[name] = FillRate(
                method=FillMethod.exact,
                filled=count,
                total=out.record_count,
                newest_value_at=newest or previous.newest_value_at,
                measured_at=previous.measured_at,
                note="exact: CRM search HAS_PROPERTY total"
                if count
                else "exact: no record has a value (CRM search HAS_PROPERTY total 0)",
            )
            confirmed += 1
    if rejected:
        out.errors.append(
            SourceError(
                code="http_4xx",
                message=f"connector '{client.connector}': {object_name}: search rejected {len(rejected)} properties "
                f"(e.g. {rejected[0]}); their fill rates stay sampled",
                capability=Capability.fill_rates,
                where=object_name,
            )
        )
    out.stopped = run.stopped
    return confirmed
