"""The fake's REST endpoints: each turns (path match, query, body) into (status, payload, content type).

Shapes follow ../shared/api-reference/marketo: the lead-database envelope (``requestId``, ``success``, ``result``,
``moreResult``, ``nextPageToken``), asset bodies that always carry ``errors: []`` and ``warnings: []`` and end
with the "No assets found" warning, stats per day, and the bulk lead extract job (create, enqueue, status, file).
"""

from __future__ import annotations

import base64
import csv
import io
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .instance import FakeInstance, marketo_time, parse_time

__all__ = ["ERROR_MESSAGES", "Reply", "Routes", "envelope_error", "request_id"]

Reply = tuple[int, Any, str]  # status, payload (JSON-able, or text for CSV), content type
Handler = Callable[[re.Match[str], dict[str, list[str]], Any], Reply]
JSON = "application/json;charset=UTF-8"
NO_ASSETS = "No assets found for the given search criteria."
LEAD_MAX = 300
ASSET_MAX = 200

ERROR_MESSAGES = {
    "601": "Unauthorized",  # the recorded example (MKDOC's table says "Access token invalid")
    "602": "Access token expired",
    "603": "Access denied",
    "604": "Request time-out",
    "606": "Max rate limit '100' exceeded with in '20' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "610": "Requested resource not found",
    "611": "System error",
    "615": "Concurrent access limit '10' reached",
    "702": "No data found for given search scenario",
    "1003": "Invalid request",
}


def request_id() -> str:
    return f"{uuid.uuid4().hex[:4]}#{uuid.uuid4().hex[:11]}"


def envelope_error(code: str, message: str | None = None) -> dict[str, Any]:
    """HTTP 200, ``success: false``: how Marketo reports every response-level error."""
    text = message or ERROR_MESSAGES.get(code, "Error")
    return {"requestId": request_id(), "success": False, "errors": [{"code": code, "message": text}]}


def _ok(result: Any, **extra: Any) -> Reply:
    return 200, {"requestId": request_id(), "success": True, "result": result, **extra}, JSON


def _asset_ok(result: list[Any]) -> Reply:
    if not result:
        body = {"success": True, "errors": [], "requestId": request_id(), "warnings": [NO_ASSETS]}
        return 200, body, JSON
    return 200, {"success": True, "warnings": [], "errors": [], "requestId": request_id(), "result": result}, JSON


def _one(query: dict[str, list[str]], key: str, default: str | None = None) -> str | None:
    values = query.get(key)
    return values[0] if values else default


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text not in (None, "") else default
    except ValueError:
        return default


def _token(offset: int) -> str:
    return base64.b32encode(f"fields:{offset}".encode()).decode().rstrip("=")


def _untoken(token: str) -> int:
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8)).decode()
        return int(raw.split(":", 1)[1])
    except (ValueError, IndexError):
        return -1


def _value(data_type: str, i: int) -> str:
    return {"integer": str(i), "boolean": "true", "datetime": "2026-01-01T00:00:00Z", "date": "2026-01-01"}.get(
        data_type, f"v{i}"
    )


@dataclass
class Job:
    id: str
    fields: list[str]
    start: datetime
    end: datetime
    status: str = "Created"
    polls: int = 0
    created: str = ""
    rows: int = 0


