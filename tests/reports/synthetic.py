"""Synthetic stacks at scale for the report's browser tests and benchmarks/report_bench.py.

``build_large_stack(n_fields)`` is a plausible big org: a few tools holding most fields (CRM, marketing
automation, CDP), objects of a few hundred to thousands of fields, fill rates by three methods, workflows that
read and write fields, integrations mapping fields between tools, and a field whose label holds markup.
``build_wide_graph(n_tools)`` is a tool-level graph export for diagram scale tests. Both are deterministic
(seeded) and built with the inventory models only.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from stackaudit_inventory import (
    Asset,
    AuditResult,
    Capability,
    Coverage,
    CoverageStatus,
    FieldDef,
    FieldMapping,
    FillMethod,
    FillRate,
    Finding,
    GraphEdge,
    GraphExport,
    GraphNode,
    Integration,
    IntegrationStatus,
    Reference,
    RuleInfo,
    RunStatus,
    Snapshot,
    SourceRun,
    Tool,
    fingerprint,
)

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MARKUP_LABEL = '<img src=x onerror="alert(1)"><b>Bold</b> & </script>'
MARKUP_FIELD = "salesforce:Lead.Markup_Label__c"
_BIG_TOOLS = {
    # tool: (capability, objects)
    "salesforce": ("crm", ["Lead", "Contact", "Account", "Opportunity", "Case", "Campaign"]),
    "hubspot": ("marketing-automation", ["contacts", "companies", "deals", "tickets"]),
    "marketo": ("marketing-automation", ["leads", "companies", "opportunities"]),
    "segment": ("cdp", ["identify", "track", "page"]),
    "zendesk": ("helpdesk", ["tickets", "users", "organizations"]),
    "snowflake": ("data-warehouse", ["CONTACTS", "ACCOUNTS", "EVENTS"]),
}
_SMALL_CAPS = ["chat", "enrichment", "forms", "scheduling", "web-analytics", "ads", "sales-engagement", "abm"]
_WORDS = ["score", "source", "stage", "region", "date", "flag"]
_TYPES = ["string", "string", "string", "number", "bool", "date", "datetime", "enum", "reference", "text"]


def _tools(n_small: int) -> list[Tool]:
    tools = [Tool(id=t, name=t.capitalize(), capabilities=[cap], owner="Ops") for t, (cap, _) in _BIG_TOOLS.items()]
    for i in range(n_small):
        cap = _SMALL_CAPS[i % len(_SMALL_CAPS)]
        tools.append(Tool(id=f"tool-{i:03d}", name=f"Tool {i:03d}", capabilities=[cap], owner=None if i % 5 else "Ops"))
    return tools


def _fill(rng: random.Random) -> FillRate | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.25:
        return FillRate(method=FillMethod.unknown)
    total = (1000, 5000, 20000)[int(roll * 1000) % 3]
    filled = 0 if roll < 0.45 else int(total * rng.random()) + 1
    method = FillMethod.sampled if roll < 0.8 else FillMethod.exact
    return FillRate(method=method, filled=min(filled, total), total=total)


def build_large_stack(n_fields: int = 100_000, seed: int = 7) -> tuple[Snapshot, AuditResult]:
    """A snapshot with ``n_fields`` fields and an audit result with findings on some of them."""
    rng = random.Random(seed)
    tools = _tools(34)
    names = list(_BIG_TOOLS)
    fields: list[FieldDef] = []
    for i in range(n_fields - 1):
        tool = names[i % len(names)] if i % 10 else f"tool-{(i // 10) % 34:03d}"
        objects = _BIG_TOOLS[tool][1] if tool in _BIG_TOOLS else ["records"]
        obj = objects[(i // len(names)) % len(objects)]
        name = f"Field_{i:06d}__c" if tool == "salesforce" else f"field_{i:06d}"
        fields.append(
            FieldDef(
                id=f"{tool}:{obj}.{name}",
                tool=tool,
                object=obj,
                name=name,
                label=f"Field {i:06d} {_WORDS[i % len(_WORDS)]}",
                type=_TYPES[i % len(_TYPES)],
                custom=i % 3 != 0,
                fill=_fill(rng),
                owning_tool=f"tool-{i % 34:03d}" if i % 17 == 0 else None,
            )
        )
    fields.append(
        FieldDef(
            id=MARKUP_FIELD, tool="salesforce", object="Lead", name="Markup_Label__c", label=MARKUP_LABEL, type="string"
        )
    )
    ids = [f.id for f in fields]
    assets, references = [], []
    for a in range(n_fields // 20):
        tool = names[a % len(names)]
        asset = Asset(id=f"{tool}:workflow/{a}", tool=tool, kind="workflow", name=f"Workflow {a}")
        assets.append(asset)
        for mode in ("read", "read", "write"):
            references.append(Reference(asset=asset.id, field=ids[rng.randrange(len(ids))], mode=mode))
    integrations = []
    for k in range(60):
        src, tgt = rng.sample(names, 2)
        src_fields = [f for f in ids[k * 997 % len(ids) :][:4000] if f.startswith(src + ":")][:20]
        tgt_fields = [f for f in ids[k * 1499 % len(ids) :][:4000] if f.startswith(tgt + ":")][:20]
        integrations.append(
            Integration(
                id=f"{src}->{tgt}:sync-{k}",
                source=src,
                target=tgt,
                name=f"sync-{k}",
                status=IntegrationStatus.active if k % 7 else IntegrationStatus.error,
                last_success_at=NOW - timedelta(minutes=rng.randint(1, 5000)),
                expected_interval_minutes=15,
                mappings=[FieldMapping(source=s, target=t) for s, t in zip(src_fields, tgt_fields, strict=False)],
            )
        )
    run = SourceRun(
        id="salesforce",
        connector_type="salesforce",
        tool="salesforce",
        started_at=NOW,
        ended_at=NOW + timedelta(minutes=20),
        api_calls=4200,
        status=RunStatus.complete,
        coverage={c: Coverage(status=CoverageStatus.complete) for c in (Capability.fields, Capability.references)},
    )
    snapshot = Snapshot(
        id="20261130T090000Z-big0",
        taken_at=NOW,
        stack="Big Org",
        tools=tools,
        fields=fields,
        assets=assets,
        references=references,
        integrations=integrations,
        source_runs=[run],
    )
    return snapshot, _result(snapshot, rng)


def _result(snapshot: Snapshot, rng: random.Random) -> AuditResult:
    orphans = [f for f in snapshot.fields if f.fill is not None and f.fill.filled == 0][:3000]
    findings = [
        Finding(
            fingerprint=fingerprint("OF001", [f.id]),
            rule="OF001",
            category="orphaned-field",
            severity=rng.choice(["low", "medium"]),
            subjects=[f.id],
            title=f"Custom field {f.label} is empty and unreferenced",
            evidence=["0 records hold a value"],
            remediation="Archive it.",
            tools=[f.tool],
        )
        for f in orphans
    ]
    nodes = [GraphNode(id=t.id, kind="tool", label=t.name, group=t.primary_capability) for t in snapshot.tools]
    edges = [
        GraphEdge(
            source=i.source,
            target=i.target,
            kind="flow",
            id=i.id,
            status="ok" if i.status.value == "active" else "broken",
            label=f"{len(i.mappings)} fields",
        )
        for i in snapshot.integrations
    ]
    return AuditResult(
        generated_at=NOW,
        snapshot_id=snapshot.id,
        stack=snapshot.stack,
        findings=findings,
        rules=[
            RuleInfo(
                id="OF001", name="orphaned-field", title="Orphaned field", category="orphaned-field", severity="medium"
            )
        ],
        graph=GraphExport(nodes=nodes, edges=edges),
    )


def build_wide_graph(n_tools: int = 300, seed: int = 11) -> GraphExport:
    """A tool-level export of ``n_tools`` tools in 30 capabilities: a few hubs, many leaves, some chains."""
    rng = random.Random(seed)
    caps = [
        "crm",
        "marketing-automation",
        "cdp",
        "data-warehouse",
        "email-marketing",
        "chat",
        "enrichment",
        "forms",
        "scheduling",
        "web-analytics",
        "product-analytics",
        "ads",
        "sales-engagement",
        "abm",
        "intent-data",
        "helpdesk",
        "lead-routing",
        "reverse-etl",
        "ipaas",
        "cms",
        "landing-pages",
        "surveys",
        "conversation-intelligence",
        "prospecting",
        "experimentation",
        "push-sms",
        "events",
        "webinars",
        "social",
        "reviews",
    ]
    nodes = [
        GraphNode(
            id=f"t{i:03d}",
            kind="tool",
            label=f"Vendor {i:03d} {rng.choice(['Cloud', 'Suite', 'Pro', 'Hub'])}",
            group=caps[i % len(caps)],
            status="active",
        )
        for i in range(n_tools)
    ]
    hubs = [f"t{i:03d}" for i in range(0, n_tools, max(n_tools // 12, 1))]
    edges = []
    for i in range(n_tools):
        me = f"t{i:03d}"
        if me in hubs:
            continue
        hub = hubs[i % len(hubs)]
        src, tgt = (me, hub) if i % 3 else (hub, me)
        status = rng.choice(["ok", "ok", "ok", "stale", "broken", "unknown", "disabled"])
        edges.append(
            GraphEdge(
                source=src,
                target=tgt,
                kind="flow",
                id=f"{src}->{tgt}",
                status=status,
                label=f"{rng.randint(1, 30)} fields",
            )
        )
        if i % 4 == 0:
            other = f"t{(i * 7 + 3) % n_tools:03d}"
            if other != me:
                edges.append(GraphEdge(source=me, target=other, kind="flow", id=f"{me}->{other}:x", status="ok"))
    for a, b in itertools.pairwise(hubs):
        edges.append(GraphEdge(source=a, target=b, kind="flow", id=f"{a}->{b}:hub", status="ok", label="accounts"))
    return GraphExport(nodes=nodes, edges=edges)
