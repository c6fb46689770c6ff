"""One place decides what a response means."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from stackaudit_connectors.http import Outcome, classify, parse_retry_after, vendor_message


def response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.ok),
        (204, Outcome.ok),
        (301, Outcome.fatal),
        (302, Outcome.fatal),
        (400, Outcome.fatal),
        (401, Outcome.auth),
        (403, Outcome.missing_scope),
        (404, Outcome.fatal),
        (408, Outcome.retriable),
        (429, Outcome.retriable),
        (500, Outcome.retriable),
        (501, Outcome.fatal),
        (502, Outcome.retriable),
        (503, Outcome.retriable),
        (504, Outcome.retriable),
    ],
)
def test_status_table(status: int, outcome: Outcome) -> None:
    assert classify(response(status, {"message": "x"})).outcome is outcome


def test_429_is_marked_rate_limited_and_reads_retry_after() -> None:
    verdict = classify(response(429, {"message": "slow down"}, {"Retry-After": "7"}))
    assert verdict.rate_limited
    assert verdict.retry_after == 7.0
    assert verdict.detail == "slow down"
    assert not classify(response(503)).rate_limited


def test_redirects_are_refused_not_followed() -> None:
    verdict = classify(response(302, headers={"Location": "https://elsewhere.example/"}))
    assert verdict.outcome is Outcome.fatal
    assert "redirect refused" in verdict.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        ("1.5", 1.5),
        ("-2", 0.0),
        ("soon", None),
        ("Mon, 30 Nov 2026 09:00:10 GMT", 10.0),
        ("Mon, 30 Nov 2026 08:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2026, 11, 30, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


def test_vendor_message_is_one_short_line() -> None:
    assert vendor_message(response(400, {"message": "bad\n  input"})) == "bad input"
    assert vendor_message(response(400, [{"message": "listed"}])) == "listed"
    assert vendor_message(httpx.Response(500, text="<html>oops</html>")) is None
    long = vendor_message(response(400, {"message": "x" * 500}))
    assert long is not None and len(long) == 200
