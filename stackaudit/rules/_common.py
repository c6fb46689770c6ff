"""Helpers shared by the built-in rules: what counts as active, coverage and what a source cannot see, money,
dates, the predicates two rules share (overlapping tools, seat use, evidence that a sync runs), and the walk over
field mappings that tells a field that is gone from one that no source read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from stackaudit_inventory.ids import parse_field_id
from stackaudit_inventory.models import (
    Capability,
    Coverage,
    CoverageStatus,
    FieldDef,
    FieldMapping,
    Integration,
    IntegrationStatus,
    Origin,
    Reference,
    RunStatus,
    Snapshot,
    SourceRun,
    Tool,
    ToolStatus,
)
from stackaudit_inventory.results import Inconclusive

from ..audit.rule import RuleContext
from ..graph import elapsed

__all__ = [
    "ACTIVE_TOOL_STATUSES",
    "OUTSIDE_SNAPSHOT",
    "FieldIndex",
    "FlowEvidence",
    "MappedPair",
    "annual_cost",
    "best_coverage",
    "blind_sources",
    "cannot_see",
    "capability_key",
    "days_since",
    "days_until",
    "flow_evidence",
    "format_duration",
    "format_money",
    "format_timestamp",
    "has_activity_evidence",
    "is_active_reference",
    "is_active_tool",
    "is_covered",
    "latest",
    "lifecycle_field_ids",
    "live_integrations",
    "mapped_pairs",
    "overlap_groups",
    "plural",
    "seat_utilisation",
    "sum_costs",
    "unread_fields_inconclusive",
]

# Tools in use: a trial costs attention and data even before it costs money.
ACTIVE_TOOL_STATUSES = frozenset({ToolStatus.active, ToolStatus.trial})

OUTSIDE_SNAPSHOT = (
    "Uses outside the connected tools (spreadsheets, BI exports, custom code calling the API) cannot be seen."
)


def is_active_tool(tool: Tool) -> bool:
    return tool.status in ACTIVE_TOOL_STATUSES


def capability_key(capability: str) -> str:
    """``"Email Marketing"``, ``email_marketing`` and ``email-marketing`` compare equal."""
    return "-".join(capability.strip().lower().replace("_", " ").replace("-", " ").split())


def is_active_reference(snapshot: Snapshot, ref: Reference) -> bool:
    """A reference counts unless its asset is known and inactive: an asset the snapshot does not describe may
    well be live, and a false "unused" costs more than a miss."""
    asset = snapshot.assets_by_id.get(ref.asset)
    return asset is None or asset.active


def lifecycle_field_ids(snapshot: Snapshot) -> set[str]:
    """Fields the declared lifecycle relies on (stage fields and stage mappings)."""
    lc = snapshot.lifecycle
    if lc is None:
        return set()
    return set(lc.stage_fields) | {m.field for m in lc.mappings}


# ------------------------------------------------------------------------------------------------ coverage

_RANK = {
    CoverageStatus.complete: 0,
    CoverageStatus.partial: 1,
    CoverageStatus.missing: 2,
    CoverageStatus.not_supported: 3,
}


def best_coverage(snapshot: Snapshot, tool: str, capability: Capability) -> tuple[CoverageStatus, Coverage | None]:
    """The best coverage of ``capability`` for ``tool`` from the tool's own runs or stack-wide runs (the
    manifest), with the :class:`Coverage` record that explains it (None when no source even tried)."""
    best: tuple[CoverageStatus, Coverage | None] = (CoverageStatus.not_supported, None)
    for run in snapshot.source_runs:
        if run.tool not in (tool, None):
            continue
        cov = run.coverage.get(capability)
        if cov is not None and _RANK[cov.status] < _RANK[best[0]]:
            best = (cov.status, cov)
    return best


def is_covered(status: CoverageStatus) -> bool:
    return status in (CoverageStatus.complete, CoverageStatus.partial)


def cannot_see(tool: str, capability: Capability, status: CoverageStatus, cov: Coverage | None) -> str:
    """One sentence saying what the sources could not see, e.g. ``hubspot references: partial coverage (reports
    are not covered by the dependency API)``."""
    what = f"{tool} {capability.value.replace('_', ' ')}"
    explain = "; ".join(x for x in (cov.reason if cov else None, cov.detail if cov else None) if x)
    if status is CoverageStatus.partial:
        head = f"{what}: partial coverage"
    elif status is CoverageStatus.missing:
        head = f"{what}: not read"
    else:
        head = f"{what}: no connected source provides it"
    return f"{head} ({explain})" if explain else head


# ------------------------------------------------------------------------------------------ money and dates


def annual_cost(tool: Tool) -> float | None:
    return tool.cost.annual if tool.cost is not None else None


def format_money(amount: float, currency: str = "USD") -> str:
    """``USD 12,000`` (whole units; cents add noise to a review)."""
    return f"{currency} {amount:,.0f}"


def sum_costs(tools: Iterable[Tool]) -> tuple[float | None, str | None, list[str]]:
    """Total annual cost of the tools that have one, its currency, and notes on what could not be added (unknown
    costs, other currencies). The total is None when no tool has a cost or currencies differ."""
    costed = [t for t in tools if t.cost is not None]
    unknown = [t for t in tools if t.cost is None]
    notes = [f"Cost of {t.name} ({t.id}) is not declared." for t in unknown]
    currencies = sorted({t.cost.currency for t in costed if t.cost is not None})
    if not costed:
        return None, None, notes
    if len(currencies) > 1:
        notes.append(f"Costs are in several currencies ({', '.join(currencies)}) and were not added up.")
        return None, None, notes
    return sum(t.cost.annual for t in costed if t.cost is not None), currencies[0], notes


def days_since(now: datetime, then: datetime) -> int:
    return elapsed(now, then).days


def days_until(now: datetime, day: date) -> int:
    return (day - now.date()).days


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# -------------------------------------------------------------------------------------- shared predicates


def overlap_groups(snapshot: Snapshot, ignore: Iterable[str] = ()) -> dict[str, list[Tool]]:
    """Active tools grouped by primary capability, keeping only capabilities held by two or more tools."""
    skip = {capability_key(c) for c in ignore}
    groups: dict[str, list[Tool]] = {}
    for tool in snapshot.tools:
        cap = tool.primary_capability
        if cap and is_active_tool(tool) and capability_key(cap) not in skip:
            groups.setdefault(capability_key(cap), []).append(tool)
    return {cap: sorted(ts, key=lambda t: t.id) for cap, ts in sorted(groups.items()) if len(ts) > 1}


def seat_utilisation(tool: Tool) -> float | None:
    """Seats used / bought, or None when either figure is unknown or nothing was bought."""
    seats = tool.seats
    if seats is None or seats.bought is None or seats.used is None or seats.bought == 0:
        return None
    return seats.used / seats.bought


def format_duration(td: timedelta) -> str:
    """Coarse human duration: ``40 minutes``, ``5 hours``, ``12 days``."""
    minutes = int(td.total_seconds() // 60)
    if minutes < 120:
        return plural(minutes, "minute")
    if minutes < 48 * 60:
        return plural(minutes // 60, "hour")
    return plural(minutes // (24 * 60), "day")


def latest(*stamps: datetime | None) -> datetime | None:
    """The newest of the known timestamps (naive ones read as UTC, so mixed sources compare), or None."""
    known = [t for t in stamps if t is not None]
    return max(known, key=lambda t: t if t.tzinfo is not None else t.replace(tzinfo=UTC)) if known else None


def format_timestamp(ts: datetime) -> str:
    """``2025-05-01 08:00 UTC`` (naive datetimes are read as UTC, like everywhere else)."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%d %H:%M UTC")


