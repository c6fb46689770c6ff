"""Diagrams: deterministic DOT, clusters and health colours, hostile labels, SVG and PNG without a system dot."""

from __future__ import annotations

import random
import stat
import sys
from pathlib import Path

import pytest

from stackaudit_inventory import AuditResult, GraphEdge, GraphExport, GraphNode
from stackaudit_reports.diagram import DiagramError, build_dot, render, svg_size_to_px

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HOSTILE = [
    'quote " inside',
    "back\\slash and trailing \\",
    "braces { } and ; semicolon",
    "new\nline\r\nand\u2028separator",
    "<b>html-like</b>",
    "<<table>>",
    "escapes \\N \\G \\l \\n",
    "-> arrow -- edge",
    "node",
    "<script>alert(1)</script>",
]


@pytest.fixture(autouse=True)
def _no_system_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test renders with the in-process WebAssembly Graphviz, as on a machine without `dot`."""
    monkeypatch.setattr("stackaudit_reports.diagram.shutil.which", lambda name: None)


def test_same_input_same_bytes_whatever_the_list_order(result: AuditResult) -> None:
    first = build_dot(result.graph, "Acme")
    assert build_dot(result.graph, "Acme") == first
    rng = random.Random(7)
    for _ in range(5):
        nodes, edges = list(result.graph.nodes), list(result.graph.edges)
        rng.shuffle(nodes)
        rng.shuffle(edges)
        assert build_dot(GraphExport(nodes=nodes, edges=edges), "Acme") == first


def test_tools_clustered_by_capability_and_edges_coloured_by_health() -> None:
    graph = GraphExport(
        nodes=[
            GraphNode(id="a", kind="tool", label="A", group="crm"),
            GraphNode(id="b", kind="tool", label="B", group="crm"),
            GraphNode(id="c", kind="tool", label="C", group="chat"),
            GraphNode(id="d", kind="tool", label="D"),
            GraphNode(id="a:contacts.x", kind="field", label="x", group="a"),
        ],
        edges=[
            GraphEdge(source="a", target="b", kind="flow", status="broken", id="a->b"),
            GraphEdge(source="b", target="c", kind="flow", status="stale", id="b->c", direction="two-way"),
            GraphEdge(source="c", target="d", kind="flow", status="ok", id="c->d", label="12 fields"),
            GraphEdge(source="d", target="a", kind="flow", status="disabled", id="d->a"),
            GraphEdge(source="a", target="c", kind="flow", status=None, id="a->c"),
            GraphEdge(source="a", target="zapier", kind="flow", status="weird", id="a->zapier"),
            GraphEdge(source="a:contacts.x", target="a", kind="owns"),
        ],
    )
    dot = build_dot(graph, "Stack")
    assert dot.count("subgraph cluster_") == 2
    lines = {line.strip().split(" [", 1)[0]: line for line in dot.splitlines() if "->" in line}
    assert 'color="#d1242f"' in lines["a -> b"]
    assert 'color="#d4a72c"' in lines["b -> c"] and "dir=both" in lines["b -> c"]
    assert 'color="#4d9a6a"' in lines["c -> d"] and 'label="12 fields"' in lines["c -> d"]
    assert "style=dashed" in lines["d -> a"]
    assert 'color="#8c959f"' in lines["a -> c"] and 'color="#8c959f"' in lines["a -> zapier"]
    # Fields and non-flow edges are not drawn at tool level; a flow end that is no node gets a dashed node.
    assert "contacts" not in dot
    assert 'zapier [label=zapier style="rounded,dashed"' in dot


def test_hostile_labels_give_valid_dot_that_renders(recwarn: pytest.WarningsRecorder) -> None:
    nodes = [GraphNode(id=f"t{i}", kind="tool", label=text, group=text) for i, text in enumerate(HOSTILE)]
    nodes.append(GraphNode(id='odd:id "with" {port}', kind="tool", label="Odd", group=None))
    edges = [
        GraphEdge(source=f"t{i}", target=f"t{(i + 1) % len(HOSTILE)}", kind="flow", label=text, id=text, status="ok")
        for i, text in enumerate(HOSTILE)
    ]
    edges.append(GraphEdge(source='odd:id "with" {port}', target="t0", kind="flow", id="x"))
    dot = build_dot(GraphExport(nodes=nodes, edges=edges), 'Title "with" \\ and <tags>')
    assert not recwarn.list  # the graphviz package warns on strings it cannot quote
    for text in ("\n<b>", "\r", "\u2028"):
        assert all(text not in line for line in dot.splitlines())
    svg = render(dot, "svg").decode("utf-8")
    assert "<svg" in svg
    # Labels arrive as text: markup escaped by Graphviz, backslash sequences kept literally.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "&lt;b&gt;html&#45;like&lt;/b&gt;" in svg
    assert "escapes \\N \\G \\l \\n" in svg
    assert "quote &quot; inside" in svg
    # The id with ':' is one node, not a node with a port: 11 tool nodes in all.
    assert svg.count('class="node"') == len(HOSTILE) + 1


def test_svg_and_png_render_without_system_dot(result: AuditResult) -> None:
    dot = build_dot(result.graph, "Acme Corp")
    svg = render(dot, "svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    png = render(dot, "png")
    assert png.startswith(PNG_MAGIC)
    assert render(dot, "dot") == dot.encode("utf-8")


def test_svg_size_to_px_converts_points_on_the_root_only() -> None:
    svg = '<svg width="63pt" height="116pt" viewBox="0 0 63 116"><rect width="3pt"/></svg>'
    assert (
        svg_size_to_px(svg) == '<svg width="84.00px" height="154.67px" viewBox="0 0 63 116"><rect width="3pt"/></svg>'
    )


def test_errors_are_one_line_diagram_errors() -> None:
    with pytest.raises(DiagramError) as err:
        render("digraph { a -> ", "svg")
    assert "\n" not in str(err.value) and "WebAssembly" in str(err.value)
    with pytest.raises(DiagramError, match="unknown format"):
        render("digraph {}", "gif")


def _fake_dot(tmp_path: Path, body: str) -> str:
    script = tmp_path / "dot"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_uses_system_dot_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_dot(tmp_path, "src = sys.stdin.read(); sys.stdout.write(sys.argv[1] + ':' + src)")
    monkeypatch.setattr("stackaudit_reports.diagram.shutil.which", lambda name: fake if name == "dot" else None)
    assert render("digraph {}", "svg") == b"-Tsvg:digraph {}"
    assert render("digraph {}", "png") == b"-Tpng:digraph {}"


def test_system_dot_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_dot(tmp_path, "sys.stderr.write('Error: <stdin>: syntax error in line 1\\nmore\\n'); sys.exit(1)")
    monkeypatch.setattr("stackaudit_reports.diagram.shutil.which", lambda name: fake)
    with pytest.raises(DiagramError) as err:
        render("digraph {", "svg")
    assert str(err.value).endswith("syntax error in line 1")
