"""LC003: a declared stage mapping naming values the field no longer has."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import Capability
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import FieldIndex, best_coverage, cannot_see, plural


class StaleStageMappingRule(Rule[NoParams]):
    """A declared lifecycle stage mapping that points at option values the field no longer has.

    Why it matters: the manifest says "MQL in Salesforce is ``Marketing Qualified``", then an admin renames the
    value to ``MQL`` or deletes it. Reports and routing built on the declared definition now count nothing, or
    the wrong thing, and the written lifecycle no longer describes the systems. The rule compares each value of
    each ``lifecycle.mappings`` entry with the field's current options, and only when those options are known:
    a field without an option list, or whose options no source read, is inconclusive. A mapping to a field that
    no longer exists (its tool's fields were read) is reported too. Hidden (inactive) options still exist; the
    evidence names any mapped value that is hidden, since new records can no longer get it.

    Example: the HubSpot mapping lists ``mql: [marketingqualifiedlead, mql_legacy]`` but
    ``hubspot:contacts.lifecyclestage`` has no ``mql_legacy`` option any more.

    Fix: update the mapping in the manifest to the field's current values (or restore the value if it was
    removed by mistake), and check reports and workflows that used the old value.
    """

    id = "LC003"
    name = "stale-stage-mapping"
    title = "Stage mapping names values the field no longer has"
    category = Category.lifecycle_drift
    severity = Severity.medium
    requires = frozenset({Capability.lifecycle, Capability.fields})
    remediation = (
        "Update the stage mapping in the manifest to the field's current values (or restore a value removed by "
        "mistake), then check reports and workflows that used the old value."
    )

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        snap, lc = ctx.snapshot, ctx.snapshot.lifecycle
        if lc is None:
            return
        index = FieldIndex(snap)
        for m in sorted(lc.mappings, key=lambda m: m.field):
            declared = [(stage, v) for stage, values in sorted(m.values.items()) for v in values]
            fld = index.get(m.field)
            if fld is None:
                if not index.absence_known(m.field):
                    why = cannot_see(m.tool, Capability.fields, *best_coverage(snap, m.tool, Capability.fields))
                    yield ctx.inconclusive(m.field, f"{why}: the mapped values cannot be checked")
                    continue
                yield ctx.finding(
                    [m.field],
                    f"The {m.tool} stage mapping names {m.field}, which no longer exists",
                    evidence=[
                        f"The lifecycle maps {plural(len(declared), 'value')} of {m.field} to stages.",
                        f"A source read the fields of {m.tool}, and {m.field} was not among them.",
                    ],
                    facts={"field": m.field, "field_exists": False, "stale_values": [v for _, v in declared]},
                )
                continue
            if fld.options is None:
                yield ctx.inconclusive(
                    m.field, f"no option list for {m.field} (type {fld.type}): the mapped values cannot be checked"
                )
                continue
            options = {o.value for o in fld.options}
            hidden = {o.value for o in fld.options if o.hidden}
            stale = [(stage, v) for stage, v in declared if v not in options]
            if not stale:
                continue
            evidence = [
                f"The lifecycle maps {', '.join(f'{stage} to {v!r}' for stage, v in stale)}, but {m.field} has no "
                f"such option ({plural(len(options), 'option')} today).",
            ]
            inactive = [v for _, v in declared if v in hidden]
            if inactive:
                evidence.append(
                    f"Also mapped but hidden in the field (new records cannot get them): {', '.join(inactive)}."
                )
            yield ctx.finding(
                [m.field],
                f"The {m.tool} stage mapping names {plural(len(stale), 'value')} {m.field} no longer has: "
                + ", ".join(v for _, v in stale),
                evidence=evidence,
                facts={
                    "field": m.field,
                    "field_exists": True,
                    "stale_values": [v for _, v in stale],
                    "stages": sorted({s for s, _ in stale}),
                    "hidden_values": inactive,
                },
            )
