"""Setup objects as row tables: what Tooling and REST queries on them return, and which API serves each.

Each table has a schema (its queryable fields; relationship fields as nested schemas) so queries naming anything
else fail with ``INVALID_FIELD``, as the real API does. Rows are built from the org description:

- Tooling: ``CustomField``, ``CustomObject``, ``MetadataComponentDependency``, ``InstalledSubscriberPackage``;
- REST: ``FlowDefinitionView`` (on Tooling it is "not supported"), ``OauthToken``, ``UserLicense``.

Unconfirmed field names ([U] in the reference) can be switched off per org (``"quirks"``) so tests prove the
connector copes without them: ``flow_trigger_fields`` (``TriggerObjectOrEvent*``), ``package_names``
(``SubscriberPackage.Name`` and the version's ``Name``). Other quirks: ``dependency_cap`` (rows per
MetadataComponentDependency query, default 2,000) and ``timeout_records`` (aggregates over more records fail with
``QUERY_TIMEOUT``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .org import FakeOrg, FakeSObject, parse_time, sf_id, sf_time

__all__ = ["TABLES", "TableSchema", "build_tables", "custom_rows", "schema_for", "without"]

Schema = dict[str, "Schema | None"]


@dataclass(frozen=True)
class TableSchema:
    api: str  # "tooling" | "rest"
    fields: Schema
    # Selecting one of these needs a query that returns at most one row (Tooling's FullName/Metadata rule).
    one_row_fields: frozenset[str] = frozenset()
    row_cap: int | None = None  # rows returned at most, with no paging (MetadataComponentDependency)
    no_order_by: bool = False


def _flat(*names: str) -> Schema:
    return dict.fromkeys(names)


_AUDIT = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById")

TABLES: dict[str, TableSchema] = {
    "CustomField": TableSchema(
        "tooling",
        _flat(
            "Id", "DeveloperName", "TableEnumOrId", "EntityDefinitionId", "NamespacePrefix", "ManageableState",
            "Description", "InlineHelpText", "Length", "Precision", "Scale", "RelationshipLabel", "SummaryOperation",
            "MaskType", "MaskChar", "FullName", "Metadata", *_AUDIT,
        ),
        one_row_fields=frozenset({"FullName", "Metadata"}),
    ),
    "CustomObject": TableSchema(
        "tooling",
        _flat("Id", "DeveloperName", "NamespacePrefix", "ManageableState", "Description", "ExternalName",
              "SharingModel", "FullName", "Metadata", *_AUDIT),
        one_row_fields=frozenset({"FullName", "Metadata"}),
    ),
    "MetadataComponentDependency": TableSchema(
        "tooling",
        _flat(
            "MetadataComponentId", "MetadataComponentName", "MetadataComponentNamespace", "MetadataComponentType",
            "RefMetadataComponentId", "RefMetadataComponentName", "RefMetadataComponentNamespace",
            "RefMetadataComponentType",
        ),
        row_cap=2000,
        no_order_by=True,
    ),
    "InstalledSubscriberPackage": TableSchema(
        "tooling",
        {
            "Id": None,
            "SubscriberPackageId": None,
            "SubscriberPackageVersionId": None,
            "SubscriberPackage": _flat("Id", "Name", "NamespacePrefix", "Description"),
            "SubscriberPackageVersion": _flat(
                "Id", "Name", "MajorVersion", "MinorVersion", "PatchVersion", "BuildNumber", "IsBeta"
            ),
        },
    ),
    "FlowDefinitionView": TableSchema(
        "rest",
        _flat(
            "Id", "DurableId", "ApiName", "Label", "Description", "ProcessType", "TriggerType", "IsActive",
            "ActiveVersionId", "LatestVersionId", "NamespacePrefix", "ManageableState", "InstalledPackageName",
            "IsOutOfDate", "IsTemplate", "ApiVersion", "Builder", "Environments", "LastModifiedBy",
            "LastModifiedDate", "TriggerObjectOrEventId", "TriggerObjectOrEventLabel",
        ),
    ),
    "OauthToken": TableSchema(
        "rest",
        _flat("Id", "AppName", "AppMenuItemId", "CreatedDate", "LastUsedDate", "UseCount", "UserId", "DeleteToken",
              "RequestToken"),
    ),
    "UserLicense": TableSchema(
        "rest",
        _flat("Id", "Name", "MasterLabel", "LicenseDefinitionKey", "Status", "TotalLicenses", "UsedLicenses",
              "CreatedDate", "LastModifiedDate"),
    ),
}


def without(schema: TableSchema, *paths: str) -> TableSchema:
    """``schema`` with some (possibly nested, dotted) fields removed."""
    fields: Schema = {k: (dict(v) if isinstance(v, dict) else None) for k, v in schema.fields.items()}
    for path in paths:
        head, _, rest = path.partition(".")
        sub = fields.get(head)
        if rest and isinstance(sub, dict):
            sub.pop(rest, None)
        elif not rest:
            fields.pop(head, None)
    return TableSchema(schema.api, fields, schema.one_row_fields, schema.row_cap, schema.no_order_by)


def schema_for(org: FakeOrg, table: str) -> TableSchema | None:
    """The table's schema in this org, with the unconfirmed fields its quirks switch off removed."""
    schema = TABLES.get(table)
    if schema is None:
        return None
    if table == "FlowDefinitionView" and org.quirks.get("flow_trigger_fields") is False:
        return without(schema, "TriggerObjectOrEventId", "TriggerObjectOrEventLabel")
    if table == "InstalledSubscriberPackage" and org.quirks.get("package_names") is False:
        return without(
            schema, "SubscriberPackage.Name", "SubscriberPackage.Description", "SubscriberPackageVersion.Name"
        )
    return schema


