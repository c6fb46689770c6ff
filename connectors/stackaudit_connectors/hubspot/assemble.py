"""Turning what a pull gathered into the inventory fragment and the run's coverage (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stackaudit_inventory import (
    Capability,
    CoverageStatus,
    FieldDef,
    Integration,
    IntegrationStatus,
    InventoryPart,
    LifecycleDefinition,
    ObjectDef,
    Origin,
    PickOption,
    Seats,
    Tool,
    ids,
)

from .config import FillRateMode
from .parse import TYPE_ID_OF, Pipeline, standard_object
from .parse_assets import pipeline_asset, webhook_integrations
from .state import PullState

__all__ = ["Gathered", "PulledObject", "build_part", "set_coverage"]

C = Capability
# Properties that hold pipeline stages: their options come from the pipelines when the property lists none.
STAGE_FIELDS = (("deals", "dealstage"), ("tickets", "hs_pipeline_stage"))
LIFECYCLE_FIELDS = ("lifecyclestage", "hs_lead_status")


@dataclass
class PulledObject:
    name: str  # standard object name, or a custom object's fully qualified name
    type_id: str | None
    custom: bool
    label: str | None = None
    fields: list[FieldDef] = field(default_factory=list)
    record_count: int | None = None

    @property
    def newest_by(self) -> str:
        """The property holding the last modification time (contacts spell it differently)."""
        return "lastmodifieddate" if self.name == "contacts" else "hs_lastmodifieddate"


@dataclass
class Gathered:
    """Everything a pull read besides the state's lists."""

    objects: list[PulledObject] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    account: dict[str, Any] = field(default_factory=dict)
    property_limits: dict[str, int] = field(default_factory=dict)  # objectTypeId -> custom property limit
    seats: Seats | None = None
    salesforce_seen: bool = False
    salesforce_last_sync: datetime | None = None


def _objects(state: PullState, gathered: Gathered) -> None:
    stages: dict[tuple[str, str], list[PickOption]] = {}
    for pipeline in gathered.pipelines:
        state.assets.append(pipeline_asset(pipeline, tool=state.tool))
        for key in STAGE_FIELDS:
            if key[0] == pipeline.object_type:
                stages.setdefault(key, []).extend(pipeline.stages)
    for obj in gathered.objects:
        for i, fd in enumerate(obj.fields):
            extra = stages.get((obj.name, fd.name))
            if extra and not fd.options:
                obj.fields[i] = fd.model_copy(update={"options": list({o.value: o for o in extra}.values())})
        state.fields.extend(obj.fields)
        limit = gathered.property_limits.get(obj.type_id or TYPE_ID_OF.get(obj.name, ""))
        definition: ObjectDef = standard_object(
            obj.name, tool=state.tool, record_count=obj.record_count, custom_field_limit=limit
        )
        if obj.custom:
            definition = definition.model_copy(update={"label": obj.label, "custom": True})
        state.objects.append(definition)


def _tool(state: PullState, gathered: Gathered, name: str) -> Tool:
    account = gathered.account
    domain, portal = account.get("uiDomain"), account.get("portalId")
    notes = None
    if portal is not None:
        notes = f"Portal {portal} ({account.get('accountType', '?')}, time zone {account.get('timeZone', '?')})"
    return Tool(
        id=state.tool,
        name=name,
        vendor="HubSpot",
        capabilities=["crm", "marketing-automation"],
        seats=gathered.seats,
        origin=Origin.discovered,
        discovered_by=[state.connector],
        url=f"https://{domain}" if isinstance(domain, str) and domain else None,
        notes=notes,
    )


def _integrations(state: PullState, gathered: Gathered, salesforce: str) -> None:
    taken: set[str] = set()
    if gathered.salesforce_seen:
        last = gathered.salesforce_last_sync
        iid = ids.integration_id(state.tool, salesforce)
        taken.add(iid)
        state.integrations.append(
            Integration(
                id=iid,
                source=state.tool,
                target=salesforce,
                direction="two-way",
                origin=Origin.discovered,
                status=IntegrationStatus.unknown,
                # salesforcelastsynctime is set when a record syncs: the newest one is the last sync that worked.
                last_sync_at=last,
                last_success_at=last,
                expected_interval_minutes=15,  # HubSpot's Salesforce connector syncs about every 15 minutes
                evidence_sources=[state.connector],
            )
        )
        when = last.isoformat() if last else "unknown"
        state.notes.append(f"Salesforce sync seen in the salesforce* properties; newest sync time {when}")
    workflows = [a for a in state.assets if a.kind == "workflow"]
    state.integrations.extend(webhook_integrations(workflows, tool=state.tool, run_id=state.connector, taken=taken))


def build_part(state: PullState, gathered: Gathered, *, tool_name: str, salesforce: str) -> InventoryPart:
    """The inventory fragment: objects and fields (with pipeline stages), assets, the references to fields that
    were read, integrations, the tool and the lifecycle stage fields."""
    _objects(state, gathered)
    known = {f.id for f in state.fields}
    kept = [r for r in state.references if r.field in known]
    if len(kept) < len(state.references):
        state.notes.append(
            f"{len(state.references) - len(kept)} references to properties not read (other objects or deleted "
            "properties) were left out"
        )
    state.references = kept
    _integrations(state, gathered, salesforce)
    stage_fields = [ids.field_id(state.tool, "contacts", n) for n in LIFECYCLE_FIELDS]
    present = [fid for fid in stage_fields if fid in known]
    return InventoryPart(
        tools=[_tool(state, gathered, tool_name)],
        objects=state.objects,
        fields=state.fields,
        assets=state.assets,
        references=state.references,
        integrations=state.integrations,
        lifecycle=LifecycleDefinition(stage_fields=present, origin=Origin.discovered) if present else None,
    )


def set_coverage(state: PullState, capabilities: frozenset[Capability], mode: FillRateMode) -> None:
    """Coverage per capability, with the reason whenever it is not complete."""
    stopped = state.stopped or "the pull stopped early"
    inherent = {
        C.integrations: "discovered from Salesforce-sync properties and workflow webhooks; HubSpot has no API for "
        "its connectors' field mappings",
        C.sync_health: "last sync time from salesforcelastsynctime only; HubSpot exposes no sync errors",
    }
    for capability in sorted(capabilities):
        if capability is C.tools:
            state.set_coverage(capability, CoverageStatus.complete, "the HubSpot account itself")
        elif capability is C.fill_rates and mode == "off":
            state.set_coverage(capability, CoverageStatus.missing, "fill rates turned off (--fill-rates off)")
        elif capability is C.sync_health and not state.began(capability) and not state.stopped:
            state.set_coverage(capability, CoverageStatus.missing, "no salesforce* sync properties in this portal")
        elif not state.began(capability):
            state.set_coverage(capability, CoverageStatus.missing, f"not read: {stopped}")
        else:
            state.cover(capability)
            complete = state.coverage[capability].status is CoverageStatus.complete
            if complete and capability in inherent:
                state.set_coverage(capability, CoverageStatus.partial, inherent[capability])
            if capability is C.lifecycle and not any(f.name == "lifecyclestage" for f in state.fields):
                state.set_coverage(capability, CoverageStatus.missing, "contacts.lifecyclestage was not read")
