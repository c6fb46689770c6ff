"""The typed inventory: what a stack holds, as connectors saw it.

A :class:`Snapshot` is the artifact between ``pull`` and ``audit``. It holds definitions and aggregates only
(names, types, options, counts, fill rates, dates), never record values, and never a secret.

Connectors each return an :class:`InventoryPart` plus a :class:`SourceRun` saying what they could and could not
see; the pipeline merges the parts into a snapshot. Silence is never health: a capability a connector did not
cover is recorded as ``missing`` with a reason, and rules report themselves inconclusive for it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import ids

SNAPSHOT_SCHEMA_VERSION = 1

__all__ = [
    "SNAPSHOT_SCHEMA_VERSION",
    "Asset",
    "Capability",
    "Contract",
    "Cost",
    "Coverage",
    "CoverageStatus",
    "FieldDef",
    "FieldMapping",
    "FillMethod",
    "FillRate",
    "Integration",
    "IntegrationStatus",
    "InventoryPart",
    "LifecycleDefinition",
    "LifecycleStage",
    "ObjectDef",
    "Origin",
    "PickOption",
    "Quota",
    "Reference",
    "RunStatus",
    "Seats",
    "Snapshot",
    "SourceError",
    "SourceRun",
    "StageMapping",
    "Tool",
    "ToolStatus",
]


class _Model(BaseModel):
    """Base for every artifact model: unknown keys are an error (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False, populate_by_name=True)


class Origin(enum.StrEnum):
    """Where a fact came from: the team's manifest, a vendor API, or both (declared and confirmed)."""

    declared = "declared"
    discovered = "discovered"
    both = "both"


# --------------------------------------------------------------------------------------------------- tools


class ToolStatus(enum.StrEnum):
    active = "active"
    trial = "trial"
    # Still in the stack but being phased out (contract running down).
    retiring = "retiring"
    # No longer in the stack: its fields and integrations are leftovers (OF005).
    removed = "removed"


class Cost(_Model):
    amount: float = Field(ge=0, description="Cost for one period, in `currency`.")
    currency: str = Field(default="USD", min_length=3, max_length=3, description="ISO 4217 code.")
    period: Literal["annual", "monthly"] = Field(default="annual")

    @property
    def annual(self) -> float:
        """The cost over a year, whatever the billing period."""
        return self.amount * 12 if self.period == "monthly" else self.amount


class Seats(_Model):
    bought: int | None = Field(default=None, ge=0, description="Seats or licences paid for.")
    used: int | None = Field(default=None, ge=0, description="Seats assigned or active users seen.")
    source: str | None = Field(default=None, description="Where `used` came from (manifest, a vendor API...).")


class Contract(_Model):
    start: date | None = None
    renewal: date | None = Field(default=None, description="Next renewal (end of the current term).")
    notice_date: date | None = Field(
        default=None, description="Last day to give notice before auto-renewal (derived from notice_days)."
    )
    notice_days: int | None = Field(default=None, ge=0)
    auto_renew: bool | None = None


