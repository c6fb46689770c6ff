"""Mermaid output and escaping, field-level lineage, and diagrams that stay readable from 30 to 300 tools."""

from __future__ import annotations

import html
import re
import time
from types import ModuleType

import pytest

from stackaudit_inventory import GraphEdge, GraphExport, GraphNode
from stackaudit_reports._labels import mermaid_text
from stackaudit_reports._simplify import FULL_LIMIT, simplify
from stackaudit_reports.diagram import build_dot, render
from stackaudit_reports.lineage import build_lineage_dot, build_lineage_mermaid
from stackaudit_reports.mermaid import build_mermaid

HOSTILE = [
    'quote " inside',
    "braces { } and ; semicolon",
    "new\nline\r\nand\u2028separator",
    "<b>html-like</b> #hash &amp;",
    "[brackets] (parens) |pipe| `tick`",
    "%% not a comment --> not an edge",
    "end",
]
_SPECIAL = re.compile(r"[\"#&<>\[\]{}()|;`]")


@pytest.fixture(autouse=True)
def _no_system_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("stackaudit_reports.diagram.shutil.which", lambda name: None)


def test_mermaid_text_escapes_every_special_character() -> None:
    for text in HOSTILE:
        out = mermaid_text(text)
        # Nothing special survives except the entity codes themselves ("#NN;").
        assert not _SPECIAL.search(re.sub(r"#\d+;", "", out)), out
        assert "\n" not in out and "\r" not in out and "\u2028" not in out
    assert mermaid_text('a"b') == "a#34;b"
    assert mermaid_text("line", "two") == "line<br>two"


def _hostile_graph() -> GraphExport:
    nodes = [GraphNode(id=f"t{i}", kind="tool", label=t, group=t) for i, t in enumerate(HOSTILE)]
    edges = [
        GraphEdge(
            source=f"t{i}",
            target=f"t{(i + 1) % len(HOSTILE)}",
            kind="flow",
            label=t,
            id=f"e{i}",
            status=["ok", "broken", "stale", "disabled"][i % 4],
            direction="two-way" if i % 2 else "one-way",
        )
        for i, t in enumerate(HOSTILE)
    ]
    return GraphExport(nodes=nodes, edges=edges)


def test_mermaid_is_deterministic_escaped_and_styled() -> None:
    graph = _hostile_graph()
    text = build_mermaid(graph, 'Title "x" <y>')
    shuffled = GraphExport(nodes=list(reversed(graph.nodes)), edges=list(reversed(graph.edges)))
    assert build_mermaid(shuffled, 'Title "x" <y>') == text
    lines = text.splitlines()
    assert lines[:4] == ["---", 'title: "Title \\"x\\" ‹y›"', "---", "flowchart LR"]
    for line in lines[4:]:
        # Every label sits inside quotes and holds no raw special character.
        for label in re.findall(r'"([^"]*)"', line):
            assert not _SPECIAL.search(re.sub(r"#\d+;", "", label)), line
        assert not line.lstrip().startswith("%%")
    assert text.count("subgraph ") == len(HOSTILE)
    assert "linkStyle 1 stroke:#d1242f" in text  # broken in red
    assert "<-->" in text and "-.->" in text  # two-way, and disabled dashed


def test_mermaid_of_a_focused_graph_names_missing_ends() -> None:
    graph = GraphExport(
        nodes=[GraphNode(id="a", kind="tool", label="A", group="crm")],
        edges=[GraphEdge(source="a", target="zapier", kind="flow", id="a->zapier", status="ok")],
    )
    text = build_mermaid(graph, "S")
    assert 't_zapier["zapier"]' in text and "class t_zapier missing" in text


