"""Field-level lineage diagrams: fields and assets clustered by tool, mappings and references as edges.

The input is a plain :class:`GraphExport` built outside this package from the stack graph (``field``/``asset``
nodes whose ``group`` is their tool, ``tool`` nodes naming those tools, ``mapping`` edges carrying their flow's
health, ``reference`` edges labelled ``read`` or ``write``). A field is drawn as its label over its
``object.field`` API name; the field the diagram is about (status ``focus``) is highlighted.
"""

from __future__ import annotations

import graphviz

from stackaudit_inventory import GraphEdge, GraphExport, GraphNode

from ._labels import clean_label, dot_label, mermaid_text
from .diagram import EDGE_STYLES, cluster_attrs, cluster_name, edge_health, new_digraph, node_name
from .mermaid import MermaidIds, link_style, mermaid_header

__all__ = ["build_lineage_dot", "build_lineage_mermaid"]

_REFERENCE_STYLE = {"color": "#8c959f", "fontcolor": "#6e7781", "style": "dashed", "penwidth": "1", "arrowhead": "vee"}
_NODE_STYLES: dict[str, dict[str, str]] = {
    "focus": {"style": "rounded,filled,bold", "fillcolor": "#ddf4ff", "color": "#0b5cad", "penwidth": "2"},
    "missing": {"style": "rounded,dashed,filled", "fontcolor": "#8c959f"},
}


def _api_name(node: GraphNode) -> str:
    return node.id.split(":", 1)[-1]


def _lines(node: GraphNode) -> tuple[str, str]:
    """(label, second line): a field's label over its API name; an asset's kind and name over its id."""
    second = _api_name(node)
    return (node.label, second if second != node.label else "")


def _parts(graph: GraphExport) -> tuple[dict[str, str], dict[str, list[GraphNode]], list[GraphEdge]]:
    tool_names = {n.id: n.label for n in graph.nodes if n.kind == "tool"}
    clusters: dict[str, list[GraphNode]] = {}
    for node in sorted((n for n in graph.nodes if n.kind != "tool"), key=lambda n: (n.group or "", n.id)):
        clusters.setdefault(node.group or "", []).append(node)
    edges = sorted(graph.edges, key=lambda e: (e.source, e.target, e.kind, e.id or ""))
    return tool_names, clusters, edges


def build_lineage_dot(graph: GraphExport, title: str) -> str:
    """DOT source for field-level lineage (deterministic, every label escaped)."""
    tool_names, clusters, edges = _parts(graph)
    dot = new_digraph(title, "field-level lineage")
    for tool, members in clusters.items():
        with dot.subgraph(name=cluster_name(tool or "other")) as cluster:
            cluster.attr(**cluster_attrs(tool_names.get(tool, tool)))
            for node in members:
                attrs = {"tooltip": graphviz.escape(clean_label(node.id, 200)), "fontsize": "11"}
                if node.kind == "asset":
                    attrs.update({"shape": "note", "fillcolor": "#fffbe6"})
                attrs.update(_NODE_STYLES.get(node.status or "", {}))
                cluster.node(node_name(node.id), label=dot_label(*_lines(node)), **attrs)
    for edge in edges:
        if edge.kind == "mapping":
            attrs = dict(EDGE_STYLES[edge_health(edge.status)])
        else:
            attrs = dict(_REFERENCE_STYLE)
        if edge.label:
            attrs["label"] = dot_label(edge.label, limit=40)
        dot.edge(node_name(edge.source), node_name(edge.target), **attrs)
    return str(dot.source)


def build_lineage_mermaid(graph: GraphExport, title: str) -> str:
    """Mermaid source for field-level lineage (deterministic, every label escaped)."""
    tool_names, clusters, edges = _parts(graph)
    ids = MermaidIds("f_", [n.id for members in clusters.values() for n in members])
    groups = MermaidIds("c_", clusters)
    lines = mermaid_header(title, "field-level lineage")
    for tool, members in clusters.items():
        lines.append(f'  subgraph {groups[tool]}["{mermaid_text(tool_names.get(tool, tool))}"]')
        for node in members:
            open_, close = ("[/", "/]") if node.kind == "asset" else ("[", "]")
            lines.append(f'    {ids[node.id]}{open_}"{mermaid_text(*_lines(node))}"{close}')
        lines.append("  end")
    for edge in edges:
        text = f'|"{mermaid_text(edge.label, limit=40)}"|' if edge.label else ""
        arrow = "-->" if edge.kind == "mapping" else "-.->"
        lines.append(f"  {ids[edge.source]} {arrow}{text} {ids[edge.target]}")
    for i, edge in enumerate(edges):
        if edge.kind == "mapping":
            lines.append(link_style(i, edge.status))
        else:
            lines.append(f"  linkStyle {i} stroke:#8c959f,stroke-width:1.0px,color:#6e7781,stroke-dasharray:5 3")
    focus = sorted(ids[n.id] for members in clusters.values() for n in members if n.status == "focus")
    if focus:
        lines += ["  classDef focus stroke:#0b5cad,stroke-width:3px,fill:#ddf4ff", f"  class {','.join(focus)} focus"]
    return "\n".join(lines) + "\n"
