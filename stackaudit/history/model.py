"""The history artifacts: a snapshot diff, a findings delta, a trend point and a recommended action.

Plain pydantic models so every one of them serialises to JSON as it is (``--format json``) and validates back.
They hold ids and figures only, never a record value, like the snapshots they are computed from.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stackaudit_inventory import Category, FindingStatus, Severity, WaiverRef

__all__ = [
    "PARTS",
    "Action",
    "AttrChange",
    "Change",
    "DeltaFinding",
    "DiffItem",
    "FindingsDelta",
    "NotComparable",
    "Part",
    "SnapshotDiff",
    "StackTotals",
    "TrendPoint",
]

Part = Literal["tools", "objects", "fields", "fill_rates", "integrations", "references"]
PARTS: tuple[Part, ...] = ("tools", "objects", "fields", "fill_rates", "integrations", "references")

Scalar = str | int | float | bool | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Change(enum.StrEnum):
    added = "added"
    removed = "removed"
    changed = "changed"


class AttrChange(_Model):
    """One attribute that differs: ``old`` -> ``new``, or for lists (picklist options, mappings) what was added
    and removed."""

    name: str
    old: Scalar = None
    new: Scalar = None
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unit: str | None = Field(default=None, description="Currency of money values (`annual_cost`).")


class DiffItem(_Model):
    """One thing that was added, removed or changed between two snapshots."""

    part: Part
    change: Change
    id: str = Field(description="Tool, object, field or integration id; for references the field id.")
    tool: str = Field(description="The tool the item belongs to (for references: the tool of the asset).")
    label: str | None = Field(default=None, description="A name people know it by (tool name, field label).")
    attrs: list[AttrChange] = Field(default_factory=list, description="What changed, for `changed` items.")
    asset: str | None = Field(default=None, description="For references: the asset that reads or writes the field.")
    mode: Literal["read", "write"] | None = Field(default=None, description="For references: read or write.")


class NotComparable(_Model):
    """A part of the stack the two snapshots did not both read completely, so its differences are not changes.

    ``skipped`` counts the items that appeared or disappeared there and were therefore left out of the diff:
    an item missing because a connector failed is never reported as removed.
    """

    source: str = Field(description="The source run id (a tool's connector, or `manifest`).")
    tool: str | None = Field(default=None, description="The tool the source reads, if one.")
    capability: str
    old: str = Field(description="Coverage in the older snapshot: complete, partial, missing, not_supported.")
    new: str = Field(description="Coverage in the newer snapshot.")
    reason: str
    skipped: int = Field(default=0, ge=0)
    examples: list[str] = Field(default_factory=list, description="A few of the skipped items' ids.")


class StackTotals(_Model):
    """Headline counts of one snapshot, for the diff's summary line."""

    tools: int
    fields: int
    custom_fields: int
    integrations: int
    annual_spend: float
    currency: str


class SnapshotDiff(_Model):
    old_snapshot_id: str
    new_snapshot_id: str
    old_taken_at: datetime
    new_taken_at: datetime
    stack: str
    fill_threshold: float
    old_totals: StackTotals
    new_totals: StackTotals
    items: list[DiffItem] = Field(default_factory=list)
    not_comparable: list[NotComparable] = Field(default_factory=list)

    def part(self, part: Part, change: Change | None = None) -> list[DiffItem]:
        return [i for i in self.items if i.part == part and (change is None or i.change is change)]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{part: {added: n, removed: n, changed: n}}`` for every part."""
        out: dict[str, dict[str, int]] = {p: {c.value: 0 for c in Change} for p in PARTS}
        for item in self.items:
            out[item.part][item.change.value] += 1
        return out


# ---------------------------------------------------------------------------------------------- delta


class DeltaFinding(_Model):
    fingerprint: str
    rule: str
    category: Category
    severity: Severity
    title: str
    subjects: list[str]
    status: FindingStatus = Field(description="Status in the newer audit (in the older one for resolved findings).")
    first_seen: datetime | None = Field(default=None, description="Taken-at of the first snapshot reporting it.")
    age_days: int | None = Field(default=None, description="Days from first seen to the newer snapshot.")
    waiver: WaiverRef | None = Field(
        default=None, description="The new waiver (waived since) or the one that lapsed (waiver expired)."
    )
    cost_at_stake: float | None = None
    reason: str | None = Field(default=None, description="For unconfirmed findings: why it could not be re-checked.")


class FindingsDelta(_Model):
    """Two audits compared by finding fingerprint.

    - ``new``: reported now and never before; ``returned``: reported now, not in the older audit, but seen
      earlier still (fixed and broken again, or hidden by a partial snapshot);
    - ``resolved``: reported before, and re-checked and clean now;
    - ``unconfirmed``: reported before, not now, but the newer audit could not re-check it (the rule did not
      run or was inconclusive, or the subject's source did not read it), so it is not counted as resolved;
    - ``persisting``: in both, with the date it was first seen and its age;
    - ``waived_since``: not waived before, waived now; ``waivers_expired``: waived before, open again now.
    """

    old_snapshot_id: str
    new_snapshot_id: str
    old_taken_at: datetime
    new_taken_at: datetime
    new: list[DeltaFinding] = Field(default_factory=list)
    returned: list[DeltaFinding] = Field(default_factory=list)
    resolved: list[DeltaFinding] = Field(default_factory=list)
    unconfirmed: list[DeltaFinding] = Field(default_factory=list)
    persisting: list[DeltaFinding] = Field(default_factory=list)
    waived_since: list[DeltaFinding] = Field(default_factory=list)
    waivers_expired: list[DeltaFinding] = Field(default_factory=list)


# --------------------------------------------------------------------------------------------- trends


class TrendPoint(_Model):
    """The headline figures of one stored snapshot."""

    snapshot_id: str
    taken_at: datetime
    completeness: str = Field(description="complete, partial or failed: partial snapshots undercount.")
    result: Literal["stored", "computed"] = Field(description="Whether the audit was stored or run for the trend.")
    tools: int
    annual_spend: float
    currency: str
    custom_fields: int
    orphaned_fields: int = Field(description="Distinct fields in open orphaned-field (OF*) findings.")
    broken_syncs: int = Field(description="Distinct integrations in open broken-sync (BS*) findings.")
    overlap_spend: float = Field(description="Money at stake in open redundant-tool (RT*) findings, tools once.")
    open_findings: int


# -------------------------------------------------------------------------------------------- actions

ActionKind = Literal["archive field", "merge fields", "fix sync", "cancel tool", "downsize tool", "align definition"]


class Action(_Model):
    """One recommended action for the review's short list, from the open findings that call for it (several
    findings can ask for the same action: an overlap, a notice date and a suite covering the same tool)."""

    action: ActionKind
    subject: str
    tool: str | None
    owner: str | None
    evidence: str
    estimated_saving: float | None
    due: date | None = Field(description="The notice date (or renewal date) by which to act, for tool actions.")
    fingerprints: list[str] = Field(description="The findings behind the action, worst first.")
    rules: list[str]
    severity: Severity
