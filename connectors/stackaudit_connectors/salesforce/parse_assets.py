"""Pure functions from Salesforce JSON to assets, references, tools, integrations and seats: flows, metadata
dependencies, installed packages, connected-app OAuth tokens and user licences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from stackaudit_inventory import (
    Asset,
    FieldDef,
    Integration,
    IntegrationStatus,
    Origin,
    Reference,
    Seats,
    Tool,
    ids,
)
from stackaudit_inventory.catalogue import VendorCatalogue, VendorEntry

from .parse import parse_time

__all__ = [
    "AppActivity",
    "FlowIndex",
    "Package",
    "app_tools_and_integrations",
    "package_references",
    "package_tools",
    "parse_connected_apps",
    "parse_dependencies",
    "parse_flows",
    "parse_licenses",
    "parse_packages",
]

DEPENDENCY_CONTEXT = "{0} depends on it (MetadataComponentDependency; read or write not told)"
CONNECTED_APP = "connected-app"
PACKAGE_CONTEXT = "managed package field: created and maintained by the installed package"
# Connected apps that are Salesforce's own tools (admin and mobile clients), not tools in the stack.
_SALESFORCE_APPS = re.compile(
    r"^(salesforce|chatter|ant migration tool|dataloader|data loader|workbench|force\.com|sfdx|einstein|"
    r"sales cloud|service cloud|slack for salesforce)",
    re.IGNORECASE,
)
_SALESFORCE_PACKAGE = re.compile(r"^(salesforce|sf_com_apps|sfdc)", re.IGNORECASE)


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _sub(rec: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A relationship sub-record (``SubscriberPackage``), or an empty mapping when absent or null."""
    value = rec.get(key)
    return value if isinstance(value, Mapping) else {}


