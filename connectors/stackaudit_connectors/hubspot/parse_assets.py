"""Pure transforms of forms, workflows (automation v4 flows), lists and pipelines into assets and references.

Where a property is used:

- a form field (``name`` + ``objectTypeId``) writes it; a form's ``configuration.lifecycleStages`` writes
  ``lifecyclestage``;
- a flow reads every property in its enrollment, re-enrollment, goal and suppression filters and in branch
  conditions, reads ``OBJECT_PROPERTY`` inputs of any action (custom code, webhooks, branches), and writes the
  property of each set-property action (``actionTypeId 0-5``, ``fields.property_name``);
- a list reads every property in its filter tree.

Filters inside an ``ASSOCIATION`` branch are about the associated object (its ``objectTypeId``); filters inside
``UNIFIED_EVENTS`` branches are about event properties, not CRM properties, and are skipped. Inactive assets
(disabled flows, archived forms, deleted lists) are kept, marked inactive: a property used only by them is
evidence too. Webhook URLs and URLs in custom code become the flow's ``external_targets`` (hosts only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from stackaudit_inventory import Asset, Integration, IntegrationStatus, Origin, Reference, ids

from .parse import Pipeline, parse_time

__all__ = [
    "flow_asset",
    "form_asset",
    "list_asset",
    "pipeline_asset",
    "tool_for_host",
    "webhook_integrations",
]

Mode = Literal["read", "write"]
ObjectNames = Mapping[str, str]  # objectTypeId (and object name) -> object name used in field ids

_URL_RE = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d+)?", re.IGNORECASE)

# Hosts of well-known tools (suffix match) -> tool slug. Anything else: the registrable name before the TLD.
_KNOWN_HOSTS: dict[str, str] = {
    "zapier.com": "zapier",
    "make.com": "make",
    "integromat.com": "make",
    "workato.com": "workato",
    "tray.io": "tray-io",
    "segment.io": "segment",
    "segment.com": "segment",
    "slack.com": "slack",
    "salesforce.com": "salesforce",
    "force.com": "salesforce",
    "mixpanel.com": "mixpanel",
    "amplitude.com": "amplitude",
    "intercom.io": "intercom",
    "drift.com": "drift",
    "outreach.io": "outreach",
    "hightouch.com": "hightouch",
    "hightouch.io": "hightouch",
    "snowflakecomputing.com": "snowflake",
    "typeform.com": "typeform",
    "n8n.cloud": "n8n",
    "pipedream.net": "pipedream",
}
_SECOND_LEVEL = {"co", "com", "net", "org", "ac", "gov"}


def tool_for_host(host: str) -> str:
    """A tool slug for a webhook host: ``hooks.zapier.com`` -> ``zapier``, ``api.acme-data.io`` -> ``acme-data``."""
    host = host.lower().rstrip(".")
    for suffix, tool in _KNOWN_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return tool
    labels = [p for p in host.split(".") if p]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        name = labels[-3]
    elif len(labels) >= 2:
        name = labels[-2]
    else:
        name = labels[0] if labels else "unknown"
    return ids.slugify(name) if any(c.isalnum() for c in name) else "unknown"


def _object(objects: ObjectNames, type_id: Any) -> str | None:
    return objects.get(str(type_id)) if type_id is not None else None


def _filter_props(node: Any, object_type: str | None, objects: ObjectNames) -> Iterator[tuple[str | None, str]]:
    """(object name, property) for every property filter in a filter branch tree."""
    if not isinstance(node, Mapping):
        return
    branch_type = node.get("filterBranchType")
    if branch_type == "UNIFIED_EVENTS":
        return
    if branch_type == "ASSOCIATION":
        object_type = _object(objects, node.get("objectTypeId"))
    for flt in node.get("filters") or []:
        if isinstance(flt, Mapping) and flt.get("filterType") == "PROPERTY" and isinstance(flt.get("property"), str):
            yield object_type, flt["property"]
    for child in node.get("filterBranches") or []:
        yield from _filter_props(child, object_type, objects)


def _object_property_values(node: Any) -> Iterator[str]:
    """Every ``{"type": "OBJECT_PROPERTY", "propertyName": ...}`` value anywhere inside ``node``."""
    if isinstance(node, Mapping):
        if node.get("type") == "OBJECT_PROPERTY" and isinstance(node.get("propertyName"), str):
            yield node["propertyName"]
        for value in node.values():
            yield from _object_property_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _object_property_values(item)


class _Refs:
    def __init__(self, tool: str, asset: str) -> None:
        self.tool, self.asset = tool, asset
        self.items: dict[tuple[str, str, str], Reference] = {}

    def add(self, object_name: str | None, prop: str, mode: Mode, context: str) -> None:
        if not object_name or not prop:
            return
        fid = ids.field_id(self.tool, object_name, prop)
        key = (fid, mode, context)
        if key not in self.items:
            self.items[key] = Reference(asset=self.asset, field=fid, mode=mode, context=context)

    @property
    def references(self) -> list[Reference]:
        return list(self.items.values())


def form_asset(raw: Mapping[str, Any], *, tool: str, objects: ObjectNames) -> tuple[Asset, list[Reference]]:
    form_id = str(raw["id"])
    asset = Asset(
        id=ids.asset_id(tool, "form", form_id),
        tool=tool,
        kind="form",
        name=str(raw.get("name") or form_id),
        active=not bool(raw.get("archived", False)),
        last_modified_at=parse_time(raw.get("updatedAt")),
    )
    refs = _Refs(tool, asset.id)

    def add_field(fld: Any) -> None:
        if not isinstance(fld, Mapping):
            return
        if isinstance(fld.get("name"), str):
            refs.add(_object(objects, fld.get("objectTypeId") or "0-1"), fld["name"], "write", "form field")
        for dep in fld.get("dependentFields") or []:
            add_field(dep.get("dependentField") if isinstance(dep, Mapping) else None)

    for group in raw.get("fieldGroups") or []:
        for fld in group.get("fields") or [] if isinstance(group, Mapping) else []:
            add_field(fld)
    config = raw.get("configuration")
    for stage in config.get("lifecycleStages") or [] if isinstance(config, Mapping) else []:
        if isinstance(stage, Mapping):
            obj = _object(objects, stage.get("objectTypeId") or "0-1")
            refs.add(obj, "lifecyclestage", "write", "form sets lifecycle stage")
    return asset, refs.references


_FLOW_BRANCHES = (
    ("listFilterBranch", "enrollment filter"),
    ("refinementCriteria", "enrollment filter"),
    ("listMembershipFilterBranches", "enrollment filter"),
    ("reEnrollmentTriggersFilterBranches", "re-enrollment trigger"),
)


def flow_asset(
    raw: Mapping[str, Any], *, tool: str, objects: ObjectNames, detailed: bool = True
) -> tuple[Asset, list[Reference]]:
    """A workflow from its v4 flow body (or only its listing when ``detailed`` is False: no references)."""
    flow_id = str(raw["id"])
    own = _object(objects, raw.get("objectTypeId"))
    refs = _Refs(tool, ids.asset_id(tool, "workflow", flow_id))
    hosts: list[str] = []
    if detailed:
        criteria = raw.get("enrollmentCriteria")
        criteria = criteria if isinstance(criteria, Mapping) else {}
        for key, context in _FLOW_BRANCHES:
            value = criteria.get(key)
            for branch in value if isinstance(value, list) else [value]:
                for obj, prop in _filter_props(branch, own, objects):
                    refs.add(obj, prop, "read", context)
        for key, context in (("goalFilterBranch", "goal filter"), ("suppressionFilterBranch", "suppression filter")):
            for obj, prop in _filter_props(raw.get(key), own, objects):
                refs.add(obj, prop, "read", context)
        for action in raw.get("actions") or []:
            if isinstance(action, Mapping):
                hosts.extend(_action_refs(action, own, objects, refs))
    asset = Asset(
        id=refs.asset,
        tool=tool,
        kind="workflow",
        name=str(raw.get("name") or flow_id),
        active=bool(raw.get("isEnabled", False)),
        last_modified_at=parse_time(raw.get("updatedAt")),
        external_targets=sorted(set(hosts)),
    )
    return asset, refs.references


def _action_refs(action: Mapping[str, Any], own: str | None, objects: ObjectNames, refs: _Refs) -> list[str]:
    raw_fields = action.get("fields")
    fields: Mapping[str, Any] = raw_fields if isinstance(raw_fields, Mapping) else {}
    if action.get("actionTypeId") == "0-5" and isinstance(fields.get("property_name"), str):
        refs.add(own, fields["property_name"], "write", "set property action")
    for branch in action.get("listBranches") or []:
        if isinstance(branch, Mapping):
            for obj, prop in _filter_props(branch.get("filterBranch"), own, objects):
                refs.add(obj, prop, "read", "branch condition")
    kind = action.get("type")
    context = {"CUSTOM_CODE": "custom code input", "WEBHOOK": "webhook parameter"}.get(str(kind), "action input")
    for prop in _object_property_values({k: v for k, v in action.items() if k != "listBranches"}):
        refs.add(own, prop, "read", context)
    hosts: list[str] = []
    if kind == "WEBHOOK" and isinstance(action.get("webhookUrl"), str):
        host = urlsplit(action["webhookUrl"]).hostname
        if host:
            hosts.append(host.lower())
    if kind == "CUSTOM_CODE" and isinstance(action.get("sourceCode"), str):
        for url in _URL_RE.findall(action["sourceCode"]):
            host = urlsplit(url).hostname
            if host:
                hosts.append(host.lower())
    return hosts


def list_asset(raw: Mapping[str, Any], *, tool: str, objects: ObjectNames) -> tuple[Asset, list[Reference]]:
    list_id = str(raw["listId"])
    refs = _Refs(tool, ids.asset_id(tool, "list", list_id))
    for obj, prop in _filter_props(raw.get("filterBranch"), _object(objects, raw.get("objectTypeId")), objects):
        refs.add(obj, prop, "read", "list filter")
    asset = Asset(
        id=refs.asset,
        tool=tool,
        kind="list",
        name=str(raw.get("name") or list_id),
        active=raw.get("deletedAt") in (None, ""),
        last_modified_at=parse_time(raw.get("filtersUpdatedAt") or raw.get("updatedAt")),
    )
    return asset, refs.references


def pipeline_asset(pipeline: Pipeline, *, tool: str) -> Asset:
    return Asset(
        id=ids.asset_id(tool, "pipeline", f"{pipeline.object_type}-{pipeline.id}"),
        tool=tool,
        kind="pipeline",
        name=f"{pipeline.label} ({pipeline.object_type})",
        active=not pipeline.archived,
        last_modified_at=pipeline.updated_at,
    )


def webhook_integrations(
    assets: list[Asset], *, tool: str, run_id: str, taken: set[str]
) -> list[Integration]:
    """One discovered integration per external tool that workflows send data to (active if any flow is on)."""
    by_target: dict[str, list[Asset]] = {}
    for asset in assets:
        for host in asset.external_targets:
            target = tool_for_host(host)
            if target != tool:
                by_target.setdefault(target, []).append(asset)
    out = []
    for target, flows in sorted(by_target.items()):
        iid = ids.integration_id(tool, target)
        if iid in taken:
            iid = ids.integration_id(tool, target, "webhook")
        taken.add(iid)
        active = any(a.active for a in flows)
        out.append(
            Integration(
                id=iid,
                source=tool,
                target=target,
                name="webhook" if iid.endswith(":webhook") else None,
                origin=Origin.discovered,
                status=IntegrationStatus.active if active else IntegrationStatus.disabled,
                evidence_sources=[run_id],
            )
        )
    return out
