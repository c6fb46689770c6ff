"""describeGlobal and the describes of the audited objects, batched in composite requests and reused on repeat pulls.

Repeat pulls send ``If-Modified-Since`` with the ``Last-Modified`` of the cached copy: describe answers 304 per
object when its metadata did not change, and describeGlobal answers 304 when no object's metadata changed at all,
in which case every cached describe is reused without a single describe request. The cache is a small JSON file
in the pipeline's cache folder (``context.options["cache_dir"]``); it holds only the parts of each describe the
connector reads (names, labels, types, picklist values, flags), the Tooling rows and where-used partitions of the
last pull, and its fill-rate counts (counts only, never a value; see :mod:`.fill`). Without a cache folder nothing
is cached. A cache from another instance URL or API version, or one that does not parse, is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from ..http import AuthError, DeadlineError, HttpClient, QuotaError, run_bounded
from . import api

__all__ = ["DescribeCache", "DescribeOutcome", "get_describes", "get_global"]

CACHE_VERSION = 1
STOP = (QuotaError, DeadlineError, AuthError)
_FIELD_KEYS = ("name", "label", "type", "custom", "calculated", "deprecatedAndHidden", "length", "referenceTo",
               "picklistValues", "aggregatable", "filterable", "compoundFieldName")
_GLOBAL_KEYS = ("name", "label", "custom", "queryable", "customSetting")


def _trim_describe(body: Mapping[str, Any]) -> dict[str, Any]:
    fields = body.get("fields")
    return {
        "name": body.get("name"),
        "label": body.get("label"),
        "custom": body.get("custom"),
        "fields": [{k: f.get(k) for k in _FIELD_KEYS} for f in fields if isinstance(f, Mapping)]
        if isinstance(fields, list) else [],
    }


def _trim_global(body: Mapping[str, Any]) -> dict[str, Any]:
    items = body.get("sobjects")
    return {"sobjects": [{k: s.get(k) for k in _GLOBAL_KEYS} for s in items if isinstance(s, Mapping)]
            if isinstance(items, list) else []}


@dataclass
class DescribeCache:
    path: Path | None = None
    key: str = ""
    global_modified: str | None = None
    global_body: dict[str, Any] | None = None
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"modified", "describe"}
    fills: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> cached counts (see fill.FillRun.store)
    # Tooling CustomObject/CustomField rows, creator names and where-used partitions: valid while describeGlobal
    # answers 304 (no object's metadata changed, so no field was added, removed or edited).
    tooling: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    @classmethod
    def load(cls, cache_dir: str | Path | None, connector: str, instance_url: str, version: str) -> DescribeCache:
        key = hashlib.sha256(f"{instance_url}|{version}".encode()).hexdigest()[:12]
        if not cache_dir:
            return cls(key=key)
        path = Path(cache_dir) / f"salesforce-{connector}-{key}.describe.json"
        cache = cls(path=path, key=key)
        if not path.exists():
            return cache
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            cache.problem = f"describe cache {path.name} unreadable ({exc.__class__.__name__}); describing afresh"
            return cache
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("key") != key:
            return cache
        objects = data.get("objects")
        cache.objects = {k: v for k, v in objects.items() if isinstance(v, dict)} if isinstance(objects, dict) else {}
        cache.global_modified = data.get("global_modified") if isinstance(data.get("global_modified"), str) else None
        body = data.get("global")
        cache.global_body = body if isinstance(body, dict) else None
        fills = data.get("fills")
        cache.fills = {k: v for k, v in fills.items() if isinstance(v, dict)} if isinstance(fills, dict) else {}
        tooling = data.get("tooling")
        cache.tooling = tooling if isinstance(tooling, dict) else {}
        return cache

    def save(self) -> None:
        """Write atomically (temp file + rename): a crash leaves the previous cache intact. A cache that cannot be
        written costs the next pull some calls, nothing more: the problem is kept for the run's notes."""
        if self.path is None:
            return
        data = {"version": CACHE_VERSION, "key": self.key, "global_modified": self.global_modified,
                "global": self.global_body, "objects": self.objects, "fills": self.fills,
                "tooling": self.tooling}
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            self.problem = f"describe cache {self.path.name} not written ({exc.__class__.__name__})"


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def get_global(client: HttpClient, version: str, cache: DescribeCache, now: datetime) -> tuple[dict[str, Any], bool]:
    """describeGlobal (one composite call, so the request can carry ``If-Modified-Since``); True when 304."""
    sub: dict[str, Any] = {"referenceId": "global", "url": f"/services/data/v{version}/sobjects"}
    if cache.global_modified and cache.global_body is not None:
        sub["httpHeaders"] = {"If-Modified-Since": cache.global_modified}
    (resp,) = api.composite(client, version, [sub])[:1] or [api.SubResponse("global", 0, {}, None)]
    if resp.status == 304 and cache.global_body is not None:
        return cache.global_body, True
    if resp.status != 200 or not isinstance(resp.body, dict):
        code, message = api.error_of(resp.body)
        raise api.SalesforceAPIError(client.connector, code, client.scrub(message), method="GET",
                                     path=f"/services/data/v{version}/sobjects", status=resp.status or 502)
    cache.global_body = _trim_global(resp.body)
    cache.global_modified = resp.headers.get("Last-Modified") or _http_date(now)
    return cache.global_body, False


