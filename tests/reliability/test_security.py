"""The auth header stays on the configured host, TLS verification is on, and a full pull only reads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from stackaudit_connectors.http import build_client
from stackaudit_connectors.http.errors import HttpError

from .conftest import SECRETS, VENDORS, Puller, intercept, record, serve_stack


@contextmanager
def evil_host() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """Another origin (127.0.0.2, so a different host) that records every request's headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            body = b'{"results": [], "records": [], "done": true, "totalSize": 0}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _redirect_to(target: str) -> Any:
    def rewrite(n: int, result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
        if n < 2 or not isinstance(result[2], dict):
            return None
        return 302, b"", {**result[2], "Location": f"{target}/steal{path}"}

    return rewrite


def _next_links_to(target: str) -> Any:
    """Every cursor becomes an absolute URL on the other host (HubSpot's ``paging.next.link``, Salesforce's
    ``nextRecordsUrl``, Segment's ``pagination.next``)."""

    def move(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: move(v) for k, v in value.items()}
            if isinstance(out.get("nextRecordsUrl"), str):
                out["nextRecordsUrl"] = target + out["nextRecordsUrl"]
            if isinstance(out.get("link"), str):
                out["link"] = target + "/crm/v3/stolen"
            if isinstance(out.get("next"), str) and out["next"]:
                out["next"] = target + "/next"
            if "paging" in out and isinstance(out["paging"], dict):
                out["paging"] = {"next": {"after": "2", "link": target + "/crm/v3/stolen?after=2"}}
            return out
        if isinstance(value, list):
            return [move(v) for v in value]
        return value

    def rewrite(n: int, result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
        try:
            data = json.loads(result[1])
        except ValueError:
            return None
        return result[0], json.dumps(move(data)).encode(), *result[2:]

    return rewrite


@pytest.mark.parametrize("attack", ["redirect to another host", "next link on another host"])
@pytest.mark.parametrize("vendor", ["hubspot", "salesforce", "segment"])
def test_auth_header_never_reaches_another_host(vendor: str, attack: str, pull: Puller) -> None:
    with evil_host() as (evil, seen), serve_stack(
        **({"salesforce": {"page_size": 2, "tooling_page_size": 2}} if vendor == "salesforce" else {})
    ) as stack:
        intercept(stack.fake(vendor), _redirect_to(evil) if attack.startswith("redirect") else _next_links_to(evil))
        outcome = pull(stack.urls, overrides={"segment": {"page_size": 2}} if vendor == "segment" else None)
    run = next(r for r in outcome.snapshot.source_runs if r.id == vendor)
    leaked = [h for h in seen if any(v.lower().startswith("bearer") or any(s in v for s in SECRETS.values())
                                     for v in h.values())]
    observed = (f"{len(seen)} requests reached the other host, {len(leaked)} with credentials; run {run.status.value}"
                f", errors {sorted({e.code for e in run.errors}) or 'none'}")
    record("Security: auth header pinned to the configured host", vendor, attack,
           "no request with credentials reaches the other host; the refusal is recorded", observed, not leaked)
    assert not leaked, observed
    assert not seen, observed  # not even an unauthenticated request: the URL is refused before sending


def test_client_refuses_other_origins_and_redirects() -> None:
    with evil_host() as (evil, seen), serve_stack() as stack:
        intercept(stack.hubspot, _redirect_to(evil))
        client = build_client(connector="hubspot", base_url=stack.urls["hubspot"], token=SECRETS["HUBSPOT_TOKEN"])
        redirected: HttpError | None = None
        with client:
            with pytest.raises(HttpError) as other:
                client.get_json(f"{evil}/crm/v3/owners")
            for _ in range(3):  # the interceptor redirects from the third request on
                try:
                    client.get_json("/account-info/v3/details")
                except HttpError as exc:
                    redirected = exc
        assert redirected is not None
        assert SECRETS["HUBSPOT_TOKEN"] not in str(other.value) + str(redirected)
    observed = (
        f"absolute URL refused ({other.value.__class__.__name__}); 302 not followed "
        f"({redirected.__class__.__name__}); {len(seen)} requests reached it"
    )
    record("Security: auth header pinned to the configured host", "http client", "absolute URL / 302 to another host",
           "refused before sending; redirects never followed", observed, not seen)
    assert not seen


def test_tls_verification_is_on_for_every_connector(pull: Puller, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    original = httpx.Client.__init__

    def spy(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        made.append(kwargs.get("verify", True))
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", spy)
    with serve_stack() as stack:
        outcome = pull(stack.urls)
    assert outcome.complete
    ok = bool(made) and all(v is True for v in made)
    record("Security: TLS", "all", "httpx clients built during a full pull",
           "verify=True on every client (no flag turns it off)",
           f"{len(made)} clients, verify={sorted(set(map(str, made)))}", ok)
    assert ok, made


def test_a_full_pull_only_reads(pull: Puller) -> None:
    with serve_stack() as stack:
        outcome = pull(stack.urls)
        writes = {v: stack.fake(v).non_read_requests() for v in VENDORS}
        counts = {v: len(stack.fake(v).requests) for v in VENDORS}
    assert outcome.complete
    for vendor in VENDORS:
        observed = f"{counts[vendor]} requests, {len(writes[vendor])} writes"
        record("Security: read-only", vendor, "full pull", "only reads (GET, read-only POSTs)", observed,
               not writes[vendor] and counts[vendor] > 0)
    assert all(not w for w in writes.values()), writes
    assert all(counts.values())
