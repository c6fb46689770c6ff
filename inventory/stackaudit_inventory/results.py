"""The audit result artifact: findings (the versioned JSON contract), inconclusive checks, and a plain graph export.

``audit`` writes an :class:`AuditResult`; ``report`` renders from it and the snapshot alone, so reports never
need networkx or a connector. ``findings.json`` is ``AuditResult`` serialised; its JSON Schema is exported by
``stackaudit schema --artifact findings``.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FINDINGS_SCHEMA_VERSION = 1

__all__ = [
    "CATEGORIES",
    "FINDINGS_SCHEMA_VERSION",
    "AuditResult",
    "Category",
    "FieldImpact",
    "FieldImpactExport",
    "Finding",
    "FindingStatus",
    "GraphEdge",
    "GraphExport",
    "GraphNode",
    "ImpactLink",
    "Inconclusive",
    "RuleInfo",
    "Severity",
    "WaiverRef",
    "fingerprint",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Severity(enum.StrEnum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Category(enum.StrEnum):
    orphaned_field = "orphaned-field"
    duplicate_field = "duplicate-field"
    redundant_tool = "redundant-tool"
    unused_tool = "unused-tool"
    broken_sync = "broken-sync"
    lifecycle_drift = "lifecycle-drift"
    hygiene = "hygiene"


CATEGORIES = [c.value for c in Category]


class FindingStatus(enum.StrEnum):
    open = "open"
    waived = "waived"
    baselined = "baselined"


def fingerprint(rule: str, subjects: list[str]) -> str:
    """Stable across runs: depends on the rule and the subjects' ids only, never on titles or figures."""
    key = rule + "\x1f" + "\x1f".join(sorted(subjects))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class WaiverRef(_Model):
    rule: str
    subject: str = Field(description="The subject pattern the waiver matched (fnmatch glob).")
    reason: str
    owner: str
    expires: date


class Finding(_Model):
    fingerprint: str
    rule: str = Field(description="Rule id, e.g. `OF001`.")
    category: Category
    severity: Severity
    subjects: list[str] = Field(description="Ids of the tools, fields, integrations... the finding is about.")
    title: str
    evidence: list[str] = Field(default_factory=list, description="The facts that made the verdict, as sentences.")
    facts: dict[str, str | int | float | bool | list[str] | None] = Field(
        default_factory=dict, description="The same facts, machine-readable."
    )
    not_checked: list[str] = Field(default_factory=list, description="What could not be checked, and why.")
    remediation: str
    status: FindingStatus = FindingStatus.open
    waiver: WaiverRef | None = None
    tools: list[str] = Field(default_factory=list, description="Tools the subjects belong to (for filtering).")
    cost_at_stake: float | None = Field(default=None, description="Annual money involved, where the rule knows it.")


class Inconclusive(_Model):
    """A rule that could not evaluate a subject because a source did not supply what it needs."""

    rule: str
    subject: str
    reason: str


class RuleInfo(_Model):
    id: str
    name: str
    title: str
    category: Category
    severity: Severity
    enabled: bool = True


class GraphNode(_Model):
    id: str
    kind: Literal["tool", "field", "asset"]
    label: str
    group: str | None = Field(default=None, description="Capability for tools; tool for fields and assets.")
    status: str | None = None


class GraphEdge(_Model):
    source: str
    target: str
    kind: Literal["flow", "mapping", "reference", "owns"]
    label: str | None = None
    status: str | None = Field(default=None, description="Health for flows: ok, stale, broken, disabled, unknown.")
    id: str | None = Field(default=None, description="Integration id for flows.")
    via: str | None = Field(default=None, description="Middleware tool id a flow runs through (Zapier, Segment...).")
    direction: Literal["one-way", "two-way"] | None = Field(
        default=None, description="For flows: `two-way` when data also runs target -> source."
    )


class GraphExport(_Model):
    """A plain, deterministic export of the stack graph (tool level by default) for renderers."""

    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)


class ImpactLink(_Model):
    """One node a field's data reaches or comes from: an asset (reference) or another field (mapping)."""

    node: str = Field(description="Field or asset id.")
    kind: Literal["field", "asset"]
    via: str | None = Field(default=None, description="Integration id, when a field mapping makes the link.")
    missing: bool = Field(default=False, description="The id is not in the snapshot (deleted, or never read).")


class FieldImpact(_Model):
    """What breaks if a field goes: what writes it, what reads it, and everything its data feeds downstream."""

    field: str
    writers: list[ImpactLink] = Field(default_factory=list)
    readers: list[ImpactLink] = Field(default_factory=list)
    downstream: list[ImpactLink] = Field(
        default_factory=list, description="Transitively reached assets and fields, in any tool (capped)."
    )
    downstream_total: int = Field(default=0, ge=0, description="How many nodes downstream in all (before the cap).")


class FieldImpactExport(_Model):
    """Field impact for every field that has any link, computed from the stack graph for renderers."""

    fields: list[FieldImpact] = Field(default_factory=list)


class AuditResult(_Model):
    schema_version: int = FINDINGS_SCHEMA_VERSION
    generated_at: datetime
    generator: str = "stackaudit"
    snapshot_id: str
    stack: str
    findings: list[Finding] = Field(default_factory=list)
    inconclusive: list[Inconclusive] = Field(default_factory=list)
    rules: list[RuleInfo] = Field(default_factory=list, description="The rules that ran, with their settings.")
    graph: GraphExport = Field(default_factory=GraphExport)

    def counts_by_severity(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            if f.status is FindingStatus.open:
                out[f.severity.value] += 1
        return out