# ------------------------------------------------------------------------------------------------- rows


def _custom_field_rows(org: FakeOrg) -> list[dict[str, Any]]:
    rows = []
    for obj, fld in org.custom_fields():
        table = obj.id if obj.custom and obj.id else obj.name
        created = fld.created or sf_time(org.clock - timedelta(days=400))
        rows.append(
            {
                "Id": fld.id,
                "DeveloperName": fld.developer_name,
                "TableEnumOrId": table,
                "EntityDefinitionId": table,
                "NamespacePrefix": fld.namespace,
                "ManageableState": fld.manageable_state,
                "Description": fld.description,
                "InlineHelpText": fld.help,
                "Length": fld.length or None,
                "Precision": None,
                "Scale": None,
                "RelationshipLabel": None,
                "SummaryOperation": None,
                "MaskType": None,
                "MaskChar": None,
                "FullName": f"{obj.name}.{fld.name}",
                "Metadata": {"label": fld.label, "type": fld.type},
                "CreatedDate": sf_time(parse_time(created)),
                "CreatedById": fld.created_by or next(iter(org.users), None),
                "LastModifiedDate": sf_time(parse_time(fld.modified or created)),
                "LastModifiedById": fld.modified_by or fld.created_by or next(iter(org.users), None),
            }
        )
    return rows


def _custom_object_rows(org: FakeOrg) -> list[dict[str, Any]]:
    rows = []
    for obj in org.objects.values():
        if not obj.custom or not obj.id:
            continue
        created = sf_time(parse_time(obj.created)) if obj.created else sf_time(org.clock - timedelta(days=700))
        rows.append(
            {
                "Id": obj.id,
                "DeveloperName": obj.developer_name,
                "NamespacePrefix": obj.namespace,
                "ManageableState": "installed" if obj.namespace else "unmanaged",
                "Description": obj.description,
                "ExternalName": None,
                "SharingModel": "ReadWrite",
                "FullName": obj.name,
                "Metadata": {"label": obj.label},
                "CreatedDate": created,
                "CreatedById": next(iter(org.users), None),
                "LastModifiedDate": created,
                "LastModifiedById": next(iter(org.users), None),
            }
        )
    return rows


