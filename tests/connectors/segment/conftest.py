"""Fixtures for the Segment connector tests: a fake clock (no real sleeping), the demo workspace on loopback, and a
helper that pulls it with a config and the manifest's declared tools."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackaudit.fakes.segment import FakeSegment, load_workspace, recorded_workspace_path
from stackaudit_connectors.base import PullContext, PullResult
from stackaudit_connectors.segment.config import SegmentConfig
from stackaudit_connectors.segment.connector import SegmentConnector

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOKEN = "sgmt-test-token-5c2e9"
DEMO_STACK = Path(__file__).resolve().parents[3] / "stackaudit" / "demo" / "data" / "stack.yaml"


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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def declared() -> dict[str, str]:
    """The demo manifest's tools (id -> name), as the pipeline hands them to API connectors."""
    doc = yaml.safe_load(DEMO_STACK.read_text(encoding="utf-8"))
    return {t["id"]: t["name"] for t in doc["tools"]}


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeSegment]:
    with FakeSegment(load_workspace(recorded_workspace_path()), token=TOKEN, clock=clock) as server:
        yield server


Puller = Callable[..., tuple[PullResult, SegmentConnector]]


@pytest.fixture
def pull(clock: FakeClock, declared: dict[str, str]) -> Puller:
    def run(
        server: FakeSegment, *, tools: dict[str, str] | None = None, **cfg: Any
    ) -> tuple[PullResult, SegmentConnector]:
        config = SegmentConfig.model_validate(
            {"type": "segment", "base_url": server.base_url, "token": "${SEGMENT_TOKEN}", **cfg}
        )
        context = PullContext(
            config_dir=Path("."),
            env={"SEGMENT_TOKEN": TOKEN},
            now=lambda: NOW,
            declared_tools=declared if tools is None else tools,
        )
        connector = SegmentConnector(config, context, clock=clock, sleep=clock.sleep)
        return connector.pull(), connector

    return run