def test_lineage_dot_and_mermaid_clusters_fields_by_tool() -> None:
    graph = GraphExport(
        nodes=[
            GraphNode(id="hubspot", kind="tool", label="HubSpot <b>"),
            GraphNode(id="salesforce", kind="tool", label="Salesforce"),
            GraphNode(id="hubspot:contacts.email", kind="field", label="Email", group="hubspot", status="focus"),
            GraphNode(id="salesforce:Lead.Email", kind="field", label='Lead "Email"', group="salesforce"),
            GraphNode(id="salesforce:flow/1", kind="asset", label="flow: Assign", group="salesforce"),
        ],
        edges=[
            GraphEdge(
                source="hubspot:contacts.email",
                target="salesforce:Lead.Email",
                kind="mapping",
                id="hubspot->salesforce",
                label="sync",
                status="broken",
            ),
            GraphEdge(source="salesforce:Lead.Email", target="salesforce:flow/1", kind="reference", label="read"),
        ],
    )
    dot = build_lineage_dot(graph, "Lineage")
    assert dot.count("subgraph cluster_") == 2 and 'color="#d1242f"' in dot and "shape=note" in dot
    svg = render(dot, "svg").decode()
    assert "HubSpot &lt;b&gt;" in svg and "contacts.email" in svg
    mmd = build_lineage_mermaid(graph, "Lineage")
    assert "#60;b#62;" in mmd and "Lead #34;Email#34;" in mmd and "class " in mmd and "focus" in mmd


def test_small_stacks_are_drawn_in_full_and_large_ones_simplified(synthetic: ModuleType) -> None:
    small = synthetic.build_wide_graph(FULL_LIMIT)
    assert simplify(small).detail == "full"
    big = synthetic.build_wide_graph(300)
    auto = simplify(big)
    assert auto.detail in ("leaves", "capability") and auto.note and "300 tools" in auto.note
    leaves = simplify(big, "leaves").graph
    assert any(n.status == "more" for n in leaves.nodes)
    # Folding keeps every hub and merges the leaves' flows, counting them.
    assert sum(1 for n in leaves.nodes if n.status != "more") < 300
    caps = simplify(big, "capability").graph
    assert len(caps.nodes) == 30 and all(n.id.startswith("cap:") for n in caps.nodes)
    merged = [e for e in caps.edges if e.id and e.id.startswith("merged:")]
    assert merged and all(re.match(r"\d+ flows?", e.label or "") for e in merged)
    assert simplify(big, "full").graph.nodes == sorted(big.nodes, key=lambda n: n.id)


def _text_boxes(svg: str) -> list[tuple[float, float, float, float, str]]:
    """Approximate boxes of every label Graphviz placed: 0.47 em a character is Helvetica's average width, close to
    the estimate Graphviz lays out with (a 61-character 12 pt node label gets a 299 pt wide box: 0.41 em)."""
    boxes = []
    for match in re.finditer(r"<text ([^>]*)>([^<]*)</text>", svg):
        attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', match.group(1)))
        anchor, x, y, size = attrs["text-anchor"], attrs["x"], attrs["y"], attrs["font-size"]
        text = html.unescape(match.group(2))
        width = len(text) * float(size) * 0.47
        left = float(x) - (width / 2 if anchor == "middle" else (width if anchor == "end" else 0))
        boxes.append((left, float(y) - float(size) * 0.8, width, float(size) * 0.95, text))
    return boxes


def _overlaps(boxes: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    hits = []
    boxes = sorted(boxes)
    for i, (x, y, w, h, text) in enumerate(boxes):
        for x2, y2, w2, h2, text2 in boxes[i + 1 :]:
            if x2 >= x + w:
                break
            if y < y2 + h2 and y2 < y + h and min(x + w, x2 + w2) - x2 > 2 and min(y + h, y2 + h2) - max(y, y2) > 2:
                hits.append((text, text2))
    return hits


@pytest.mark.parametrize("detail", ["auto", "full"])
def test_a_300_tool_stack_renders_fast_without_overlapping_labels(detail: str, synthetic: ModuleType) -> None:
    graph = synthetic.build_wide_graph(300)
    dot = build_dot(graph, "300 tools", detail=detail)  # type: ignore[arg-type]
    started = time.perf_counter()
    svg = render(dot, "svg").decode()
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{detail}: {elapsed:.1f} s"
    boxes = _text_boxes(svg)
    assert len(boxes) > 20
    assert _overlaps(boxes) == []


def test_30_tools_are_drawn_in_full_with_every_flow_label(synthetic: ModuleType) -> None:
    graph = synthetic.build_wide_graph(30)
    svg = render(build_dot(graph, "30 tools"), "svg").decode()
    assert svg.count('class="node"') == 30
    labelled = [e for e in graph.edges if e.label]
    assert svg.count('class="edge"') == len(graph.edges) and all(e.label in svg for e in labelled)
    assert _overlaps(_text_boxes(svg)) == []
