"""BS007: a field written by several integrations with no declared precedence."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import Capability, FieldMapping
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import flow_evidence, live_integrations, plural


class CompetingWritersRule(Rule[NoParams]):
    """A field that two or more live integrations write, where no mapping writing it declares which one wins.

    Why it matters: when HubSpot, Marketo and an enrichment tool all write Salesforce's ``Lead.Industry``, the
    value is whatever synced last. It flips with each sync, reports change from one day to the next, and nobody
    can say which system is right. A declared precedence (the mapping's ``precedence`` in the manifest, matching
    the integration's own "don't overwrite" or priority setting) makes the rule explicit. A ``both`` mapping
    writes both its ends. Writes by workflows and other assets are not counted here: this rule is about
    integrations. A live integration whose mappings are not recorded, into a tool where other integrations write
    fields, is inconclusive: it may write the same fields (a record that is only evidence of a declared flow,
    such as a Salesforce connected app's token, is not: the declared flow's mappings are its writes).

    How precedence is read: a mapping naming another tool as the winner (``precedence: hubspot`` on a Salesforce
    field) settles the field for all its writers. A mapping naming the field's own tool (``precedence:
    salesforce`` on a Salesforce field, as the Marketo and HubSpot syncs declare for CRM-owned fields) says only
    that this integration does not overwrite the value already there; it settles nothing between the others. The
    field is flagged when two or more writers declare no precedence at all: they overwrite each other.

    Example: ``salesforce:Lead.Industry`` written by ``hubspot->salesforce`` and ``zoominfo->salesforce``, neither
    mapping declaring precedence.

    Fix: decide which system owns the field, configure the others not to overwrite a filled value (or to stop
    writing it), and declare the winner as the mappings' ``precedence`` in the manifest.
    """

    id = "BS007"
    name = "competing-field-writers"
    title = "Field written by several integrations with no declared precedence"
    category = Category.broken_sync
    severity = Severity.medium
    requires = frozenset({Capability.integrations})
    remediation = (
        "Decide which system owns the field, stop the others from overwriting it, and declare the winner as the "
        "mappings' precedence in the manifest."
    )

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        live = live_integrations(ctx.snapshot)
        writers: dict[str, dict[str, FieldMapping]] = {}
        for integ in live:
            for m in integ.mappings:
                written = [m.target, m.source] if m.direction == "both" else [m.target]
                for fid in written:
                    writers.setdefault(fid, {}).setdefault(integ.id, m)
        for fid, by_integ in sorted(writers.items()):
            home = fid.split(":", 1)[0]
            if len(by_integ) < 2 or any(m.precedence and m.precedence != home for m in by_integ.values()):
                continue  # one writer, or a winner named for all of them
            competing = sorted(iid for iid, m in by_integ.items() if not m.precedence)
            if len(competing) < 2:
                continue  # the others leave the value already in the field alone
            lines = [
                f"{iid} writes it from {m.source if m.target == fid else m.target}"
                + (" (two-way mapping)" if m.direction == "both" else "")
                + (f"; it declares that {home}'s own value wins" if m.precedence else "")
                for iid, m in sorted(by_integ.items())
            ]
            yielding = len(by_integ) - len(competing)
            last = (
                "No mapping writing it declares a precedence."
                if not yielding
                else f"{', '.join(competing)} declare no precedence, so they overwrite each other; a precedence for "
                f"{home}'s own value does not decide between them."
            )
            yield ctx.finding(
                [fid],
                f"{fid} is written by {plural(len(competing), 'integration')} with no declared precedence",
                evidence=[*(line + "." for line in lines), last],
                facts={"writers": sorted(by_integ), "writer_count": len(by_integ), "competing": competing},
                tools=sorted({home} | {ctx.snapshot.integrations_by_id[i].source for i in by_integ}),
            )
        written_tools: dict[str, set[str]] = {}
        for fid, by_integ in writers.items():
            for iid in by_integ:
                written_tools.setdefault(fid.split(":", 1)[0], set()).add(iid)
        evidence_only = flow_evidence(ctx.snapshot).evidence_of
        for integ in live:
            if integ.mappings or integ.id in evidence_only:
                continue
            into = [integ.target] + ([integ.source] if integ.direction == "two-way" else [])
            for tool in into:
                others = sorted(written_tools.get(tool, set()) - {integ.id})
                if others:
                    yield ctx.inconclusive(
                        integ.id,
                        f"its field mappings are not recorded, so it may write the {tool} fields that "
                        f"{', '.join(others)} also write{'s' if len(others) == 1 else ''}",
                    )
                    break
