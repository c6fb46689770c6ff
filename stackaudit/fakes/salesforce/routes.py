"""The fake's endpoints: each turns (path match, query, headers, body) into (status, JSON payload, headers).

Paging follows the reference: REST queries answer ``{totalSize, done, records, nextRecordsUrl?}`` with
``nextRecordsUrl = /services/data/vXX.X/query/<locator>-<offset>``; Tooling queries answer
``{size, totalSize, done, queryLocator, entityTypeName, records, nextRecordsUrl?}`` (``entityTypeName`` null when
empty). Aggregate queries never page. Describe and describeGlobal honour ``If-Modified-Since`` with 304 and send
``Last-Modified``. Composite runs up to 25 GET subrequests (at most ``max_composite_queries`` of them queries) and
answers each with its own status, headers and body.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .execute import QueryResult, run_query
from .org import FakeOrg
from .shapes import describe_body, global_entry, limits_body
from .soql import SoqlError, parse_soql

__all__ = ["Routes", "sf_error"]

Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[re.Match[str], dict[str, list[str]], dict[str, str], Any], Reply]

_V = r"/services/data/v(?P<v>\d+\.\d)"


def sf_error(status: int, code: str, message: str) -> Reply:
    """Salesforce's error body: always a JSON array."""
    return status, [{"message": message, "errorCode": code}], {}


def _soql_error(err: SoqlError, text: str) -> Reply:
    if err.code in ("INVALID_FIELD", "INVALID_TYPE", "MALFORMED_QUERY"):
        pointer = " " * (err.column - 1) + "^"
        message = f"\n{text}\n{pointer}\nERROR at Row:1:Column:{err.column}\n{err.message}"
    else:
        message = err.message
    return sf_error(400, err.code, message)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _since(headers: dict[str, str]) -> datetime | None:
    raw = next((v for k, v in headers.items() if k.lower() == "if-modified-since"), None)
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None


