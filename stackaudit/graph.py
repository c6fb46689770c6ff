"""The stack as a graph: tools, fields and assets as nodes, data flows, mappings and references as edges.

:class:`StackGraph` is a thin domain wrapper over ``nx.MultiDiGraph`` that holds ids only; the data stays in the
snapshot. Every edge points the way data moves, so "downstream" is plain reachability:

==========  ======================  =====================================================================
kind        edge                    meaning
==========  ======================  =====================================================================
flow        tool -> tool            an integration moves data (key = integration id); a two-way
                                    integration gives both directions. Middleware is an attribute
                                    (``via``), not a hop: ``typeform -> hubspot via zapier`` is one edge,
                                    so a hub such as Zapier or Segment never closes false cycles between
                                    the tools it connects. The via tool still counts as having flows.
mapping     field -> field          an integration copies source to target (key = integration id);
                                    direction ``both`` gives both directions.
reference   asset -> field          the asset writes the field (``mode=write``)
reference   field -> asset          the asset reads the field (``mode=read``)
owns        tool -> field | asset   containment: the field or asset lives in the tool
==========  ======================  =====================================================================

Ids that edges mention but the snapshot does not hold (a mapping to a deleted field, an integration to an
undeclared tool) become nodes with ``missing=True``, so queries never fail and rules can report them.

:func:`assess_flow` / :func:`flow_health` judge one integration's health from its evidence; the broken-sync
rules and the diagram use the same function so a report never contradicts itself. :func:`export_graph` turns
the tool level into a plain, sorted :class:`GraphExport` that renderers draw without networkx.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import networkx as nx

from stackaudit_inventory.models import Integration, IntegrationStatus, Snapshot
from stackaudit_inventory.results import GraphEdge, GraphExport, GraphNode

__all__ = [
    "EdgeKind",
    "FlowAssessment",
    "FlowHealth",
    "Link",
    "NodeKind",
    "StackGraph",
    "assess_flow",
    "build_graph",
    "elapsed",
    "export_graph",
    "flow_health",
]

NodeKind = Literal["tool", "field", "asset"]
EdgeKind = Literal["flow", "mapping", "reference", "owns"]

# Edge kinds along which a field's data travels onward (impact analysis follows these, never `owns` or `flow`).
_DATA_EDGES: frozenset[str] = frozenset({"mapping", "reference"})


@dataclass(frozen=True, order=True)
class Link:
    """One neighbour of a field: ``node`` (asset or field id), how it connects, and the integration if a mapping."""

    node: str
    kind: EdgeKind
    integration: str | None = None


class StackGraph:
    """Ids and the edges between them; build it with :func:`build_graph`."""

    def __init__(self, graph: nx.MultiDiGraph | None = None) -> None:
        self.nx: nx.MultiDiGraph = graph if graph is not None else nx.MultiDiGraph()
        self._tool_ids: frozenset[str] | None = None

    @property
    def tool_ids(self) -> frozenset[str]:
        """Every tool node (computed once: rules ask for it per finding, and fields can number 100,000s)."""
        if self._tool_ids is None:
            self._tool_ids = frozenset(n for n, d in self.nx.nodes(data=True) if d["kind"] == "tool")
        return self._tool_ids

    # ------------------------------------------------------------------------------------------ building

    def add_node(self, node_id: str, kind: NodeKind, *, missing: bool = False) -> None:
        """Add a node; a node first seen as an edge end (``missing``) is upgraded when the snapshot declares it."""
        self._tool_ids = None
        if node_id in self.nx:
            if not missing:
                self.nx.nodes[node_id]["missing"] = False
            return
        self.nx.add_node(node_id, kind=kind, missing=missing)

    def _edge(self, u: str, v: str, key: str, kind: EdgeKind, **attrs: Any) -> None:
        self.nx.add_edge(u, v, key=key, kind=kind, **attrs)

    # ------------------------------------------------------------------------------------------- basics

    def kind(self, node_id: str) -> NodeKind | None:
        data = self.nx.nodes.get(node_id)
        return data["kind"] if data else None

    def is_missing(self, node_id: str) -> bool:
        """True for ids that edges name but the snapshot does not hold (deleted or unseen)."""
        data = self.nx.nodes.get(node_id)
        return bool(data and data.get("missing"))

    def nodes(self, kind: NodeKind | None = None) -> list[str]:
        return sorted(n for n, d in self.nx.nodes(data=True) if kind is None or d["kind"] == kind)

    def _edges(
        self, kind: str, *, into: str | None = None, out_of: str | None = None
    ) -> Iterator[tuple[str, str, str]]:
        if into is not None:
            it = self.nx.in_edges(into, keys=True, data=True) if into in self.nx else ()
        elif out_of is not None:
            it = self.nx.out_edges(out_of, keys=True, data=True) if out_of in self.nx else ()
        else:
            it = self.nx.edges(keys=True, data=True)
        for u, v, key, data in it:
            if data["kind"] == kind:
                yield u, v, key

    # --------------------------------------------------------------------------------------- field level

    def writers_of(self, field_id: str) -> list[Link]:
        """What writes the field: assets (write references) and source fields of integration mappings."""
        out = {Link(u, "reference") for u, _, _ in self._edges("reference", into=field_id)}
        out |= {Link(u, "mapping", key) for u, _, key in self._edges("mapping", into=field_id)}
        return sorted(out)

    def readers_of(self, field_id: str) -> list[Link]:
        """What reads the field: assets (read references) and target fields it is mapped to."""
        out = {Link(v, "reference") for _, v, _ in self._edges("reference", out_of=field_id)}
        out |= {Link(v, "mapping", key) for _, v, key in self._edges("mapping", out_of=field_id)}
        return sorted(out)

    def integrations_writing(self, field_id: str) -> list[str]:
        """Integrations with a mapping that writes the field (a ``both`` mapping writes both ends)."""
        return sorted({key for _, _, key in self._edges("mapping", into=field_id)})

    def integrations_touching(self, field_id: str) -> list[str]:
        """Integrations that map the field at either end."""
        keys = {key for _, _, key in self._edges("mapping", into=field_id)}
        keys |= {key for _, _, key in self._edges("mapping", out_of=field_id)}
        return sorted(keys)

    def downstream(self, field_id: str) -> list[str]:
        """Everything deleting the field would affect: assets reading it, fields it is mapped to (in any tool),
        fields those assets write, and so on transitively. The field itself is not included."""
        if field_id not in self.nx:
            return []
        seen: set[str] = set()
        stack = [field_id]
        while stack:
            node = stack.pop()
            for _, v, data in self.nx.out_edges(node, data=True):
                if data["kind"] in _DATA_EDGES and v not in seen and v != field_id:
                    seen.add(v)
                    stack.append(v)
        return sorted(seen)

    def field_write_cycles(self) -> list[list[str]]:
        """Loops of field mappings (a -> b -> ... -> a): a sync loop that can overwrite a value forever.

        A single two-way mapping (``direction: both``, one integration) is a declared bidirectional sync, not a
        loop, and is left out. Asset writes are not followed: a workflow that reads and rewrites its own field
        is normal housekeeping."""
        return self._cycles("mapping")

    def _cycles(self, kind: str) -> list[list[str]]:
        """Simple cycles over edges of ``kind``, leaving out the 2-cycle of one two-way edge (``both``)."""
        simple = nx.DiGraph()
        for u, v, key, data in self.nx.edges(keys=True, data=True):
            if data["kind"] == kind and u != v:
                if not simple.has_edge(u, v):
                    simple.add_edge(u, v, sources=set())
                simple[u][v]["sources"].add((key, bool(data.get("both"))))
        out = []
        for cycle in nx.simple_cycles(simple):
            if len(cycle) == 2:
                there, back = simple[cycle[0]][cycle[1]]["sources"], simple[cycle[1]][cycle[0]]["sources"]
                if there == back and len(there) == 1 and next(iter(there))[1]:
                    continue
            out.append(_canonical_cycle(cycle))
        return sorted(out)

    # ---------------------------------------------------------------------------------------- tool level

    def flows(self) -> list[tuple[str, str, str]]:
        """Every tool-to-tool flow as ``(source, target, integration id)``, sorted."""
        return sorted(self._edges("flow"))

    def tools_without_flows(self) -> list[str]:
        """Tools the snapshot declares that no integration touches as source, target or middleware."""
        used = {n for u, v, d in self.nx.edges(data=True) if d["kind"] == "flow" for n in (u, v, d.get("via")) if n}
        return [t for t in self.nodes("tool") if t not in used and not self.is_missing(t)]

    def flow_cycles(self) -> list[list[str]]:
        """Loops of tool-to-tool flows other than one two-way integration (a -> b -> c -> a, or a -> b and
        b -> a through two separate integrations)."""
        return self._cycles("flow")

    def neighbours(self, tool_id: str, hops: int = 1) -> list[str]:
        """Tools within ``hops`` flows of ``tool_id`` in either direction (middleware links its two ends)."""
        adjacency: dict[str, set[str]] = {}
        for u, v, _key, data in self.nx.edges(keys=True, data=True):
            if data["kind"] != "flow":
                continue
            ends = [u, v] + ([data["via"]] if data.get("via") else [])
            for a in ends:
                adjacency.setdefault(a, set()).update(b for b in ends if b != a)
        seen = {tool_id}
        frontier = {tool_id}
        for _ in range(max(hops, 0)):
            frontier = {n for f in frontier for n in adjacency.get(f, ())} - seen
            if not frontier:
                break
            seen |= frontier
        return sorted(seen - {tool_id})


def _canonical_cycle(cycle: list[str]) -> list[str]:
    """Rotate a cycle to start at its smallest id, so the same loop always reads the same way."""
    i = cycle.index(min(cycle))
    return cycle[i:] + cycle[:i]


def build_graph(snapshot: Snapshot) -> StackGraph:
    """Build the graph of a snapshot (see the module docstring for the edge conventions)."""
    g = StackGraph()
    for tool in snapshot.tools:
        g.add_node(tool.id, "tool")
    for fld in snapshot.fields:
        g.add_node(fld.id, "field")
    for asset in snapshot.assets:
        g.add_node(asset.id, "asset")
    for fld in snapshot.fields:
        g.add_node(fld.tool, "tool", missing=True)
        g._edge(fld.tool, fld.id, "owns", "owns")
    for asset in snapshot.assets:
        g.add_node(asset.tool, "tool", missing=True)
        g._edge(asset.tool, asset.id, "owns", "owns")
    for ref in snapshot.references:
        g.add_node(ref.asset, "asset", missing=True)
        g.add_node(ref.field, "field", missing=True)
        if ref.mode == "write":
            g._edge(ref.asset, ref.field, "write", "reference", mode="write")
        else:
            g._edge(ref.field, ref.asset, "read", "reference", mode="read")
    for integ in snapshot.integrations:
        _add_integration(g, integ)
    return g


def _add_integration(g: StackGraph, integ: Integration) -> None:
    for tool in (integ.source, integ.target, integ.via):
        if tool:
            g.add_node(tool, "tool", missing=True)
    two_way = integ.direction == "two-way"
    g._edge(integ.source, integ.target, integ.id, "flow", via=integ.via, both=two_way)
    if two_way:
        g._edge(integ.target, integ.source, integ.id, "flow", via=integ.via, both=two_way)
    for m in integ.mappings:
        g.add_node(m.source, "field", missing=True)
        g.add_node(m.target, "field", missing=True)
        both = m.direction == "both"
        g._edge(m.source, m.target, integ.id, "mapping", both=both)
        if both:
            g._edge(m.target, m.source, integ.id, "mapping", both=both)


# ------------------------------------------------------------------------------------------- flow health


class FlowHealth(enum.StrEnum):
    ok = "ok"
    stale = "stale"
    broken = "broken"
    disabled = "disabled"
    unknown = "unknown"


def elapsed(now: datetime, then: datetime) -> timedelta:
    """``now - then``, reading a naive datetime as UTC (vendor APIs and hand-written manifests mix both)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return now - then


