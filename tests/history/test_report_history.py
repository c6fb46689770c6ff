"""The report's history section: sparklines laid out from trend points, changes listed, everything escaped."""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.etree import ElementTree as ET

from stackaudit.commands import audit_snapshot
from stackaudit.history.audits import AuditHistory
from stackaudit.history.diff import diff_snapshots
from stackaudit.history.report_inputs import build_history_section, build_snapshot_changes
from stackaudit.history.trends import build_trends
from stackaudit_inventory import Snapshot
from stackaudit_reports.history import (
    SPARK_HEIGHT,
    HistoryChange,
    HistoryGroup,
    HistorySection,
    TrendSeries,
    build_history_view,
    sparkline,
)
from stackaudit_reports.html import _environment, render_html

from .conftest import History


def render_section(section: HistorySection) -> str:
    return _environment().get_template("_history.html.j2").render(history=build_history_view(section))


def test_sparkline_geometry() -> None:
    line = sparkline(TrendSeries("tools", "Tools", "count", (25, 26, 25, 25)), ("a", "b", "c", "d"), (False,) * 4)
    coords = [tuple(map(float, p.split(","))) for p in line.points.split()]
    assert [x for x, _ in coords] == sorted(x for x, _ in coords) and len(coords) == 4
    assert min(y for _, y in coords) == 4.0 and max(y for _, y in coords) == SPARK_HEIGHT - 4.0  # 26 top, 25 bottom
    assert line.latest == "25" and line.change == "unchanged since a"
    flat = sparkline(TrendSeries("x", "X", "money", (5.0, 5.0)), ("a", "b"), (False, True))
    assert {y for _, y in (tuple(map(float, p.split(","))) for p in flat.points.split())} == {SPARK_HEIGHT / 2}
    assert flat.dots[1].partial and flat.dots[1].title.endswith("(partial snapshot)")
    money = sparkline(TrendSeries("s", "Spend", "money", (962016.0, 944216.0)), ("a", "b"), (False, False))
    assert (money.latest, money.change) == ("$944k", "−$18k since a")


def test_history_section_from_the_history(history: History, loaded: Callable[[int], Snapshot]) -> None:
    s3, s4 = loaded(3), loaded(4)
    hist = AuditHistory(history.store, lambda snap: audit_snapshot(history.config, snap))
    section = build_history_section(s3, diff_snapshots(s3, s4), build_trends(hist))
    assert [s.key for s in section.trends] == [
        "tools", "annual_spend", "overlap_spend", "custom_fields", "orphaned_fields", "broken_syncs",
    ]  # fmt: skip
    assert section.trend_partial == (False, False, False, True, False)
    html = render_section(section)
    assert html.count("<polyline") == 6
    assert html.count('fill="#fff"') == 6  # S3's hollow dot on each chart
    assert "Integration hubspot-&gt;snowflake: status active → error" in html
    assert "<h3>Not compared</h3>" in html and "salesforce fields: missing before, complete now" in html
    # Each chart is a well-formed SVG element.
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ET.fromstring(svg)


def test_history_section_escapes_and_caps() -> None:
    hostile = "<script>alert(1)</script>"
    section = HistorySection(
        previous_snapshot_id="x<y",
        previous_taken_at="then",
        groups=(HistoryGroup("Fields", (HistoryChange(f"Field {hostile} added", "added"),), more=3),),
        not_comparable=(hostile,),
        command="stackaudit diff a b",
    )
    html = render_section(section)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "and 3 more: run <code>stackaudit diff a b</code>" in html
    assert render_section(HistorySection(None, None)).count("first snapshot in the store") == 1


def test_summary_items_lead_with_the_delta(history: History, loaded: Callable[[int], Snapshot]) -> None:
    from stackaudit.history.delta import delta_between

    s1, s2 = loaded(1), loaded(2)
    hist = AuditHistory(history.store, lambda snap: audit_snapshot(history.config, snap))
    result = history.results[s2.id]
    changes = build_snapshot_changes(s1, diff_snapshots(s1, s2), delta_between(hist, s1.id, s2, result))
    assert changes is not None and changes.previous_snapshot_id == s1.id
    texts = [item.text for item in changes.items]
    assert texts[0].startswith("1 new finding: Waiver for OF001")
    resolved = next(i for i, t in enumerate(texts) if t.startswith("1 finding resolved: drift->salesforce"))
    assert texts.index("Tools: 1 removed (Mailchimp Standard), 1 changed.") > resolved  # the delta comes first
    assert build_snapshot_changes(None, None, None) is None

    html = render_html(s2, result, now=s2.taken_at, diagram_svg=None, changes=changes,
                       history=build_history_section(s1, diff_snapshots(s1, s2), []))  # fmt: skip
    assert "Since snapshot <code>" + s1.id in html
    if "_history.html.j2" in _environment().loader.get_source(_environment(), "report.html.j2")[0]:  # type: ignore[union-attr]
        assert 'id="history"' in html