def _kind(component_type: str) -> str:
    """``ApexClass`` -> ``apex_class``; ``ValidationRule`` -> ``validation_rule``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", component_type).lower() or "component"


# -------------------------------------------------------------------------------------------------- flows


@dataclass
class FlowIndex:
    """Flow definitions by every id a dependency row may carry (definition, active and latest version)."""

    by_id: dict[str, tuple[Asset, str | None]] = field(default_factory=dict)  # id -> (flow asset, active version)
    by_name: dict[str, tuple[Asset, str | None]] = field(default_factory=dict)

    def find(self, component_id: str | None, name: str | None) -> tuple[Asset, str | None] | None:
        if component_id:
            hit = self.by_id.get(component_id) or self.by_id.get(component_id[:15])
            if hit:
                return hit
        return self.by_name.get(name or "")


def parse_flows(records: Iterable[Mapping[str, Any]], tool: str) -> tuple[list[Asset], FlowIndex]:
    """``FlowDefinitionView`` rows -> flow assets (active or not, trigger object) and an index for dependencies."""
    assets: list[Asset] = []
    index = FlowIndex()
    for rec in records:
        durable = _str(rec.get("DurableId")) or _str(rec.get("Id"))
        api_name = _str(rec.get("ApiName"))
        if durable is None or api_name is None:
            continue
        process = _str(rec.get("ProcessType"))
        trigger = _str(rec.get("TriggerObjectOrEventLabel")) or _str(rec.get("TriggerObjectOrEventId"))
        asset = Asset(
            id=ids.asset_id(tool, "flow", durable),
            tool=tool,
            kind="process_builder" if process == "Workflow" else "flow",
            name=_str(rec.get("Label")) or api_name,
            active=rec.get("IsActive") is True,
            last_modified_at=parse_time(rec.get("LastModifiedDate")),
            trigger_object=trigger,
        )
        assets.append(asset)
        active_version = _str(rec.get("ActiveVersionId"))
        entry = (asset, active_version)
        for key in (durable, active_version, _str(rec.get("LatestVersionId"))):
            if key:
                index.by_id[key] = entry
                index.by_id[key[:15]] = entry
        index.by_name[api_name] = entry
    return assets, index


# ------------------------------------------------------------------------------------------- dependencies


def _flow_component(tool: str, hit: tuple[Asset, str | None], cid: str) -> Asset:
    """The asset a flow dependency row points at: the flow, or an inactive older version of an active flow."""
    flow, active_version = hit
    if not flow.active or active_version is None or cid[:15] == active_version[:15] or flow.id.endswith(cid):
        return flow
    return Asset(
        id=ids.asset_id(tool, "flow_version", cid),
        tool=tool,
        kind="flow_version",
        name=f"{flow.name} (inactive version)",
        active=False,
        trigger_object=flow.trigger_object,
    )


def parse_dependencies(
    rows: Iterable[Mapping[str, Any]], field_ids: Mapping[str, str], flows: FlowIndex, tool: str
) -> tuple[list[Asset], list[Reference], int]:
    """``MetadataComponentDependency`` rows on custom fields -> assets and their references to fields.

    ``field_ids`` maps a custom field's Salesforce Id (18 and 15 characters) to its field id. Rows on fields outside
    the audit are counted and skipped. Components whose activity the API does not tell (Apex, layouts, validation
    rules...) are active: a false "unused" costs more than a missed one.
    """
    assets: dict[str, Asset] = {}
    refs: dict[tuple[str, str], Reference] = {}
    skipped = 0
    for row in rows:
        if str(row.get("RefMetadataComponentType") or "").lower() != "customfield":
            continue
        ref_id = _str(row.get("RefMetadataComponentId"))
        fid = field_ids.get(ref_id or "") or field_ids.get((ref_id or "")[:15])
        cid = _str(row.get("MetadataComponentId"))
        ctype = _str(row.get("MetadataComponentType")) or "Component"
        if fid is None or cid is None:
            skipped += 1
            continue
        name = _str(row.get("MetadataComponentName")) or cid
        hit = flows.find(cid, name) if ctype == "Flow" else None
        if hit is not None:
            asset = _flow_component(tool, hit, cid)
        else:
            kind = _kind(ctype)
            asset = Asset(id=ids.asset_id(tool, kind, cid), tool=tool, kind=kind, name=name, active=True)
        assets.setdefault(asset.id, asset)
        refs.setdefault(
            (asset.id, fid), Reference(asset=asset.id, field=fid, mode="read", context=DEPENDENCY_CONTEXT.format(ctype))
        )
    return list(assets.values()), list(refs.values()), skipped


# ------------------------------------------------------------------------------------------------ packages


@dataclass(frozen=True)
class Package:
    id: str
    name: str | None
    namespace: str | None
    version: str | None


def parse_packages(records: Iterable[Mapping[str, Any]]) -> list[Package]:
    """``InstalledSubscriberPackage`` rows (names are unconfirmed fields: absent ones are None)."""
    out = []
    for rec in records:
        pkg = _sub(rec, "SubscriberPackage")
        ver = _sub(rec, "SubscriberPackageVersion")
        pid = _str(rec.get("SubscriberPackageId")) or _str(pkg.get("Id")) or _str(rec.get("Id"))
        if pid is None:
            continue
        numbers = [ver.get(k) for k in ("MajorVersion", "MinorVersion", "PatchVersion")]
        version = _str(ver.get("Name")) or (
            ".".join(str(n) for n in numbers if isinstance(n, int)) if any(isinstance(n, int) for n in numbers)
            else None
        )
        out.append(Package(pid, _str(pkg.get("Name")), _str(pkg.get("NamespacePrefix")), version))
    return out


def _discovered_tool(entry: VendorEntry | None, name: str, declared: Mapping[str, str], run_id: str,
                     notes: str) -> Tool | None:
    """A discovered tool: minimal when the manifest declares it (the team's facts win), else from the catalogue."""
    if entry is None:
        try:
            slug = ids.slugify(name)
        except ValueError:
            return None
        return Tool(id=slug, name=name, origin=Origin.discovered, discovered_by=[run_id], notes=notes)
    if entry.id in declared:
        return Tool(id=entry.id, name=declared[entry.id], origin=Origin.discovered, discovered_by=[run_id])
    return Tool(
        id=entry.id,
        name=entry.name,
        vendor=entry.vendor,
        capabilities=list(entry.capabilities),
        origin=Origin.discovered,
        discovered_by=[run_id],
        notes=notes,
    )


def package_tools(
    packages: Sequence[Package], catalogue: VendorCatalogue, tool: str, declared: Mapping[str, str], run_id: str
) -> tuple[list[Tool], list[Asset], dict[str, str], dict[str, str]]:
    """Installed packages -> discovered tools, package assets, and by lower-case namespace: the owning tool id and
    the package asset id. Salesforce's own packages are assets but not tools."""
    tools: dict[str, Tool] = {}
    assets: list[Asset] = []
    owners: dict[str, str] = {}
    asset_by_ns: dict[str, str] = {}
    for pkg in packages:
        label = pkg.name or pkg.namespace or pkg.id
        asset = Asset(
            id=ids.asset_id(tool, "package", pkg.id),
            tool=tool,
            kind="installed_package",
            name=f"{label} ({pkg.namespace})" if pkg.namespace and pkg.name else label,
            active=True,
        )
        assets.append(asset)
        entry = (catalogue.by_salesforce_namespace(pkg.namespace) if pkg.namespace else None) or (
            catalogue.match_name(pkg.name) if pkg.name else None
        )
        if pkg.namespace:
            asset_by_ns[pkg.namespace.lower()] = asset.id
        if entry is None and (not pkg.name or _SALESFORCE_PACKAGE.match(pkg.name) or (
                pkg.namespace and _SALESFORCE_PACKAGE.match(pkg.namespace))):
            continue
        where = f" (namespace {pkg.namespace})" if pkg.namespace else ""
        found = _discovered_tool(entry, label, declared, run_id, f"Installed Salesforce package{where}.")
        if found is None or found.id == tool:
            continue
        tools.setdefault(found.id, found)
        if pkg.namespace:
            owners[pkg.namespace.lower()] = found.id
    return list(tools.values()), assets, owners, asset_by_ns


def package_references(fields: Iterable[FieldDef], asset_by_ns: Mapping[str, str]) -> list[Reference]:
    """Each field in an installed package's namespace is written by that package (it created and maintains it)."""
    return [
        Reference(asset=asset_by_ns[f.namespace.lower()], field=f.id, mode="write", context=PACKAGE_CONTEXT)
        for f in fields
        if f.namespace and f.namespace.lower() in asset_by_ns
    ]


# ----------------------------------------------------------------------------------------- connected apps


@dataclass
class AppActivity:
    name: str
    last_used: datetime | None = None
    use_count: int = 0
    tokens: int = 0
    users: set[str] = field(default_factory=set)


def parse_connected_apps(records: Iterable[Mapping[str, Any]]) -> list[AppActivity]:
    """``OauthToken`` rows (one per user and app) -> activity per app: last use, uses, tokens, users."""
    apps: dict[str, AppActivity] = {}
    for rec in records:
        name = _str(rec.get("AppName"))
        if name is None:
            continue
        app = apps.setdefault(name, AppActivity(name))
        app.tokens += 1
        used = parse_time(rec.get("LastUsedDate"))
        if used is not None and (app.last_used is None or used > app.last_used):
            app.last_used = used
        count = rec.get("UseCount")
        app.use_count += count if isinstance(count, int) and count > 0 else 0
        user = _str(rec.get("UserId"))
        if user:
            app.users.add(user)
    return sorted(apps.values(), key=lambda a: a.name.lower())


def app_tools_and_integrations(
    apps: Sequence[AppActivity],
    catalogue: VendorCatalogue,
    tool: str,
    run_id: str,
    declared: Mapping[str, str],
    now: datetime,
    *,
    active_days: int = 30,
) -> tuple[list[Tool], list[Integration], list[str]]:
    """Connected apps -> the tools behind them and an integration ``<app>->salesforce:connected-app`` each.

    The token's last use is evidence of activity, not of a successful sync, so it sets ``last_sync_at`` only; an
    app used within ``active_days`` is ``active``, older ones ``unknown``.
    """
    tools: dict[str, Tool] = {}
    integrations: dict[str, Integration] = {}
    notes: list[str] = []
    for app in apps:
        used = app.last_used.date().isoformat() if app.last_used else "never"
        line = f"connected app '{app.name}': {app.tokens} token(s), {len(app.users)} user(s), {app.use_count} uses, " \
               f"last used {used}"
        if _SALESFORCE_APPS.match(app.name):
            notes.append(line + " (a Salesforce app, not a tool in the stack)")
            continue
        notes.append(line)
        found = _discovered_tool(catalogue.match_name(app.name), app.name, declared, run_id,
                                 "Connected app with OAuth tokens in Salesforce.")
        if found is None or found.id == tool:
            continue
        tools.setdefault(found.id, found)
        recent = app.last_used is not None and now - app.last_used <= timedelta(days=active_days)
        # Its own id (suffix ``connected-app``): the token's activity is evidence beside a declared sync between the
        # same tools, never a replacement of that sync's observed status.
        iid = ids.integration_id(found.id, tool, CONNECTED_APP)
        integrations[iid] = Integration(
            id=iid,
            source=found.id,
            target=tool,
            name=CONNECTED_APP,
            origin=Origin.discovered,
            status=IntegrationStatus.active if recent else IntegrationStatus.unknown,
            last_sync_at=app.last_used,
            evidence_sources=[run_id],
        )
    return list(tools.values()), list(integrations.values()), notes


# ------------------------------------------------------------------------------------------------ licences


def parse_licenses(records: Iterable[Mapping[str, Any]]) -> tuple[Seats | None, list[str]]:
    """``UserLicense`` rows -> seats of the full Salesforce licence (key ``SFDC``), and a line per other licence."""
    bought = used = 0
    found = False
    notes = []
    for rec in records:
        name = _str(rec.get("Name")) or _str(rec.get("MasterLabel")) or "?"
        total, taken = rec.get("TotalLicenses"), rec.get("UsedLicenses")
        if not isinstance(total, int) or not isinstance(taken, int):
            continue
        if _str(rec.get("LicenseDefinitionKey")) == "SFDC" or name.lower() == "salesforce":
            bought, used, found = bought + total, used + taken, True
        elif total > 0:
            notes.append(f"licence '{name}': {taken} of {total} used")
    seats = Seats(bought=bought, used=used, source="Salesforce UserLicense (Salesforce licence)") if found else None
    return seats, notes