@dataclass(frozen=True)
class FlowAssessment:
    """The evidence behind a flow's health: which figures were known and which thresholds they crossed."""

    health: FlowHealth
    age: timedelta | None = None  # since the last successful sync
    overdue: float | None = None  # age / expected interval
    error_rate: float | None = None
    events: int | None = None  # successes + errors in the window
    reasons: tuple[str, ...] = ()


def assess_flow(
    integration: Integration,
    now: datetime,
    factor: float = 3.0,
    *,
    max_error_rate: float = 0.05,
    min_events: int = 20,
) -> FlowAssessment:
    """Judge one integration from its own evidence.

    - ``disabled``: switched off (its staleness is expected, so nothing else is judged);
    - ``broken``: status ``error``; or the last success is older than the expected interval × ``factor``
      (native syncs run every few minutes, so days without a success means broken, not slow); or the error rate
      is above ``max_error_rate`` over at least ``min_events`` syncs;
    - ``stale``: the last success is older than the expected interval but within the factor;
    - ``ok``: a recent success, or a source reporting it active with nothing against it;
    - ``unknown``: no evidence either way (a declared flow nobody has observed).
    """
    if integration.status is IntegrationStatus.disabled:
        return FlowAssessment(FlowHealth.disabled, reasons=("disabled",))
    reasons: list[str] = []
    broken = stale = False
    if integration.status is IntegrationStatus.error:
        broken = True
        reasons.append("status error")
    age = overdue = None
    if integration.last_success_at is not None:
        age = max(elapsed(now, integration.last_success_at), timedelta(0))
        if integration.expected_interval_minutes:
            overdue = age / timedelta(minutes=integration.expected_interval_minutes)
            if overdue > factor:
                broken = True
                reasons.append(f"last success {overdue:.1f}× the expected interval")
            elif overdue > 1:
                stale = True
                reasons.append(f"last success {overdue:.1f}× the expected interval")
    rate = integration.error_rate
    events = (
        integration.error_count + integration.success_count
        if integration.error_count is not None and integration.success_count is not None
        else None
    )
    if rate is not None and events is not None and events >= min_events and rate > max_error_rate:
        broken = True
        reasons.append(f"error rate {rate:.0%}")
    if broken:
        health = FlowHealth.broken
    elif stale:
        health = FlowHealth.stale
    elif overdue is not None or integration.status is IntegrationStatus.active or (events and rate is not None):
        health = FlowHealth.ok
    else:
        health = FlowHealth.unknown
    return FlowAssessment(health, age, overdue, rate, events, tuple(reasons))


