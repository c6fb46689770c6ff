"""HY002: an object (or a portal) close to its vendor's custom-field limit."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.catalogue import load_catalogue
from stackaudit_inventory.models import Capability, CoverageStatus, FieldDef, Quota
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import best_coverage, cannot_see, format_timestamp, plural
from .._fields import catalogue_entry, unread_field_tools


class Params(RuleParams):
    threshold: float = Field(
        default=0.8, gt=0, le=1, description="Share of the limit in use at which the object is reported (0.8 = 80%)."
    )
    default_limits: dict[str, int] = Field(
        default_factory=lambda: {"salesforce": 500},
        description="Custom fields allowed per object, by tool type (the vendor catalogue id, e.g. `salesforce`), "
        "used when the source did not record the object's limit. Salesforce allows 500 in Enterprise and 800 in "
        "Unlimited and Performance editions (100 in Professional).",
    )


def _is_field_quota(q: Quota) -> bool:
    name = q.name.lower()
    return "custom_propert" in name or "custom_field" in name


class NearFieldLimitRule(Rule[Params]):
    """An object whose custom fields approach the vendor's limit, or a portal near its custom-property quota.

    Why it matters: at the limit, nobody can add the field the next campaign, integration or package needs, and
    the clean-up happens in a hurry. Salesforce caps custom fields per object by edition (500 in Enterprise, 800 in
    Unlimited and Performance); HubSpot caps custom properties by subscription. Well before the limit, the count
    is a measure of clutter worth a review (see OF001 to OF005 and DF001 for candidates to remove).

    The limit, in order: the object's ``custom_field_limit`` as recorded by the source (HubSpot's per-object
    limits, or the Salesforce edition set in the connector config); else ``default_limits`` for the tool's type
    (its vendor catalogue id). HubSpot's portal-wide quota (a source-run quota named like ``custom_properties``,
    with used and limit) is judged as well, on the tool. The count is of the custom fields the source read, not
    archived; when the fields were read only partly the count is a floor. A tool with custom fields for which no
    limit is known is inconclusive. Graded high at or over the limit.

    Example: ``salesforce:Lead`` with 431 custom fields against Enterprise's 500 (86%).

    Fix: archive or delete unused and duplicate fields first (the orphaned- and duplicate-field findings list
    them); then consider moving rarely used data to a related object.
    """

    id = "HY002"
    name = "near-field-limit"
    title = "Object near its custom-field limit"
    category = Category.hygiene
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.fields})
    remediation = (
        "Remove unused and duplicate fields first (see the orphaned- and duplicate-field findings), then move "
        "rarely used data to a related object."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        catalogue = ctx.catalogue or load_catalogue()
        unread = unread_field_tools(snap)
        counts: dict[str, list[FieldDef]] = {}
        for fld in snap.fields:
            if fld.custom and not fld.archived:
                counts.setdefault(fld.object_id, []).append(fld)
        by_tool: dict[str, list[str]] = {}
        for object_id, fields in counts.items():
            by_tool.setdefault(fields[0].tool, []).append(object_id)
        tools = sorted(set(by_tool) | set(unread) | {r.tool for r in snap.source_runs if r.tool})
        for tool_id in tools:
            if tool_id in unread:
                yield ctx.inconclusive(tool_id, unread[tool_id])
                continue
            quotas = [q for r in snap.runs_for_tool(tool_id) for q in r.quota if _is_field_quota(q)]
            quotas = [q for q in quotas if q.used is not None and q.limit]
            for q in quotas[:1]:
                if finding := self._quota_finding(ctx, tool_id, q):
                    yield finding
            tool = snap.tools_by_id.get(tool_id)
            entry = catalogue_entry(catalogue, tool_id, tool.name if tool else None)
            kind = entry.id if entry else tool_id
            default = ctx.params.default_limits.get(kind, ctx.params.default_limits.get(tool_id))
            unknown: list[str] = []
            for object_id in sorted(by_tool.get(tool_id, [])):
                obj = snap.objects_by_id.get(object_id)
                limit = obj.custom_field_limit if obj and obj.custom_field_limit else default
                source = "recorded by the source" if obj and obj.custom_field_limit else f"default for {kind}"
                if not limit:
                    unknown.append(object_id)
                    continue
                if finding := self._object_finding(ctx, object_id, counts[object_id], limit, source):
                    yield finding
            if unknown and not quotas:
                yield ctx.inconclusive(
                    tool_id,
                    f"custom-field limit unknown for {plural(len(unknown), 'object')} (e.g. {', '.join(unknown[:3])}); "
                    f"set audit.rules.HY002.default_limits.{kind}",
                )

    def _object_finding(
        self, ctx: RuleContext[Params], object_id: str, fields: list[FieldDef], limit: int, source: str
    ) -> Finding | None:
        count = len(fields)
        share = count / limit
        if share < ctx.params.threshold:
            return None
        tool = fields[0].tool
        evidence = [
            f"{object_id} has {plural(count, 'custom field')} against a limit of {limit:,} ({source}): "
            f"{share:.0%} used, {max(limit - count, 0):,} left.",
        ]
        packaged = sum(1 for f in fields if f.namespace)
        if packaged:
            evidence.append(
                f"{packaged:,} of these {'comes' if packaged == 1 else 'come'} from managed packages, which the "
                "vendor may count differently."
            )
        not_checked = []
        status, cov = best_coverage(ctx.snapshot, tool, Capability.fields)
        if status is CoverageStatus.partial:
            not_checked.append(cannot_see(tool, Capability.fields, status, cov) + "; the count is a floor")
        return ctx.finding(
            [object_id],
            f"{object_id} uses {share:.0%} of its custom-field limit ({count:,} of {limit:,})",
            evidence=evidence,
            facts={"custom_fields": count, "limit": limit, "share": round(share, 4), "limit_source": source},
            not_checked=not_checked,
            severity=Severity.high if count >= limit else None,
            tools=[tool],
        )

    def _quota_finding(self, ctx: RuleContext[Params], tool: str, q: Quota) -> Finding | None:
        if q.used is None or not q.limit:
            return None
        share = q.used / q.limit
        if share < ctx.params.threshold:
            return None
        when = f" (observed {format_timestamp(q.observed_at)})" if q.observed_at else ""
        return ctx.finding(
            [tool],
            f"{tool} uses {share:.0%} of its custom-property quota ({q.used:,} of {q.limit:,})",
            evidence=[f"The {tool} source reports {q.name}: {q.used:,} used of {q.limit:,} ({share:.0%}){when}."],
            facts={"quota": q.name, "used": q.used, "limit": q.limit, "share": round(share, 4)},
            severity=Severity.high if q.used >= q.limit else None,
            tools=[tool],
        )
