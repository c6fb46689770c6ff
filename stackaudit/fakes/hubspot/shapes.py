"""Builders for HubSpot's JSON shapes, following ../shared/api-reference/hubspot exactly.

A portal description is written compactly (a property as name/type/fill, a flow as its filters and actions); these
functions expand each item into the body the real API returns, including the quirks reproduced from recorded
responses: HubSpot-defined properties carry ``hubspotDefined: true`` and no ``createdUserId``; custom properties
have no ``hubspotDefined`` key at all but carry ``createdUserId``/``updatedUserId``, ``archived: false`` and
``showCurrencySymbol``; ``options`` is ``[]`` for non-enumerations. An item given as ``{"raw": {...}}`` is served
verbatim (tests use it for odd or broken shapes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "OBJECT_TYPE_IDS",
    "expand_flow",
    "expand_form",
    "expand_list",
    "expand_owner",
    "expand_property",
    "flow_listing",
    "list_search_item",
    "property_filter",
]

OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tickets": "0-5",
    "products": "0-7",
    "line_items": "0-8",
    "quotes": "0-14",
    "calls": "0-48",
    "emails": "0-49",
    "meetings": "0-47",
    "notes": "0-46",
    "tasks": "0-27",
}

_DEFAULT_DATE = "2019-08-06T02:41:10.293Z"
_FIELD_TYPES = {
    "string": "text",
    "number": "number",
    "bool": "booleancheckbox",
    "enumeration": "select",
    "date": "date",
    "datetime": "date",
    "phone_number": "phonenumber",
}


def _options(raw: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for i, opt in enumerate(raw):
        if isinstance(opt, str):
            opt = {"value": opt, "label": opt.replace("_", " ").title()}
        elif isinstance(opt, list | tuple):
            opt = {"value": opt[0], "label": opt[1]}
        out.append(
            {
                "label": opt["label"],
                "value": opt["value"],
                "description": opt.get("description", ""),
                "displayOrder": opt.get("displayOrder", i),
                "hidden": bool(opt.get("hidden", False)),
            }
        )
    return out


def expand_property(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A ``Property`` body from a compact spec (keys as in the API, plus ``fill`` which the fake keeps apart)."""
    if "raw" in spec:
        return dict(spec["raw"])
    ptype = spec.get("type", "string")
    defined = bool(spec.get("hubspotDefined", False))
    created = spec.get("createdAt", _DEFAULT_DATE)
    body: dict[str, Any] = {
        "updatedAt": spec.get("updatedAt", created),
        "createdAt": created,
        "name": spec["name"],
        "label": spec.get("label", spec["name"].replace("_", " ").title()),
        "type": ptype,
        "fieldType": spec.get("fieldType", _FIELD_TYPES.get(ptype, "text")),
        "description": spec.get("description", ""),
        "groupName": spec.get("groupName", "contactinformation"),
        "options": _options(spec.get("options", [])),
        "displayOrder": spec.get("displayOrder", -1),
        "calculated": bool(spec.get("calculated", False)),
        "externalOptions": False,
        "hasUniqueValue": bool(spec.get("hasUniqueValue", False)),
        "hidden": bool(spec.get("hidden", False)),
        "formField": bool(spec.get("formField", True)),
    }
    if defined:
        body["hubspotDefined"] = True
        body["modificationMetadata"] = {
            "archivable": True,
            "readOnlyDefinition": True,
            "readOnlyValue": bool(spec.get("calculated", False)),
        }
    else:
        user = str(spec.get("createdUserId", "46893556"))
        body["createdUserId"] = user
        body["updatedUserId"] = str(spec.get("updatedUserId", user))
        body["archived"] = bool(spec.get("archived", False))
        body["showCurrencySymbol"] = False
        body["modificationMetadata"] = {"archivable": True, "readOnlyDefinition": False, "readOnlyValue": False}
    if spec.get("calculationFormula"):
        body["calculationFormula"] = spec["calculationFormula"]
    if spec.get("referencedObjectType"):
        body["referencedObjectType"] = spec["referencedObjectType"]
    return body


def expand_owner(spec: Mapping[str, Any]) -> dict[str, Any]:
    if "raw" in spec:
        return dict(spec["raw"])
    body = {
        "id": str(spec["id"]),
        "email": spec.get("email", f"owner{spec['id']}@example.com"),
        "firstName": spec.get("firstName", "Pat"),
        "lastName": spec.get("lastName", "Owner"),
        "type": spec.get("type", "PERSON"),
        "userId": spec.get("userId", int(spec["id"]) if str(spec["id"]).isdigit() else 1),
        "userIdIncludingInactive": spec.get("userId", int(spec["id"]) if str(spec["id"]).isdigit() else 1),
        "createdAt": spec.get("createdAt", "2021-01-04T09:00:00.000Z"),
        "updatedAt": spec.get("updatedAt", spec.get("createdAt", "2021-01-04T09:00:00.000Z")),
        "archived": bool(spec.get("archived", False)),
        "teams": spec.get("teams", []),
    }
    return body


