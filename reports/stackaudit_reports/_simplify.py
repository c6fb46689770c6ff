"""Keeping large stacks readable: fold leaf tools, or collapse each capability into one node.

A diagram of 30 tools reads well with every tool and every flow label; one of 300 does not, however well it is
laid out. Three levels of detail, chosen by ``detail``:

- ``full``: every tool and every flow.
- ``leaves``: tools with at most one neighbour (one other tool they exchange data with, or none) are folded
  into one "+N tools" node per capability cluster; their flows are merged per neighbour and direction into
  one edge labelled with the count, coloured by the worst health among them. Hubs and the paths between them
  stay as drawn.
- ``capability``: one node per capability (named with its tool count), one edge per pair of capabilities
  that exchange data, labelled with the number of flows and coloured by the worst health.
- ``auto`` (the default): ``full`` up to :data:`FULL_LIMIT` tools; above it ``leaves`` when that leaves at most
  :data:`LEAVES_LIMIT` nodes, else ``capability``. Use ``--focus TOOL --hops N`` for detail inside a big stack.

Everything here works on the plain :class:`GraphExport` and returns one, sorted, so output stays deterministic.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from stackaudit_inventory import GraphEdge, GraphExport, GraphNode

from ._labels import capability_title

__all__ = ["DETAILS", "FULL_LIMIT", "HEALTH_WORST_FIRST", "LEAVES_LIMIT", "Detail", "Simplified", "simplify"]

Detail = Literal["auto", "full", "leaves", "capability"]
DETAILS: tuple[Detail, ...] = ("auto", "full", "leaves", "capability")
FULL_LIMIT = 40
LEAVES_LIMIT = 80
HEALTH_WORST_FIRST = ("broken", "stale", "unknown", "disabled", "ok")
_OTHER = "other"


@dataclass(frozen=True, slots=True)
class Simplified:
    graph: GraphExport
    detail: Detail  # what was applied (never "auto")
    note: str | None  # one line for the diagram title saying what was folded


def _worst(statuses: list[str | None]) -> str:
    known = [s if s in HEALTH_WORST_FIRST else "unknown" for s in statuses]
    return min(known, key=HEALTH_WORST_FIRST.index) if known else "unknown"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _merged_label(edges: list[GraphEdge]) -> str:
    counts = Counter(e.status if e.status in HEALTH_WORST_FIRST else "unknown" for e in edges)
    bad = [f"{counts[s]} {s}" for s in ("broken", "stale") if counts[s]]
    return _plural(len(edges), "flow") + (f" ({', '.join(bad)})" if bad else "")


def _merge(edges: list[GraphEdge], end: dict[str, str]) -> list[GraphEdge]:
    """Re-point edges through ``end`` (node -> drawn node) and merge those that now join the same pair."""
    groups: dict[tuple[str, str], list[GraphEdge]] = {}
    for e in edges:
        src, tgt = end.get(e.source, e.source), end.get(e.target, e.target)
        if src == tgt:
            continue
        groups.setdefault((src, tgt), []).append(e)
    out = []
    for (src, tgt), members in sorted(groups.items()):
        if len(members) == 1 and members[0].source == src and members[0].target == tgt:
            out.append(members[0])
            continue
        digest = hashlib.sha256("\x1f".join(sorted(m.id or "" for m in members)).encode()).hexdigest()[:10]
        out.append(
            GraphEdge(
                source=src,
                target=tgt,
                kind="flow",
                id=f"merged:{digest}",
                label=_merged_label(members),
                status=_worst([m.status for m in members]),
                direction="two-way" if all(m.direction == "two-way" for m in members) else "one-way",
            )
        )
    return out


def _neighbours(tools: list[GraphNode], flows: list[GraphEdge]) -> dict[str, set[str]]:
    adjacency: dict[str, set[str]] = {t.id: set() for t in tools}
    for e in flows:
        adjacency.setdefault(e.source, set()).add(e.target)
        adjacency.setdefault(e.target, set()).add(e.source)
    for node, others in adjacency.items():
        others.discard(node)
    return adjacency


def _fold_leaves(tools: list[GraphNode], flows: list[GraphEdge]) -> GraphExport:
    adjacency = _neighbours(tools, flows)
    leaves: dict[str, list[GraphNode]] = {}
    for t in tools:
        if len(adjacency.get(t.id, ())) <= 1:
            leaves.setdefault(t.group or _OTHER, []).append(t)
    end: dict[str, str] = {}
    nodes = [t for t in tools if len(adjacency.get(t.id, ())) > 1]
    for group, members in sorted(leaves.items()):
        if len(members) == 1:
            nodes.append(members[0])
            continue
        more = f"more:{group}"
        names = ", ".join(m.label for m in sorted(members, key=lambda m: m.label.casefold())[:3])
        label = f"+{len(members)} tools: {names}" + ("…" if len(members) > 3 else "")
        nodes.append(
            GraphNode(id=more, kind="tool", label=label, group=None if group == _OTHER else group, status="more")
        )
        end.update({m.id: more for m in members})
    return GraphExport(nodes=sorted(nodes, key=lambda n: n.id), edges=_merge(flows, end))


def _collapse(tools: list[GraphNode], flows: list[GraphEdge]) -> GraphExport:
    members: dict[str, list[GraphNode]] = {}
    for t in tools:
        members.setdefault(t.group or _OTHER, []).append(t)
    end = {t.id: f"cap:{t.group or _OTHER}" for t in tools}
    internal = Counter(end[e.source] for e in flows if e.source in end and end.get(e.target) == end[e.source])
    nodes = []
    for group, tools_in in sorted(members.items()):
        node_id = f"cap:{group}"
        label = f"{capability_title(group)} · {_plural(len(tools_in), 'tool')}"
        if internal[node_id]:
            label += f" · {_plural(internal[node_id], 'internal flow')}"
        nodes.append(GraphNode(id=node_id, kind="tool", label=label, group=None, status="group"))
    return GraphExport(nodes=nodes, edges=_merge(flows, end))


def simplify(graph: GraphExport, detail: Detail = "auto") -> Simplified:
    """The tool-level graph at the requested level of detail (see the module docstring)."""
    tools = sorted((n for n in graph.nodes if n.kind == "tool"), key=lambda n: n.id)
    flows = sorted(
        (e for e in graph.edges if e.kind == "flow"), key=lambda e: (e.source, e.target, e.id or "", e.label or "")
    )
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r} (expected one of {', '.join(DETAILS)})")
    if detail == "auto":
        if len(tools) <= FULL_LIMIT:
            detail = "full"
        else:
            folded = _fold_leaves(tools, flows)
            if len(folded.nodes) <= LEAVES_LIMIT:
                return Simplified(folded, "leaves", _note("leaves", len(tools), folded))
            detail = "capability"
    if detail == "full":
        return Simplified(GraphExport(nodes=tools, edges=flows), "full", None)
    out = _fold_leaves(tools, flows) if detail == "leaves" else _collapse(tools, flows)
    return Simplified(out, detail, _note(detail, len(tools), out))


def _note(detail: Detail, total: int, out: GraphExport) -> str:
    if detail == "leaves":
        shown = sum(1 for n in out.nodes if n.status != "more")
        return f"{total} tools: {shown} drawn, tools with one neighbour folded per capability"
    return f"{total} tools collapsed into {len(out.nodes)} capabilities; use --focus TOOL for detail"
