"""Graph answers as plain data for renderers: field impact, a tool's neighbourhood, and field-level lineage.

The reports layer never imports networkx, so whatever it needs from :class:`~stackaudit.graph.StackGraph` is
computed here and handed over as the plain models of :mod:`stackaudit_inventory.results`:

- :func:`build_field_impact`: for every field with any link, what writes it, what reads it and everything its
  data feeds downstream (the report's field explorer and impact panel);
- :func:`field_impact`: the same for one field (``stackaudit impact``);
- :func:`focus_graph`: the tool-level export cut down to one tool and its neighbours within ``hops`` flows;
- :func:`field_lineage`: field-level nodes and edges for a tool pair or for one field (``diagram --level field``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

from stackaudit_inventory import GraphEdge, GraphExport, GraphNode, InputError, Snapshot
from stackaudit_inventory.ids import tool_of
from stackaudit_inventory.results import FieldImpact, FieldImpactExport, ImpactLink

from .graph import StackGraph, build_graph

__all__ = [
    "DOWNSTREAM_CAP",
    "LINEAGE_NODE_CAP",
    "build_field_impact",
    "field_impact",
    "field_lineage",
    "focus_graph",
]

# A field feeding thousands of nodes is listed by its first DOWNSTREAM_CAP (other tools first); the total is kept.
DOWNSTREAM_CAP = 200
# A one-field lineage diagram larger than this stops being a picture: the nearest nodes are kept.
LINEAGE_NODE_CAP = 120
_DATA_EDGES = frozenset({"mapping", "reference"})


class _DataEdges:
    """The mapping and reference edges of a graph as plain adjacency lists, read in one pass.

    Same answers as :meth:`StackGraph.writers_of`, :meth:`~StackGraph.readers_of` and
    :meth:`~StackGraph.downstream` (a test holds them equal), at a fraction of the cost when every field of a
    100,000-field stack is asked in turn.
    """

    def __init__(self, graph: StackGraph) -> None:
        self.graph = graph
        self.succ: dict[str, set[tuple[str, str | None]]] = {}
        self.pred: dict[str, set[tuple[str, str | None]]] = {}
        for u, v, key, kind in graph.nx.edges(keys=True, data="kind"):
            if kind not in _DATA_EDGES:
                continue
            via = key if kind == "mapping" else None
            self.succ.setdefault(u, set()).add((v, via))
            self.pred.setdefault(v, set()).add((u, via))
        self._kinds: dict[str, str | None] = {}

    def link(self, node: str, via: str | None = None) -> ImpactLink:
        data = self.graph.nx.nodes[node]
        kind: Literal["field", "asset"] = "asset" if data["kind"] == "asset" else "field"
        return ImpactLink.model_construct(node=node, kind=kind, via=via, missing=bool(data.get("missing")))

    def downstream(self, field_id: str) -> list[str]:
        seen: set[str] = set()
        stack = [field_id]
        while stack:
            for nxt, _ in self.succ.get(stack.pop(), ()):
                if nxt not in seen and nxt != field_id:
                    seen.add(nxt)
                    stack.append(nxt)
        return sorted(seen)

    def impact(self, field_id: str, cap: int | None = DOWNSTREAM_CAP) -> FieldImpact:
        own_tool = tool_of(field_id)
        # Other tools first: "what breaks elsewhere" is the question the cap must not hide.
        downstream = sorted(self.downstream(field_id), key=lambda n: (tool_of(n) == own_tool, n))
        return FieldImpact.model_construct(
            field=field_id,
            writers=[self.link(n, via) for n, via in sorted(self.pred.get(field_id, ()), key=_link_order)],
            readers=[self.link(n, via) for n, via in sorted(self.succ.get(field_id, ()), key=_link_order)],
            downstream=[self.link(n) for n in downstream[:cap]],
            downstream_total=len(downstream),
        )


def _link_order(item: tuple[str, str | None]) -> tuple[str, str, str]:
    # StackGraph's Link order: node, then kind ("mapping" < "reference"), then integration.
    node, via = item
    return (node, "mapping" if via is not None else "reference", via or "")


def _unknown_field(snapshot: Snapshot, graph: StackGraph, field_id: str) -> InputError:
    candidates = sorted(set(snapshot.fields_by_id) | set(graph.nodes("field")))
    close = difflib.get_close_matches(field_id, candidates, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return InputError(f"unknown field {field_id!r}: not in snapshot {snapshot.id}{hint}")


def field_impact(
    snapshot: Snapshot, field_id: str, graph: StackGraph | None = None, *, cap: int | None = None
) -> FieldImpact:
    """Writers, readers and downstream (all of it unless ``cap``) of one field; an unknown id is an
    :class:`InputError` with suggestions."""
    graph = graph or build_graph(snapshot)
    if graph.kind(field_id) != "field":
        raise _unknown_field(snapshot, graph, field_id)
    return _DataEdges(graph).impact(field_id, cap)


def build_field_impact(snapshot: Snapshot, graph: StackGraph | None = None) -> FieldImpactExport:
    """Impact of every field that any mapping or reference touches (inventoried or only named by a link)."""
    edges = _DataEdges(graph or build_graph(snapshot))
    linked = set(edges.succ) | set(edges.pred)
    fields = [f for f in edges.graph.nodes("field") if f in linked]
    return FieldImpactExport.model_construct(fields=[edges.impact(f) for f in fields])


# ------------------------------------------------------------------------------------------- tool focus


def focus_graph(export: GraphExport, graph: StackGraph, tool: str, hops: int = 1) -> GraphExport:
    """The tool-level export limited to ``tool`` and the tools within ``hops`` flows of it (middleware counts
    as linking its two ends), with the flows among them."""
    known = {n.id for n in export.nodes if n.kind == "tool"}
    if tool not in known:
        close = difflib.get_close_matches(tool, sorted(known), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(f"--focus: unknown tool {tool!r}{hint}")
    if hops < 0:
        raise InputError("--hops must be 0 or more")
    keep = {tool, *graph.neighbours(tool, hops)}
    return GraphExport(
        nodes=[n for n in export.nodes if n.kind == "tool" and n.id in keep],
        edges=[e for e in export.edges if e.kind == "flow" and e.source in keep and e.target in keep],
    )


# ----------------------------------------------------------------------------------------- field lineage


def _flow_status(export: GraphExport) -> dict[str, str]:
    return {e.id: e.status for e in export.edges if e.kind == "flow" and e.id and e.status}


def _lineage_nodes(snapshot: Snapshot, graph: StackGraph, ids: Iterable[str], focus: str | None) -> list[GraphNode]:
    tools = snapshot.tools_by_id
    nodes: list[GraphNode] = []
    used_tools: set[str] = set()
    for node in sorted(set(ids)):
        tool = tool_of(node)
        used_tools.add(tool)
        status = "focus" if node == focus else ("missing" if graph.is_missing(node) else None)
        if graph.kind(node) == "asset":
            asset = snapshot.assets_by_id.get(node)
            label = f"{asset.kind}: {asset.name}" if asset else node.split(":", 1)[-1]
            nodes.append(GraphNode(id=node, kind="asset", label=label, group=tool, status=status))
        else:
            fld = snapshot.fields_by_id.get(node)
            label = (fld.label or fld.name) if fld else node.split(":", 1)[-1]
            nodes.append(GraphNode(id=node, kind="field", label=label, group=tool, status=status))
    for tool in sorted(used_tools):
        name = tools[tool].name if tool in tools else tool
        nodes.append(GraphNode(id=tool, kind="tool", label=name, group=None))
    return nodes


def _edges_among(graph: StackGraph, keep: set[str], status: dict[str, str], names: dict[str, str]) -> list[GraphEdge]:
    edges: list[GraphEdge] = []
    for u, v, key, data in graph.nx.edges(keys=True, data=True):
        if data["kind"] not in _DATA_EDGES or u not in keep or v not in keep:
            continue
        if data["kind"] == "mapping":
            edges.append(
                GraphEdge(source=u, target=v, kind="mapping", id=key, label=names.get(key), status=status.get(key))
            )
        else:
            edges.append(GraphEdge(source=u, target=v, kind="reference", label=data.get("mode")))
    return sorted(edges, key=lambda e: (e.source, e.target, e.kind, e.id or ""))


def field_lineage(
    snapshot: Snapshot,
    export: GraphExport,
    *,
    field: str | None = None,
    focus: str | None = None,
    to: str | None = None,
    graph: StackGraph | None = None,
) -> GraphExport:
    """Field-level nodes and edges, for one field (``field``: its writers, and everything downstream of it) or
    for a tool pair (``focus`` and ``to``: every field mapping between them, either way). Each node's ``group``
    is its tool; tool nodes carry the tool names for cluster titles; mapping edges carry their flow's health."""
    graph = graph or build_graph(snapshot)
    status = _flow_status(export)
    names = {i.id: i.name or i.id for i in snapshot.integrations}
    if field is not None:
        if graph.kind(field) != "field":
            raise _unknown_field(snapshot, graph, field)
        upstream = [link.node for link in graph.writers_of(field)]
        downstream = graph.downstream(field)
        ordered = [field, *upstream, *sorted(downstream, key=lambda n: (tool_of(n) == tool_of(field), n))]
        keep = set(ordered[:LINEAGE_NODE_CAP])
        return GraphExport(
            nodes=_lineage_nodes(snapshot, graph, keep, field), edges=_edges_among(graph, keep, status, names)
        )
    if focus is None or to is None:
        raise InputError("--level field needs --field ID, or --focus TOOL with --to TOOL")
    tools = set(graph.nodes("tool"))
    for option, tool in (("--focus", focus), ("--to", to)):
        if tool not in tools:
            raise InputError(f"{option}: unknown tool {tool!r}")
    pair = {focus, to}
    keep = set()
    for u, v, data in graph.nx.edges(data=True):
        if data["kind"] == "mapping" and {tool_of(u), tool_of(v)} == pair:
            keep |= {u, v}
    return GraphExport(
        nodes=_lineage_nodes(snapshot, graph, keep, None), edges=_edges_among(graph, keep, status, names)
    )
