"""The schema of ``stack.yaml``, the manifest where a team declares what no vendor API tells.

What it holds: which tools the company pays for and why (capabilities, owner, cost, seats, contract dates), how
data is meant to flow between them (integrations, their field mappings and how often they should sync), what a
middleware's run history showed (``observed:``, read by hand off Zapier or Workato), and the lifecycle: the
stages, how each system spells them, and the written MQL and handoff definitions. ``vendors:`` extends the vendor
catalogue (products it lacks, or corrections to the bundled ones) with entries of the catalogue's own shape.

Every model forbids unknown keys (a typo must fail, naming its line) and describes every field: the
descriptions are the manifest reference. Cross-references (a tool id used in an integration) are checked in
:mod:`.parse`, which knows the line numbers.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from stackaudit_inventory import IntegrationStatus, ToolStatus, ids
from stackaudit_inventory.catalogue import VendorEntry, load_catalogue

__all__ = [
    "MANIFEST_VERSION",
    "ContractDoc",
    "CostDoc",
    "IntegrationDoc",
    "LifecycleDoc",
    "ManifestDoc",
    "MappingDoc",
    "ObservedDoc",
    "SeatsDoc",
    "StageDoc",
    "StageMappingDoc",
    "ToolDoc",
    "parse_interval",
]

MANIFEST_VERSION = 1

_INTERVAL_RE = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 1440}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_interval(value: Any) -> int | None:
    """``15m``, ``1h``, ``1d`` or a whole number of minutes -> minutes."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        m = _INTERVAL_RE.match(value)
        if m and int(m.group(1)) > 0:
            return int(m.group(1)) * _UNIT_MINUTES[m.group(2)]
    raise PydanticCustomError("interval", "expected an interval like 15m, 1h or 1d, or a number of minutes")


def _tool_slug(value: str) -> str:
    if not ids.is_tool_slug(value):
        raise PydanticCustomError("tool_id", "tool ids are lowercase slugs like 'google-analytics-4'")
    return value


def _field_id(value: str) -> str:
    try:
        parsed = ids.parse_field_id(value)
    except ValueError:
        raise PydanticCustomError("field_id", "not a field id (expected <tool>:<object>.<field>)") from None
    if not ids.is_tool_slug(parsed.tool):
        raise PydanticCustomError("field_id", "the tool part of a field id must be a tool slug")
    return value


def _name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise PydanticCustomError("name", "use lowercase letters, digits, '-' or '_' (it becomes part of an id)")
    return value


def _values_list(value: Any) -> Any:
    # `mql: marketingqualifiedlead` is as natural as a one-item list; numbers are picklist values too.
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value]
    return value


def _bundled_name(value: Any) -> Any:
    # Overriding a bundled product should not require repeating its name: the catalogue's name is the default.
    if isinstance(value, dict) and "name" not in value and isinstance(value.get("id"), str):
        entry = load_catalogue().by_id(value["id"])
        if entry is not None:
            return {**value, "name": entry.name}
    return value


ToolRef = Annotated[str, AfterValidator(_tool_slug)]
FieldRef = Annotated[str, AfterValidator(_field_id)]
Interval = Annotated[int | None, BeforeValidator(parse_interval)]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -------------------------------------------------------------------------------------------------- tools


class CostDoc(_Doc):
    amount: float = Field(ge=0, description="What one billing period costs, licences only (not ad spend).")
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD, EUR.")
    period: Literal["annual", "monthly"] = Field(default="annual", description="The billing period of `amount`.")


class SeatsDoc(_Doc):
    bought: int | None = Field(default=None, ge=0, description="Seats or licences paid for.")
    used: int | None = Field(default=None, ge=0, description="Seats assigned or people active in the last 90 days.")


class ContractDoc(_Doc):
    start: date | None = Field(default=None, description="Start of the current term (YYYY-MM-DD).")
    renewal: date | None = Field(default=None, description="End of the current term, when it renews or lapses.")
    notice_days: int | None = Field(
        default=None, ge=0, description="Days of notice before `renewal` needed to cancel or change the contract."
    )
    notice_date: date | None = Field(
        default=None, description="Last day to give notice; derived as renewal - notice_days when not given."
    )
    auto_renew: bool | None = Field(default=None, description="Whether the contract renews unless cancelled.")

    @model_validator(mode="after")
    def _one_notice(self) -> ContractDoc:
        if self.notice_days is not None and self.notice_date is not None:
            raise PydanticCustomError("notice", "set notice_days or notice_date, not both")
        return self


class ToolDoc(_Doc):
    id: ToolRef = Field(description="The tool's id everywhere: a lowercase slug such as `hubspot` or `google-ads`.")
    name: str = Field(min_length=1, description="Product name as people say it, e.g. `HubSpot Marketing Hub`.")
    vendor: str | None = Field(default=None, description="The company selling it.")
    capabilities: list[Annotated[str, AfterValidator(_name)]] = Field(
        default_factory=list,
        description="What the tool is used for, from the vendor catalogue's vocabulary (`crm`, "
        "`marketing-automation`, `chat`, `scheduling`...); the first is its primary job, which the redundancy rules "
        "compare.",
    )
    owner: str | None = Field(default=None, description="The person or team accountable for it (and its renewal).")
    status: ToolStatus = Field(
        default=ToolStatus.active, description="active, trial, retiring (being phased out) or removed."
    )
    cost: CostDoc | None = Field(default=None, description="Licence cost.")
    seats: SeatsDoc | None = Field(default=None, description="Seats bought and used.")
    contract: ContractDoc | None = Field(default=None, description="Contract term and notice period.")
    url: str | None = Field(default=None, description="Where the tool is administered.")
    notes: str | None = Field(default=None, description="Anything a reviewer should know.")