class Routes:
    def __init__(
        self,
        org: FakeOrg,
        *,
        page_size: int,
        tooling_page_size: int,
        max_composite: int,
        max_composite_queries: int,
        max_query_length: int,
        tooling_next_url: bool,
    ) -> None:
        self.org = org
        self.page_size = page_size
        self.tooling_page_size = tooling_page_size
        self.max_composite = max_composite
        self.max_composite_queries = max_composite_queries
        self.max_query_length = max_query_length
        self.tooling_next_url = tooling_next_url
        self._cursors: dict[str, tuple[QueryResult, bool]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/services/data/?", self.versions),
            ("GET", _V + r"/limits/?", self.limits),
            ("GET", _V + r"/limits/recordCount/?", self.record_count),
            ("GET", _V + r"/sobjects/?", self.describe_global),
            ("GET", _V + r"/sobjects/(?P<name>[A-Za-z0-9_]+)/describe/?", self.describe),
            ("GET", _V + r"/query/?", self.query),
            ("GET", _V + r"/query/(?P<loc>[A-Za-z0-9]+-\d+)", self.query_more),
            ("GET", _V + r"/tooling/query/?", self.tooling_query),
            ("GET", _V + r"/tooling/query/(?P<loc>[A-Za-z0-9]+-\d+)", self.query_more),
            ("POST", _V + r"/composite/?", self.composite),
        ]
        self._table = [(m, re.compile(p + "$"), h) for m, p, h in table]

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
                 ) -> Reply:
        allowed = False
        for route_method, pattern, handler in self._table:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler(match, query, headers, body)
                allowed = True
        if allowed:
            return sf_error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET")
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    # ------------------------------------------------------------------------------------------- resources

    def versions(self, _m: re.Match[str], _q: dict[str, list[str]], _h: dict[str, str], _b: Any) -> Reply:
        versions = [f"{v}.0" for v in range(55, 63)]
        return 200, [{"label": "Winter '25", "url": f"/services/data/v{v}", "version": v} for v in versions], {}

    def limits(self, _m: re.Match[str], _q: dict[str, list[str]], _h: dict[str, str], _b: Any) -> Reply:
        remaining = max(0, self.org.daily_limit - self.org.daily_used)
        return 200, limits_body(self.org.daily_limit, remaining), {}

    def record_count(self, _m: re.Match[str], query: dict[str, list[str]], _h: dict[str, str], _b: Any) -> Reply:
        wanted = [n for v in query.get("sObjects", []) for n in v.split(",") if n]
        objs = [self.org.sobject(n) for n in wanted] if wanted else list(self.org.objects.values())
        return 200, {"sObjects": [{"count": o.records.count, "name": o.name} for o in objs if o is not None]}, {}

    def describe_global(self, m: re.Match[str], _q: dict[str, list[str]], headers: dict[str, str], _b: Any) -> Reply:
        modified = self.org.metadata_modified
        since = _since(headers)
        out = {"Last-Modified": _http_date(modified)}
        if since is not None and since >= modified.replace(microsecond=0):
            return 304, None, out
        body = {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [global_entry(o, m["v"]) for o in sorted(self.org.objects.values(), key=lambda o: o.name)],
        }
        return 200, body, out

    def describe(self, m: re.Match[str], _q: dict[str, list[str]], headers: dict[str, str], _b: Any) -> Reply:
        obj = self.org.sobject(m["name"])
        if obj is None:
            return sf_error(404, "NOT_FOUND", f"The requested resource does not exist: {m['name']}")
        modified = (obj.metadata_modified or self.org.metadata_modified).replace(microsecond=0)
        out = {"Last-Modified": _http_date(modified), "ETag": f'"{obj.name}-{int(modified.timestamp())}"'}
        since = _since(headers)
        if since is not None and since >= modified:
            return 304, None, out
        return 200, describe_body(obj, m["v"]), out

    # ---------------------------------------------------------------------------------------------- queries

    def _run(self, m: re.Match[str], query: dict[str, list[str]], *, api: str) -> Reply:
        texts = query.get("q")
        if not texts or not texts[0].strip():
            return sf_error(400, "MALFORMED_QUERY", "A query string has to be specified")
        text = texts[0]
        if len(text) > self.max_query_length:
            return sf_error(400, "MALFORMED_QUERY", f"SOQL statements cannot be longer than "
                            f"{self.max_query_length} characters")
        try:
            result = run_query(self.org, parse_soql(text), api=api, version=m["v"])
        except SoqlError as err:
            return _soql_error(err, text)
        with self._lock:
            locator = f"01gFAKE{next(self._ids):011d}"
            self._cursors[locator] = (result, api == "tooling")
        return 200, self._page(m["v"], locator, 0), {}

    def _page(self, version: str, locator: str, offset: int) -> dict[str, Any]:
        result, tooling = self._cursors[locator]
        size = self.tooling_page_size if tooling else self.page_size
        if not result.pageable:
            size = max(size, len(result.records))
        records = result.records[offset : offset + size]
        done = offset + size >= len(result.records)
        nxt = None if done else f"{locator}-{offset + size}"
        if tooling:
            body: dict[str, Any] = {
                "size": len(records),
                "totalSize": result.total,
                "done": done,
                "queryLocator": nxt,
                "entityTypeName": result.entity if result.records else None,
                "records": records,
            }
            if nxt and self.tooling_next_url:
                body["nextRecordsUrl"] = f"/services/data/v{version}/tooling/query/{nxt}"
            return body
        body = {"totalSize": result.total, "done": done, "records": records}
        if nxt:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{nxt}"
        return body

    def query(self, m: re.Match[str], query: dict[str, list[str]], _h: dict[str, str], _b: Any) -> Reply:
        return self._run(m, query, api="rest")

    def tooling_query(self, m: re.Match[str], query: dict[str, list[str]], _h: dict[str, str], _b: Any) -> Reply:
        return self._run(m, query, api="tooling")

    def query_more(self, m: re.Match[str], _q: dict[str, list[str]], _h: dict[str, str], _b: Any) -> Reply:
        locator, _, offset = m["loc"].partition("-")
        with self._lock:
            known = locator in self._cursors
        if not known:
            return sf_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, self._page(m["v"], locator, int(offset)), {}

    # -------------------------------------------------------------------------------------------- composite

    def composite(self, _m: re.Match[str], _q: dict[str, list[str]], _h: dict[str, str], body: Any) -> Reply:
        subs = body.get("compositeRequest") if isinstance(body, dict) else None
        if not isinstance(subs, list) or not subs:
            return sf_error(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        if len(subs) > self.max_composite:
            return sf_error(400, "LIMIT_EXCEEDED", f"Limit Exceeded: up to {self.max_composite} subrequests")
        queries = sum(1 for s in subs if isinstance(s, dict) and "/query" in str(s.get("url", "")))
        if queries > self.max_composite_queries:
            return sf_error(400, "LIMIT_EXCEEDED",
                            f"A composite request may contain up to {self.max_composite_queries} query subrequests")
        out = []
        for sub in subs:
            if not isinstance(sub, dict) or not re.fullmatch(r"[A-Za-z0-9_]+", str(sub.get("referenceId", ""))):
                return sf_error(400, "INVALID_INPUT", "every subrequest needs an alphanumeric referenceId")
            out.append(self._sub(sub))
        return 200, {"compositeResponse": out}, {}

    def _sub(self, sub: dict[str, Any]) -> dict[str, Any]:
        method = str(sub.get("method", "GET")).upper()
        parts = urlsplit(str(sub.get("url", "")))
        headers = {str(k): str(v) for k, v in (sub.get("httpHeaders") or {}).items()}
        if method != "GET":
            status, payload, extra = sf_error(405, "METHOD_NOT_ALLOWED", "the fake serves read-only subrequests")
        elif not parts.path.startswith("/services/data/v") or "/composite" in parts.path:
            status, payload, extra = sf_error(400, "INVALID_INPUT", f"unsupported subrequest url {parts.path}")
        else:
            query = parse_qs(parts.query, keep_blank_values=True)
            status, payload, extra = self.dispatch(method, parts.path, query, headers, sub.get("body"))
        return {"body": payload, "httpHeaders": extra, "httpStatusCode": status, "referenceId": sub["referenceId"]}
