"""A small run of the benchmark code (issue 9), so ``make bench`` keeps working: every connector pulls a tiny
stack from its fake with the limits scaled up 50x, the pipeline runs at 1,000 and 2,000 fields, and the tables
render. Asserts the rows, columns and sane values, never wall times (those belong to ``make bench`` on an idle
machine)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package of the repository, not an installed one
    sys.path.insert(0, str(ROOT))

from benchmarks import connectors, markdown, pipeline, stacks  # noqa: E402
from benchmarks.floor import Window, floor_seconds, per_doubling  # noqa: E402

LATENCY = 0.01


@pytest.fixture(scope="module")
def connector_rows() -> list[dict[str, Any]]:
    return [connectors.run(v, stacks.SMOKE, LATENCY, scale=50) for v in connectors.VENDORS]


@pytest.fixture(scope="module")
def pipeline_rows() -> list[dict[str, Any]]:
    return [{"requested": n, **pipeline.run(n, diagram=False)} for n in (1000, 2000)]


def test_floor_arithmetic() -> None:
    # 190 calls go at once; the 191st waits a window. 9 searches at 4 a second: the last starts after 2 s.
    assert floor_seconds([Window(190, 10.0, 190)], calls=190, latency=0.1) == pytest.approx(0.1)
    assert floor_seconds([Window(190, 10.0, 191)], calls=191, latency=0.1) == pytest.approx(10.1)
    assert floor_seconds([Window(190, 10.0, 9), Window(4, 1.0, 9)], calls=9, latency=0.1) == pytest.approx(2.1)
    assert floor_seconds([], calls=40, latency=0.1, in_flight=4) == pytest.approx(1.0)
    assert per_doubling(1.0, 4.0, 10, 40) == pytest.approx(2.0)  # linear: x2 per doubling


def test_every_connector_row(connector_rows: list[dict[str, Any]]) -> None:
    assert [r["vendor"] for r in connector_rows] == list(connectors.VENDORS)
    for row in connector_rows:
        assert row["status"] == "complete", row
        assert row["calls"] > 0 and row["calls"] == row["api_calls_reported"], row
        assert row["throttled"] == 0, row
        assert row["floor_s"] > 0 and row["ratio"] is not None and row["ratio"] > 0
        assert row["wall_s"] >= LATENCY
        assert row["peak_rss_mb"] > 0 and row["cpu_s"] >= 0
        if row["vendor"] != "segment":  # no fill rates in Segment, so no naive fill-rate strategy
            assert row["naive_calls"] > row["calls"] and 0 < row["share_of_naive"] < 1
            assert row["naive_floor_s"] >= row["floor_s"]
            assert sum(row["fills"].values()) > 0
            assert 0 < row["fill_calls"] < row["naive_fill_calls"]


def test_salesforce_repeat_pull_reuses_describes(connector_rows: list[dict[str, Any]]) -> None:
    sf = next(r for r in connector_rows if r["vendor"] == "salesforce")
    assert sf["repeat_status"] == "complete"
    assert 0 < sf["repeat_calls"] <= sf["calls"] / 2
    assert sf["repeat_describes"] < sf["first_describes"]


def test_pipeline_rows(pipeline_rows: list[dict[str, Any]]) -> None:
    for row in pipeline_rows:
        assert row["fields"] == row["requested"]
        for key in ("load_s", "load_validate_json_s", "load_validate_json_nogc_s", "audit_s", "render_s", "diff_s"):
            assert row[key] > 0, key
        assert row["html_mb"] > 0 and row["file_mb"] > 0
        assert row["diff_exact"] is True
        assert row["rss_mb_after_report"] >= row["rss_mb_after_load"] > 0
    growth = markdown.growth_rows(pipeline_rows)
    assert len(growth) == 1 and not math.isnan(growth[0]["audit_s"][1])


def test_tables_render(connector_rows: list[dict[str, Any]], pipeline_rows: list[dict[str, Any]]) -> None:
    text = markdown.render({"machine": {"cores": 2}, "connectors": connector_rows, "pipeline": pipeline_rows})
    for heading in ("## Connectors", "## Salesforce repeat pull", "## Pipeline", "### Growth"):
        assert heading in text
    connector_lines = [line for line in text.splitlines() if line.startswith("| ") and "benchmarks.connectors" in line]
    assert len(connector_lines) == len(connectors.VENDORS)
    header = next(line for line in text.splitlines() if line.startswith("| vendor"))
    columns = ("calls", "floor s", "ratio", "throttled", "peak RSS MB", "naive calls", "calls / naive", "fill / naive")
    for column in columns:
        assert f" {column} |" in header
    assert sum(1 for line in text.splitlines() if "benchmarks.pipeline" in line) == 2