class Routes:
    def __init__(self, instance: FakeInstance, *, max_page_size: int | None, bulk_polls: int, token_on_last_page: bool):
        self.instance = instance
        self.max_page_size = max_page_size
        self.bulk_polls = bulk_polls
        self.token_on_last_page = token_on_last_page
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/rest/v1/leads/describe\.json", self.describe),
            ("GET", r"/rest/v1/leads/describe2\.json", self.describe2),
            ("GET", r"/rest/v1/leads/schema/fields\.json", self.schema_fields),
            ("GET", r"/rest/v1/customobjects\.json", self.custom_objects),
            ("GET", r"/rest/v1/customobjects/(?P<name>[^/]+)/describe\.json", self.custom_object),
            ("GET", r"/rest/asset/v1/forms\.json", lambda m, q, b: self.assets(q, self.instance.forms)),
            (
                "GET",
                r"/rest/asset/v1/smartCampaigns\.json",
                lambda m, q, b: self.assets(q, self.instance.smart_campaigns),
            ),
            ("GET", r"/rest/asset/v1/programs\.json", lambda m, q, b: self.assets(q, self.instance.programs)),
            ("GET", r"/rest/asset/v1/form/(?P<id>\d+)/fields\.json", self.form_fields),
            ("GET", r"/rest/v1/stats/usage\.json", lambda m, q, b: _ok(self.instance.usage[-1:])),
            ("GET", r"/rest/v1/stats/usage/last7days\.json", lambda m, q, b: _ok(self.instance.usage[-7:])),
            ("GET", r"/rest/v1/stats/errors\.json", lambda m, q, b: _ok(self.instance.errors[-1:])),
            ("GET", r"/rest/v1/stats/errors/last7days\.json", lambda m, q, b: _ok(self.instance.errors[-7:])),
            ("POST", r"/bulk/v1/leads/export/create\.json", self.export_create),
            ("POST", r"/bulk/v1/leads/export/(?P<id>[^/]+)/enqueue\.json", self.export_enqueue),
            ("GET", r"/bulk/v1/leads/export/(?P<id>[^/]+)/status\.json", self.export_status),
            ("GET", r"/bulk/v1/leads/export/(?P<id>[^/]+)/file\.json", self.export_file),
        ]
        self._table = [(method, re.compile(pattern + r"$"), handler) for method, pattern, handler in table]

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        for verb, pattern, handler in self._table:
            match = pattern.match(path)
            if match and verb == method:
                return handler(match, query, body)
        return 404, {"message": "Not Found"}, JSON

    def _page(self, requested: int) -> int:
        return min(requested, self.max_page_size) if self.max_page_size else requested

    # ------------------------------------------------------------------------------------------ lead database

    def describe(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        return _ok([f.describe() for f in self.instance.fields])

    def describe2(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        searchable = [["email"], ["id"], ["cookies"], ["sfdcLeadId"]]
        return _ok(
            [
                {
                    "name": "API Lead",
                    "searchableFields": searchable,
                    "fields": [f.describe2() for f in self.instance.fields],
                }
            ]
        )

    def schema_fields(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        size = self._page(max(1, min(LEAD_MAX, _int(_one(q, "batchSize"), LEAD_MAX))))
        token = _one(q, "nextPageToken")
        offset = _untoken(token) if token else 0
        if offset < 0:
            return 200, envelope_error("1003", "Invalid nextPageToken"), JSON
        items = [f.schema() for f in self.instance.fields[offset : offset + size]]
        more = offset + size < len(self.instance.fields)
        extra: dict[str, Any] = {"moreResult": more}
        if more or self.token_on_last_page:
            extra["nextPageToken"] = _token(offset + size if more else offset)
        return _ok(items, **extra)

    def custom_objects(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        out = []
        for obj in self.instance.custom_objects:
            body = {k: v for k, v in obj.items() if k not in ("fields", "listed_with_fields")}
            body.setdefault("displayName", obj["name"])
            body.setdefault("idField", "marketoGUID")
            if obj.get("listed_with_fields", True):
                body["fields"] = obj.get("fields", [])
            out.append(body)
        return _ok(out)

    def custom_object(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        for obj in self.instance.custom_objects:
            if obj["name"] == m["name"]:
                return _ok([{k: v for k, v in obj.items() if k != "listed_with_fields"}])
        return 200, envelope_error("610"), JSON

    # ------------------------------------------------------------------------------------------------- assets

    def assets(self, q: dict[str, list[str]], items: list[dict[str, Any]]) -> Reply:
        size = self._page(max(1, min(ASSET_MAX, _int(_one(q, "maxReturn"), 20))))
        offset = max(0, _int(_one(q, "offset"), 0))
        return _asset_ok(items[offset : offset + size])

    def form_fields(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        fields = self.instance.form_fields.get(m["id"])
        if fields is None:
            return 200, envelope_error("702"), JSON
        return 200, {"success": True, "warnings": [], "errors": [], "requestId": request_id(), "result": fields}, JSON

    # ------------------------------------------------------------------------------------------- bulk extract

    def export_create(self, m: re.Match[str], q: dict[str, list[str]], body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        fields = body.get("fields") or []
        window = (body.get("filter") or {}).get("createdAt") or {}
        try:
            start, end = parse_time(window["startAt"]), parse_time(window["endAt"])
        except (KeyError, TypeError, ValueError):
            return 200, envelope_error("1003", "createdAt filter with startAt and endAt is required"), JSON
        if end - start > timedelta(days=31):
            return 200, envelope_error("1003", "Date range exceeds 31 days"), JSON
        known = {f.name for f in self.instance.fields}
        bad = [f for f in fields if f not in known]
        if not fields or bad:
            return 200, envelope_error("1003", f"Invalid fields: {', '.join(bad[:3]) or 'none given'}"), JSON
        job = Job(uuid.uuid4().hex[:8] + "-" + uuid.uuid4().hex[:4], list(fields), start, end)
        job.created = marketo_time(self.instance.clock)
        with self._lock:
            self.jobs[job.id] = job
        return _ok([self._job_body(job)])

    def _job_body(self, job: Job) -> dict[str, Any]:
        body: dict[str, Any] = {"exportId": job.id, "format": "CSV", "status": job.status, "createdAt": job.created}
        if job.status == "Completed":
            body.update({"numberOfRecords": job.rows, "fileSize": job.rows * 40, "finishedAt": job.created})
        return body

    def _job(self, job_id: str) -> Job | None:
        with self._lock:
            return self.jobs.get(job_id)

    def export_enqueue(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        job = self._job(m["id"])
        if job is None or job.status != "Created":
            return 200, envelope_error("1029" if job else "610", "Export job is not in Created state"), JSON
        job.status = "Queued"
        return _ok([self._job_body(job)])

    def export_status(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        job = self._job(m["id"])
        if job is None:
            return 200, envelope_error("610"), JSON
        if job.status in ("Queued", "Processing"):
            job.polls += 1
            if job.polls > self.bulk_polls:
                job.status = "Completed"
                job.rows = len(self._rows(job))
            else:
                job.status = "Processing"
        return _ok([self._job_body(job)])

    def _rows(self, job: Job) -> list[int]:
        inst = self.instance
        return [i for i in range(inst.people) if job.start <= inst.person_created(i) <= job.end]

    def export_file(self, m: re.Match[str], q: dict[str, list[str]], b: Any) -> Reply:
        job = self._job(m["id"])
        if job is None or job.status != "Completed":
            return 200, envelope_error("1003", "Export job is not completed"), JSON
        by_name = {f.name: f for f in self.instance.fields}
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(job.fields)
        for i in self._rows(job):
            row = []
            for name in job.fields:
                fld = by_name[name]
                # Exactly a `fill` share of people hold a value, evenly spread: person i does when the running
                # count floor((i + 1) * fill) steps up at i.
                held = int((i + 1) * fld.fill) > int(i * fld.fill)
                row.append(_value(fld.data_type, i) if held else "")
            writer.writerow(row)
        return 200, out.getvalue(), "text/csv;charset=UTF-8"