def _form_field(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(spec, str):
        spec = {"name": spec}
    return {
        "objectTypeId": spec.get("objectTypeId", "0-1"),
        "name": spec["name"],
        "label": spec.get("label", spec["name"].replace("_", " ").title()),
        "required": bool(spec.get("required", False)),
        "hidden": bool(spec.get("hidden", False)),
        "fieldType": spec.get("fieldType", "single_line_text"),
        "dependentFields": [
            {"dependentCondition": {"operator": "is_not_empty"}, "dependentField": _form_field(d)}
            for d in spec.get("dependentFields", [])
        ],
    }


def expand_form(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A hubspot ``FormDefinition``; ``fields`` are names (contacts) or ``{objectTypeId, name}`` mappings."""
    if "raw" in spec:
        return dict(spec["raw"])
    created = spec.get("createdAt", "2023-05-01T12:00:00.000Z")
    config: dict[str, Any] = {
        "language": "en",
        "cloneable": True,
        "postSubmitAction": {"type": "thank_you", "value": "Thanks!"},
        "editable": True,
        "archivable": True,
        "recaptchaEnabled": False,
        "notifyContactOwner": False,
        "notifyRecipients": [],
        "createNewContactForNewEmail": False,
        "prePopulateKnownValues": True,
        "allowLinkToResetKnownValues": False,
        "lifecycleStages": [{"objectTypeId": "0-1", "value": v} for v in spec.get("lifecycleStages", [])],
    }
    body: dict[str, Any] = {
        "id": str(spec["id"]),
        "name": spec.get("name", f"Form {spec['id']}"),
        "formType": spec.get("formType", "hubspot"),
        "createdAt": created,
        "updatedAt": spec.get("updatedAt", created),
        "archived": bool(spec.get("archived", False)),
        "fieldGroups": [
            {"groupType": "default_group", "richTextType": "text", "fields": [_form_field(f)]}
            for f in spec.get("fields", [])
        ],
        "configuration": config,
        "displayOptions": {"renderRawHtml": False, "theme": "default_style", "submitButtonText": "Submit"},
        "legalConsentOptions": {"type": "none"},
    }
    if body["archived"]:
        body["archivedAt"] = spec.get("archivedAt", body["updatedAt"])
    return body


def property_filter(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A ``PublicPropertyFilter`` from ``{property, operator?, values?}``."""
    values = spec.get("values")
    operation: dict[str, Any]
    if values is not None:
        operation = {
            "operationType": "ENUMERATION",
            "operator": spec.get("operator", "IS_ANY_OF"),
            "values": list(values),
            "includeObjectsWithNoValueSet": False,
        }
    else:
        operation = {
            "operationType": "ALL_PROPERTY",
            "operator": spec.get("operator", "IS_KNOWN"),
            "includeObjectsWithNoValueSet": False,
        }
    return {"filterType": "PROPERTY", "property": spec["property"], "operation": operation}


def _branch(filters: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An OR root with one AND branch holding property filters (the shape the HubSpot UI writes)."""
    and_branch: dict[str, Any] = {
        "filterBranchType": "AND",
        "filterBranchOperator": "AND",
        "filterBranches": [],
        "filters": [property_filter(f) for f in filters if "association" not in f],
    }
    for f in filters:
        if "association" in f:  # a filter on an associated object's property
            and_branch["filterBranches"].append(
                {
                    "filterBranchType": "ASSOCIATION",
                    "filterBranchOperator": "AND",
                    "objectTypeId": f["association"],
                    "operator": "IN_LIST",
                    "associationTypeId": 1,
                    "associationCategory": "HUBSPOT_DEFINED",
                    "filterBranches": [],
                    "filters": [property_filter(f)],
                }
            )
    return {"filterBranchType": "OR", "filterBranchOperator": "OR", "filters": [], "filterBranches": [and_branch]}


def _action(i: int, spec: Mapping[str, Any], last: bool) -> dict[str, Any]:
    action_id = str(i + 1)
    connection = None if last else {"edgeType": "STANDARD", "nextActionId": str(i + 2)}
    action: dict[str, Any]
    if "set_property" in spec:
        action = {
            "type": "SINGLE_CONNECTION",
            "actionId": action_id,
            "actionTypeVersion": 0,
            "actionTypeId": "0-5",
            "fields": {
                "property_name": spec["set_property"],
                "value": {"type": "STATIC_VALUE", "staticValue": str(spec.get("value", ""))},
            },
        }
    elif "webhook" in spec:
        action = {
            "type": "WEBHOOK",
            "actionId": action_id,
            "method": spec.get("method", "POST"),
            "webhookUrl": spec["webhook"],
            "queryParams": [],
        }
    elif "custom_code" in spec:
        action = {
            "type": "CUSTOM_CODE",
            "actionId": action_id,
            "runtime": "NODE20X",
            "secretNames": spec.get("secretNames", []),
            "sourceCode": spec["custom_code"],
            "inputFields": [
                {"name": p, "value": {"type": "OBJECT_PROPERTY", "propertyName": p}} for p in spec.get("inputs", [])
            ],
            "outputFields": [],
        }
    elif "branch_on" in spec:
        action = {
            "type": "LIST_BRANCH",
            "actionId": action_id,
            "listBranches": [{"branchName": "match", "filterBranch": _branch([{"property": spec["branch_on"]}])}],
            "defaultBranchName": "None met",
        }
        if connection:
            action["defaultBranch"] = connection
        return action
    else:  # a delay
        action = {
            "type": "SINGLE_CONNECTION",
            "actionId": action_id,
            "actionTypeVersion": 0,
            "actionTypeId": "0-1",
            "fields": {"delta": str(spec.get("delay", 60)), "time_unit": "MINUTES"},
        }
    if connection:
        action["connection"] = connection
    return action


def expand_flow(spec: Mapping[str, Any]) -> dict[str, Any]:
    """An ``ApiFlow`` (CONTACT_FLOW for contacts, PLATFORM_FLOW otherwise) from enrollment/goal filters and
    compact actions (``set_property``, ``webhook``, ``custom_code``, ``branch_on``, ``delay``)."""
    if "raw" in spec:
        return dict(spec["raw"])
    object_type = spec.get("objectTypeId", "0-1")
    actions = list(spec.get("actions", []))
    created = spec.get("createdAt", "2024-06-07T17:27:08.101Z")
    body: dict[str, Any] = {
        "id": str(spec["id"]),
        "isEnabled": bool(spec.get("isEnabled", True)),
        "flowType": spec.get("flowType", "WORKFLOW"),
        "revisionId": str(spec.get("revisionId", "1")),
        "name": spec.get("name", f"Workflow {spec['id']}"),
        "createdAt": created,
        "updatedAt": spec.get("updatedAt", created),
        "startActionId": "1",
        "nextAvailableActionId": str(len(actions) + 1),
        "actions": [_action(i, a, i == len(actions) - 1) for i, a in enumerate(actions)],
        "enrollmentCriteria": {
            "shouldReEnroll": False,
            "type": "LIST_BASED",
            "unEnrollObjectsNotMeetingCriteria": False,
            "reEnrollmentTriggersFilterBranches": [],
            "listFilterBranch": _branch(spec.get("enrollment", [])),
        },
        "timeWindows": [],
        "blockedDates": [],
        "customProperties": {},
        "crmObjectCreationStatus": "COMPLETE",
        "type": "CONTACT_FLOW" if object_type == "0-1" else "PLATFORM_FLOW",
        "objectTypeId": object_type,
        "dataSources": [],
        "uuid": spec.get("uuid", f"00000000-0000-4000-8000-{int(spec['id']) % 10**12:012d}"),
    }
    if object_type == "0-1":
        body["suppressionListIds"] = []
        body["canEnrollFromSalesforce"] = False
    if spec.get("goal"):
        body["goalFilterBranch"] = _branch(spec["goal"])
    return body


def flow_listing(flow: Mapping[str, Any]) -> dict[str, Any]:
    """The list endpoint's view of a flow: no actions, no criteria (details need one call per flow)."""
    keys = ("id", "isEnabled", "flowType", "name", "objectTypeId", "revisionId", "createdAt", "updatedAt", "uuid")
    return {k: flow[k] for k in keys if k in flow}


def expand_list(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A ``PublicObjectList`` with its ``filterBranch`` (served only when ``includeFilters=true``)."""
    if "raw" in spec:
        return dict(spec["raw"])
    created = spec.get("createdAt", "2023-01-10T10:00:00.000Z")
    body: dict[str, Any] = {
        "listId": str(spec["listId"]),
        "listVersion": int(spec.get("listVersion", 1)),
        "name": spec.get("name", f"List {spec['listId']}"),
        "objectTypeId": spec.get("objectTypeId", "0-1"),
        "processingStatus": spec.get("processingStatus", "COMPLETE"),
        "processingType": spec.get("processingType", "DYNAMIC"),
        "createdAt": created,
        "createdById": str(spec.get("createdById", "1296619")),
        "updatedAt": spec.get("updatedAt", created),
        "updatedById": str(spec.get("createdById", "1296619")),
        "filtersUpdatedAt": spec.get("updatedAt", created),
        "size": int(spec.get("size", 0)),
    }
    if body["processingType"] != "MANUAL":
        body["filterBranch"] = _branch(spec.get("filters", []))
    return body


def list_search_item(lst: Mapping[str, Any]) -> dict[str, Any]:
    """The lists search view: no filters, sizes in ``additionalProperties``."""
    item = {k: v for k, v in lst.items() if k not in ("filterBranch", "size", "membershipSettings", "listPermissions")}
    item["additionalProperties"] = {
        "hs_list_size": str(lst.get("size", 0)),
        "hs_list_reference_count": "0",
        "hs_last_record_added_at": "1695938616824",
    }
    return item
