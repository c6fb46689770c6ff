"""StackGraph queries, flow health and the export, table-driven on tiny synthetic stacks."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stackaudit.graph import FlowHealth, Link, assess_flow, build_graph, elapsed, export_graph, flow_health
from stackaudit_inventory import Asset, FieldDef, FieldMapping, Integration, Reference, Snapshot, Tool
from stackaudit_inventory.ids import parse_field_id

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def fld(fid: str) -> FieldDef:
    p = parse_field_id(fid)
    return FieldDef(id=fid, tool=p.tool, object=p.object, name=p.field, type="string")


def flow(iid: str, *maps: str, **kw: Any) -> Integration:
    """``flow("a->b", "a:o.x>b:o.y", "a:o.z<>b:o.z")``: ``>`` forward, ``<>`` both."""
    source, _, target = iid.split(":", 1)[0].partition("->")
    mappings = []
    for m in maps:
        both = "<>" in m
        s, t = m.split("<>" if both else ">")
        mappings.append(FieldMapping(source=s, target=t, direction="both" if both else "forward"))
    return Integration(id=iid, source=source, target=target, mappings=mappings, **kw)


def snap(
    tools: Sequence[str] = (),
    fields: Sequence[str] = (),
    integrations: Sequence[Integration] = (),
    refs: Sequence[tuple[str, str, str]] = (),
) -> Snapshot:
    """``refs`` as (asset, mode, field)."""
    assets = sorted({a for a, _, _ in refs})
    return Snapshot(
        id="t",
        taken_at=NOW,
        stack="t",
        tools=[Tool(id=t, name=t.title(), capabilities=["x"]) for t in tools],
        fields=[fld(f) for f in fields],
        assets=[Asset(id=a, tool=a.split(":")[0], kind=a.split(":")[1].split("/")[0], name=a) for a in assets],
        references=[Reference(asset=a, mode=m, field=f) for a, m, f in refs],  # type: ignore[arg-type]
        integrations=list(integrations),
    )


# A small cross-tool stack: a form writes hubspot.x, which is mapped to salesforce.x, which a flow reads, and
# the flow writes salesforce.score; salesforce.score is mapped back to hubspot.score (two-way).
STACK = snap(
    tools=["hubspot", "salesforce", "segment", "zapier", "typeform", "lonely"],
    fields=["hubspot:contacts.x", "salesforce:Lead.X__c", "salesforce:Lead.Score__c", "hubspot:contacts.score"],
    integrations=[
        flow(
            "hubspot->salesforce",
            "hubspot:contacts.x>salesforce:Lead.X__c",
            "salesforce:Lead.Score__c<>hubspot:contacts.score",
            direction="two-way",
        ),
        flow("typeform->hubspot", via="zapier"),
        flow("segment->hubspot"),
    ],
    refs=[
        ("hubspot:form/1", "write", "hubspot:contacts.x"),
        ("salesforce:flow/9", "read", "salesforce:Lead.X__c"),
        ("salesforce:flow/9", "write", "salesforce:Lead.Score__c"),
        ("hubspot:report/3", "read", "hubspot:contacts.x"),
    ],
)


@pytest.mark.parametrize(
    ("field", "writers"),
    [
        ("hubspot:contacts.x", [Link("hubspot:form/1", "reference")]),
        ("salesforce:Lead.X__c", [Link("hubspot:contacts.x", "mapping", "hubspot->salesforce")]),
        (
            "salesforce:Lead.Score__c",
            [
                Link("hubspot:contacts.score", "mapping", "hubspot->salesforce"),
                Link("salesforce:flow/9", "reference"),
            ],
        ),
        ("nope:a.b", []),
    ],
)
def test_writers_of(field: str, writers: list[Link]) -> None:
    assert build_graph(STACK).writers_of(field) == writers


@pytest.mark.parametrize(
    ("field", "readers"),
    [
        (
            "hubspot:contacts.x",
            [Link("hubspot:report/3", "reference"), Link("salesforce:Lead.X__c", "mapping", "hubspot->salesforce")],
        ),
        ("salesforce:Lead.X__c", [Link("salesforce:flow/9", "reference")]),
        ("hubspot:contacts.score", [Link("salesforce:Lead.Score__c", "mapping", "hubspot->salesforce")]),
    ],
)
def test_readers_of(field: str, readers: list[Link]) -> None:
    assert build_graph(STACK).readers_of(field) == readers


@pytest.mark.parametrize(
    ("field", "impact"),
    [
        # across tools: the mapping to Salesforce, the flow reading it, the field the flow writes, and the
        # HubSpot field that field syncs back to
        (
            "hubspot:contacts.x",
            [
                "hubspot:contacts.score",
                "hubspot:report/3",
                "salesforce:Lead.Score__c",
                "salesforce:Lead.X__c",
                "salesforce:flow/9",
            ],
        ),
        ("hubspot:contacts.score", ["salesforce:Lead.Score__c"]),
        ("missing:a.b", []),
    ],
)
def test_downstream(field: str, impact: list[str]) -> None:
    assert build_graph(STACK).downstream(field) == impact


def test_integration_lookups_and_missing_nodes() -> None:
    g = build_graph(STACK)
    assert g.integrations_writing("hubspot:contacts.score") == ["hubspot->salesforce"]
    assert g.integrations_touching("hubspot:contacts.x") == ["hubspot->salesforce"]
    assert g.integrations_writing("hubspot:contacts.x") == []
    # assets named only by references and tools named only by integrations are nodes marked missing
    assert g.kind("hubspot:form/1") == "asset"
    assert g.kind("hubspot") == "tool" and not g.is_missing("hubspot")
    broken = build_graph(snap(tools=["a"], integrations=[flow("a->b", "a:o.x>b:o.gone")]))
    assert broken.is_missing("b") and broken.is_missing("b:o.gone") and broken.is_missing("a:o.x")


@pytest.mark.parametrize(
    ("integrations", "cycles"),
    [
        ([flow("a->b"), flow("b->c"), flow("c->a")], [["a", "b", "c"]]),
        ([flow("a->b", direction="two-way")], []),  # one two-way integration is not a loop
        ([flow("a->b"), flow("b->a")], [["a", "b"]]),  # two separate integrations are
        ([flow("a->b"), flow("b->c")], []),
        # middleware is not a hop: a hub never closes a false loop between the tools it connects
        ([flow("a->b", via="zapier"), flow("b->a:back", via="zapier")], [["a", "b"]]),
        ([flow("a->b", via="zapier"), flow("c->d", via="zapier")], []),
    ],
)
def test_flow_cycles(integrations: list[Integration], cycles: list[list[str]]) -> None:
    assert build_graph(snap(integrations=integrations)).flow_cycles() == cycles


@pytest.mark.parametrize(
    ("integrations", "cycles"),
    [
        ([flow("a->b", "a:o.x<>b:o.x")], []),  # a declared two-way mapping is not a loop
        ([flow("a->b", "a:o.x>b:o.x"), flow("b->a", "b:o.x>a:o.x")], [["a:o.x", "b:o.x"]]),
        (
            [flow("a->b", "a:o.x>b:o.x"), flow("b->c", "b:o.x>c:o.x"), flow("c->a", "c:o.x>a:o.x")],
            [["a:o.x", "b:o.x", "c:o.x"]],
        ),
        ([flow("a->b", "a:o.x<>b:o.x"), flow("b->a", "b:o.x>a:o.x")], [["a:o.x", "b:o.x"]]),
        ([flow("a->b", "a:o.x>b:o.x"), flow("b->c", "b:o.x>c:o.x")], []),
    ],
)
def test_field_write_cycles(integrations: list[Integration], cycles: list[list[str]]) -> None:
    assert build_graph(snap(integrations=integrations)).field_write_cycles() == cycles


def test_tools_without_flows_counts_middleware() -> None:
    assert build_graph(STACK).tools_without_flows() == ["lonely"]


@pytest.mark.parametrize(
    ("tool", "hops", "expected"),
    [
        ("typeform", 1, ["hubspot", "zapier"]),
        ("typeform", 2, ["hubspot", "salesforce", "segment", "zapier"]),
        ("salesforce", 1, ["hubspot"]),
        ("lonely", 3, []),
        ("hubspot", 0, []),
    ],
)
def test_neighbours(tool: str, hops: int, expected: list[str]) -> None:
    assert build_graph(STACK).neighbours(tool, hops) == expected


H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("kw", "health"),
    [
        ({}, "unknown"),
        ({"status": "active"}, "ok"),
        ({"status": "disabled", "last_success_at": NOW - 1000 * H, "expected_interval_minutes": 15}, "disabled"),
        ({"status": "error"}, "broken"),
        ({"last_success_at": NOW - 10 * timedelta(minutes=1), "expected_interval_minutes": 15}, "ok"),
        ({"last_success_at": NOW - 30 * timedelta(minutes=1), "expected_interval_minutes": 15}, "stale"),
        ({"last_success_at": NOW - 45 * timedelta(minutes=1), "expected_interval_minutes": 15}, "stale"),
        ({"last_success_at": NOW - 46 * timedelta(minutes=1), "expected_interval_minutes": 15}, "broken"),
        ({"last_success_at": NOW - 100 * H}, "unknown"),  # a success but no interval to judge it by
        ({"last_success_at": NOW + H, "expected_interval_minutes": 15}, "ok"),  # clock skew is not staleness
        ({"last_success_at": (NOW - 5 * H).replace(tzinfo=None), "expected_interval_minutes": 60}, "broken"),
        ({"success_count": 90, "error_count": 10}, "broken"),
        ({"success_count": 99, "error_count": 1}, "ok"),
        ({"success_count": 5, "error_count": 5}, "ok"),  # too few events to judge a rate
        ({"status": "active", "success_count": 0, "error_count": 0}, "ok"),
    ],
)
def test_flow_health(kw: dict[str, Any], health: str) -> None:
    assert flow_health(flow("a->b", **kw), NOW) == health


def test_flow_health_thresholds_and_assessment() -> None:
    integ = flow("a->b", last_success_at=NOW - 2 * H, expected_interval_minutes=15)
    assert flow_health(integ, NOW) == "broken"
    assert flow_health(integ, NOW, factor=10) == "stale"
    a = assess_flow(integ, NOW)
    assert a.health is FlowHealth.broken and a.overdue == pytest.approx(8.0) and a.age == 2 * H
    noisy = flow("a->b", success_count=7, error_count=3)
    assert flow_health(noisy, NOW, min_events=10, max_error_rate=0.5) == "ok"
    assert flow_health(noisy, NOW, min_events=10) == "broken"
    assert elapsed(NOW, NOW.replace(tzinfo=None) - H) == H


def test_export_is_sorted_and_deterministic() -> None:
    integrations = [
        flow("segment->hubspot", status="active"),
        flow("hubspot->salesforce", "hubspot:contacts.x>salesforce:Lead.X__c", direction="two-way", name="sync"),
        flow("typeform->hubspot", via="zapier", status="error"),
        flow("hubspot->ghost"),
    ]
    exports = []
    for seed in range(3):
        shuffled = integrations[:]
        random.Random(seed).shuffle(shuffled)
        s = snap(tools=["segment", "hubspot", "salesforce", "typeform", "zapier"], integrations=shuffled)
        exports.append(export_graph(s, build_graph(s), NOW).model_dump_json())
    assert len(set(exports)) == 1

    s = snap(tools=["segment", "hubspot", "salesforce", "typeform", "zapier"], integrations=integrations)
    export = export_graph(s, build_graph(s), NOW)
    assert [n.id for n in export.nodes] == ["ghost", "hubspot", "salesforce", "segment", "typeform", "zapier"]
    hubspot = next(n for n in export.nodes if n.id == "hubspot")
    assert (hubspot.label, hubspot.group, hubspot.status) == ("Hubspot", "x", "active")
    assert next(n for n in export.nodes if n.id == "ghost").status == "unknown"
    edges = {e.id: e for e in export.edges}
    assert [e.id for e in export.edges] == [
        "hubspot->ghost",
        "hubspot->salesforce",
        "segment->hubspot",
        "typeform->hubspot",
    ]
    assert edges["hubspot->salesforce"].label == "sync · 1 field"
    assert edges["hubspot->salesforce"].direction == "two-way"
    assert edges["typeform->hubspot"].label == "via Zapier" and edges["typeform->hubspot"].via == "zapier"
    assert edges["typeform->hubspot"].status == "broken"
    assert edges["segment->hubspot"].status == "ok"
    assert edges["hubspot->ghost"].status == "unknown" and edges["hubspot->ghost"].label is None
    assert all(e.kind == "flow" for e in export.edges)
