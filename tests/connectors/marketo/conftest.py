"""Fixtures for the Marketo connector tests: a fake clock (no real sleeping), the demo instance on loopback, and a
helper that pulls it with a config and the manifest's declared tools."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stackaudit.fakes.marketo import FakeMarketo, load_instance, recorded_instance_path
from stackaudit_connectors.base import PullContext, PullResult
from stackaudit_connectors.marketo.config import MarketoConfig
from stackaudit_connectors.marketo.connector import MarketoConnector

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CLIENT_ID = "mkto-test-client-id"
CLIENT_SECRET = "mkto-test-client-secret-8d1f"
DECLARED = {"marketo": "Marketo Engage", "salesforce": "Salesforce Sales Cloud", "hubspot": "HubSpot"}


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeMarketo]:
    instance = load_instance(recorded_instance_path())
    with FakeMarketo(instance, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock) as server:
        yield server


Puller = Callable[..., tuple[PullResult, MarketoConnector]]


@pytest.fixture
def pull(clock: FakeClock) -> Puller:
    def run(
        server: FakeMarketo,
        *,
        declared: dict[str, str] | None = None,
        options: dict[str, Any] | None = None,
        **cfg: Any,
    ) -> tuple[PullResult, MarketoConnector]:
        settings: dict[str, Any] = {
            "type": "marketo",
            "base_url": server.base_url,
            "client_id": "${MKTO_ID}",
            "client_secret": "${MKTO_SECRET}",
            "extract_poll_seconds": 5.0,
            **cfg,
        }
        config = MarketoConfig.model_validate(settings)
        context = PullContext(
            config_dir=Path("."),
            env={"MKTO_ID": CLIENT_ID, "MKTO_SECRET": CLIENT_SECRET},
            now=lambda: NOW,
            declared_tools=DECLARED if declared is None else declared,
            options=options or {},
        )
        connector = MarketoConnector(config, context, clock=clock, sleep=clock.sleep)
        return connector.pull(), connector

    return run


@pytest.fixture
def secret() -> str:
    """The client secret the fake accepts (tests assert it never leaks)."""
    return CLIENT_SECRET
