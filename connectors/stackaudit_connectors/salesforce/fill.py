"""Fill rates of every field of the audited objects, many fields per call (query kinds in :mod:`.fill_plan`).

1. System fields (``Id``, ``CreatedDate``...) are set on every record: their fill is the record count.
2. Aggregatable fields are counted ``COUNT(F1), COUNT(F2), ...`` in batches of ``max_counts_per_query`` fields and
   ``max_query_chars`` characters, with ``COUNT(Id)`` as the record count.
3. Fields that cannot be aggregated (checkboxes, multi-select picklists, long text areas) are read together on the
   ``sample_size`` newest records: exact when that is every record. Checkboxes count the records where they are
   true. In ``exact`` mode every filterable one is then counted exactly; in ``sampled`` mode only those that look
   empty in the sample are, OR-ed together (a total of 0 proves them all empty at once, otherwise the group is
   halved), since an "empty" verdict must never rest on a sample.
4. Objects larger than ``exact_max_records`` in ``sampled`` mode, and any count ending in ``QUERY_TIMEOUT``, are
   counted over the records created in the last ``sample_days`` instead (method ``sampled``).
5. On a repeat pull with cached counts, ``COUNT(Id), MAX(SystemModstamp)`` per object says whether any record was
   created, changed or deleted since; if none was, the cached counts are reused.
6. The least-filled custom fields get the last-modified date of the newest record holding a value.

Every query travels in a composite request (``composite_queries`` per call). A failed query never loses the rest:
an error naming a column drops that field and retries the others; otherwise the batch is halved until the bad
field stands alone and is recorded as unknown, with the reason. Only counts are kept, never a value.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stackaudit_inventory import Capability, FillMethod, FillRate, SourceError

from ..http import AuthError, DeadlineError, HttpClient, HttpError, QuotaError, run_bounded
from . import api
from .config import FillRateMode, SalesforceConfig
from .fill_plan import SYSTEM_FIELDS, ObjectToCount, Task, anyof_tasks, condition, plan_object, sample_tasks
from .parse import FieldSpec, parse_time, records_of
from .soql import soql_datetime

__all__ = ["FillRun"]

STOP = (QuotaError, DeadlineError, AuthError)
_NAMED = (re.compile(r"No such column '([^']+)'", re.IGNORECASE),
          re.compile(r"field '?([A-Za-z0-9_]+)'? (?:does not support|can not be filtered)", re.IGNORECASE))


@dataclass
class FillRun:
    """One fill-rate pass; ``rates``, ``totals`` and ``cache`` fill in as batches complete."""

    client: HttpClient
    config: SalesforceConfig
    mode: FillRateMode
    now: datetime
    cache: dict[str, dict[str, Any]] = field(default_factory=dict)  # object -> cached counts (see store())
    report: Callable[[int, int], None] = lambda done, total: None
    rates: dict[tuple[str, str], FillRate] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)
    calls: int = 0
    queries: int = 0
    reused: list[str] = field(default_factory=list)
    _objects: dict[str, ObjectToCount] = field(default_factory=dict)
    _specs: dict[tuple[str, str], FieldSpec] = field(default_factory=dict)
    _window: dict[str, str] = field(default_factory=dict)  # object -> window clause when sampled
    _modstamp: dict[str, str | None] = field(default_factory=dict)
    _batch: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def window_start(self) -> datetime:
        return self.now - timedelta(days=self.config.sample_days)

    # ------------------------------------------------------------------------------------------- planning

    def start(self, objects: Sequence[ObjectToCount]) -> list[Task]:
        """The first tasks: a check for objects with usable cached counts, the full plan for the others."""
        tasks: list[Task] = []
        for obj in objects:
            self._objects[obj.name] = obj
            for spec in obj.specs:
                self._specs[(obj.name, spec.name)] = spec
            entry = self.cache.get(obj.name)
            same_fields = entry and sorted(entry.get("fields", [])) == sorted(s.name for s in obj.specs)
            # Counts taken in exact mode serve any mode; sampled-mode counts serve only sampled mode.
            if same_fields and entry and entry.get("mode") in ("exact", self.mode):
                tasks.append(Task("check", obj.name))
            else:
                tasks += self._plan(obj.name)
        return tasks

    def _plan(self, name: str, *, window: bool = False) -> list[Task]:
        obj = self._objects[name]
        big = obj.approx_records is not None and obj.approx_records > self.config.exact_max_records
        if window or (self.mode == "sampled" and big):
            self._window[name] = f"CreatedDate >= {soql_datetime(self.window_start)}"
        tasks, compound = plan_object(obj, self._window.get(name), self.config)
        for fname in compound:
            self._unknown(name, fname, "compound field: its component fields are counted instead")
        return tasks

    # ------------------------------------------------------------------------------------------ recording

    def _unknown(self, obj: str, name: str, why: str) -> None:
        self.rates[(obj, name)] = FillRate(method=FillMethod.unknown, measured_at=self.now, note=why)

    def _note(self, obj: str) -> str:
        if obj in self._window:
            return f"counted over the records created since {self.window_start.date().isoformat()}"
        return "counted over every record"

    def _set(self, obj: str, name: str, filled: int, *, exact: bool, note: str, total: int | None = None) -> None:
        spec = self._specs.get((obj, name))
        if spec is not None and spec.sf_type == "boolean":
            note = "checkbox: records where it is true; " + note
        self.rates[(obj, name)] = FillRate(
            method=FillMethod.exact if exact else FillMethod.sampled, filled=filled, total=total,
            measured_at=self.now, note=note,
        )

    def _error(self, code: str, message: str, where: str) -> None:
        if len(self.errors) < 20:
            self.errors.append(SourceError(code=code, capability=Capability.fill_rates, where=where,
                                           message=f"connector '{self.config.connector_id}': {message}"))

    # ------------------------------------------------------------------------------------------ execution

    def run(self, tasks: list[Task]) -> None:
        """Run ``tasks`` and every task they spawn; quota, deadline and auth errors are re-raised after keeping the
        results of the calls that completed."""
        pending = list(tasks)
        self._batch = self._batch or self.config.composite_queries
        done = 0
        try:
            while pending:
                batches = [pending[i : i + self._batch] for i in range(0, len(pending), self._batch)]
                pending = []
                outcome = run_bounded(self._send, batches, workers=self.config.max_concurrency, stop_on=STOP)
                for res in outcome.results:
                    if not res.ran:
                        continue
                    done += len(res.item)
                    if res.error is not None and not isinstance(res.error, STOP):
                        pending += self._batch_failed(res.item, res.error)
                    elif res.value is not None:
                        for task, sub in zip(res.item, res.value, strict=False):
                            pending += self._handle(task, sub)
                self.report(done, done + len(pending))
                if outcome.stopped is not None:
                    raise outcome.stopped
        finally:
            self.finish()

    def _send(self, batch: list[Task]) -> list[api.SubResponse]:
        version = self.config.api_version
        requests = [{"referenceId": f"q{i}", "url": api.query_url(version, t.soql(self.config.sample_size))}
                    for i, t in enumerate(batch)]
        with self._lock:
            self.calls += 1
            self.queries += len(batch)
        return api.composite(self.client, version, requests)

    def _batch_failed(self, batch: list[Task], err: Exception) -> list[Task]:
        if isinstance(err, api.SalesforceAPIError) and err.status == 400 and len(batch) > 1:
            # The org refuses this many queries in one composite (the limit is unconfirmed): halve and retry.
            self._batch = max(1, min(self._batch, len(batch)) // 2)
            return list(batch)
        code = err.code if isinstance(err, HttpError) else "error"
        for task in batch:
            for name in task.fields:
                self._unknown(task.obj, name, f"count query failed ({code})")
        self._error(code, f"fill-rate batch failed: {err}", batch[0].obj)
        return []

    def _handle(self, task: Task, sub: api.SubResponse) -> list[Task]:
        if 200 <= sub.status < 300:
            try:
                return self._success(task, sub.body)
            except (TypeError, ValueError, KeyError, IndexError) as exc:
                for name in task.fields:
                    self._unknown(task.obj, name, f"unreadable count result ({exc.__class__.__name__})")
                return []
        code, message = api.error_of(sub.body)
        return self._failure(task, code or f"HTTP_{sub.status}", message)

    def _success(self, task: Task, body: Any) -> list[Task]:
        obj = task.obj
        if task.kind in ("agg", "check"):
            rec = records_of(body)[0]
            total = int(rec["expr0"])
            key = f"{obj}@window" if task.where else obj
            self.totals[key] = total
            if task.kind == "check" or task.first:
                stamp = rec.get("expr1")
                self._modstamp[obj] = stamp if isinstance(stamp, str) else None
            if task.kind == "check":
                return self._checked(obj, total)
            offset = 2 if task.first else 1
            for i, name in enumerate(task.fields):
                self._set(obj, name, int(rec[f"expr{i + offset}"]), exact=not task.where, note=self._note(obj))
            return []
        if task.kind == "anyof":
            count = int(body["totalSize"])
            if count == 0 or len(task.fields) == 1:
                for name in task.fields:
                    self._set(obj, name, count, exact=not task.where, note=self._note(obj))
                return []
            half = len(task.fields) // 2
            return [task.sub(task.fields[:half]), task.sub(task.fields[half:])]
        if task.kind == "newest":
            recs = records_of(body)
            newest = parse_time(recs[0].get("expr0")) if recs else None
            old = self.rates.get((obj, task.fields[0]))
            if old is not None and newest is not None:
                self.rates[(obj, task.fields[0])] = old.model_copy(update={"newest_value_at": newest})
            return []
        return self._sampled(task, records_of(body), body)

    def _sampled(self, task: Task, records: list[dict[str, Any]], body: Any) -> list[Task]:
        exhaustive = len(records) < self.config.sample_size and body.get("done", True) is not False
        confirm: list[FieldSpec] = []
        for name in task.fields:
            spec = self._specs.get((task.obj, name))
            boolean = spec is not None and spec.sf_type == "boolean"
            filled = sum(1 for r in records if (r.get(name) is True if boolean else r.get(name) not in (None, "")))
            how = "every record read" if exhaustive else f"the {len(records)} newest records read"
            self._set(task.obj, name, filled, exact=exhaustive, note=how, total=len(records))
            if not exhaustive and spec is not None and spec.filterable and (self.mode == "exact" or filled == 0):
                confirm.append(spec)
        if self.mode == "exact":
            return [t for s in confirm for t in anyof_tasks(task.obj, [s], self._window.get(task.obj), self.config)]
        return anyof_tasks(task.obj, confirm, self._window.get(task.obj), self.config)

    def _checked(self, obj: str, total: int) -> list[Task]:
        entry = self.cache.get(obj) or {}
        if entry.get("total") == total and entry.get("modstamp") == self._modstamp.get(obj):
            measured = entry.get("measured_at", "")
            for name, raw in (entry.get("rates") or {}).items():
                rate = FillRate.model_validate(raw)
                note = f"{rate.note}; reused: no record created, changed or deleted since {measured[:10]}"
                self.rates[(obj, name)] = rate.model_copy(update={"note": note})
            self.reused.append(obj)
            return []
        return self._plan(obj)

    def _failure(self, task: Task, code: str, message: str) -> list[Task]:
        """Retry what can be retried; record the rest as unknown with the reason."""
        if code == "QUERY_TIMEOUT" and not task.where and task.kind in ("agg", "anyof", "check"):
            # Too many records to count in time: count the recent ones instead (once per object).
            return [] if task.obj in self._window else self._plan(task.obj, window=True)
        if code == "INVALID_TYPE":
            for spec in self._objects[task.obj].specs if task.obj in self._objects else ():
                self._unknown(task.obj, spec.name, f"object cannot be queried ({code})")
            return []
        if task.kind == "check":
            return self._plan(task.obj)
        if task.kind == "newest":
            return []  # a nice-to-have: the field's fill rate stands
        if len(task.fields) > 1:
            named = _named_field(message, task.fields)
            if named is not None:
                rest = [f for f in task.fields if f != named]
                return [task.sub(rest), *self._alone_failed(task, named, code, message)]
            half = len(task.fields) // 2
            return [task.sub(task.fields[:half]), task.sub(task.fields[half:])]
        if task.fields:
            return self._alone_failed(task, task.fields[0], code, message)
        self._error(code.lower(), f"record count of {task.obj} failed ({code})", task.obj)
        return []

    def _alone_failed(self, task: Task, name: str, code: str, message: str) -> list[Task]:
        spec = self._specs.get((task.obj, name))
        if task.kind == "agg" and spec is not None and "aggregate" in message.lower():
            # describe said aggregatable; the API says no: read it with the fields that cannot be aggregated.
            return sample_tasks(task.obj, [name], self.config)
        self._unknown(task.obj, name, f"the API refused to count it ({code})")
        self._error(code.lower(), f"fill rate of {task.obj}.{name} unknown: the API refused to count it ({code})",
                    f"{task.obj}.{name}")
        return []

    # ----------------------------------------------------------------------------------------- finishing

    def finish(self) -> None:
        """System fields from the record counts, and counts' totals once their object's count is known."""
        for (obj, name), spec in self._specs.items():
            total = self.totals.get(obj)
            if spec.name in SYSTEM_FIELDS and (obj, name) not in self.rates and total is not None:
                self.rates[(obj, name)] = FillRate(method=FillMethod.exact, filled=total, total=total,
                                                   measured_at=self.now, note="system field, set on every record")
        for key, rate in list(self.rates.items()):
            if rate.total is None and rate.method is not FillMethod.unknown:
                total = self.totals.get(f"{key[0]}@window" if key[0] in self._window else key[0])
                if total is not None:
                    self.rates[key] = rate.model_copy(update={"total": total})

    def newest_tasks(self) -> list[Task]:
        """``MAX(LastModifiedDate)`` queries for the least-filled custom fields counted exactly this pull (objects
        whose cached counts were reused have no new values to date)."""
        candidates = []
        for (obj, name), rate in self.rates.items():
            spec = self._specs.get((obj, name))
            if spec is None or not spec.custom or not spec.filterable or obj in self._window or obj in self.reused:
                continue
            if rate.method is FillMethod.exact and rate.filled and rate.total and rate.newest_value_at is None:
                candidates.append((rate.filled / rate.total, obj, name, condition(spec)))
        candidates.sort()
        return [Task("newest", o, (n,), (c,)) for _, o, n, c in candidates[: self.config.newest_value_queries]]

    def store(self) -> dict[str, dict[str, Any]]:
        """Cache entries for objects counted in full over every record (window counts are never reused)."""
        out = dict(self.cache)
        for name, obj in self._objects.items():
            keys = [(name, s.name) for s in obj.specs]
            rates = {k[1]: self.rates.get(k) for k in keys}
            if name in self._window or name not in self.totals or any(
                r is None or (r.method is FillMethod.unknown and not (r.note or "").startswith("compound"))
                for r in rates.values()
            ):
                out.pop(name, None)
                continue
            if name in self.reused:
                continue
            out[name] = {
                "mode": self.mode,
                "fields": sorted(rates),
                "total": self.totals[name],
                "modstamp": self._modstamp.get(name),
                "measured_at": self.now.isoformat(),
                "rates": {k: r.model_dump(mode="json") for k, r in rates.items() if r is not None},
            }
        return out


def _named_field(message: str, fields: Sequence[str]) -> str | None:
    """The field an error message names (``No such column 'X'``, ``field X does not support ...``), if ours."""
    lowered = {f.lower(): f for f in fields}
    for pattern in _NAMED:
        for match in pattern.finditer(message):
            hit = lowered.get(match.group(1).lower())
            if hit:
                return hit
    return None
