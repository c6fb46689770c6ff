"""DF002: one concept held in several tools by fields that no mapping connects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.catalogue import VendorCatalogue, load_catalogue
from stackaudit_inventory.models import Capability, CoverageStatus, FieldDef, Snapshot
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import best_coverage, cannot_see, is_covered, plural
from .._fields import catalogue_entry, is_exact_empty, name_key, unread_field_tools

# System identifiers and timestamps: every tool has them and they are never "the same concept" to map.
# Compared with normalised stems (see ``name_key``), after a host's own prefix (HubSpot's ``hs_``) is removed.
SYSTEM_CONCEPTS = frozenset(
    {
        "id", "objectid", "recordid", "externalid", "uuid", "guid",
        "createdate", "createddate", "createdat", "createdon", "createdtime", "createdby", "createdbyid",
        "createdbyuserid", "lastmodifieddate", "lastmodifiedat", "lastmodified", "lastmodifiedby",
        "lastmodifiedbyid", "modifiedat", "modifieddate", "modifiedon", "updatedat", "updateddate", "updatedon",
        "updatedtime", "updatedby", "updatedbyuserid", "systemmodstamp", "timestamp", "lastactivitydate",
        "lastactivityat", "lastvieweddate", "lastreferenceddate", "isdeleted", "deleted", "ownerid",
        "mergedobjectids", "allaccessibleteamids", "allownerids",
    }
)  # fmt: skip
# Types that never carry a business concept of their own.
SKIPPED_TYPES = frozenset({"id", "reference", "binary", "compound"})
# Objects that describe the same kind of thing in different tools (a HubSpot contact, a Salesforce lead or
# contact, a Marketo lead, a Segment identify call): concepts are compared within one kind.
ENTITY_KINDS: dict[str, frozenset[str]] = {
    "person": frozenset(
        {"contact", "contacts", "lead", "leads", "person", "people", "persons", "user", "users", "identify",
         "identifies", "traits", "profile", "profiles", "customer", "customers", "subscriber", "subscribers",
         "member", "members", "prospect", "prospects"}
    ),
    "company": frozenset(
        {"company", "companies", "account", "accounts", "organization", "organizations", "organisation",
         "organisations", "org", "orgs", "group", "groups"}
    ),
    "deal": frozenset({"deal", "deals", "opportunity", "opportunities"}),
    "ticket": frozenset({"ticket", "tickets", "case", "cases"}),
}  # fmt: skip
_KIND_OF = {name: kind for kind, names in ENTITY_KINDS.items() for name in names}
LIFECYCLE = "lifecycle stage"


class Params(RuleParams):
    ignore_concepts: list[str] = Field(
        default_factory=list,
        description="More concept names to ignore, added to the built-in stoplist of system ids and timestamps "
        "(compared after normalisation, so `Customer Tier` and `customer_tier` are one).",
    )


def entity_kind(object_name: str) -> str:
    """``contacts``, ``Lead`` and ``lead`` are all ``person``; an object of no known kind is its own kind."""
    stem = name_key(object_name, api_name=True).stem
    return _KIND_OF.get(stem, stem)


class _UF:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _own_prefixes(catalogue: VendorCatalogue, snapshot: Snapshot, tool_id: str) -> list[str]:
    """The host's own field markers (HubSpot's ``hs_``), longest first, stripped before comparing names."""
    tool = snapshot.tools_by_id.get(tool_id)
    entry = catalogue_entry(catalogue, tool_id, tool.name if tool else None)
    if entry is None:
        return []
    own = [p.prefix for p in entry.field_prefixes if not p.hosts or entry.id in p.hosts]
    return sorted(own, key=len, reverse=True)


def concept_groups(snapshot: Snapshot, ignore: frozenset[str], catalogue: VendorCatalogue) -> list[list[FieldDef]]:
    """Fields of two or more tools that hold one concept: equal normalised name or label within one entity kind
    (person, company, deal...), plus every declared lifecycle stage field as one concept; fields an exact count
    shows empty hold nothing and are left out. Groups of name-alike
    fields need one custom member: standard fields of different tools are mapped by native syncs by default and
    their mappings are often not recorded."""
    stage = set(snapshot.lifecycle.stage_fields) if snapshot.lifecycle else set()
    prefixes = {t: _own_prefixes(catalogue, snapshot, t) for t in {f.tool for f in snapshot.fields}}
    uf = _UF()
    buckets: dict[tuple[str, str], str] = {}
    fields: dict[str, FieldDef] = {}
    for fld in snapshot.fields:
        if fld.archived or fld.calculated or fld.type in SKIPPED_TYPES or is_exact_empty(fld.fill):
            continue  # an empty field holds no values that could drift (OF001 judges it)
        fields[fld.id] = fld
        uf.find(fld.id)
        kind = entity_kind(fld.object)
        keys = {name_key(fld.name, api_name=True, strip_prefixes=prefixes[fld.tool]).stem}
        if fld.label:
            keys.add(name_key(fld.label).stem)
        for stem in keys:
            if len(stem) < 3 or stem in SYSTEM_CONCEPTS or stem in ignore:
                continue
            first = buckets.setdefault((kind, stem), fld.id)
            uf.union(first, fld.id)
    stage_ids = sorted(s for s in stage if s in fields)
    for fid in stage_ids[1:]:
        uf.union(stage_ids[0], fid)
    groups: dict[str, list[FieldDef]] = {}
    for fid, fld in fields.items():
        groups.setdefault(uf.find(fid), []).append(fld)
    out = []
    for members in groups.values():
        if len({f.tool for f in members}) < 2:
            continue
        if not any(f.custom or f.id in stage for f in members):
            continue
        out.append(sorted(members, key=lambda f: f.id))
    return sorted(out, key=lambda g: g[0].id)


class UnmappedConceptRule(Rule[Params]):
    """The same concept held by fields in several tools with no field mapping between them.

    Why it matters: when lifecycle stage lives in HubSpot, Marketo and Salesforce and no integration moves it
    between them, each system drifts on its own: a lead is an MQL in one and a subscriber in another, the funnel
    reports disagree, and the argument about lead quality starts. Either one system should own the concept and
    feed the others, or the copies should go.

    How concepts are found: fields of different tools whose normalised name or label is equal (case, separators,
    ``__c``, copy marks and the host's own prefix such as HubSpot's ``hs_`` removed; see DF001) on objects of the
    same kind (person: contacts, leads, Segment identify traits; company: companies, accounts; deal; ticket), and
    all fields the manifest's lifecycle declares as stage fields (``stage_fields``) as one concept. System ids and
    timestamps are ignored (stoplist: ``id``, ``createdate``, ``createddate``, ``lastmodifieddate``,
    ``systemmodstamp``, ``ownerid`` and the like, plus ``ignore_concepts``), and so are id, lookup, binary and
    compound fields, archived and calculated fields. Fields an exact count shows empty are left out too: a field
    with no value holds no copy of the concept that could drift (whether it should go is OF001's question); a
    sample that found no value is not proof, so sampled fields stay. A name-alike group needs one custom field:
    standard fields of two tools (email, first name) are mapped by native syncs by default.

    When it is flagged: tools are connected for the concept when some integration mapping joins their fields,
    directly or through other fields (HubSpot to Segment to Salesforce). The group is flagged when its tools do
    not all connect; the evidence says which are mapped together and which are not. An integration between two
    of the tools that records no field mappings at all is assumed to connect them (its mappings are unknown, not
    absent) and named under what could not be checked. Where a member tool's integrations were not read, the
    group is inconclusive for that tool.

    Example: ``hubspot:contacts.lifecyclestage``, ``marketo:lead.lifecycleStage`` and
    ``salesforce:Lead.Lifecycle_Stage__c``: HubSpot and Salesforce mapped through ``hubspot->salesforce``,
    Marketo's field mapped to neither.

    Fix: decide which system owns the concept, map the others to it in the integrations (or retire their copies),
    and write the mapping down in the manifest.
    """

    id = "DF002"
    name = "unmapped-concept"
    title = "Same concept held by unmapped fields in several tools"
    category = Category.duplicate_field
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.fields, Capability.integrations})
    remediation = (
        "Decide which system owns the concept, map the other tools' fields to it (or retire them), and record the "
        "mapping in the manifest."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        unread = unread_field_tools(snap)
        ignore = frozenset(name_key(c).stem for c in ctx.params.ignore_concepts)
        groups = concept_groups(snap, ignore, ctx.catalogue or load_catalogue())
        mapped = _UF()
        for integ in snap.integrations:
            for m in integ.mappings:
                mapped.union(m.source, m.target)
        blind: dict[str, list[str]] = {}
        for members in groups:
            concept = _concept_name(snap, members)
            tools = sorted({f.tool for f in members})
            unseen = [t for t in tools if not is_covered(best_coverage(snap, t, Capability.integrations)[0])]
            for t in unseen:
                blind.setdefault(t, []).append(concept)
            if not unseen:
                finding = self._judge(ctx, members, concept, tools, mapped)
                if finding is not None:
                    yield finding
        for tool in sorted(set(unread) | set(blind)):
            reasons = [unread[tool]] if tool in unread else []
            if tool in blind:
                status, cov = best_coverage(snap, tool, Capability.integrations)
                concepts = ", ".join(f"'{c}'" for c in blind[tool][:5]) + (" ..." if len(blind[tool]) > 5 else "")
                reasons.append(
                    f"{cannot_see(tool, Capability.integrations, status, cov)}: cannot tell whether its fields "
                    f"holding {concepts} are mapped to the other tools"
                )
            yield ctx.inconclusive(tool, "; ".join(reasons))

    def _judge(
        self, ctx: RuleContext[Params], members: list[FieldDef], concept: str, tools: list[str], mapped: _UF
    ) -> Finding | None:
        snap = ctx.snapshot
        joined = _UF()
        for t in tools:
            joined.find(t)
        by_component: dict[str, set[str]] = {}
        for f in members:
            by_component.setdefault(mapped.find(f.id), set()).add(f.tool)
        for tools_joined in by_component.values():
            first, *rest = sorted(tools_joined)
            for t in rest:
                joined.union(first, t)
        assumed = []
        for integ in snap.integrations:
            ends = [t for t in (integ.source, integ.target, integ.via) if t in tools]
            if not integ.mappings and len(ends) >= 2:
                assumed.append(integ.id)
                for t in ends[1:]:
                    joined.union(ends[0], t)
        parts: dict[str, list[str]] = {}
        for t in tools:
            parts.setdefault(joined.find(t), []).append(t)
        if len(parts) < 2:
            return None
        evidence = [
            f"'{concept}' is held by {plural(len(members), 'field')} in {plural(len(tools), 'tool')}: "
            + ", ".join(f.id + (f" ('{f.label}')" if f.label else "") for f in members)
            + "."
        ]
        stage = set(snap.lifecycle.stage_fields) if snap.lifecycle else set()
        declared = [f.id for f in members if f.id in stage]
        if declared:
            evidence.append(f"Declared as lifecycle stage fields in the manifest: {', '.join(declared)}.")
        ordered = sorted(parts.values(), key=lambda p: (-len(p), p))
        unmapped = [t for p in ordered[1:] for t in p] if len(ordered[0]) > 1 else tools
        if len(ordered[0]) == 1:
            evidence.append("No integration mapping connects any of these fields, directly or through other fields.")
        else:
            for part in ordered:
                ids = [f.id for f in members if f.tool in part]
                if len(part) > 1:
                    evidence.append(f"Mapped together: {', '.join(part)} ({', '.join(ids)}).")
                else:
                    evidence.append(f"No mapping joins {part[0]} to the others ({', '.join(ids)}).")
        if snap.lifecycle and snap.lifecycle.mappings and declared:
            evidence.append(
                "The manifest declares how each system spells the stages, but no integration moves the values "
                f"to or from {', '.join(unmapped)}."
            )
        not_checked = [
            f"{i} records no field mappings; it is assumed to connect its tools for this concept." for i in assumed
        ]
        for t in tools:
            status, cov = best_coverage(snap, t, Capability.integrations)
            if status is CoverageStatus.partial:
                not_checked.append(cannot_see(t, Capability.integrations, status, cov))
        reach = (
            "with no mapping between them"
            if len(ordered[0]) == 1
            else f"with no mapping reaching {', '.join(sorted(unmapped))}"
        )
        return ctx.finding(
            [f.id for f in members],
            f"'{concept}' is held in {plural(len(tools), 'tool')} {reach}",
            evidence=evidence,
            facts={
                "concept": concept,
                "tools": tools,
                "connected": [",".join(p) for p in ordered],
                "unmapped_tools": sorted(unmapped),
                "stage_fields": declared,
            },
            not_checked=not_checked,
            tools=tools,
        )


def _concept_name(snapshot: Snapshot, members: list[FieldDef]) -> str:
    stage = set(snapshot.lifecycle.stage_fields) if snapshot.lifecycle else set()
    if any(f.id in stage for f in members):
        return LIFECYCLE
    labels = Counter((f.label or f.name).strip() for f in members)
    return sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
