"""The fault matrix: every connector, every fault a vendor API can throw, through the real pipeline.

For each row the faulty vendor's run must end as expected (recovered, or stopped with the reason recorded in its
SourceRun), quickly (no hang), without an ``internal`` crash or a traceback, and every other connector's data must
be kept exactly as in a clean pull.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from stackaudit.fakes.hubspot.server import rate_limit_body
from stackaudit_inventory import RunStatus

from .conftest import (
    VENDORS,
    Puller,
    Stack,
    backlog_full_server,
    body_json,
    closed_port_url,
    intercept,
    raw_server,
    record,
    serve_stack,
)

RECOVERED = "recovered"
STOPPED = "stopped"
MAX_SECONDS = 15.0

Setup = Callable[[Stack, ExitStack], dict[str, str] | None]


@dataclass(frozen=True)
class Case:
    connector: str
    fault: str
    setup: Setup
    expect: str  # RECOVERED: complete, no errors | STOPPED: partial or failed, reason recorded
    codes: frozenset[str] = frozenset()  # for STOPPED: at least one error carries one of these codes
    serve: tuple[tuple[str, Any], ...] = ()  # options for the faulty vendor's fake
    overrides: tuple[tuple[str, Any], ...] = ()  # config keys for the faulty connector
    timeout: float = 2.0
    deadline: float = 600.0
    min_wait: float = 0.0  # the vendor's wait (Retry-After, msBeforeNext, Marketo's 20 s window) must be honoured

    @property
    def id(self) -> str:
        return f"{self.connector}-{self.fault}"


# ------------------------------------------------------------------------------------------- fault helpers


def after(n: int, count: int, reply: Callable[[tuple[Any, ...], str], tuple[Any, ...] | None]) -> Any:
    """An interceptor replacing responses ``n .. n+count-1`` (``count`` < 0: all from ``n``) with ``reply``."""

    def rewrite(i: int, result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
        if i >= n and (count < 0 or i < n + count):
            return reply(result, path)
        return None

    return rewrite


def http_429(retry_after: str | None, body: Any) -> Callable[[tuple[Any, ...], str], tuple[Any, ...]]:
    def reply(result: tuple[Any, ...], path: str) -> tuple[Any, ...]:
        headers = dict(result[2]) if isinstance(result[2], dict) else {}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return 429, json.dumps(body).encode(), headers

    return reply


def http_401(body: Any) -> Callable[[tuple[Any, ...], str], tuple[Any, ...]]:
    def reply(result: tuple[Any, ...], path: str) -> tuple[Any, ...]:
        return 401, json.dumps(body).encode(), result[2]

    return reply


def truncated(result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
    status, data = result[0], result[1]
    if status != 200 or len(data) < 4:
        return None
    return status, data[: len(data) // 2], *result[2:]


def html_page(result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
    if result[0] != 200:
        return None
    page = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>upstream unavailable</p></body></html>"
    return 200, page, *result[2:]


def _nullify(value: Any, depth: int = 0) -> Any:
    """Objects replaced by null: the first object of every list, and every nested object below the top level."""
    if isinstance(value, dict):
        return {k: (None if depth >= 1 and isinstance(v, dict) else _nullify(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, list):
        items = [_nullify(v, depth + 1) for v in value]
        if items and isinstance(value[0], dict):
            items[0] = None
        return items
    return value


def nulls(result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
    data = body_json(result[1])
    if result[0] != 200 or data is None or "oauth" in path or "identity" in path:
        return None
    return result[0], json.dumps(_nullify(data)).encode(), *result[2:]


CURSOR_KEYS = ("after", "next", "nextPageToken", "nextRecordsUrl")


def frozen_cursor() -> Callable[[tuple[Any, ...], str], tuple[Any, ...] | None]:
    """Every cursor a page hands out is replaced by the first one ever handed out for that key: a loop."""
    first: dict[str, Any] = {}

    def freeze(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k in CURSOR_KEYS and isinstance(v, str) and v:
                    out[k] = first.setdefault(k, v)
                else:
                    out[k] = freeze(v)
            return out
        if isinstance(value, list):
            return [freeze(v) for v in value]
        return value

    def reply(result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
        data = body_json(result[1])
        if result[0] != 200 or data is None:
            return None
        return result[0], json.dumps(freeze(data)).encode(), *result[2:]

    return reply


def on(vendor: str, rewrite: Any) -> Setup:
    def setup(stack: Stack, es: ExitStack) -> None:
        intercept(stack.fake(vendor), rewrite)

    return setup


def switch(vendor: str, name: str, *args: Any, **kwargs: Any) -> Setup:
    def setup(stack: Stack, es: ExitStack) -> None:
        getattr(stack.fake(vendor).faults, name)(*args, **kwargs)

    return setup


def raw(vendor: str, mode: str) -> Setup:
    def setup(stack: Stack, es: ExitStack) -> dict[str, str]:
        return {vendor: es.enter_context(raw_server(mode))}

    return setup


def connect_hangs(vendor: str) -> Setup:
    def setup(stack: Stack, es: ExitStack) -> dict[str, str]:
        return {vendor: es.enter_context(backlog_full_server())}

    return setup


def unreachable(vendor: str) -> Setup:
    def setup(stack: Stack, es: ExitStack) -> dict[str, str]:
        return {vendor: closed_port_url()}

    return setup


def call(setup: Setup) -> Setup:
    return setup


# --------------------------------------------------------------------------------------------- the matrix

HS_THROTTLE = rate_limit_body("TEN_SECONDLY_ROLLING")
HS_EXPIRED = {
    "status": "error",
    "message": "The OAuth token used to make this call expired.",
    "category": "EXPIRED_AUTHENTICATION",
}
SF_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
SF_LIMIT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
SG_UNAUTH = {"errors": [{"type": "Unauthorized", "message": "Unauthorized", "status": 401}]}
PAGED = {
    "hubspot": (("max_page_size", 2),),
    "salesforce": (("page_size", 2), ("tooling_page_size", 2)),
    "marketo": (("max_page_size", 2),),
    "segment": (),
}
PAGED_CONFIG = {"segment": (("page_size", 2),)}
NET = frozenset({"timeout", "deadline", "connection", "retries_exhausted", "network", "unreachable"})
MALFORMED = frozenset({"malformed", "pagination", "describe"})


def common(vendor: str) -> list[Case]:
    return [
        Case(vendor, "5xx burst (3 x HTTP 503)", switch(vendor, "fail", times=3, status=503), RECOVERED),
        Case(vendor, "5xx that never ends (HTTP 500 on every call)", switch(vendor, "fail", times=10_000, status=500),
             STOPPED, NET | frozenset({"http_5xx", "server"})),
        Case(vendor, "read timeout (server accepts, never answers; timeout 0.2 s)", raw(vendor, "blackhole"), STOPPED,
             NET, timeout=0.2, deadline=6.0),
        Case(vendor, "connect timeout (listen backlog full; timeout 0.2 s)", connect_hangs(vendor), STOPPED, NET,
             timeout=0.2, deadline=6.0),
        Case(vendor, "connection reset on connect", raw(vendor, "reset"), STOPPED, NET),
        Case(vendor, "unreachable host (closed port)", unreachable(vendor), STOPPED, NET),
        Case(vendor, "truncated JSON (every response)", raw(vendor, "truncated"), STOPPED, MALFORMED),
        Case(vendor, "truncated JSON mid-pull (one response)", on(vendor, after(4, 1, truncated)), STOPPED, MALFORMED),
        Case(vendor, "HTML error page with HTTP 200 (every response)", raw(vendor, "html"), STOPPED, MALFORMED),
        Case(vendor, "HTML error page with HTTP 200 mid-pull", on(vendor, after(4, 1, html_page)), STOPPED, MALFORMED),
        Case(vendor, "nulls where objects belong (every response after the 3rd)", on(vendor, after(3, -1, nulls)),
             STOPPED, MALFORMED),
        Case(vendor, "pagination cursor that repeats", on(vendor, after(0, -1, frozen_cursor())), STOPPED, MALFORMED,
             serve=PAGED[vendor], overrides=PAGED_CONFIG.get(vendor, ())),
    ]


MATRIX: list[Case] = [
    *common("hubspot"),
    Case("hubspot", "429 storm without Retry-After (4 x TEN_SECONDLY_ROLLING)",
         on("hubspot", after(2, 3, http_429(None, HS_THROTTLE))), RECOVERED),
    Case("hubspot", "429 storm with Retry-After: 2", on("hubspot", after(2, 3, http_429("2", HS_THROTTLE))), RECOVERED,
         min_wait=2.0),
    Case("hubspot", "token expires mid-pull (401 from the 10th call)",
         on("hubspot", after(10, -1, http_401(HS_EXPIRED))),
         STOPPED, frozenset({"auth"})),
    Case("hubspot", "daily quota exhausted (429 DAILY after 10 calls)", switch("hubspot", "exhaust_daily", after=10),
         STOPPED, frozenset({"quota"})),
    *common("salesforce"),
    Case("salesforce", "429 storm without Retry-After (3 x HTTP 429)",
         switch("salesforce", "fail", times=3, status=429),
         RECOVERED),
    Case("salesforce", "429 storm with Retry-After: 2", on("salesforce", after(2, 3, http_429("2", SF_LIMIT[:0]))),
         RECOVERED, min_wait=2.0),
    Case("salesforce", "REQUEST_LIMIT_EXCEEDED 403 (daily allocation gone after 5 calls)",
         switch("salesforce", "exhaust_daily", after=5), STOPPED, frozenset({"quota"})),
    Case("salesforce", "session expires mid-pull (INVALID_SESSION_ID after 6 calls)",
         switch("salesforce", "expire_session", after=6), STOPPED, frozenset({"auth"})),
    *common("marketo"),
    Case("marketo", "606 rate limit in HTTP 200 (3 times)", switch("marketo", "code", "606", times=3), RECOVERED,
         min_wait=20.0),
    Case("marketo", "615 concurrency limit in HTTP 200 (3 times)", switch("marketo", "code", "615", times=3),
         RECOVERED),
    Case("marketo", "429 storm without Retry-After (3 x HTTP 429)", switch("marketo", "fail", 429, times=3), RECOVERED),
    Case("marketo", "token expires mid-pull (602 after 5 calls; refreshed)",
         switch("marketo", "expire_token_after", 5), RECOVERED),
    Case("marketo", "daily quota exhausted (607 after 5 calls)", switch("marketo", "exhaust_daily", after=5), STOPPED,
         frozenset({"quota"})),
    *common("segment"),
    Case("segment", "429 storm with msBeforeNext 1500 (Segment's Retry-After)",
         switch("segment", "throttle", times=3, ms_before_next=1500), RECOVERED,
         min_wait=1.5),
    Case("segment", "429 storm without Retry-After or msBeforeNext", switch("segment", "fail", 429, times=3),
         RECOVERED),
    Case("segment", "429 storm with Retry-After: 2", on("segment", after(2, 3, http_429("2", {}))), RECOVERED,
         min_wait=2.0),
    Case("segment", "token revoked mid-pull (401 from the 10th call)",
         on("segment", after(10, -1, http_401(SG_UNAUTH))),
         STOPPED, frozenset({"auth"})),
]


@pytest.fixture(scope="module")
def baseline() -> dict[str, int]:
    """Fields per connector in a clean pull (what every other connector must still deliver under a fault)."""
    import tempfile
    from pathlib import Path

    with pytest.MonkeyPatch.context() as mp, serve_stack() as stack, tempfile.TemporaryDirectory() as tmp:
        outcome = Puller(Path(tmp), mp)(stack.urls)
    assert outcome.complete, [r.errors for r in outcome.snapshot.source_runs]
    return dict(Counter(f.id.split(":")[0] for f in outcome.snapshot.fields))


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_fault(case: Case, pull: Puller, baseline: dict[str, int], caplog: pytest.LogCaptureFixture,
               capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level("WARNING")
    with ExitStack() as es:
        stack = es.enter_context(serve_stack(**{case.connector: dict(case.serve)}))
        urls = dict(stack.urls)
        urls.update(case.setup(stack, es) or {})
        started = time.monotonic()
        # Timeout and deadline only for the faulty connector: the others keep the defaults of a clean pull.
        limits = {"timeout_seconds": case.timeout, "deadline_seconds": case.deadline}
        outcome = pull(urls, overrides={case.connector: {**dict(case.overrides), **limits}})
        elapsed = time.monotonic() - started
        fake = stack.fake(case.connector)
        faulty_statuses = Counter(r.status for r in fake.requests)

    runs = {r.id: r for r in outcome.snapshot.source_runs}
    run = runs[case.connector]
    codes = sorted({e.code for e in run.errors})
    fields = Counter(f.id.split(":")[0] for f in outcome.snapshot.fields)
    problems: list[str] = []
    if case.expect == RECOVERED:
        if run.status is not RunStatus.complete or run.errors:
            problems.append("did not recover")
        if fields.get(case.connector, 0) != baseline.get(case.connector, 0):
            problems.append(f"lost fields ({fields.get(case.connector)} of {baseline.get(case.connector, 0)})")
    else:
        if run.status not in (RunStatus.partial, RunStatus.failed):
            problems.append(f"status {run.status.value}, expected partial or failed")
        if not run.errors:
            problems.append("no error recorded")
        elif case.codes and not set(codes) & case.codes:
            problems.append(f"error codes {codes} not among {sorted(case.codes)}")
    if any(e.code == "internal" for r in runs.values() for e in r.errors):
        problems.append("internal crash")
    for other in VENDORS:
        if other != case.connector:
            if runs[other].status is not RunStatus.complete:
                problems.append(f"{other} not complete")
            if fields.get(other, 0) != baseline.get(other, 0):
                problems.append(f"{other} lost data")
    waited = max(pull.clocks[case.connector].sleeps, default=0.0)
    if case.min_wait and waited < case.min_wait:
        problems.append(f"longest wait {waited:.2f}s, the vendor asked for {case.min_wait:g}s")
    if elapsed > MAX_SECONDS:
        problems.append(f"took {elapsed:.1f}s")
    out, err = capsys.readouterr()
    if "Traceback" in out + err or any(r.exc_info for r in caplog.records if r.levelno >= 30):
        problems.append("traceback printed")

    message = run.errors[0].message if run.errors else ""
    # Only what is deterministic goes into RELIABILITY.md (no timings or request counts), so it diffs cleanly.
    observed = (
        f"{run.status.value}; errors {codes or 'none'}"
        f"; {fields.get(case.connector, 0)}/{baseline.get(case.connector, 0)} fields"
        + (f"; waited >= {case.min_wait:g}s (virtual clock)" if case.min_wait and waited >= case.min_wait else "")
        + (f"; \"{message[:110]}\"" if message else "")
        + (f"; PROBLEMS: {', '.join(problems)}" if problems else "")
    )
    expected = ("retried" + (f" after waiting >= {case.min_wait:g}s" if case.min_wait else "")
                + "; complete, nothing lost") if case.expect == RECOVERED else (
        "stops; partial/failed with " + ("/".join(sorted(case.codes)) if case.codes else "a recorded error")
    )
    record("Faults (fake vendors, through the pipeline)", case.connector, case.fault,
           expected + "; others intact; no traceback", observed, not problems)
    assert not problems, f"{observed}; {sum(faulty_statuses.values())} requests; {elapsed:.1f}s"
