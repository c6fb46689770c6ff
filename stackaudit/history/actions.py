"""The review's short list: one recommended action per open finding that calls for one, as CSV.

Which findings become actions (the quarterly review's list, see DOMAIN.md):

===========================================  ====================
rules                                        action
===========================================  ====================
OF* (orphaned fields)                        archive field
DF* (duplicate fields)                       merge fields
BS* (broken syncs)                           fix sync
RT*, UT001, UT003 (overlap, unused, notice)  cancel tool
UT002 (unused seats)                         downsize tool
LC* (lifecycle drift)                        align definition
===========================================  ====================

Hygiene findings (no owner, no description, quota) and waiver housekeeping stay in findings.json: they are
chores, not decisions for the review. Waived and baselined findings are not actions.

Tool actions carry the money at stake as the estimated saving and the tool's notice date (else its renewal)
as the date to act by; they come first, soonest due first. Findings asking for the same action on the same
subject (a notice date and a suite covering the same tool) make one row listing every fingerprint
(``;``-separated). Every text cell is neutralised against spreadsheet formula injection (a leading ``'`` before
``=``, ``+``, ``-``, ``@``, tab or carriage return).
"""

from __future__ import annotations

import csv
import io
from datetime import date

from stackaudit_inventory import AuditResult, Finding, FindingStatus, Snapshot, Tool
from stackaudit_inventory.ids import tool_of
from stackaudit_reports.exports import csv_cell

from .model import Action, ActionKind

__all__ = ["ACTION_COLUMNS", "action_kind", "actions_csv", "build_actions"]

ACTION_COLUMNS = ("action", "subject", "tool", "owner", "evidence", "estimated_saving", "due", "finding fingerprint")
_TOOL_ACTIONS = ("cancel tool", "downsize tool")
_EVIDENCE_SENTENCES = 2


def action_kind(rule: str) -> ActionKind | None:
    """The action a finding of ``rule`` calls for, or None when it is not a review decision."""
    if rule.startswith("OF"):
        return "archive field"
    if rule.startswith("DF"):
        return "merge fields"
    if rule.startswith("BS"):
        return "fix sync"
    if rule.startswith("RT") or rule in ("UT001", "UT003"):
        return "cancel tool"
    if rule == "UT002":
        return "downsize tool"
    if rule.startswith("LC"):
        return "align definition"
    return None


def _due(tool: Tool | None) -> date | None:
    if tool is None or tool.contract is None:
        return None
    return tool.contract.notice_date or tool.contract.renewal


def _candidates(f: Finding, snapshot: Snapshot) -> list[str]:
    """The tools to cancel: for an overlap, every tool but the one the rule suggests keeping."""
    tools = [s for s in f.subjects if s in snapshot.tools_by_id]
    keep = f.facts.get("keep_candidate")
    rest = [t for t in tools if t != keep]
    return rest or tools


def _action(f: Finding, kind: ActionKind, snapshot: Snapshot) -> Action:
    evidence = " ".join(f.evidence[:_EVIDENCE_SENTENCES]) or f.title
    if kind in _TOOL_ACTIONS:
        names = _candidates(f, snapshot) or list(f.subjects)
        tools = [snapshot.tools_by_id.get(t) for t in names]
        dues = sorted(d for d in (_due(t) for t in tools) if d is not None)
        owners = list(dict.fromkeys(t.owner for t in tools if t is not None and t.owner))
        return Action(
            action=kind,
            subject=" or ".join(names),
            tool=names[0] if names else None,
            owner="; ".join(owners) or None,
            evidence=evidence,
            estimated_saving=f.cost_at_stake,
            due=dues[0] if dues else None,
            fingerprints=[f.fingerprint],
            rules=[f.rule],
            severity=f.severity,
        )
    subject = f.subjects[0] if f.subjects else f.title
    if len(f.subjects) > 1:
        subject = " + ".join(f.subjects) if kind == "merge fields" else f"{subject} (+{len(f.subjects) - 1} more)"
    tool_id = tool_of(f.subjects[0]) if f.subjects else None
    tool = snapshot.tools_by_id.get(tool_id) if tool_id else None
    return Action(
        action=kind,
        subject=subject,
        # A subject outside any tool (the lifecycle definition) names the tools the finding is about.
        tool=tool_id if tool is not None else ("; ".join(f.tools) or None),
        owner=tool.owner if tool is not None else None,
        evidence=evidence,
        estimated_saving=None,
        due=None,
        fingerprints=[f.fingerprint],
        rules=[f.rule],
        severity=f.severity,
    )


def _merge(actions: list[Action]) -> Action:
    """One action from several findings asking for it: the worst finding's evidence first, the soonest date,
    the largest saving (savings of the same tool are not added up)."""
    first = actions[0]
    if len(actions) == 1:
        return first
    others = [a for a in actions[1:] if a.evidence != first.evidence]
    also = " Also: " + " ".join(a.evidence for a in others) if others else ""
    dues = [a.due for a in actions if a.due is not None]
    savings = [a.estimated_saving for a in actions if a.estimated_saving is not None]
    return first.model_copy(
        update={
            "evidence": first.evidence + also,
            "due": min(dues) if dues else None,
            "estimated_saving": max(savings) if savings else None,
            "fingerprints": [fp for a in actions for fp in a.fingerprints],
            "rules": list(dict.fromkeys(r for a in actions for r in a.rules)),
        }
    )


def build_actions(snapshot: Snapshot, result: AuditResult) -> list[Action]:
    """One action per decision the open findings call for (findings asking for the same action on the same
    subject are merged): tool actions first (soonest due, biggest saving), then syncs to fix, fields to merge
    and archive, definitions to align; worst severity first within each."""
    findings = sorted(
        (f for f in result.findings if f.status is FindingStatus.open and action_kind(f.rule) is not None),
        key=lambda f: (-f.severity.rank, f.rule, f.fingerprint),
    )
    grouped: dict[tuple[str, str], list[Action]] = {}
    for f in findings:
        kind = action_kind(f.rule)
        if kind is not None:
            action = _action(f, kind, snapshot)
            grouped.setdefault((action.action, action.subject), []).append(action)
    actions = [_merge(group) for group in grouped.values()]
    order = {k: i for i, k in enumerate(("cancel tool", "downsize tool", "fix sync", "merge fields"))}

    def key(a: Action) -> tuple[int, date, float, int, str]:
        return (
            order.get(a.action, len(order)),
            a.due or date.max,
            -(a.estimated_saving or 0.0),
            -a.severity.rank,
            a.subject,
        )

    return sorted(actions, key=key)


def actions_csv(actions: list[Action]) -> str:
    """``actions.csv``: RFC 4180 with CRLF line ends; text cells neutralised, the saving left a plain number."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(ACTION_COLUMNS)
    for a in actions:
        writer.writerow(
            [
                csv_cell(a.action),
                csv_cell(a.subject),
                csv_cell(a.tool or ""),
                csv_cell(a.owner or ""),
                csv_cell(a.evidence),
                "" if a.estimated_saving is None else f"{a.estimated_saving:.2f}",
                a.due.isoformat() if a.due else "",
                csv_cell(";".join(a.fingerprints)),
            ]
        )
    return out.getvalue()
