"""LC001: lifecycle stage or lead-status values that no declared stage mapping covers."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, StageMapping, ToolStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import FieldIndex, best_coverage, cannot_see, plural


class Params(RuleParams):
    include_hidden_options: bool = Field(
        default=False,
        description="Also require a mapping for hidden (inactive) options, which records may still hold.",
    )


class UnmappedStageValuesRule(Rule[Params]):
    """A system's lifecycle-stage or lead-status field whose values the declared lifecycle does not map.

    Why it matters: HubSpot's ``lifecyclestage``, Salesforce's Lead ``Status`` and Marketo's revenue stages each
    spell the funnel their own way. When a value has no declared meaning (someone added ``Nurture - Long`` to
    Salesforce) or a system's stage field has no mapping at all, each system counts MQLs its own way, handoffs
    happen on different triggers, and the argument about lead quality starts from different numbers.

    The rule compares every stage field the lifecycle knows (``lifecycle.stage_fields``, including those
    connectors recognised and those the mappings name) with ``lifecycle.mappings``: a mapped field whose options
    include values that no declared stage lists is one finding (the values are named); a stage field with no
    mapping is another, and the evidence says when the tool has no mapping at all. Hidden (inactive) options are
    left out unless ``include_hidden_options``. A mapped field whose options are unknown (not a picklist, or not
    read) is inconclusive. Nothing is checked without a lifecycle section (LC002 reports that).

    Example: ``salesforce:Lead.Status`` has ``Open``, ``Working``, ``Nurture``, ``Qualified``, ``Unqualified``; the
    Salesforce mapping lists ``Open`` (lead), ``Working`` (sal) and ``Qualified`` (sql), so ``Nurture`` and
    ``Unqualified`` mean nothing in the declared lifecycle.

    Fix: decide which declared stage each value means (or retire the value), and add it to the system's mapping
    in the manifest's ``lifecycle.mappings``; for a field with no mapping, add one.
    """

    id = "LC001"
    name = "unmapped-stage-values"
    title = "Lifecycle stage values not covered by a declared mapping"
    category = Category.lifecycle_drift
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.lifecycle, Capability.fields})
    remediation = (
        "Decide which declared stage each value means (or retire it) and add it to the system's stage mapping in the "
        "manifest; add a mapping for any stage field that has none."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap, lc = ctx.snapshot, ctx.snapshot.lifecycle
        if lc is None:
            return
        index = FieldIndex(snap)
        by_field: dict[str, list[StageMapping]] = {}
        for m in lc.mappings:
            by_field.setdefault(m.field, []).append(m)
        mapped_tools = {m.tool for m in lc.mappings}
        for fid in sorted(set(lc.stage_fields) | set(by_field)):
            tool_id = fid.split(":", 1)[0]
            tool = snap.tools_by_id.get(tool_id)
            if tool is not None and tool.status is ToolStatus.removed:
                continue
            fld = index.get(fid)
            options = None
            if fld is not None and fld.options is not None:
                options = [o.value for o in fld.options if ctx.params.include_hidden_options or not o.hidden]
            mappings = by_field.get(fid)
            if mappings is None:
                if fld is None and index.absence_known(fid):
                    continue  # a stage field that no longer exists has nothing to map
                yield self._no_mapping(ctx, fid, options, tool_id in mapped_tools)
                continue
            if options is None:
                if fld is None and index.absence_known(fid):
                    continue  # LC003 reports a mapping to a field that is gone
                if fld is None:
                    why = cannot_see(tool_id, Capability.fields, *best_coverage(snap, tool_id, Capability.fields))
                else:
                    why = f"{fid} has no option list (type {fld.type}; free text, or its options were not read)"
                yield ctx.inconclusive(fid, f"{why}: its values cannot be compared with the mapping")
                continue
            covered = {v for m in mappings for values in m.values.values() for v in values}
            unmapped = [v for v in options if v not in covered]
            if not unmapped:
                continue
            stages = sorted({s for m in mappings for s in m.values})
            yield ctx.finding(
                [fid],
                f"{plural(len(unmapped), 'value')} of {fid} {'maps' if len(unmapped) == 1 else 'map'} to no declared "
                f"stage: {', '.join(unmapped[:5])}" + (" ..." if len(unmapped) > 5 else ""),
                evidence=[
                    f"{fid} has {plural(len(options), 'option')}; {len(options) - len(unmapped)} of them map to the "
                    f"declared stages ({', '.join(stages) or 'none'}).",
                    f"Not mapped: {', '.join(unmapped)}.",
                    "Records holding these values belong to no declared stage, so stage counts differ between systems.",
                ],
                facts={"field": fid, "unmapped_values": unmapped, "options": len(options), "mapped_stages": stages},
            )

    def _no_mapping(
        self, ctx: RuleContext[Params], fid: str, options: list[str] | None, tool_has_mapping: bool
    ) -> Finding:
        tool_id = fid.split(":", 1)[0]
        evidence = [f"{fid} holds lifecycle stages or lead statuses, and no stage mapping names it."]
        evidence.append(
            f"{tool_id} has a stage mapping for another field."
            if tool_has_mapping
            else f"{tool_id} has no stage mapping at all: none of its values has a declared meaning."
        )
        if options is not None:
            evidence.append(f"Its values: {', '.join(options) or '(none)'}.")
        return ctx.finding(
            [fid],
            f"Stage field {fid} has no declared mapping to the lifecycle stages",
            evidence=evidence,
            facts={"field": fid, "unmapped_values": options, "tool_has_mapping": tool_has_mapping},
            not_checked=[] if options is not None else [f"The options of {fid} were not read."],
        )
