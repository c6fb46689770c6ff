"""What two snapshots both saw: the rule that keeps a failed connector from looking like a removed tool.

An item present in one snapshot and absent from the other is a change only when the snapshot without it read
that part of the stack completely. Which part is "that part" depends on the item:

- objects, fields and fill rates: the source runs describing the item's tool (``SourceRun.tool``), capability
  ``fields`` or ``fill_rates``;
- references: the runs describing the tool of the asset that reads or writes the field (``references``);
- tools and integrations: the runs that supplied the item (``discovered_by`` / ``evidence_sources``, plus the
  stack-wide sources such as the manifest for what the team declared), capability ``tools`` or
  ``integrations``; every one of them must have read it completely in the other snapshot.

Everything else is recorded as *skipped* under the source that could not see it, and the diff lists those
parts as not comparable, with the coverage on both sides and the reason the connector gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from stackaudit_inventory import Capability, CoverageStatus, Integration, Origin, RunStatus, Snapshot, SourceRun, Tool

from .model import NotComparable

__all__ = ["Comparison", "Side", "SideIndex", "run_coverage", "unseen_reason"]

Side = Literal["old", "new"]
NOT_PULLED = "not_pulled"
_RANK = {
    CoverageStatus.complete.value: 0,
    CoverageStatus.partial.value: 1,
    CoverageStatus.missing.value: 2,
    CoverageStatus.not_supported.value: 3,
    NOT_PULLED: 4,
}
# The capabilities the diff depends on; a change of coverage in any of them is worth a line.
DIFF_CAPABILITIES = (
    Capability.tools,
    Capability.fields,
    Capability.fill_rates,
    Capability.references,
    Capability.integrations,
    Capability.sync_health,
)
_EXAMPLES = 5
_UNREAD = {CoverageStatus.missing.value, CoverageStatus.not_supported.value, NOT_PULLED}


def run_coverage(run: SourceRun, capability: Capability) -> str:
    """The run's coverage of ``capability``; a failed run that recorded none saw nothing (``missing``)."""
    cov = run.coverage.get(capability)
    if cov is not None:
        return cov.status.value
    return CoverageStatus.missing.value if run.status is RunStatus.failed else CoverageStatus.not_supported.value


def _reason(run: SourceRun | None, capability: Capability) -> str:
    if run is None:
        return "source not pulled"
    cov = run.coverage.get(capability)
    if cov is not None and cov.reason and cov.status is not CoverageStatus.complete:
        return cov.reason + (f" ({cov.detail})" if cov.detail else "")
    if run.errors:
        return run.errors[0].message
    if run.status is not RunStatus.complete:
        return f"{run.id} run {run.status.value}"
    return "not read by this source"