def flow_health(
    integration: Integration,
    now: datetime,
    factor: float = 3.0,
    *,
    max_error_rate: float = 0.05,
    min_events: int = 20,
) -> str:
    """One of ``ok``, ``stale``, ``broken``, ``disabled``, ``unknown`` (see :func:`assess_flow`)."""
    return assess_flow(integration, now, factor, max_error_rate=max_error_rate, min_events=min_events).health.value


# ------------------------------------------------------------------------------------------------ export


def _flow_label(integration: Integration, tool_names: dict[str, str]) -> str:
    parts: list[str] = []
    if integration.name:
        parts.append(integration.name)
    if integration.mappings:
        n = len(integration.mappings)
        parts.append(f"{n} field{'s' if n != 1 else ''}")
    if integration.via:
        parts.append(f"via {tool_names.get(integration.via, integration.via)}")
    return " · ".join(parts)


def export_graph(
    snapshot: Snapshot,
    graph: StackGraph,
    now: datetime,
    *,
    factor: float = 3.0,
    max_error_rate: float = 0.05,
    min_events: int = 20,
) -> GraphExport:
    """The tool level as a plain, sorted export: one node per tool, one flow edge per integration (drawn
    source -> target; ``direction`` says whether it also runs back; ``via`` names middleware)."""
    tool_names = {t.id: t.name for t in snapshot.tools}
    nodes = [
        GraphNode(id=t.id, kind="tool", label=t.name, group=t.primary_capability, status=t.status.value)
        for t in snapshot.tools
    ]
    nodes += [
        GraphNode(id=t, kind="tool", label=t, group=None, status="unknown")
        for t in graph.nodes("tool")
        if t not in tool_names
    ]
    edges = [
        GraphEdge(
            source=i.source,
            target=i.target,
            kind="flow",
            label=_flow_label(i, tool_names) or None,
            status=flow_health(i, now, factor, max_error_rate=max_error_rate, min_events=min_events),
            id=i.id,
            via=i.via,
            direction=i.direction,
        )
        for i in snapshot.integrations
    ]
    return GraphExport(
        nodes=sorted(nodes, key=lambda n: n.id),
        edges=sorted(edges, key=lambda e: (e.source, e.target, e.id or "")),
    )
