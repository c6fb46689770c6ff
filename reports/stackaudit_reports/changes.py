"""What changed since the last snapshot: the input the summary shows when a comparison is available.

The comparison itself is made elsewhere (it needs two snapshots); the report only shows its outcome. Pass
``None`` (the default) when there is no earlier snapshot, and the summary shows nothing about changes; pass a
:class:`SnapshotChanges` with no items when there is one and nothing changed, and the summary says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ChangeItem", "SnapshotChanges"]


@dataclass(frozen=True, slots=True)
class ChangeItem:
    """One line of the comparison, e.g. "3 new custom fields in HubSpot", linking to its evidence if it can."""

    text: str
    tone: Literal["alert", "warn", "good", "neutral"] = "neutral"
    anchor: str | None = None  # an in-page anchor such as "#integrations", or None


@dataclass(frozen=True, slots=True)
class SnapshotChanges:
    previous_snapshot_id: str
    previous_taken_at: str  # already formatted for people
    items: tuple[ChangeItem, ...] = field(default_factory=tuple)
