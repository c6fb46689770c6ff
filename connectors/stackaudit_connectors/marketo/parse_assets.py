"""Pure transforms of Marketo asset JSON: forms and the fields they write, smart campaigns, programs.

Form fields name lead fields by SOAP name (``FirstName``); they are resolved to the lead database's REST names
through :class:`~.parse.LeadFields`. Rich-text blocks and anything else that is not a lead field are counted, not
referenced. Smart campaigns carry no last-run time and no flow steps in the REST API, so they are assets without
references; their ``status`` (``Never Run``, ``Active``...) is kept in the run notes by the connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackaudit_inventory import Asset, Reference, ids

from .parse import LEADS, LeadFields, parse_time

__all__ = ["FormRefs", "form_asset", "form_references", "program_asset", "smart_campaign_asset"]

# Program statuses: engagement and event programs are "on"/"off"; email programs are "locked" once approved and
# scheduled, "unlocked" while a draft.
_PROGRAM_ACTIVE = {"on": True, "locked": True, "off": False, "unlocked": False}
_NOT_FIELDS = frozenset({"htmltext", "richtext", "fieldset", "profiling"})


def _name(raw: Mapping[str, Any], fallback: str) -> str:
    name = raw.get("name")
    return name.strip() if isinstance(name, str) and name.strip() else fallback


def form_asset(raw: Mapping[str, Any], *, tool: str) -> Asset:
    """A form: active unless its only version is a draft (a draft-only form is on no page)."""
    native = str(raw["id"])
    status = str(raw.get("status") or "").lower()
    return Asset(
        id=ids.asset_id(tool, "form", native),
        tool=tool,
        kind="form",
        name=_name(raw, f"form {native}"),
        active=status != "draft",
        last_modified_at=parse_time(raw.get("updatedAt")),
    )


@dataclass
class FormRefs:
    references: list[Reference] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def form_references(asset_id: str, items: list[Any], *, lead_fields: LeadFields, tool: str) -> FormRefs:
    """Each form field is a write to the lead field it names; visibility rules read their subject fields."""
    out = FormRefs()
    seen: set[tuple[str, str]] = set()

    def add(name: str, mode: str, context: str) -> None:
        rest = lead_fields.rest_name(name)
        if rest is None:
            out.unresolved.append(name)
            return
        fid = ids.field_id(tool, LEADS, rest)
        if (fid, mode) in seen:
            return
        seen.add((fid, mode))
        out.references.append(
            Reference(asset=asset_id, field=fid, mode="write" if mode == "write" else "read", context=context)
        )

    for item in items:
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("dataType") or "").lower()
        name = item.get("id")
        if isinstance(name, str) and name and kind not in _NOT_FIELDS:
            add(name, "write", "form field")
        rules = item.get("visibilityRules")
        for rule in rules.get("rules") or [] if isinstance(rules, Mapping) else []:
            subject = rule.get("subjectField") if isinstance(rule, Mapping) else None
            if isinstance(subject, str) and subject:
                add(subject, "read", "form visibility rule")
    return out


def smart_campaign_asset(raw: Mapping[str, Any], *, tool: str) -> Asset:
    native = str(raw["id"])
    return Asset(
        id=ids.asset_id(tool, "smart-campaign", native),
        tool=tool,
        kind="smart-campaign",
        name=_name(raw, f"smart campaign {native}"),
        active=raw.get("isActive") is True,
        last_modified_at=parse_time(raw.get("updatedAt")),
    )


def program_asset(raw: Mapping[str, Any], *, tool: str, crm: str | None) -> Asset:
    """A program; one synced to a CRM campaign (``sfdcId``) names the CRM among its external targets."""
    native = str(raw["id"])
    status = str(raw.get("status") or "").lower()
    synced = bool(raw.get("sfdcId")) and crm is not None
    return Asset(
        id=ids.asset_id(tool, "program", native),
        tool=tool,
        kind="program",
        name=_name(raw, f"program {native}"),
        active=_PROGRAM_ACTIVE.get(status, True),
        last_modified_at=parse_time(raw.get("updatedAt")),
        external_targets=[crm] if synced and crm else [],
    )
