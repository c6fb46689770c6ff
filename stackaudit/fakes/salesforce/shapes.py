"""Builders for Salesforce's JSON shapes, following ../shared/api-reference/salesforce (recorded CumulusCI bodies).

Every describe field carries all 57 keys the recorded responses show; every describe body carries all its top-level
keys; describeGlobal entries carry theirs. Values come from the compact org description, with ``describe`` raw
overrides on a field applied last (tests use them for odd shapes).
"""

from __future__ import annotations

from typing import Any

from .org import FakeField, FakeSObject

__all__ = ["describe_body", "field_body", "global_entry", "limits_body"]

_SOAP = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "double": "xsd:double", "currency": "xsd:double",
    "percent": "xsd:double", "int": "xsd:int", "date": "xsd:date", "datetime": "xsd:dateTime", "time": "xsd:time",
    "address": "urn:address", "location": "urn:location", "base64": "xsd:base64Binary",
}


def _urls(version: str, name: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "listviews": f"{base}/listviews",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def field_body(fld: FakeField) -> dict[str, Any]:
    length = fld.length
    body: dict[str, Any] = {
        "aggregatable": fld.aggregatable,
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": length * 3,
        "calculated": fld.calculated,
        "calculatedFormula": fld.formula,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": fld.compound,
        "controllerName": None,
        "createable": not fld.calculated and fld.name != "Id",
        "custom": fld.custom,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": fld.name == "Id",
        "dependentPicklist": False,
        "deprecatedAndHidden": fld.hidden,
        "digits": 0,
        "displayLocationInDecimal": False,
        "encrypted": fld.type == "encryptedstring",
        "externalId": False,
        "extraTypeInfo": "plaintextarea" if fld.type == "textarea" else None,
        "filterable": fld.filterable,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": fld.filterable and fld.type not in ("textarea", "double", "currency", "percent", "datetime"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": fld.name == "Id",
        "inlineHelpText": fld.help,
        "label": fld.label,
        "length": length,
        "mask": None,
        "maskType": None,
        "name": fld.name,
        "nameField": fld.name == "Name",
        "namePointing": False,
        "nillable": fld.name not in ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"),
        "permissionable": fld.custom,
        "picklistValues": [dict(v) for v in fld.values],
        "polymorphicForeignKey": len(fld.reference_to) > 1,
        "precision": 18 if fld.type in ("double", "currency", "percent") else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(fld.reference_to),
        "relationshipName": (fld.name[:-2] if fld.name.endswith("Id") else fld.name.replace("__c", "__r"))
        if fld.type == "reference" else None,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": False,
        "scale": 0,
        "searchPrefilterable": False,
        "soapType": _SOAP.get(fld.type, "xsd:string"),
        "sortable": fld.filterable and fld.type not in ("textarea", "multipicklist"),
        "type": fld.type,
        "unique": False,
        "updateable": not fld.calculated and fld.name not in ("Id", "CreatedDate", "LastModifiedDate"),
        "writeRequiresMasterRead": False,
    }
    body.update(fld.describe)
    return body


def _flags(obj: FakeSObject) -> dict[str, Any]:
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": True,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": not obj.custom,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label + "s",
        "layoutable": True,
        "mergeable": obj.name in ("Lead", "Contact", "Account"),
        "mruEnabled": True,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
    }


def global_entry(obj: FakeSObject, version: str) -> dict[str, Any]:
    return {**_flags(obj), "urls": _urls(version, obj.name)}


def describe_body(obj: FakeSObject, version: str) -> dict[str, Any]:
    body = _flags(obj)
    body.update(
        {
            "actionOverrides": [],
            "childRelationships": [],
            "compactLayoutable": True,
            "defaultImplementation": None,
            "extendedBy": None,
            "extendsInterfaces": None,
            "fields": [field_body(f) for f in obj.fields.values()],
            "implementedBy": None,
            "implementsInterfaces": None,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": "012000000000000AAA",
                    "urls": {"layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/"
                             "012000000000000AAA"},
                }
            ],
            "searchLayoutable": True,
            "sobjectDescribeOption": "FULL",
            "supportedScopes": [{"label": "All records", "name": "everything"}],
            "urls": _urls(version, obj.name),
        }
    )
    return dict(sorted(body.items()))


def limits_body(daily_max: int, daily_remaining: int) -> dict[str, Any]:
    return {
        "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        "DailyApiRequests": {
            "Max": daily_max,
            "Remaining": daily_remaining,
            "Ant Migration Tool": {"Max": 0, "Remaining": 0},
            "Dataloader Bulk": {"Max": 0, "Remaining": 0},
            "Salesforce for Outlook": {"Max": 0, "Remaining": 0},
        },
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 5120, "Remaining": 3900},
        "FileStorageMB": {"Max": 20480, "Remaining": 18000},
    }
