"""BS008: field mappings that form a loop, so a value can travel back and overwrite itself."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import Capability, Integration
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import flow_evidence, live_integrations


def _mapping_edge(integ: Integration, u: str, v: str) -> bool:
    return any(
        (m.source == u and m.target == v) or (m.direction == "both" and m.source == v and m.target == u)
        for m in integ.mappings
    )


def _flow_edge(integ: Integration, u: str, v: str) -> bool:
    return (integ.source, integ.target) == (u, v) or (
        integ.direction == "two-way" and (integ.target, integ.source) == (u, v)
    )


class SyncLoopRule(Rule[NoParams]):
    """A loop of field mappings (a -> b -> ... -> a) through live integrations.

    Why it matters: a value written in one system travels to the next and comes back round to the first,
    overwriting whatever changed there meanwhile. Loops cause values that flip back, records that sync forever
    (burning API quota), and last-write-wins races nobody chose. A single two-way mapping of one integration is a
    declared bidirectional sync with its own conflict handling, not a loop, and is left out; two separate
    integrations copying the same pair of fields in opposite directions are a loop. Disabled integrations do not
    close loops. Writes by workflows are not followed (a workflow rewriting its own field is housekeeping).
    Integrations whose field mappings are not recorded but whose tools form a loop of flows are inconclusive: a
    field-level loop cannot be ruled out (except a record that is only evidence of a declared flow, such as a
    Salesforce connected app's token: the declared flow's mappings are its writes).

    Example: ``hubspot:contacts.lifecyclestage -> salesforce:Lead.Lifecycle__c`` (hubspot->salesforce),
    ``salesforce:Lead.Lifecycle__c -> marketo:leads.lifecycle`` (salesforce->marketo) and
    ``marketo:leads.lifecycle -> hubspot:contacts.lifecyclestage`` (marketo->hubspot).

    Fix: choose the system that owns the field, break the loop by making the other mappings one-way out of it
    (or read-only), and declare the owner as the mappings' ``precedence``.
    """

    id = "BS008"
    name = "sync-loop"
    title = "Field mappings form a sync loop"
    category = Category.broken_sync
    severity = Severity.high
    requires = frozenset({Capability.integrations})
    remediation = (
        "Choose the system that owns the field and make the other mappings one-way out of it; declare the owner as "
        "the mappings' precedence."
    )

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        live = live_integrations(ctx.snapshot)
        for cycle in ctx.graph.field_write_cycles():
            hops = list(zip(cycle, cycle[1:] + cycle[:1], strict=True))
            carriers = [sorted(i.id for i in live if _mapping_edge(i, u, v)) for u, v in hops]
            if not all(carriers):
                continue  # a disabled integration closes it
            if len(cycle) == 2 and carriers[0] == carriers[1] and len(carriers[0]) == 1:
                integ = ctx.snapshot.integrations_by_id[carriers[0][0]]
                if any(m.direction == "both" and {m.source, m.target} == set(cycle) for m in integ.mappings):
                    continue  # only the live part of the loop is one two-way mapping
            integrations = sorted({i for c in carriers for i in c})
            evidence = [f"{u} -> {v} via {', '.join(c)}." for (u, v), c in zip(hops, carriers, strict=True)]
            evidence.append(f"A value written to {cycle[0]} comes back to it after {len(cycle)} hops.")
            yield ctx.finding(
                cycle,
                f"Sync loop over {len(cycle)} fields: {' -> '.join([*cycle, cycle[0]])}",
                evidence=evidence,
                facts={"cycle": cycle, "integrations": integrations, "length": len(cycle)},
            )
        unknown: dict[str, list[str]] = {}
        evidence_only = flow_evidence(ctx.snapshot).evidence_of
        for loop in ctx.graph.flow_cycles():
            hops = list(zip(loop, loop[1:] + loop[:1], strict=True))
            if not all(any(_flow_edge(i, u, v) for i in live) for u, v in hops):
                continue  # part of the loop runs only through disabled integrations
            on_loop = [i for i in live if any(_flow_edge(i, u, v) for u, v in hops)]
            for integ in on_loop:
                if not integ.mappings and integ.id not in evidence_only:
                    unknown.setdefault(integ.id, loop)
        for iid, loop in sorted(unknown.items()):
            yield ctx.inconclusive(
                iid,
                f"flows {' -> '.join([*loop, loop[0]])} form a loop and this integration's field mappings are not "
                "recorded, so a field-level loop cannot be ruled out",
            )