# ------------------------------------------------------------------------------------------ sync evidence


def has_activity_evidence(integration: Integration) -> bool:
    """True when anything shows the integration doing something: a sync attempt or success, run counts, or a
    status a source (or someone reading the middleware's history) reported. An integration without any of these is
    BS009's "no evidence of activity"; the rules that judge health (BS001, BS002) leave it to BS009 rather than
    each reporting themselves inconclusive for it."""
    return (
        integration.last_sync_at is not None
        or integration.last_success_at is not None
        or integration.success_count is not None
        or integration.error_count is not None
        or integration.status in (IntegrationStatus.active, IntegrationStatus.error)
    )


@dataclass(frozen=True)
class FlowEvidence:
    """Discovered integrations that are evidence of a declared flow rather than flows of their own.

    A connector sometimes sees a flow only from one side: Salesforce lists the OAuth tokens of connected apps
    (``zoominfo->salesforce:connected-app``), which show that the app's credentials are in use, not which records
    synced or failed. Such a record (discovered, no field mappings) evidences every declared integration between
    the same two tools, or whose middleware is the record's source (``hightouch->salesforce:connected-app`` for
    ``snowflake->salesforce`` via Hightouch). The sync rules judge the flow under the declared id and read the
    record as its evidence, so one flow is not judged twice."""

    # Declared integration id -> the evidence records of its flow.
    siblings: dict[str, list[Integration]]
    # Evidence record id -> the declared integrations it evidences.
    evidence_of: dict[str, list[str]]

    def active_siblings(self, integration_id: str) -> list[Integration]:
        """The evidence records of a declared flow that show activity themselves."""
        return [s for s in self.siblings.get(integration_id, []) if has_activity_evidence(s)]


def _evidences(record: Integration, flow: Integration) -> bool:
    if record.id == flow.id or record.mappings or record.origin is not Origin.discovered:
        return False
    if flow.origin is Origin.discovered:
        return False
    ends = (record.source, record.target)
    if ends == (flow.source, flow.target) or (flow.via is not None and ends == (flow.via, flow.target)):
        return True
    return flow.direction == "two-way" and ends == (flow.target, flow.source)


