"""Findings delta: two audits compared by fingerprint, with the date each open finding was first seen.

Fingerprints depend on the rule and the subjects' ids only, so the same problem keeps its fingerprint across
snapshots however its title or figures change. A finding that is no longer reported counts as resolved only
when the newer audit re-checked it (its rule ran, and was not inconclusive for its subject); otherwise it is
``unconfirmed``, because a connector that failed must not look like a problem fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from stackaudit_inventory import AuditResult, Finding, FindingStatus, Snapshot, WaiverRef
from stackaudit_inventory.ids import tool_of

from .audits import AuditHistory
from .coverage import SideIndex, unseen_reason
from .model import DeltaFinding, FindingsDelta

__all__ = ["delta_between", "findings_delta", "first_seen_index"]


def first_seen_index(
    history: AuditHistory, upto: datetime, extra: Iterable[tuple[datetime, AuditResult]] = ()
) -> dict[str, datetime]:
    """Fingerprint -> ``taken_at`` of the first snapshot (up to ``upto``) whose audit reported it.

    Walks every stored snapshot oldest first, using its stored result or auditing it (see
    :class:`AuditHistory`); ``extra`` adds results not in the store yet (a fresh audit).
    """
    seen: dict[str, datetime] = {}
    timeline: list[tuple[datetime, AuditResult]] = [(e.taken_at, history.result(e)[0]) for e in history.up_to(upto)]
    timeline += [(t, r) for t, r in extra if t <= upto]
    for taken_at, result in sorted(timeline, key=lambda pair: pair[0]):
        for f in result.findings:
            if f.fingerprint not in seen or taken_at < seen[f.fingerprint]:
                seen[f.fingerprint] = taken_at
    return seen


def _entry(
    f: Finding,
    now: datetime,
    first_seen: Mapping[str, datetime],
    *,
    waiver: WaiverRef | None = None,
    reason: str | None = None,
) -> DeltaFinding:
    first = first_seen.get(f.fingerprint)
    return DeltaFinding(
        fingerprint=f.fingerprint,
        rule=f.rule,
        category=f.category,
        severity=f.severity,
        title=f.title,
        subjects=list(f.subjects),
        status=f.status,
        first_seen=first,
        age_days=(now - first).days if first is not None else None,
        waiver=waiver if waiver is not None else f.waiver,
        cost_at_stake=f.cost_at_stake,
        reason=reason,
    )


def _not_rechecked(f: Finding, new: AuditResult, sides: tuple[SideIndex, SideIndex] | None) -> str | None:
    """Why the newer audit could not have reported ``f`` again, or None when it did check it."""
    info = {r.id: r for r in new.rules}
    rule = info.get(f.rule)
    if rule is None:
        return f"rule {f.rule} is not installed in the newer audit"
    if not rule.enabled:
        return f"rule {f.rule} is switched off in the newer audit"
    reasons = {(i.rule, i.subject): i.reason for i in new.inconclusive if i.rule == f.rule}
    for key in ("*", *f.subjects, *(tool_of(s) for s in f.subjects)):
        if (f.rule, key) in reasons:
            return f"{f.rule} was inconclusive for {key}: {reasons[(f.rule, key)]}"
    if sides is not None:
        for subject in f.subjects:
            unseen = unseen_reason(sides[0], sides[1], subject)
            if unseen is not None:
                return f"{subject} was not read in the newer snapshot: {unseen}"
    return None


def _order(items: list[DeltaFinding]) -> list[DeltaFinding]:
    return sorted(items, key=lambda d: (-d.severity.rank, d.rule, d.subjects))


def findings_delta(
    old: AuditResult,
    new: AuditResult,
    *,
    old_taken_at: datetime,
    new_taken_at: datetime,
    first_seen: Mapping[str, datetime] | None = None,
    snapshots: tuple[Snapshot, Snapshot] | None = None,
) -> FindingsDelta:
    """Compare two audits by fingerprint (see :class:`~stackaudit.history.model.FindingsDelta`).

    ``first_seen`` maps fingerprints to the first time they were reported (:func:`first_seen_index`); without it,
    the older audit is the earliest evidence. ``snapshots`` (old, new) lets a finding whose subject vanished
    because its connector failed count as unconfirmed rather than resolved.
    """
    sides = (SideIndex(snapshots[0]), SideIndex(snapshots[1])) if snapshots is not None else None
    seen = dict(first_seen or {})
    for f in old.findings:
        seen.setdefault(f.fingerprint, old_taken_at)
    for f in new.findings:
        seen.setdefault(f.fingerprint, new_taken_at)
    old_by = {f.fingerprint: f for f in old.findings}
    new_by = {f.fingerprint: f for f in new.findings}
    out: dict[str, list[DeltaFinding]] = {
        k: [] for k in ("new", "returned", "resolved", "unconfirmed", "persisting", "waived_since", "waivers_expired")
    }
    waived = FindingStatus.waived
    for fp, f in new_by.items():
        before = old_by.get(fp)
        if before is None:
            key = "returned" if seen[fp] < old_taken_at else "new"
            out[key].append(_entry(f, new_taken_at, seen))
        elif before.status is not waived and f.status is waived:
            out["waived_since"].append(_entry(f, new_taken_at, seen))
        elif before.status is waived and f.status is not waived:
            out["waivers_expired"].append(_entry(f, new_taken_at, seen, waiver=before.waiver))
        else:
            out["persisting"].append(_entry(f, new_taken_at, seen))
    for fp, f in old_by.items():
        if fp in new_by:
            continue
        reason = _not_rechecked(f, new, sides)
        key = "resolved" if reason is None else "unconfirmed"
        out[key].append(_entry(f, new_taken_at, seen, reason=reason))
    persisting = sorted(out["persisting"], key=lambda d: (d.first_seen or new_taken_at, -d.severity.rank, d.rule))
    return FindingsDelta(
        old_snapshot_id=old.snapshot_id,
        new_snapshot_id=new.snapshot_id,
        old_taken_at=old_taken_at,
        new_taken_at=new_taken_at,
        new=_order(out["new"]),
        returned=_order(out["returned"]),
        resolved=_order(out["resolved"]),
        unconfirmed=_order(out["unconfirmed"]),
        persisting=persisting,
        waived_since=_order(out["waived_since"]),
        waivers_expired=_order(out["waivers_expired"]),
    )


def delta_between(
    history: AuditHistory,
    old_snapshot_id: str,
    new_snapshot: Snapshot,
    new_result: AuditResult,
    old_snapshot: Snapshot | None = None,
) -> FindingsDelta:
    """The delta from a stored snapshot's audit to ``new_result`` (the audit of ``new_snapshot``), with
    first-seen dates from the whole store."""
    old_entry = history.entry(old_snapshot_id)
    old = old_snapshot if old_snapshot is not None else history.load(old_entry)
    old_result, _ = history.result(old_entry, old)
    history.put(new_result)
    taken_at = new_snapshot.taken_at
    seen = first_seen_index(history, taken_at, extra=[(taken_at, new_result)])
    return findings_delta(
        old_result,
        new_result,
        old_taken_at=old_entry.taken_at,
        new_taken_at=taken_at,
        first_seen=seen,
        snapshots=(old, new_snapshot),
    )