# ------------------------------------------------------------------------------------------- integrations


class MappingDoc(_Doc):
    source: FieldRef = Field(description="Source field id, `<tool>:<object>.<field>` in the vendor's API names.")
    target: FieldRef = Field(description="Target field id.")
    direction: Literal["forward", "both"] = Field(
        default="forward", description="`forward` copies source to target; `both` syncs each way."
    )
    transform: str | None = Field(default=None, description="What happens to the value on the way (value map...).")
    precedence: ToolRef | None = Field(
        default=None, description="For two-way or multi-writer fields: the tool whose value wins on conflict."
    )


class ObservedDoc(_Doc):
    """What someone read off a middleware's run history (Zapier task history, Workato jobs) that no connector
    reads. Dates carry a timezone (`2026-11-21T08:40:00Z`)."""

    status: IntegrationStatus = Field(
        default=IntegrationStatus.unknown, description="active, disabled, error or unknown."
    )
    last_success_at: AwareDatetime | None = Field(default=None, description="Last run that succeeded.")
    last_sync_at: AwareDatetime | None = Field(default=None, description="Last run, successful or not.")
    success_count: int | None = Field(default=None, ge=0, description="Successful runs in the window.")
    error_count: int | None = Field(default=None, ge=0, description="Failed runs in the window.")
    window_days: int | None = Field(default=None, ge=1, description="The window the counts cover, in days.")
    error_samples: list[str] = Field(
        default_factory=list, description="Error codes or messages as shown (never record data)."
    )


class IntegrationDoc(_Doc):
    source: ToolRef = Field(description="Tool the data comes from.")
    target: ToolRef = Field(description="Tool the data goes to.")
    via: ToolRef | None = Field(default=None, description="Middleware carrying it (zapier, workato, segment...).")
    name: Annotated[str, AfterValidator(_name)] | None = Field(
        default=None, description="Needed when two flows join the same pair; becomes the `:<name>` id suffix."
    )
    direction: Literal["one-way", "two-way"] = Field(default="one-way", description="one-way or two-way.")
    expected_interval: Interval = Field(
        default=None, description="How often it should sync: `15m`, `1h`, `1d`, or minutes as a number."
    )
    mappings: list[MappingDoc] = Field(default_factory=list, description="Field mappings, inline.")
    mappings_csv: Path | None = Field(
        default=None,
        description="A CSV of field mappings (columns source,target,direction,transform[,precedence]), relative "
        "to this file.",
    )
    observed: ObservedDoc | None = Field(default=None, description="Run history read off the middleware.")
    notes: str | None = Field(default=None, description="For people reading the manifest; not put in snapshots.")


# ---------------------------------------------------------------------------------------------- lifecycle


class StageDoc(_Doc):
    id: Annotated[str, AfterValidator(_name)] = Field(description="The team's stage key, e.g. `mql`.")
    name: str = Field(min_length=1, description="Display name, e.g. `Marketing Qualified Lead`.")
    description: str | None = Field(default=None, description="What must be true for a record to be here.")


class StageMappingDoc(_Doc):
    tool: ToolRef = Field(description="The system whose field spells the stages.")
    field: FieldRef = Field(description="The field holding the stage, e.g. `hubspot:contacts.lifecyclestage`.")
    values: dict[str, Annotated[list[str], BeforeValidator(_values_list)]] = Field(
        default_factory=dict, description="Stage id -> the option values that mean that stage in this field."
    )


class LifecycleDoc(_Doc):
    stages: list[StageDoc] = Field(default_factory=list, description="The stages, in funnel order.")
    mappings: list[StageMappingDoc] = Field(default_factory=list, description="How each system spells them.")
    mql_definition: str | None = Field(default=None, description="The written MQL criteria (fit and behaviour).")
    handoff_definition: str | None = Field(
        default=None, description="What must be true before marketing passes a lead to sales, and what sales does."
    )
    stage_fields: list[FieldRef] = Field(
        default_factory=list,
        description="Other fields known to hold stages or lead statuses (the mapping fields are added for you).",
    )


class ManifestDoc(_Doc):
    version: int = Field(default=MANIFEST_VERSION, ge=1, description="Manifest format version.")
    tools: list[ToolDoc] = Field(default_factory=list, description="Every tool in the stack.")
    integrations: list[IntegrationDoc] = Field(default_factory=list, description="Data flows between tools.")
    lifecycle: LifecycleDoc | None = Field(default=None, description="Lifecycle stages and definitions.")
    vendors: list[Annotated[VendorEntry, BeforeValidator(_bundled_name)]] = Field(
        default_factory=list,
        description="Extensions of the vendor catalogue, same shape as its entries (`id`, `name`, `vendor`, "
        "`capabilities`, `suite`, `aliases`, `salesforce_namespaces`, `segment_destinations`, `field_prefixes`, "
        "`field_suffixes`...). An entry with a bundled id overrides only the keys it sets (`name` may be left out); a "
        "new id adds a product. "
        "What an entry claims (a name, a Salesforce namespace, a Segment destination, a field prefix) resolves to it.",
    )