class Tool(_Model):
    id: str = Field(description="Tool slug, e.g. `hubspot`.")
    name: str
    vendor: str | None = None
    capabilities: list[str] = Field(
        default_factory=list, description="What the tool does; the first is its primary capability."
    )
    owner: str | None = Field(default=None, description="The named person or team accountable for it.")
    status: ToolStatus = ToolStatus.active
    cost: Cost | None = None
    seats: Seats | None = None
    contract: Contract | None = None
    origin: Origin = Origin.declared
    discovered_by: list[str] = Field(default_factory=list, description="Source run ids that saw this tool.")
    url: str | None = None
    notes: str | None = None
    last_activity_at: datetime | None = Field(
        default=None, description="Newest activity any source saw for the tool (logins, API use, deliveries)."
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not ids.is_tool_slug(value):
            raise ValueError(f"tool id must be a lowercase slug like 'google-analytics-4', got {value!r}")
        return value

    @property
    def primary_capability(self) -> str | None:
        return self.capabilities[0] if self.capabilities else None


# --------------------------------------------------------------------------------------- objects and fields


class ObjectDef(_Model):
    id: str = Field(description="`<tool>:<object API name>`.")
    tool: str
    name: str = Field(description="The vendor's API name (`contacts`, `Lead`, `Invoice__c`).")
    label: str | None = None
    custom: bool = False
    record_count: int | None = Field(default=None, ge=0)
    custom_field_limit: int | None = Field(
        default=None, ge=0, description="The vendor's limit of custom fields for this object, where known."
    )


class PickOption(_Model):
    value: str
    label: str | None = None
    hidden: bool = False


class FillMethod(enum.StrEnum):
    exact = "exact"  # counted over every record
    sampled = "sampled"  # estimated from a sample of records
    unknown = "unknown"  # the source cannot tell; never guessed


class FillRate(_Model):
    """How full a field is, with the method and counts behind the figure (never a record value)."""

    method: FillMethod
    filled: int | None = Field(default=None, ge=0, description="Records (or sampled records) with a value.")
    total: int | None = Field(default=None, ge=0, description="Records counted (or sample size).")
    newest_value_at: datetime | None = Field(
        default=None, description="When the newest record holding a value was last modified, where cheap to get."
    )
    measured_at: datetime | None = None
    note: str | None = Field(default=None, description="How it was measured (window, sample, query).")

    @property
    def rate(self) -> float | None:
        if self.method is FillMethod.unknown or self.filled is None or not self.total:
            return None
        return self.filled / self.total


class FieldDef(_Model):
    id: str = Field(description="`<tool>:<object>.<field>` in the vendor's API names.")
    tool: str
    object: str = Field(description="Object API name.")
    name: str = Field(description="Field API name.")
    label: str | None = None
    type: str = Field(description="Normalised type: string, number, bool, date, datetime, enum, reference, ...")
    vendor_type: str | None = Field(default=None, description="The vendor's own type name, as reported.")
    options: list[PickOption] | None = Field(default=None, description="Picklist options, for enum fields.")
    custom: bool = False
    calculated: bool = False
    hidden: bool = False
    archived: bool = False
    length: int | None = None
    reference_to: list[str] = Field(default_factory=list)
    group: str | None = None
    description: str | None = None
    namespace: str | None = Field(default=None, description="Managing package namespace or vendor prefix.")
    owning_tool: str | None = Field(
        default=None, description="The tool whose integration or package created the field, when known."
    )
    created_at: datetime | None = None
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    fill: FillRate | None = None
    origin: Origin = Origin.discovered

    @property
    def object_id(self) -> str:
        return ids.object_id(self.tool, self.object)


# ------------------------------------------------------------------------------------ assets and references


class Asset(_Model):
    """Anything that reads or writes fields: workflow, form, list, report, flow, campaign, program, destination."""

    id: str = Field(description="`<tool>:<kind>/<native id>`.")
    tool: str
    kind: str
    name: str
    active: bool = True
    last_modified_at: datetime | None = None
    last_run_at: datetime | None = None
    external_targets: list[str] = Field(
        default_factory=list, description="Hosts or tools the asset sends data to (webhooks, custom code)."
    )
    trigger_object: str | None = Field(
        default=None, description="The object whose record changes start the asset (record-triggered flows)."
    )


class Reference(_Model):
    asset: str = Field(description="Asset id.")
    field: str = Field(description="Field id.")
    mode: Literal["read", "write"]
    context: str | None = Field(default=None, description="Where in the asset (enrollment filter, form field...).")


# ------------------------------------------------------------------------------------------- integrations


class IntegrationStatus(enum.StrEnum):
    active = "active"
    disabled = "disabled"
    error = "error"
    unknown = "unknown"


class FieldMapping(_Model):
    source: str = Field(description="Source field id.")
    target: str = Field(description="Target field id.")
    direction: Literal["forward", "both"] = Field(
        default="forward", description="`forward` copies source to target; `both` syncs each way."
    )
    transform: str | None = None
    precedence: str | None = Field(
        default=None, description="Which side wins on conflict (a tool id), for two-way or multi-writer fields."
    )


class Integration(_Model):
    id: str = Field(description="`<source>-><target>` with `:<name>` when two join the same pair.")
    source: str
    target: str
    via: str | None = Field(default=None, description="Middleware tool (Zapier, Workato, Segment...).")
    name: str | None = None
    direction: Literal["one-way", "two-way"] = "one-way"
    origin: Origin = Origin.declared
    status: IntegrationStatus = IntegrationStatus.unknown
    last_sync_at: datetime | None = None
    last_success_at: datetime | None = None
    success_count: int | None = Field(default=None, ge=0, description="Successful syncs in the recent window.")
    error_count: int | None = Field(default=None, ge=0, description="Failed syncs in the recent window.")
    window_days: int | None = Field(default=None, ge=0, description="The window the counts cover.")
    error_samples: list[str] = Field(default_factory=list, description="Error codes or messages (no record data).")
    expected_interval_minutes: int | None = Field(default=None, gt=0)
    mappings: list[FieldMapping] = Field(default_factory=list)
    evidence_sources: list[str] = Field(default_factory=list, description="Source run ids that saw the flow.")

    @property
    def error_rate(self) -> float | None:
        if self.error_count is None or self.success_count is None:
            return None
        total = self.error_count + self.success_count
        return self.error_count / total if total else None


# -------------------------------------------------------------------------------------------- lifecycle


class LifecycleStage(_Model):
    id: str = Field(description="The team's own stage key, e.g. `mql`.")
    name: str
    description: str | None = None


class StageMapping(_Model):
    """How one system spells the declared stages: the field that holds them and stage -> values."""

    tool: str
    field: str = Field(description="Field id holding the stage, e.g. `hubspot:contacts.lifecyclestage`.")
    values: dict[str, list[str]] = Field(
        default_factory=dict, description="Declared stage id -> the option values that mean it in this system."
    )


class LifecycleDefinition(_Model):
    stages: list[LifecycleStage] = Field(default_factory=list)
    mappings: list[StageMapping] = Field(default_factory=list)
    mql_definition: str | None = None
    handoff_definition: str | None = None
    stage_fields: list[str] = Field(
        default_factory=list, description="Fields known to hold lifecycle stages or lead statuses, per system."
    )
    origin: Origin = Origin.declared


# ------------------------------------------------------------------------------------------ source runs


class RunStatus(enum.StrEnum):
    complete = "complete"
    partial = "partial"
    failed = "failed"


class CoverageStatus(enum.StrEnum):
    complete = "complete"
    partial = "partial"
    missing = "missing"  # the connector tried and could not see it (error, scope, quota)
    not_supported = "not_supported"  # this source can never see it


class Capability(enum.StrEnum):
    """What a source can see; rules declare which they need."""

    tools = "tools"
    costs = "costs"
    seats = "seats"
    fields = "fields"
    fill_rates = "fill_rates"
    references = "references"
    integrations = "integrations"
    sync_health = "sync_health"
    lifecycle = "lifecycle"
    activity = "activity"
    quota = "quota"


class Coverage(_Model):
    status: CoverageStatus
    reason: str | None = None
    detail: str | None = Field(default=None, description="What exactly is not covered (objects, endpoints).")


class SourceError(_Model):
    code: str = Field(description="Short machine code: auth, rate_limit, quota, timeout, malformed, http_5xx...")
    message: str = Field(description="One line, naming the connector and what could not be read. Never a secret.")
    capability: Capability | None = None
    where: str | None = Field(default=None, description="Endpoint, file or key involved.")


class Quota(_Model):
    name: str = Field(description="e.g. `daily_api_requests`.")
    used: int | None = None
    limit: int | None = None
    period: str | None = None
    observed_at: datetime | None = None


class SourceRun(_Model):
    id: str = Field(description="The connector id (tool id for API connectors, `manifest` for the manifest).")
    connector_type: str
    tool: str | None = Field(default=None, description="The tool this source describes, if one.")
    started_at: datetime
    ended_at: datetime
    api_calls: int = Field(default=0, ge=0)
    status: RunStatus
    errors: list[SourceError] = Field(default_factory=list)
    quota: list[Quota] = Field(default_factory=list)
    coverage: dict[Capability, Coverage] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def covers(self, capability: Capability) -> CoverageStatus:
        cov = self.coverage.get(capability)
        return cov.status if cov else CoverageStatus.not_supported


# ---------------------------------------------------------------------------------------------- snapshot


class InventoryPart(_Model):
    """What one connector returns: a fragment of the inventory. The pipeline merges parts into a snapshot."""

    tools: list[Tool] = Field(default_factory=list)
    objects: list[ObjectDef] = Field(default_factory=list)
    fields: list[FieldDef] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    integrations: list[Integration] = Field(default_factory=list)
    lifecycle: LifecycleDefinition | None = None


class Snapshot(InventoryPart):
    """The inventory of one stack at one moment: the artifact written by ``pull`` and read by ``audit``."""

    schema_version: Annotated[int, Field(ge=1)] = SNAPSHOT_SCHEMA_VERSION
    id: str = Field(description="Sortable id: `YYYYMMDDTHHMMSSZ` of taken_at plus a short suffix.")
    taken_at: datetime
    stack: str
    source_runs: list[SourceRun] = Field(default_factory=list)
    generator: str = Field(default="stackaudit", description="Tool and version that wrote the snapshot.")

    # Lookups are built once per loaded snapshot; a snapshot is not mutated after the pipeline builds it.
    @cached_property
    def tools_by_id(self) -> dict[str, Tool]:
        return {t.id: t for t in self.tools}

    @cached_property
    def fields_by_id(self) -> dict[str, FieldDef]:
        return {f.id: f for f in self.fields}

    @cached_property
    def objects_by_id(self) -> dict[str, ObjectDef]:
        return {o.id: o for o in self.objects}

    @cached_property
    def assets_by_id(self) -> dict[str, Asset]:
        return {a.id: a for a in self.assets}

    @cached_property
    def integrations_by_id(self) -> dict[str, Integration]:
        return {i.id: i for i in self.integrations}

    @cached_property
    def references_by_field(self) -> dict[str, list[Reference]]:
        out: dict[str, list[Reference]] = {}
        for ref in self.references:
            out.setdefault(ref.field, []).append(ref)
        return out

    def runs_for_tool(self, tool: str) -> list[SourceRun]:
        return [r for r in self.source_runs if r.tool == tool]

    def coverage_for(self, tool: str, capability: Capability) -> CoverageStatus:
        """The best coverage any source run gave ``capability`` for ``tool``."""
        order = [CoverageStatus.complete, CoverageStatus.partial, CoverageStatus.missing]
        seen = {r.covers(capability) for r in self.runs_for_tool(tool)}
        for status in order:
            if status in seen:
                return status
        return CoverageStatus.not_supported

    def tool_fields_known(self, tool: str) -> bool:
        """True when some source read this tool's fields, so an absent field is really absent (not unseen)."""
        return self.coverage_for(tool, Capability.fields) in (CoverageStatus.complete, CoverageStatus.partial)