class SideIndex:
    """One snapshot's source runs, indexed for the per-item questions the diff asks."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.runs: dict[str, SourceRun] = {r.id: r for r in snapshot.source_runs}
        self.by_tool: dict[str, list[SourceRun]] = {}
        for run in snapshot.source_runs:
            if run.tool is not None:
                self.by_tool.setdefault(run.tool, []).append(run)
        self.stack_wide = [r.id for r in snapshot.source_runs if r.tool is None]
        self._tool_cache: dict[tuple[str, Capability], tuple[str, str, str]] = {}

    def tool_status(self, tool: str, capability: Capability) -> tuple[str, str, str]:
        """(best coverage, source id, reason) for ``capability`` of ``tool`` among the runs describing it."""
        key = (tool, capability)
        hit = self._tool_cache.get(key)
        if hit is None:
            runs = self.by_tool.get(tool, [])
            if not runs:
                hit = (NOT_PULLED, tool, "no source read this tool")
            else:
                best = min(runs, key=lambda r: _RANK[run_coverage(r, capability)])
                hit = (run_coverage(best, capability), best.id, _reason(best, capability))
            self._tool_cache[key] = hit
        return hit

    def source_status(self, source: str, capability: Capability) -> tuple[str, str]:
        run = self.runs.get(source)
        if run is None:
            return NOT_PULLED, "source not pulled"
        return run_coverage(run, capability), _reason(run, capability)

    def providers(self, item: Tool | Integration) -> list[str]:
        """The sources that supplied a tool or an integration in this snapshot."""
        ids = list(item.discovered_by if isinstance(item, Tool) else item.evidence_sources)
        if item.origin is not Origin.discovered or not ids:
            ids += [s for s in self.stack_wide if s not in ids]
        return ids


def unseen_reason(old: SideIndex, new: SideIndex, subject: str) -> str | None:
    """Why ``subject`` (a field, object, tool or integration of the old snapshot) may be missing from the new one
    only because no source read it there; None when it is there, or when its absence is real."""
    after, before = new.snapshot, old.snapshot
    if any(subject in index for index in (after.fields_by_id, after.objects_by_id, after.tools_by_id)):
        return None
    if subject in after.integrations_by_id:
        return None
    item = before.fields_by_id.get(subject) or before.objects_by_id.get(subject)
    if item is not None:
        status, source, reason = new.tool_status(item.tool, Capability.fields)
        if status == CoverageStatus.complete.value:
            return None
        return f"{source} did not read {item.tool}'s fields completely ({reason})"
    owner: Tool | Integration | None = before.tools_by_id.get(subject) or before.integrations_by_id.get(subject)
    if owner is None:
        return None
    capability = Capability.tools if isinstance(owner, Tool) else Capability.integrations
    for source in old.providers(owner):
        status, reason = new.source_status(source, capability)
        if status != CoverageStatus.complete.value:
            return f"{source} did not read {capability.value} completely ({reason})"
    return None


@dataclass
class _Skipped:
    count: int = 0
    examples: list[str] = field(default_factory=list)


class Comparison:
    """The two sides of a diff, and the record of what could not be compared."""

    def __init__(self, old: Snapshot, new: Snapshot) -> None:
        self.old = SideIndex(old)
        self.new = SideIndex(new)
        self._skipped: dict[tuple[str, str], _Skipped] = {}
        self._tools: dict[str, str | None] = {}

    def side(self, side: Side) -> SideIndex:
        return self.old if side == "old" else self.new

    def _skip(self, source: str, tool: str | None, capability: Capability, item_id: str) -> None:
        entry = self._skipped.setdefault((source, capability.value), _Skipped())
        entry.count += 1
        if len(entry.examples) < _EXAMPLES:
            entry.examples.append(item_id)
        self._tools.setdefault(source, tool)

    def tool_seen(self, side: Side, tool: str, capability: Capability, item_id: str) -> bool:
        """True when ``side`` read ``capability`` of ``tool`` completely; otherwise records ``item_id`` as skipped."""
        status, source, _ = self.side(side).tool_status(tool, capability)
        if status == CoverageStatus.complete.value:
            return True
        self._skip(source, tool, capability, item_id)
        return False

    def providers_seen(self, side: Side, providers: Iterable[str], capability: Capability, item_id: str) -> bool:
        """True when every source in ``providers`` read ``capability`` completely on ``side``."""
        index = self.side(side)
        for source in providers:
            status, _ = index.source_status(source, capability)
            if status != CoverageStatus.complete.value:
                run = index.runs.get(source) or self.old.runs.get(source) or self.new.runs.get(source)
                self._skip(source, run.tool if run else None, capability, item_id)
                return False
        return True

    def skip_tool(self, tool: str, capability: Capability, item_id: str, side: Side) -> None:
        """Record an item of ``tool`` left out for ``capability`` (e.g. a fill rate measured on one side only)."""
        _, source, _ = self.side(side).tool_status(tool, capability)
        self._skip(source, tool, capability, item_id)

    def not_comparable(self) -> list[NotComparable]:
        """Every (source, capability) whose coverage differs between the snapshots or that skipped items."""
        sources = dict.fromkeys([*self.old.runs, *self.new.runs])
        keys: dict[tuple[str, str], None] = {}
        for source in sources:
            for cap in DIFF_CAPABILITIES:
                old, _ = self.old.source_status(source, cap)
                new, _ = self.new.source_status(source, cap)
                # Nothing was read on either side (e.g. a failed run's unlisted capabilities): nothing lost.
                if old != new and not {old, new} <= _UNREAD:
                    keys[(source, cap.value)] = None
        keys.update(dict.fromkeys(self._skipped))
        out = []
        for source, cap_name in keys:
            cap = Capability(cap_name)
            old, old_reason = self._status(self.old, source, cap)
            new, new_reason = self._status(self.new, source, cap)
            reason = new_reason if _RANK[new] >= _RANK[old] else old_reason
            skipped = self._skipped.get((source, cap_name), _Skipped())
            run = self.new.runs.get(source) or self.old.runs.get(source)
            tool = run.tool if run is not None else self._tools.get(source)
            out.append(
                NotComparable(
                    source=source,
                    tool=tool,
                    capability=cap_name,
                    old=old,
                    new=new,
                    reason=reason,
                    skipped=skipped.count,
                    examples=skipped.examples,
                )
            )
        return sorted(out, key=lambda n: (n.source, DIFF_CAPABILITIES.index(Capability(n.capability))))

    @staticmethod
    def _status(index: SideIndex, source: str, cap: Capability) -> tuple[str, str]:
        if source in index.runs:
            return index.source_status(source, cap)
        status, _, reason = index.tool_status(source, cap)
        return status, reason
