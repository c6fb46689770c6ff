"""A large synthetic org for call-count benchmarks and scale tests.

``synthetic_org()`` builds 200 objects: the ten standard objects marketing and sales use, 40 other standard
objects (five of them carrying custom fields), and 150 custom objects, among them ``Wide_Object__c`` with 800
custom fields and ``Heavy_Deps__c`` whose fields are referenced by more than 2,000 metadata components (one of its
fields alone by 2,100, so only a split by component type gets under the 2,000-row cap).

Field mix (deterministic, by index): types cycle through string, number, picklist, date, checkbox, long text area,
multi-select picklist, lookup, datetime, email, currency, url, percent and phone; by index modulo 10, 50% are
filled at various rates, 10% only on the oldest records, 40% are empty.
"""

from __future__ import annotations

from typing import Any

from .load import load_org
from .org import FakeOrg

__all__ = ["STANDARD_AUDITED", "synthetic_description", "synthetic_org"]

STANDARD_AUDITED = ("Lead", "Contact", "Account", "Opportunity", "Campaign", "CampaignMember", "Case", "Task",
                    "Event", "User")
_OTHER_STANDARD = (
    "Asset", "Contract", "Order", "OrderItem", "Product2", "Pricebook2", "PricebookEntry", "Quote", "QuoteLineItem",
    "Solution", "Idea", "Document", "Folder", "Group", "Note", "Attachment", "ContentVersion", "ContentDocument",
    "EmailMessage", "Entitlement", "ServiceContract", "WorkOrder", "Partner", "OpportunityContactRole",
    "OpportunityLineItem", "AccountContactRole", "CaseComment", "LeadHistory", "AccountHistory",
    "ContactHistory", "OpportunityHistory", "CaseHistory", "UserRole", "Profile", "PermissionSet", "RecordType",
    "BusinessHours", "Holiday", "Territory", "Topic",
)
_TYPES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("string", {"length": 80}),
    ("double", {}),
    ("picklist", {"values": ["Alpha", "Beta", "Gamma"]}),
    ("date", {}),
    ("boolean", {}),
    ("textarea", {"length": 32768}),
    ("multipicklist", {"values": ["One", "Two"]}),
    ("reference", {"reference_to": ["Account"]}),
    ("datetime", {}),
    ("email", {}),
    ("currency", {}),
    ("url", {}),
    ("percent", {}),
    ("phone", {}),
)
_STANDARD_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("Name", "string", 1.0),
    ("OwnerId", "reference", 1.0),
    ("Description", "textarea", 0.3),
    ("Status", "picklist", 0.9),
    ("Type", "picklist", 0.6),
    ("Email", "email", 0.8),
    ("Phone", "phone", 0.5),
    ("Industry", "picklist", 0.4),
    ("Amount", "currency", 0.7),
    ("CloseDate", "date", 0.7),
    ("Rating", "picklist", 0.1),
    ("Website", "url", 0.5),
)
USERS = [{"id": "0055g00000SYNTH01AAA", "name": "Admin User"}, {"id": "0055g00000SYNTH02AAA", "name": "Ops User"}]


def _fill(i: int) -> Any:
    kind = i % 10
    if kind < 5:
        return [1.0, 0.5, 0.25, 0.1, 0.02][kind]
    if kind == 5:
        return {"fraction": 0.5, "to": 0.3}
    return 0


def _custom_fields(prefix: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        i = start + n
        ftype, extra = _TYPES[i % len(_TYPES)]
        out.append(
            {
                "name": f"{prefix}_{n:03d}__c",
                "type": ftype,
                "label": f"{prefix.replace('_', ' ')} {n}",
                "description": f"Synthetic field {n}" if n % 3 else None,
                "created": f"20{19 + i % 6}-0{1 + i % 9}-15T10:00:00Z",
                "created_by": USERS[i % 2]["id"],
                "fill": _fill(i),
                **extra,
            }
        )
    return out


def _standard(name: str, records: int, custom: int) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {"name": n, "type": t, "fill": f, **({"values": ["Open", "Closed"]} if t == "picklist" else {}),
         **({"length": 32000} if t == "textarea" else {})}
        for n, t, f in _STANDARD_FIELDS
    ]
    fields += _custom_fields(f"{name}_Custom", custom)
    return {"label": name, "custom": False, "records": records, "fields": fields}


def synthetic_description(*, wide_fields: int = 800, heavy_rows: int = 2100, broken_fields: tuple[str, ...] = ()
                          ) -> dict[str, Any]:
    """The org description behind :func:`synthetic_org` (tests tweak it before loading)."""
    objects: dict[str, Any] = {}
    for i, name in enumerate(STANDARD_AUDITED):
        objects[name] = _standard(name, 4000 + 500 * i, 20 + 5 * i)
    for i, name in enumerate(_OTHER_STANDARD):
        objects[name] = _standard(name, 300, 8 if i < 5 else 0)
    objects["Wide_Object__c"] = {
        "label": "Wide Object", "records": 3000, "fields": _custom_fields("Wide", wide_fields),
        "description": "An object at the 800 custom-field limit",
    }
    objects["Heavy_Deps__c"] = {"label": "Heavy Deps", "records": 500, "fields": _custom_fields("Heavy", 60)}
    for i in range(148):
        objects[f"Custom_Obj_{i:03d}__c"] = {
            "label": f"Custom Object {i}",
            "records": [0, 50, 400, 1200][i % 4],
            "fields": _custom_fields(f"Obj{i:03d}", 5 + i % 26, start=i),
        }
    for ref in broken_fields:
        obj, _, fld = ref.partition(".")
        for spec in objects[obj]["fields"]:
            if spec["name"] == fld:
                spec["query_error"] = "INVALID_FIELD"
    dependencies: list[dict[str, Any]] = []
    for n in range(60):
        dependencies.append({"field": f"Heavy_Deps__c.Heavy_{n:03d}__c", "type": "Layout", "name": f"Heavy L{n}",
                             "count": 40})
    first = "Heavy_Deps__c.Heavy_000__c"
    dependencies.append({"field": first, "type": "ApexClass", "name": "HeavyService", "count": heavy_rows - 1500})
    dependencies.append({"field": first, "type": "Layout", "name": "Heavy Extra Layout", "count": 1500 - 40})
    flows = []
    for i in range(20):
        flows.append({"api_name": f"Synthetic_Flow_{i:02d}", "active": i % 4 != 0, "trigger_object": "Lead",
                      "trigger_type": "RecordAfterSave", "process_type": "AutoLaunchedFlow"})
        dependencies.append({"field": f"Lead.Lead_Custom_{i:03d}__c", "flow": f"Synthetic_Flow_{i:02d}"})
    for i in range(0, 100, 7):
        dependencies.append({"field": f"Wide_Object__c.Wide_{i:03d}__c", "type": "ApexClass", "name": f"Wide{i}"})
    return {
        "clock": "2026-11-30T09:00:00Z",
        "daily_limit": 1_000_000,
        "daily_used": 1000,
        "users": USERS,
        "objects": objects,
        "flows": flows,
        "dependencies": dependencies,
        "packages": [{"name": "LeanData", "namespace": "LeanData"}, {"name": "Acme Widgets", "namespace": "acmew"}],
        "connected_apps": [{"name": "Zapier", "last_used": "2026-11-29T10:00:00Z", "use_count": 900, "users": 2}],
        "licenses": [{"name": "Salesforce", "key": "SFDC", "total": 300, "used": 271}],
    }


def synthetic_org(**options: Any) -> FakeOrg:
    """The 200-object org; ``options`` go to :func:`synthetic_description`."""
    return load_org(synthetic_description(**options))
