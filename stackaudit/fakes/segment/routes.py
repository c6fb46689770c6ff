"""The fake's Public API endpoints: each turns (path match, query) into (status, payload) from the workspace.

Shapes follow ../shared/api-reference/segment: bodies wrapped in ``{"data": ...}``; lists paged with
``pagination.count`` (1 to ``max_count``) and ``pagination.cursor`` (either ``pagination.x`` or ``pagination[x]``
spelling), required on list endpoints, answered with ``data.pagination = {current, next, previous,
totalEntries}`` and base64 offsets as cursors (``MA==``); errors as ``{"errors": [{type, message, field, status}]}``.
Delivery Overview validates its window per granularity (MINUTE: 4 hours within 48; HOUR: 14 days within 30;
DAY: 30 days within 30) and groups by discard reason.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .workspace import FakeWorkspace, iso, parse_time

__all__ = ["Reply", "Routes", "error_body"]

Reply = tuple[int, Any]
Handler = Callable[[re.Match[str], dict[str, list[str]]], Reply]

_GRANULARITY = {
    "MINUTE": (timedelta(minutes=1), timedelta(hours=4), timedelta(hours=48)),
    "HOUR": (timedelta(hours=1), timedelta(days=14), timedelta(days=30)),
    "DAY": (timedelta(days=1), timedelta(days=30), timedelta(days=31)),
}
_GROUPS = {
    "discardReason": "discardReason",
    "discard Reason": "discardReason",
    "eventName": "eventName",
    "eventType": "eventType",
    "appVersion": "appVersion",
}


class _Invalid(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def error_body(status: int, message: str, *, kind: str = "RequestError", field: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": kind, "message": message, "status": status}
    if field:
        err["field"] = field
    return {"errors": [err]}


def _one(query: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = query.get(key)
        if values:
            return values[0]
    return None


def _cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _offset(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor.encode()).decode())
    except ValueError:
        return -1


class Routes:
    def __init__(self, ws: FakeWorkspace, *, max_count: int, require_pagination: bool, delivery_overview: bool) -> None:
        self.ws = ws
        self.max_count = max_count
        self.require_pagination = require_pagination
        self.delivery_overview = delivery_overview
        table: list[tuple[str, Handler]] = [
            (r"/sources", lambda m, q: self.page(q, "sources", self.ws.sources)),
            (r"/sources/(?P<id>[^/]+)", self.source),
            (r"/sources/(?P<id>[^/]+)/connected-destinations", self.connected_destinations),
            (r"/sources/(?P<id>[^/]+)/connected-warehouses", self.connected_warehouses),
            (r"/destinations", lambda m, q: self.page(q, "destinations", self.ws.destinations)),
            (r"/tracking-plans", lambda m, q: self.page(q, "trackingPlans", self.ws.plans)),
            (r"/tracking-plans/(?P<id>[^/]+)/rules", self.plan_rules),
            (r"/tracking-plans/(?P<id>[^/]+)/sources", self.plan_sources),
            (r"/delivery-overview/(?P<kind>[a-z-]+)", self.delivery),
            (r"/destinations/(?P<id>[^/]+)/delivery-metrics", self.delivery_metrics),
        ]
        self._table = [(re.compile(p + "$"), h) for p, h in table]

    def dispatch(self, method: str, path: str, query: dict[str, list[str]]) -> Reply:
        if method != "GET":
            return 405, error_body(405, "Method not allowed in this fake (it serves reads only)")
        for pattern, handler in self._table:
            match = pattern.match(path)
            if match:
                return handler(match, query)
        return 404, error_body(404, f"No route for {path}", kind="resource-not-found")

    # ----------------------------------------------------------------------------------------------- paging

    def page(self, query: dict[str, list[str]], key: str, items: list[Any]) -> Reply:
        count_text = _one(query, "pagination.count", "pagination[count]")
        cursor = _one(query, "pagination.cursor", "pagination[cursor]")
        if count_text is None:
            if self.require_pagination:
                return 422, error_body(422, "pagination.count is required", kind="ValidationError", field="pagination")
            count_text = "200"
        try:
            count = int(count_text)
        except ValueError:
            count = -1
        if not 1 <= count <= self.max_count:
            return 422, error_body(422, f"pagination.count must be 1 to {self.max_count}", kind="ValidationError")
        offset = _offset(cursor) if cursor else 0
        if offset < 0 or offset > len(items):
            return 422, error_body(422, "invalid pagination.cursor", kind="ValidationError", field="pagination.cursor")
        nxt = offset + count if offset + count < len(items) else None
        pagination = {
            "current": _cursor(offset),
            "next": _cursor(nxt) if nxt is not None else None,
            "previous": _cursor(max(0, offset - count)) if offset else None,
            "totalEntries": len(items),
        }
        return 200, {"data": {key: items[offset : offset + count], "pagination": pagination}}

    # ------------------------------------------------------------------------------------------- workspace

    def source(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        src = self.ws.source(m["id"])
        if src is None:
            return 404, error_body(404, f"Source {m['id']} not found", kind="resource-not-found")
        plan = next((p for p, ids in self.ws.plan_sources.items() if m["id"] in ids), None)
        return 200, {"data": {"source": src, "trackingPlanId": plan}}

    def connected_destinations(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        if self.ws.source(m["id"]) is None:
            return 404, error_body(404, f"Source {m['id']} not found", kind="resource-not-found")
        return self.page(q, "destinations", [d for d in self.ws.destinations if d.get("sourceId") == m["id"]])

    def connected_warehouses(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        if self.ws.source(m["id"]) is None:
            return 404, error_body(404, f"Source {m['id']} not found", kind="resource-not-found")
        linked = [w for w in self.ws.warehouses if m["id"] in self.ws.warehouse_sources.get(w["id"], [])]
        return self.page(q, "warehouses", linked)

    def plan_rules(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        if m["id"] not in self.ws.plan_rules:
            return 404, error_body(404, f"Tracking plan {m['id']} not found", kind="resource-not-found")
        return self.page(q, "rules", self.ws.plan_rules[m["id"]])

    def plan_sources(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        if m["id"] not in self.ws.plan_sources:
            return 404, error_body(404, f"Tracking plan {m['id']} not found", kind="resource-not-found")
        sources = [s for s in self.ws.sources if s["id"] in self.ws.plan_sources[m["id"]]]
        return self.page(q, "sources", sources)

    # ---------------------------------------------------------------------------------------------- delivery

    def _window(self, q: dict[str, list[str]]) -> tuple[datetime, datetime, str]:
        for key in ("sourceId", "destinationConfigId", "startTime", "endTime", "granularity"):
            if not _one(q, key):
                raise _Invalid(f"{key} is required", key)
        granularity = str(_one(q, "granularity"))
        if granularity not in _GRANULARITY:
            raise _Invalid("granularity must be MINUTE, HOUR or DAY", "granularity")
        try:
            start, end = parse_time(str(_one(q, "startTime"))), parse_time(str(_one(q, "endTime")))
        except ValueError:
            raise _Invalid("startTime and endTime must be ISO 8601", "startTime") from None
        _, longest, oldest = _GRANULARITY[granularity]
        if end <= start or end - start > longest or start < self.ws.clock - oldest:
            raise _Invalid(f"window not allowed for granularity {granularity}", "startTime")
        return start, end, granularity

    def delivery(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        if not self.delivery_overview:
            return 404, error_body(
                404, "Delivery Overview is not enabled for this workspace", kind="resource-not-found"
            )
        kind = {"successful-delivery": "success", "failed-delivery": "failure"}.get(m["kind"])
        if kind is None:
            return 404, error_body(404, f"No route for {m['kind']}", kind="resource-not-found")
        try:
            start, end, granularity = self._window(q)
        except _Invalid as bad:
            return 422, error_body(422, bad.message, kind="ValidationError", field=bad.field)
        dest = self.ws.destination(str(_one(q, "destinationConfigId")))
        if dest is None or dest.get("sourceId") != _one(q, "sourceId"):
            return 404, error_body(404, "destination not connected to this source", kind="resource-not-found")
        spec = self.ws.delivery[dest["id"]]
        group = _one(q, "groupBy")
        if group is not None and group not in _GROUPS:
            return 422, error_body(422, f"groupBy {group!r} is not supported", kind="ValidationError", field="groupBy")
        step = _GRANULARITY[granularity][0]
        shares = {"": 1.0}
        if group is not None and _GROUPS[group] == "discardReason" and kind == "failure" and spec.reasons:
            shares = spec.reasons
        dataset = []
        for reason, share in shares.items():
            series, moment = [], start
            while moment < end:
                bucket_end = min(end, moment + step)
                count = spec.count(kind, moment, bucket_end, self.ws.clock, share)
                series.append({"time": iso(moment), "count": count, "retryCount": 0})
                moment = bucket_end
            entry: dict[str, Any] = {"total": sum(p["count"] for p in series), "series": series, "totalRetryCount": 0}
            if reason:
                entry["discardReason"] = reason
            dataset.append(entry)
        total = sum(d["total"] for d in dataset)
        pagination = {"current": "MA==", "next": None, "previous": None, "totalEntries": len(dataset)}
        return 200, {"data": {"total": total, "dataset": dataset, "pagination": pagination}}

    def delivery_metrics(self, m: re.Match[str], q: dict[str, list[str]]) -> Reply:
        dest = self.ws.destination(m["id"])
        if dest is None or not _one(q, "sourceId"):
            return 404, error_body(404, f"Destination {m['id']} not found", kind="resource-not-found")
        spec = self.ws.delivery[dest["id"]]
        end = self.ws.clock
        start = end - timedelta(days=7)
        metrics = [
            {"metricName": "successes", "total": spec.count("success", start, end, end), "breakdown": []},
            {"metricName": "failures", "total": spec.count("failure", start, end, end), "breakdown": []},
        ]
        summary = {"sourceId": _one(q, "sourceId"), "destinationMetadataId": dest["metadata"]["id"], "metrics": metrics}
        return 200, {"data": {"deliveryMetricsSummary": summary}}
