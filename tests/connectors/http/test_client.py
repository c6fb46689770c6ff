"""The client: auth pinned to the base URL's host, retries with backoff and Retry-After, deadline, no leaks."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from stackaudit_connectors.http import (
    AuthError,
    BearerAuth,
    DeadlineError,
    MalformedError,
    QuotaError,
    ResponseError,
    RetryError,
    RetryPolicy,
    ScopeError,
    TokenBucket,
    UnsafeURLError,
    Verdict,
    build_client,
    classify,
    user_agent,
)
from stackaudit_connectors.http.classify import Outcome

TOKEN = "pat-na1-SECRET-0123456789"
BASE = "https://api.vendor.example"


class Recorder:
    """A MockTransport handler replaying ``replies`` in order and recording every request."""

    def __init__(self, *replies: httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply(request) if callable(reply) else reply


def make(recorder: Recorder, clock=None, **kwargs):
    opts = {"policy": RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_cap=4.0), "rng": random.Random(1)}
    if clock is not None:
        opts.update(clock=clock, sleep=clock.sleep)
    opts.update(kwargs)
    return build_client(connector="vendor", base_url=BASE, token=TOKEN, transport=httpx.MockTransport(recorder), **opts)


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


# ------------------------------------------------------------------------------------------- host pinning


def test_auth_and_user_agent_sent_to_the_base_host() -> None:
    rec = Recorder(ok())
    with make(rec) as client:
        assert client.get_json("/v1/things", params={"limit": 2}) == {"ok": True}
        client.get_json(f"{BASE}/v1/absolute-same-host")
    first = rec.requests[0]
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["User-Agent"] == user_agent()
    assert user_agent().startswith("stackaudit/")
    assert str(first.url) == f"{BASE}/v1/things?limit=2"
    assert rec.requests[1].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/v1/things",
        "http://api.vendor.example/v1/things",  # same host, other scheme
        "https://api.vendor.example:8443/v1/things",  # same host, other port
        "//evil.example/v1/things",
    ],
)
def test_absolute_urls_to_another_origin_are_refused_before_sending(url: str) -> None:
    rec = Recorder(ok())
    with make(rec) as client, pytest.raises(UnsafeURLError) as err:
        client.get_json(url)
    assert rec.requests == []
    assert TOKEN not in str(err.value)


def test_bearer_auth_itself_checks_the_origin() -> None:
    auth = BearerAuth(TOKEN, ("https", "api.vendor.example", 443))
    foreign = next(auth.auth_flow(httpx.Request("GET", "https://other.example/x")))
    assert "Authorization" not in foreign.headers
    own = next(auth.auth_flow(httpx.Request("GET", f"{BASE}/x")))
    assert own.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(auth)


def test_redirects_are_not_followed() -> None:
    rec = Recorder(httpx.Response(302, headers={"Location": "https://evil.example/steal"}))
    with make(rec) as client, pytest.raises(ResponseError, match="redirect refused"):
        client.get_json("/v1/things")
    assert len(rec.requests) == 1


def test_base_url_must_be_http() -> None:
    with pytest.raises(UnsafeURLError):
        build_client(connector="vendor", base_url="ftp://x.example", token=TOKEN)


# ------------------------------------------------------------------------------------------------ retries


def test_5xx_then_success_backs_off_with_jitter(clock) -> None:
    rec = Recorder(httpx.Response(503), httpx.Response(502), ok())
    with make(rec, clock) as client:
        assert client.get_json("/v1/things") == {"ok": True}
    assert len(rec.requests) == 3
    assert len(clock.sleeps) == 2
    assert 0.25 <= clock.sleeps[0] <= 0.5 and 0.5 <= clock.sleeps[1] <= 1.0  # equal jitter: 0.5 * 2^(n-1), halved
    assert client.counter.total == 3 and client.counter.retries == 2
    assert client.counter.by_status == {"503": 1, "502": 1, "200": 1}


def test_retry_after_is_honoured(clock) -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), ok())
    with make(rec, clock) as client:
        client.get_json("/v1/things")
    assert clock.sleeps and 7.0 <= clock.sleeps[0] <= 7.5
    assert client.counter.throttled == 1


def test_429_pauses_the_shared_bucket_for_every_thread(clock) -> None:
    bucket = TokenBucket(rate=100.0, capacity=10, clock=clock, sleep=clock.sleep)
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3"}), ok())
    with make(rec, clock, buckets={"default": [bucket]}) as client:
        start = clock()
        client.get_json("/v1/things")
    assert clock() - start >= 3.0
    assert bucket.waited >= 3.0  # the wait happened in the bucket: other threads would have waited too
    assert bucket.rate == 50.0  # and the pace stays slower


def test_timeouts_and_connection_errors_are_retried(clock) -> None:
    rec = Recorder(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), ok())
    with make(rec, clock) as client:
        assert client.get_json("/v1/things") == {"ok": True}
    assert client.counter.by_status["error"] == 2


def test_attempts_are_bounded(clock) -> None:
    rec = Recorder(httpx.Response(500, json={"message": "boom"}))
    with make(rec, clock) as client, pytest.raises(RetryError, match="HTTP 500 after 4 attempts") as err:
        client.get_json("/v1/things?secret=1")
    assert len(rec.requests) == 4
    assert err.value.code == "retries_exhausted"
    assert "secret" not in str(err.value)  # messages carry the path, never the query string


def test_a_retry_after_beyond_the_policy_gives_up(clock) -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}))
    with make(rec, clock) as client, pytest.raises(RetryError) as err:
        client.get_json("/v1/things")
    assert err.value.code == "rate_limit"
    assert len(rec.requests) == 1


def test_deadline_bounds_the_whole_connector(clock) -> None:
    rec = Recorder(httpx.Response(503))
    policy = RetryPolicy(max_attempts=100, backoff_base=10, backoff_cap=10)
    with make(rec, clock, policy=policy, deadline_seconds=30) as client, pytest.raises(DeadlineError):
        client.get_json("/v1/things")
    assert clock.now - 1000.0 <= 30
    assert len(rec.requests) < 10


def test_deadline_also_bounds_rate_limit_waits(clock) -> None:
    bucket = TokenBucket(rate=0.01, capacity=1, clock=clock, sleep=clock.sleep)  # one call per 100 s
    rec = Recorder(ok())
    with make(rec, clock, buckets={"default": [bucket]}, deadline_seconds=10) as client:
        client.get_json("/v1/a")
        with pytest.raises(DeadlineError):
            client.get_json("/v1/b")
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (403, ScopeError), (400, ResponseError), (404, ResponseError)]
)
def test_final_outcomes_raise_at_once(clock, status: int, error: type[Exception]) -> None:
    rec = Recorder(httpx.Response(status, json={"message": "no"}))
    with make(rec, clock) as client, pytest.raises(error):
        client.get_json("/v1/things")
    assert len(rec.requests) == 1
    assert clock.sleeps == []


def test_vendor_classifier_can_declare_a_quota(clock) -> None:
    def vendor(response: httpx.Response) -> Verdict:
        if response.status_code == 429:
            return Verdict(Outcome.quota, "daily limit")
        return classify(response)

    rec = Recorder(httpx.Response(429))
    with make(rec, clock, classifier=vendor) as client, pytest.raises(QuotaError):
        client.get_json("/v1/things")
    assert len(rec.requests) == 1


def test_malformed_json_is_its_own_error(clock) -> None:
    rec = Recorder(httpx.Response(200, content=b'{"results": [1, 2'))
    with make(rec, clock) as client, pytest.raises(MalformedError) as err:
        client.get_json("/v1/things")
    assert err.value.code == "malformed"


# ---------------------------------------------------------------------------------------------- no leaks


def test_token_never_reaches_errors_logs_or_reprs(clock, caplog) -> None:
    caplog.set_level("DEBUG")
    echo = httpx.Response(400, json={"message": f"token {TOKEN} is not valid for this portal"})
    rec = Recorder(httpx.Response(503, json={"message": f"upstream saw Bearer {TOKEN}"}), echo)
    with make(rec, clock) as client:
        with pytest.raises(ResponseError) as err:
            client.get_json("/v1/things")
        assert TOKEN not in repr(client)
    assert TOKEN not in str(err.value)
    assert "***" in str(err.value)
    assert TOKEN not in caplog.text
