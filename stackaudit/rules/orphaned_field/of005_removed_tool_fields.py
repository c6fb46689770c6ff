"""OF005: custom fields left behind by a tool that is no longer in the stack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import Field

from stackaudit_inventory.catalogue import VendorCatalogue, VendorEntry, load_catalogue
from stackaudit_inventory.models import (
    Capability,
    CoverageStatus,
    FieldDef,
    IntegrationStatus,
    Snapshot,
    Tool,
    ToolStatus,
)
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import FactValue, Rule, RuleContext, RuleParams
from .._common import best_coverage, cannot_see, days_since, format_timestamp, plural
from .._fields import catalogue_entry, describe_fill, field_use, lower_first, unread_field_tools


class Params(RuleParams):
    recent_value_days: int = Field(
        default=30,
        ge=0,
        description="A field that received a value within this many days is still being written: for a tool absent "
        "from the stack that means it may be in use undeclared (inconclusive); for a removed tool, still running.",
    )


@dataclass(frozen=True)
class _Owner:
    id: str
    name: str
    method: str  # recorded | namespace | name
    how: str  # the sentence fragment that explains the attribution


def _marker(entry: VendorEntry, host: str, field_name: str) -> str:
    """The marker of ``entry`` that matches the field name (the catalogue answers only with the entry)."""
    name = field_name.lower()
    candidates = [p.prefix for p in entry.field_prefixes if (not p.hosts or host in p.hosts)]
    candidates += [f"{ns}__" for ns in entry.salesforce_namespaces]
    found = [c for c in candidates if name.startswith(c.lower())]
    found += [s for s in entry.field_suffixes if name.endswith(s.lower())]
    return max(found, key=len) if found else field_name


def _rate(fld: FieldDef) -> float:
    return (fld.fill.rate if fld.fill else None) or 0.0


class _Resolver:
    """Who owns a field, and whether that owner is still in the stack."""

    def __init__(self, snapshot: Snapshot, catalogue: VendorCatalogue) -> None:
        self.catalogue = catalogue
        self.tools = snapshot.tools_by_id
        self.by_entry: dict[str, list[Tool]] = {}
        for tool in snapshot.tools:
            entry = catalogue_entry(catalogue, tool.id, tool.name)
            self.by_entry.setdefault(entry.id if entry else tool.id, []).append(tool)
        # The catalogue scans every marker per lookup; most field names carry none, so rule them out first.
        prefixes = {p.prefix.lower() for e in catalogue.vendors for p in e.field_prefixes}
        prefixes |= {f"{ns.lower()}__" for e in catalogue.vendors for ns in e.salesforce_namespaces}
        suffixes = {s.lower() for e in catalogue.vendors for s in e.field_suffixes}
        self._prefixes, self._prefix_lengths = prefixes, sorted({len(p) for p in prefixes})
        self._suffixes, self._suffix_lengths = suffixes, sorted({len(s) for s in suffixes})
        self._hosts: dict[str, str] = {}
        self.integrated: dict[str, list[str]] = {}
        for integ in snapshot.integrations:
            if integ.status is not IntegrationStatus.disabled:
                for t in {integ.source, integ.target, integ.via} - {None}:
                    self.integrated.setdefault(str(t), []).append(integ.id)

    def _may_carry_marker(self, field_name: str) -> bool:
        name = field_name.lower()
        return any(name[:k] in self._prefixes for k in self._prefix_lengths) or any(
            name[-k:] in self._suffixes for k in self._suffix_lengths
        )

    def host_key(self, tool_id: str) -> str:
        if tool_id not in self._hosts:
            tool = self.tools.get(tool_id)
            entry = catalogue_entry(self.catalogue, tool_id, tool.name if tool else None)
            self._hosts[tool_id] = entry.id if entry else tool_id
        return self._hosts[tool_id]

    def owner(self, fld: FieldDef) -> _Owner | None:
        host = self.host_key(fld.tool)
        if fld.owning_tool:
            if fld.owning_tool in (fld.tool, host):
                return None
            entry = self.catalogue.by_id(fld.owning_tool)
            return _Owner(
                entry.id if entry else fld.owning_tool,
                entry.name if entry else fld.owning_tool,
                "recorded",
                f"recorded by the {fld.tool} source as created by {fld.owning_tool}",
            )
        if fld.namespace:
            entry = self.catalogue.by_salesforce_namespace(fld.namespace)
            if entry is not None:
                if entry.id == host:
                    return None
                return _Owner(entry.id, entry.name, "namespace", f"Salesforce package namespace '{fld.namespace}'")
        entry = self.catalogue.owner_by_field_name(host, fld.name) if self._may_carry_marker(fld.name) else None
        if entry is None:
            return None
        marker = _marker(entry, host, fld.name)
        return _Owner(entry.id, entry.name, "name", f"field-name marker '{marker}' in the vendor catalogue")

    def state(self, owner_id: str) -> tuple[str | None, list[Tool]]:
        """``present``, ``removed``, ``absent`` (known product, not in the stack) or None (unknown owner)."""
        entry = self.catalogue.by_id(owner_id)
        tools = self.by_entry.get(entry.id if entry else owner_id, [])
        if owner_id in self.tools and self.tools[owner_id] not in tools:
            tools = [*tools, self.tools[owner_id]]
        if any(t.status is not ToolStatus.removed for t in tools):
            return "present", tools
        if tools:
            return "removed", tools
        return ("absent" if entry is not None else None), []


class RemovedToolFieldsRule(Rule[Params]):
    """Custom fields created by a tool that was removed from the stack, or that is not in it at all.

    Why it matters: cancelled tools leave their fields behind: a managed package's ``pi__`` or ``zisf__``
    fields in Salesforce, ``zoominfo_`` or ``clearbit_`` properties in HubSpot. They keep stale vendor data that
    looks current, fill up forms and field pickers, count against limits, and a package still installed may still
    hold API access for a vendor nobody pays any more.

    How the owner is found, strongest evidence first: the field's ``owning_tool`` as recorded by the source; the
    Salesforce managed-package namespace (``FieldDef.namespace``, looked up in the vendor catalogue); then the
    field-name prefixes and suffixes the catalogue lists for the vendor's integrations (a host's own markers,
    such as HubSpot's ``hs_``, never count). The owner is gone when its tool is marked ``removed``, or when the
    catalogue knows the product and no tool in the stack is it (matched by id or by name). A field whose owner
    is present in any other status (active, trial, retiring) is never reported. Standard and archived fields are
    left out.

    An owner absent from the stack whose fields still receive values (within ``recent_value_days``), or which an
    enabled integration still names, may be in use without being declared: those fields are reported
    inconclusive rather than flagged (see UT004 for undeclared tools). A removed tool whose fields still receive
    values is flagged at medium severity: its package or integration is probably still running.

    One finding per host tool and owner, listing the fields; evidence says how each was attributed and which are
    still referenced by active assets (remove those references first).

    Example: ``pardot`` marked ``removed``, 23 ``pi__`` fields still on ``salesforce:Lead`` and
    ``salesforce:Contact``, two of them read by an active flow.

    Fix: export what is worth keeping, remove the references, then uninstall the package or delete the fields;
    revoke the vendor's connected app or API user.
    """

    id = "OF005"
    name = "removed-tool-fields"
    title = "Fields left behind by a tool no longer in the stack"
    category = Category.orphaned_field
    severity = Severity.low
    params = Params
    requires = frozenset({Capability.fields})
    remediation = (
        "Export what is worth keeping, remove references to the fields, then uninstall the vendor's package or "
        "delete the fields, and revoke its connected app or API user."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        for tool, reason in unread_field_tools(snap).items():
            yield ctx.inconclusive(tool, reason)
        resolver = _Resolver(snap, ctx.catalogue or load_catalogue())
        groups: dict[tuple[str, str, str], list[tuple[FieldDef, _Owner]]] = {}
        for fld in sorted(snap.fields, key=lambda f: f.id):
            if not fld.custom or fld.archived:
                continue
            owner = resolver.owner(fld)
            if owner is None:
                continue
            state, _ = resolver.state(owner.id)
            if state in ("removed", "absent"):
                groups.setdefault((fld.tool, owner.id, state), []).append((fld, owner))
        unsure: dict[str, list[str]] = {}
        for (host, owner_id, state), members in sorted(groups.items()):
            recent = [f for f, _ in members if self._recent(ctx, f)]
            if state == "absent":
                if owner_id in resolver.integrated:
                    unsure.setdefault(owner_id, []).append(
                        f"{plural(len(members), 'field')} in {host} attributed to it not judged: enabled "
                        f"integrations ({', '.join(sorted(resolver.integrated[owner_id]))}) name {owner_id} although "
                        "it is not among the stack's tools"
                    )
                    continue
                if recent:
                    unsure.setdefault(owner_id, []).append(
                        f"{plural(len(members), 'field')} in {host} attributed to it not judged: "
                        f"{plural(len(recent), 'field')} still received values within {ctx.params.recent_value_days} "
                        f"days ({', '.join(f.id for f in recent[:3])}), so it may be in use without being declared"
                    )
                    continue
            _, tools = resolver.state(owner_id)
            links = sorted({i for t in {owner_id, *(t.id for t in tools)} for i in resolver.integrated.get(t, [])})
            yield self._finding(ctx, host, owner_id, state, tools, members, recent, links)
        for owner_id, reasons in sorted(unsure.items()):
            yield ctx.inconclusive(owner_id, "; ".join(reasons))

    def _recent(self, ctx: RuleContext[Params], fld: FieldDef) -> bool:
        newest = fld.fill.newest_value_at if fld.fill else None
        return newest is not None and days_since(ctx.now, newest) <= ctx.params.recent_value_days

    def _finding(
        self,
        ctx: RuleContext[Params],
        host: str,
        owner_id: str,
        state: str,
        tools: list[Tool],
        members: list[tuple[FieldDef, _Owner]],
        recent: list[FieldDef],
        integrations: list[str],
    ) -> Finding:
        snap = ctx.snapshot
        owner_name = tools[0].name if tools else members[0][1].name
        fields = [f for f, _ in members]
        ids = [f.id for f in fields]
        if state == "removed":
            status_line = f"{owner_name} ({', '.join(t.id for t in tools)}) is marked removed in the stack."
        else:
            status_line = (
                f"{owner_name} ({owner_id}) is known to the vendor catalogue but is not among the stack's "
                f"{plural(len(snap.tools), 'tool')}."
            )
        shown = ", ".join(ids[:15]) + (f" and {len(ids) - 15} more" if len(ids) > 15 else "")
        methods: dict[str, list[str]] = {}
        for f, o in members:
            methods.setdefault(o.how, []).append(f.id)
        how = "; ".join(f"{how} ({plural(len(fs), 'field')})" for how, fs in sorted(methods.items()))
        evidence = [
            status_line,
            f"{plural(len(ids), 'custom field')} in {host} {'belongs' if len(ids) == 1 else 'belong'} to it: {shown}.",
            f"How ownership was determined: {how}.",
        ]
        filled = [f for f in fields if f.fill is not None and f.fill.filled]
        if filled:
            fullest = max(filled, key=_rate)
            evidence.append(
                f"{plural(len(filled), 'field')} still {'holds' if len(filled) == 1 else 'hold'} data; the fullest, "
                f"{fullest.id}, is {lower_first(describe_fill(fullest) or 'filled')}."
            )
        referenced: list[str] = []
        for f in fields:
            use = field_use(snap, ctx.graph, f.id)
            if use.in_active_use:
                referenced.append(f.id)
                what = [*use.active_assets, *use.integrations]
                evidence.append(f"{f.id} is still used by {', '.join(what)}: remove that use first.")
        if integrations:
            evidence.append(f"Integrations not switched off still name it: {', '.join(integrations)}.")
        severity = None
        if state == "removed" and recent:
            newest = max(f.fill.newest_value_at for f in recent if f.fill and f.fill.newest_value_at)
            evidence.append(
                f"{plural(len(recent), 'field')} still received values within {ctx.params.recent_value_days} days "
                f"(newest {format_timestamp(newest)}): the package or integration is probably still running."
            )
            severity = Severity.medium
        not_checked = []
        if any(o.method == "name" for _, o in members):
            not_checked.append(
                "Ownership by field-name marker is an inference: a field an admin created with the same prefix "
                "would be attributed to the vendor too."
            )
        status, cov = best_coverage(snap, host, Capability.fields)
        if status is CoverageStatus.partial:
            not_checked.append(cannot_see(host, Capability.fields, status, cov))
        facts: dict[str, FactValue] = {
            "owner": owner_id,
            "owner_state": state,
            "host": host,
            "fields": len(ids),
            "methods": sorted({o.method for _, o in members}),
            "still_used": referenced,
            "recent_values": [f.id for f in recent],
            "integrations": integrations,
        }
        verb = "was removed from the stack" if state == "removed" else "is not in the stack"
        return ctx.finding(
            ids,
            f"{plural(len(ids), 'field')} in {host} {'belongs' if len(ids) == 1 else 'belong'} to {owner_name}, "
            f"which {verb}",
            evidence=evidence,
            facts=facts,
            not_checked=not_checked,
            severity=severity,
            tools=sorted({host, *(t.id for t in tools)}),
        )