def flow_evidence(snapshot: Snapshot) -> FlowEvidence:
    """Which discovered integrations are evidence of which declared flows (see :class:`FlowEvidence`). Disabled
    integrations take no part: a switched-off record evidences nothing, and a disabled flow is BS010's."""
    live = live_integrations(snapshot)
    siblings: dict[str, list[Integration]] = {}
    evidence_of: dict[str, list[str]] = {}
    for flow in live:
        for record in live:
            if _evidences(record, flow):
                siblings.setdefault(flow.id, []).append(record)
                evidence_of.setdefault(record.id, []).append(flow.id)
    return FlowEvidence(siblings, evidence_of)


def blind_sources(snapshot: Snapshot, capability: Capability) -> list[tuple[SourceRun, str]]:
    """Connector runs (not the manifest) that could not report ``capability``: failed runs, and runs that record it
    as ``missing``. Each with one sentence saying why, for a rule's inconclusive check."""
    out = []
    for run in sorted(snapshot.source_runs, key=lambda r: r.id):
        if run.connector_type == "manifest":
            continue
        if run.status is RunStatus.failed:
            why = run.errors[0].message if run.errors else "no detail recorded"
            out.append((run, f"the {run.id} connector failed ({why})"))
        elif run.covers(capability) is CoverageStatus.missing:
            cov = run.coverage[capability]
            out.append((run, cannot_see(run.tool or run.id, capability, CoverageStatus.missing, cov)))
    return out


# ------------------------------------------------------------------------------------------ field mappings


class FieldIndex:
    """Answers "does this field exist?" without confusing "absent" with "never read".

    A field absent from the snapshot is known to be absent only when some source read its tool's fields: fully,
    or partially with the field's object among those read. Otherwise it is unknown, never missing."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._objects = {f.object_id for f in snapshot.fields} | set(snapshot.objects_by_id)

    def get(self, field_id: str) -> FieldDef | None:
        return self.snapshot.fields_by_id.get(field_id)

    def absence_known(self, field_id: str) -> bool:
        """True when ``field_id`` is not in the snapshot and a source that read its tool's fields would have seen it."""
        if field_id in self.snapshot.fields_by_id:
            return False
        try:
            ref = parse_field_id(field_id)
        except ValueError:
            return False
        status = self.snapshot.coverage_for(ref.tool, Capability.fields)
        if status is CoverageStatus.complete:
            return True
        return status is CoverageStatus.partial and f"{ref.tool}:{ref.object}" in self._objects

    def similar(self, field_id: str) -> str | None:
        """A field of the same object whose API name is close to ``field_id``'s (a rename), or None."""
        from rapidfuzz import fuzz, process

        try:
            ref = parse_field_id(field_id)
        except ValueError:
            return None
        candidates = {
            f.id: f.name
            for f in self.snapshot.fields
            if f.tool == ref.tool and f.object == ref.object and not f.archived
        }
        match = process.extractOne(ref.field, candidates, scorer=fuzz.WRatio, score_cutoff=85)
        return str(match[2]) if match else None


@dataclass(frozen=True)
class MappedPair:
    """One field mapping of a live integration with both ends in the snapshot."""

    integration: Integration
    mapping: FieldMapping
    source: FieldDef
    target: FieldDef

    def directions(self) -> list[tuple[FieldDef, FieldDef]]:
        """``(from, to)`` for each way values travel: forward, plus back for a ``both`` mapping."""
        out = [(self.source, self.target)]
        if self.mapping.direction == "both":
            out.append((self.target, self.source))
        return out


def live_integrations(snapshot: Snapshot) -> list[Integration]:
    """Integrations not switched off, sorted by id (disabled ones are BS010's)."""
    return sorted((i for i in snapshot.integrations if i.status is not IntegrationStatus.disabled), key=lambda i: i.id)


def mapped_pairs(snapshot: Snapshot) -> tuple[list[MappedPair], dict[str, set[str]]]:
    """The mappings of live integrations whose two ends are both in the snapshot, and, per tool, the mapped field
    ids that cannot be checked because no source read that tool's fields. Ends known to be gone are left out of
    both: they are BS003's finding."""
    index = FieldIndex(snapshot)
    pairs: list[MappedPair] = []
    unread: dict[str, set[str]] = {}
    for integ in live_integrations(snapshot):
        for m in integ.mappings:
            ends = {fid: index.get(fid) for fid in (m.source, m.target)}
            for fid, fld in ends.items():
                if fld is None and not index.absence_known(fid):
                    unread.setdefault(fid.split(":", 1)[0], set()).add(fid)
            src, tgt = ends[m.source], ends[m.target]
            if src is not None and tgt is not None:
                pairs.append(MappedPair(integ, m, src, tgt))
    return pairs, unread


def unread_fields_inconclusive(ctx: RuleContext[Any], unread: dict[str, set[str]]) -> Iterator[Inconclusive]:
    """One inconclusive check per tool whose mapped fields no source read (see :func:`mapped_pairs`)."""
    for tool, fields in sorted(unread.items()):
        why = cannot_see(tool, Capability.fields, *best_coverage(ctx.snapshot, tool, Capability.fields))
        sample = ", ".join(sorted(fields)[:3])
        yield ctx.inconclusive(tool, f"{why}: {plural(len(fields), 'mapped field')} cannot be checked (e.g. {sample})")
