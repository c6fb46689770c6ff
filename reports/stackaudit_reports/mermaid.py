"""Mermaid flowcharts of the stack, for wikis and docs that render Mermaid (GitHub, GitLab, Notion, Confluence).

The same picture as the DOT diagram: capability subgraphs, flows as edges coloured by health with what flows
as their label, the same simplification for large stacks. Output is deterministic: nodes, subgraphs and edges
are written in sorted order and node ids are derived from tool ids, never from labels. Every label is quoted
and escaped with Mermaid entity codes (:func:`stackaudit_reports._labels.mermaid_text`), so no tool name can
close a label, start a comment, or inject markup.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from stackaudit_inventory import GraphEdge, GraphExport, GraphNode

from ._labels import capability_title, clean_label, mermaid_text
from ._simplify import Detail, simplify
from .diagram import EDGE_STYLES, edge_health

__all__ = ["MermaidIds", "build_mermaid", "link_style", "mermaid_header"]

_SAFE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_CLASS_STYLES = {
    "retiring": "stroke-dasharray:5 3,color:#57606a",
    "removed": "stroke-dasharray:2 2,color:#8c959f,fill:#f6f8fa",
    "unknown": "stroke-dasharray:5 3,color:#57606a",
    "missing": "stroke-dasharray:5 3,color:#57606a",
    "more": "stroke-dasharray:5 3,color:#57606a,fill:#f6f8fa",
    "group": "stroke:#54aeff,stroke-width:2px,fill:#ddf4ff",
    "focus": "stroke:#0b5cad,stroke-width:3px,fill:#ddf4ff",
}


class MermaidIds:
    """Mermaid node ids from stack ids: ``prefix`` + the id's safe characters, a hash suffix when that is not
    unique or the id is not plain, so the same id always gets the same Mermaid id within a diagram."""

    def __init__(self, prefix: str, ids: Iterable[str]) -> None:
        self._map: dict[str, str] = {}
        taken: set[str] = set()
        for node_id in sorted(set(ids)):
            base = prefix + re.sub(r"[^a-z0-9]+", "_", node_id.casefold()).strip("_")[:40]
            if not _SAFE.match(node_id) or base in taken:
                base += "_" + hashlib.sha256(node_id.encode("utf-8")).hexdigest()[:8]
            taken.add(base)
            self._map[node_id] = base

    def __getitem__(self, node_id: str) -> str:
        return self._map[node_id]


def mermaid_header(title: str, note: str | None) -> list[str]:
    """Front matter with the title (a JSON string is a valid YAML scalar; ``<>`` kept out of it) and the
    flowchart opening."""
    text = clean_label(title, 120) + (f" — {clean_label(note, 120)}" if note else "")
    safe = text.replace("<", "‹").replace(">", "›")
    return ["---", f"title: {json.dumps(safe, ensure_ascii=False)}", "---", "flowchart LR"]


def link_style(index: int, status: str | None) -> str:
    style = EDGE_STYLES[edge_health(status)]
    parts = [f"stroke:{style['color']}", f"stroke-width:{float(style.get('penwidth', '1')):.1f}px"]
    parts.append(f"color:{style['fontcolor']}")
    if style.get("style") == "dashed":
        parts.append("stroke-dasharray:5 3")
    return f"  linkStyle {index} {','.join(parts)}"


def _arrow(edge: GraphEdge) -> str:
    dashed = edge_health(edge.status) == "disabled"
    if edge.direction == "two-way":
        return "<-.->" if dashed else "<-->"
    return "-.->" if dashed else "-->"


def _class_lines(nodes: Iterable[GraphNode], ids: MermaidIds) -> list[str]:
    by_class: dict[str, list[str]] = {}
    for node in nodes:
        if node.status in _CLASS_STYLES:
            by_class.setdefault(node.status, []).append(ids[node.id])
    lines = [f"  classDef {name} {_CLASS_STYLES[name]}" for name in sorted(by_class)]
    lines += [f"  class {','.join(sorted(members))} {name}" for name, members in sorted(by_class.items())]
    return lines


def build_mermaid(
    graph: GraphExport, title: str, *, detail: Detail = "auto", flows: Mapping[str, str] | None = None
) -> str:
    """Mermaid source for the tool-level architecture (same content and simplification as ``build_dot``)."""
    simple = simplify(graph, detail)
    nodes = sorted(simple.graph.nodes, key=lambda n: (n.group or "", n.label.casefold(), n.id))
    edges = sorted(simple.graph.edges, key=lambda e: (e.source, e.target, e.id or "", e.label or ""))
    known = {n.id for n in nodes}
    missing = sorted({end for e in edges for end in (e.source, e.target)} - known)
    ids = MermaidIds("t_", [*known, *missing])
    groups = MermaidIds("c_", {n.group for n in nodes if n.group})

    lines = mermaid_header(title, simple.note)
    grouped: dict[str, list[GraphNode]] = {}
    for node in nodes:
        grouped.setdefault(node.group or "", []).append(node)
    for group, members in grouped.items():
        indent = "  "
        if group:
            lines.append(f'  subgraph {groups[group]}["{mermaid_text(capability_title(group))}"]')
            indent = "    "
        lines += [f'{indent}{ids[n.id]}["{mermaid_text(n.label)}"]' for n in members]
        if group:
            lines.append("  end")
    lines += [f'  {ids[end]}["{mermaid_text(end)}"]' for end in missing]
    for edge in edges:
        label = (flows or {}).get(edge.id or "") or edge.label
        text = f'|"{mermaid_text(label)}"|' if label else ""
        lines.append(f"  {ids[edge.source]} {_arrow(edge)}{text} {ids[edge.target]}")
    lines += [link_style(i, e.status) for i, e in enumerate(edges)]
    lines += _class_lines([*nodes, *(GraphNode(id=m, kind="tool", label=m, status="missing") for m in missing)], ids)
    return "\n".join(lines) + "\n"