def _flow_rows(org: FakeOrg, specs: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for spec in specs:
        api = str(spec["api_name"])
        latest = spec.get("latest_version_id") or sf_id("301", f"flow:{api}:latest")
        active = bool(spec.get("active", True))
        trigger_obj = spec.get("trigger_object")
        obj = org.sobject(trigger_obj) if trigger_obj else None
        rows.append(
            {
                "Id": None,
                "DurableId": spec.get("id") or sf_id("300", f"flow:{api}"),
                "ApiName": api,
                "Label": spec.get("label", api.replace("_", " ")),
                "Description": spec.get("description"),
                "ProcessType": spec.get("process_type", "AutoLaunchedFlow"),
                "TriggerType": spec.get("trigger_type"),
                "IsActive": active,
                "ActiveVersionId": (spec.get("active_version_id") or latest) if active else None,
                "LatestVersionId": latest,
                "NamespacePrefix": spec.get("namespace"),
                "ManageableState": "installed" if spec.get("namespace") else "unmanaged",
                "InstalledPackageName": spec.get("package"),
                "IsOutOfDate": False,
                "IsTemplate": False,
                "ApiVersion": float(spec.get("api_version", 59.0)),
                "Builder": "Flow Builder",
                "Environments": "Default",
                "LastModifiedBy": spec.get("modified_by", "Admin User"),
                "LastModifiedDate": sf_time(parse_time(spec.get("modified", "2025-01-15T10:00:00Z"))),
                "TriggerObjectOrEventId": (obj.id or obj.name) if obj else trigger_obj,
                "TriggerObjectOrEventLabel": obj.label if obj else trigger_obj,
            }
        )
    return rows


def _field_ref(org: FakeOrg, path: str) -> tuple[FakeSObject, Any]:
    obj_name, _, field_name = path.partition(".")
    obj = org.sobject(obj_name)
    fld = obj.field(field_name) if obj else None
    if obj is None or fld is None or not fld.custom:
        raise ValueError(f"dependency on unknown custom field {path!r}")
    return obj, fld


def _dependency_rows(org: FakeOrg, specs: list[Mapping[str, Any]], flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flow_versions = {f["ApiName"]: f for f in flows}
    rows = []
    for n, spec in enumerate(specs):
        _obj, fld = _field_ref(org, str(spec["field"]))
        if "flow" in spec:
            flow = flow_versions[str(spec["flow"])]
            version = spec.get("version", "latest")
            cid = flow["ActiveVersionId"] if version == "active" else flow["LatestVersionId"]
            components = [("Flow", flow["ApiName"], cid, flow["NamespacePrefix"])]
        else:
            ctype = str(spec["type"])
            name = str(spec.get("name", ctype))
            count = int(spec.get("count", 1))
            prefix = {"ApexClass": "01p", "ApexTrigger": "01q", "Layout": "00h", "ValidationRule": "03d",
                      "CustomField": "00N", "WorkflowRule": "01Q", "EmailTemplate": "00X",
                      "FlexiPage": "0M0"}.get(ctype, "0XX")
            components = [
                (ctype, name if count == 1 else f"{name} {i + 1}",
                 spec.get("id") if count == 1 and spec.get("id") else sf_id(prefix, f"{n}:{name}:{i}"),
                 spec.get("namespace"))
                for i in range(count)
            ]
        for ctype, cname, cid, cns in components:
            rows.append(
                {
                    "MetadataComponentId": cid,
                    "MetadataComponentName": cname,
                    "MetadataComponentNamespace": cns,
                    "MetadataComponentType": ctype,
                    "RefMetadataComponentId": fld.id,
                    "RefMetadataComponentName": fld.developer_name,
                    "RefMetadataComponentNamespace": fld.namespace,
                    "RefMetadataComponentType": "CustomField",
                }
            )
    return rows


def _package_rows(specs: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for spec in specs:
        ns = spec.get("namespace")
        key = str(spec.get("name") or ns)
        pkg_id = spec.get("package_id") or sf_id("033", f"pkg:{key}")
        ver_id = spec.get("version_id") or sf_id("04t", f"pkgver:{key}")
        rows.append(
            {
                "Id": spec.get("id") or sf_id("0A3", f"isp:{key}"),
                "SubscriberPackageId": pkg_id,
                "SubscriberPackageVersionId": ver_id,
                "SubscriberPackage": {
                    "Id": pkg_id,
                    "Name": spec.get("name"),
                    "NamespacePrefix": ns,
                    "Description": spec.get("description"),
                },
                "SubscriberPackageVersion": {
                    "Id": ver_id,
                    "Name": spec.get("version", "1.0"),
                    "MajorVersion": int(spec.get("major", 1)),
                    "MinorVersion": int(spec.get("minor", 0)),
                    "PatchVersion": int(spec.get("patch", 0)),
                    "BuildNumber": int(spec.get("build", 1)),
                    "IsBeta": False,
                },
            }
        )
    return rows


def _token_rows(org: FakeOrg, specs: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    users = list(org.users) or [sf_id("005", "integration-user")]
    for spec in specs:
        app = str(spec["name"])
        holders = max(1, int(spec.get("users", 1)))
        last = parse_time(spec["last_used"]) if spec.get("last_used") else None
        created = parse_time(spec.get("created", "2024-01-10T12:00:00Z"))
        total = int(spec.get("use_count", 100))
        for i in range(holders):
            used = (last - timedelta(days=3 * i)) if last else None
            rows.append(
                {
                    "Id": sf_id("0CR", f"tok:{app}:{i}"),
                    "AppName": app,
                    "AppMenuItemId": sf_id("0DS", f"app:{app}"),
                    "CreatedDate": sf_time(created),
                    "LastUsedDate": sf_time(used) if used else None,
                    "UseCount": total // holders + (1 if i < total % holders else 0),
                    "UserId": users[i % len(users)],
                    "DeleteToken": None,
                    "RequestToken": None,
                }
            )
    return rows


def _license_rows(specs: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "Id": sf_id("100", f"lic:{spec['name']}"),
            "Name": spec["name"],
            "MasterLabel": spec.get("label", spec["name"]),
            "LicenseDefinitionKey": spec.get("key", str(spec["name"]).upper().replace(" ", "_")),
            "Status": spec.get("status", "Active"),
            "TotalLicenses": int(spec.get("total", 0)),
            "UsedLicenses": int(spec.get("used", 0)),
            "CreatedDate": "2019-01-01T00:00:00.000+0000",
            "LastModifiedDate": "2026-01-01T00:00:00.000+0000",
        }
        for spec in specs
    ]


def custom_rows(org: FakeOrg, table: str) -> list[dict[str, Any]] | None:
    """Rows of the tables derived from the org's objects (built per query, so tests may change the org)."""
    if table == "CustomField":
        return _custom_field_rows(org)
    if table == "CustomObject":
        return _custom_object_rows(org)
    return None


def build_tables(org: FakeOrg, data: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The static tables of an org description (flows, dependencies, packages, tokens, licences)."""
    flows = _flow_rows(org, list(data.get("flows", [])))
    return {
        "FlowDefinitionView": flows,
        "MetadataComponentDependency": _dependency_rows(org, list(data.get("dependencies", [])), flows),
        "InstalledSubscriberPackage": _package_rows(list(data.get("packages", []))),
        "OauthToken": _token_rows(org, list(data.get("connected_apps", []))),
        "UserLicense": _license_rows(list(data.get("licenses", []))),
    }