@dataclass
class DescribeOutcome:
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    reused: int = 0
    fetched: int = 0
    calls: int = 0
    skipped_all: bool = False
    failed: dict[str, str] = field(default_factory=dict)


def get_describes(
    client: HttpClient,
    version: str,
    names: Sequence[str],
    cache: DescribeCache,
    now: datetime,
    *,
    global_unchanged: bool,
    batch: int = 25,
    workers: int = 4,
    report: Callable[[int, int], None] = lambda done, total: None,
) -> DescribeOutcome:
    """Describes of ``names``; cached ones reused on 304 (or without asking when describeGlobal said 304)."""
    out = DescribeOutcome()
    cached = {n: cache.objects[n] for n in names if isinstance(cache.objects.get(n, {}).get("describe"), dict)}
    wanted = list(names)
    if global_unchanged:
        # No object's metadata changed since the cached describeGlobal: every cached describe is current.
        out.bodies = {n: cached[n]["describe"] for n in names if n in cached}
        out.reused = len(out.bodies)
        out.skipped_all = len(out.bodies) == len(names)
        wanted = [n for n in names if n not in cached]
    batches = [wanted[i : i + batch] for i in range(0, len(wanted), batch)]

    def send(group: list[str]) -> list[api.SubResponse]:
        subs = []
        for i, name in enumerate(group):
            sub: dict[str, Any] = {"referenceId": f"d{i}", "url": f"/services/data/v{version}/sobjects/{name}/describe"}
            modified = cached.get(name, {}).get("modified")
            if isinstance(modified, str):
                sub["httpHeaders"] = {"If-Modified-Since": modified}
            subs.append(sub)
        return api.composite(client, version, subs)

    run = run_bounded(send, batches, workers=workers, stop_on=STOP)
    for res in run.results:
        if not res.ran:
            continue
        out.calls += 1
        if res.error is not None:
            for name in res.item:
                out.failed[name] = str(res.error)
                cache.objects.pop(name, None)  # never trust an older copy after describeGlobal moved on
            continue
        for name, sub in zip(res.item, res.value or [], strict=False):
            if sub.status == 304 and name in cached:
                out.bodies[name] = cached[name]["describe"]
                out.reused += 1
            elif sub.status == 200 and isinstance(sub.body, dict):
                trimmed = _trim_describe(sub.body)
                out.bodies[name] = trimmed
                out.fetched += 1
                cache.objects[name] = {"modified": sub.headers.get("Last-Modified") or _http_date(now),
                                       "describe": trimmed}
            else:
                code, message = api.error_of(sub.body)
                out.failed[name] = f"HTTP {sub.status} {code or ''}: {client.scrub(message)[:160]}".strip()
                cache.objects.pop(name, None)
        report(len(out.bodies), len(names))
    if run.stopped is not None:
        raise run.stopped
    return out
