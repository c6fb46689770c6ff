"""The fake Marketo instance's state, loaded from a compact description (see
``stackaudit/demo/recorded/marketo/instance.json``), and expanded into the reference's response shapes.

Description keys (all optional but ``fields``):

- ``clock`` (ISO instant the data describes), ``daily_limit``;
- ``fields``: lead fields ``{name, displayName, dataType, length, soap, custom, crmManaged, updateable, hidden,
  description, fill}``; ``soap`` defaults to the name with a capital first letter, ``fill`` (0..1) is the share
  of people holding a value;
- ``people``: ``{count, since}``: people created evenly between ``since`` and ``clock`` (the bulk extract's rows);
- ``custom_objects``: ``{name, displayName, fields: [{name, displayName, dataType, crmManaged}], listed_with_fields}``;
- ``forms``: ``{id, name, status, updatedAt, fields: [SOAP names], visibility: {field: subjectField}}``;
- ``smart_campaigns``, ``programs``: bodies as the API returns them (missing keys filled in);
- ``usage``: ``[{date, users: {userId: count}}]``; ``errors``: ``[{date, codes: {code: count}}]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["FakeInstance", "load_instance", "marketo_time", "parse_time", "synthetic_instance"]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def marketo_time(moment: datetime) -> str:
    """Marketo's asset date format: ``2015-11-18T15:25:35Z+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ+0000")


def _soap(name: str) -> str:
    return name[:1].upper() + name[1:]


@dataclass
class FakeField:
    name: str
    display: str
    data_type: str
    soap: str
    length: int | None = None
    custom: bool = False
    crm_managed: bool = False
    updateable: bool = True
    hidden: bool = False
    description: str | None = None
    fill: float = 0.0
    id: int = 0

    def describe2(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "displayName": self.display, "dataType": self.data_type}
        if self.length is not None:
            body["length"] = self.length
        body.update({"updateable": self.updateable, "crmManaged": self.crm_managed})
        return body

    def schema(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "displayName": self.display,
            "name": self.name,
            "description": self.description,
            "dataType": self.data_type,
        }
        if self.length is not None:
            body["length"] = self.length
        body.update(
            {
                "isHidden": self.hidden,
                "isHtmlEncodingInEmail": self.data_type in ("string", "text"),
                "isSensitive": False,
                "isCustom": self.custom,
                "isApiCreated": False,
            }
        )
        return body

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "displayName": self.display, "dataType": self.data_type}
        if self.length is not None:
            body["length"] = self.length
        body["rest"] = {"name": self.name, "readOnly": not self.updateable}
        body["soap"] = {"name": self.soap, "readOnly": not self.updateable}
        return body


@dataclass
class FakeInstance:
    clock: datetime
    fields: list[FakeField] = field(default_factory=list)
    people: int = 0
    people_since: datetime | None = None
    custom_objects: list[dict[str, Any]] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)
    form_fields: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    smart_campaigns: list[dict[str, Any]] = field(default_factory=list)
    programs: list[dict[str, Any]] = field(default_factory=list)
    usage: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    daily_limit: int = 50_000

    def person_created(self, i: int) -> datetime:
        since = self.people_since or self.clock - timedelta(days=365)
        step = (self.clock - since) / max(1, self.people)
        return since + step * i

    def field_by_soap(self, name: str) -> FakeField | None:
        return next((f for f in self.fields if f.soap == name), None)

    @property
    def usage_today(self) -> int:
        if not self.usage:
            return 0
        latest = max(self.usage, key=lambda u: u["date"])
        return int(latest.get("total") or 0)


def _field(spec: Mapping[str, Any], index: int) -> FakeField:
    name = str(spec["name"])
    return FakeField(
        name=name,
        display=str(spec.get("displayName") or name),
        data_type=str(spec.get("dataType") or "string"),
        soap=str(spec.get("soap") or _soap(name)),
        length=spec.get("length", 255 if spec.get("dataType", "string") == "string" else None),
        custom=bool(spec.get("custom", False)),
        crm_managed=bool(spec.get("crmManaged", False)),
        updateable=bool(spec.get("updateable", True)),
        hidden=bool(spec.get("hidden", False)),
        description=spec.get("description"),
        fill=float(spec.get("fill", 0.0)),
        id=int(spec.get("id", 1000 + index)),
    )


def _form_field(name: str, instance: FakeInstance, row: int, subject: str | None) -> dict[str, Any]:
    known = instance.field_by_soap(name)
    body: dict[str, Any] = {
        "id": name,
        "label": f"{known.display if known else name}:",
        "dataType": known.data_type if known else "htmltext",
        "validationMessage": "This field is required.",
        "rowNumber": row,
        "columnNumber": 0,
        "required": row == 0,
        "formPrefill": True,
        "visibilityRules": {"ruleType": "alwaysShow"},
    }
    if known is not None and known.length:
        body["maxLength"] = known.length
    if subject:
        body["visibilityRules"] = {
            "ruleType": "show",
            "rules": [{"subjectField": subject, "operator": "is", "values": ["Yes"], "altLabel": body["label"]}],
        }
    return body


def _form(spec: Mapping[str, Any], instance: FakeInstance) -> dict[str, Any]:
    updated = spec.get("updatedAt", "2025-03-02T10:00:00Z")
    return {
        "id": int(spec["id"]),
        "name": spec.get("name", f"Form {spec['id']}"),
        "description": spec.get("description", ""),
        "createdAt": marketo_time(parse_time(spec.get("createdAt", updated))),
        "updatedAt": marketo_time(parse_time(updated)),
        "url": f"https://app-ab12.marketo.com/#FO{spec['id']}B2",
        "status": spec.get("status", "approved"),
        "theme": "simple",
        "language": "English",
        "locale": "en_US",
        "progressiveProfiling": False,
        "labelPosition": "left",
        "fontFamily": "Helvetica",
        "fontSize": "13px",
        "folder": {"type": "Folder", "value": 293, "folderName": "Forms"},
        "knownVisitor": {"type": "form", "template": None},
        "thankYouList": [{"followupType": "none", "followupValue": None, "default": True}],
        "buttonLocation": 120,
        "buttonLabel": "Submit",
        "waitingLabel": "Please Wait",
    }


def _campaign(spec: Mapping[str, Any]) -> dict[str, Any]:
    updated = marketo_time(parse_time(spec.get("updatedAt", "2025-01-15T10:00:00Z")))
    return {
        "id": int(spec["id"]),
        "name": spec.get("name", f"Campaign {spec['id']}"),
        "description": spec.get("description", ""),
        "createdAt": marketo_time(parse_time(spec.get("createdAt", "2024-05-01T10:00:00Z"))),
        "updatedAt": updated,
        "status": spec.get("status", "Active" if spec.get("isActive") else "Inactive"),
        "type": spec.get("type", "trigger"),
        "isSystem": False,
        "isActive": bool(spec.get("isActive", False)),
        "isRequestable": False,
        "isCommunicationLimitEnabled": False,
        "recurrence": {"weekdayOnly": False},
        "qualificationRuleType": "once",
        "workspace": "Default",
        "smartListId": int(spec["id"]),
        "flowId": int(spec["id"]),
        "computedUrl": f"https://app-ab12.marketo.com/#SC{spec['id']}A1",
    }


def _program(spec: Mapping[str, Any]) -> dict[str, Any]:
    body = {
        "id": int(spec["id"]),
        "name": spec.get("name", f"Program {spec['id']}"),
        "description": spec.get("description", ""),
        "createdAt": marketo_time(parse_time(spec.get("createdAt", "2024-05-01T10:00:00Z"))),
        "updatedAt": marketo_time(parse_time(spec.get("updatedAt", "2025-01-15T10:00:00Z"))),
        "url": f"https://app-ab12.marketo.com/#PG{spec['id']}A1",
        "type": spec.get("type", "Default"),
        "channel": spec.get("channel", "Webinar"),
        "folder": {"type": "Folder", "value": 28, "folderName": spec.get("folder", "Marketing Activities")},
        "status": spec.get("status", "on"),
        "workspace": "Default",
        "headStart": False,
    }
    if spec.get("sfdcId"):
        body.update({"sfdcId": spec["sfdcId"], "sfdcName": spec.get("sfdcName", body["name"])})
    return body


def load_instance(source: Mapping[str, Any] | str | Path) -> FakeInstance:
    """Build an instance from a description (a mapping, or a path to a JSON file)."""
    data: Mapping[str, Any]
    if isinstance(source, str | Path):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = source
    clock = parse_time(data.get("clock", "2026-11-30T09:00:00Z"))
    inst = FakeInstance(clock=clock, daily_limit=int(data.get("daily_limit", 50_000)))
    inst.fields = [_field(spec, i) for i, spec in enumerate(data.get("fields", []))]
    people = data.get("people", {})
    inst.people = int(people.get("count", 0))
    inst.people_since = parse_time(people["since"]) if "since" in people else None
    inst.custom_objects = [dict(o) for o in data.get("custom_objects", [])]
    for spec in data.get("forms", []):
        form = _form(spec, inst)
        inst.forms.append(form)
        visibility = spec.get("visibility", {})
        inst.form_fields[str(form["id"])] = [
            _form_field(name, inst, row, visibility.get(name)) for row, name in enumerate(spec.get("fields", []))
        ]
    inst.smart_campaigns = [_campaign(c) for c in data.get("smart_campaigns", [])]
    inst.programs = [_program(p) for p in data.get("programs", [])]
    for day in data.get("usage", []):
        users = [{"userId": u, "count": int(n)} for u, n in day.get("users", {}).items()]
        inst.usage.append({"date": day["date"], "total": sum(u["count"] for u in users), "users": users})
    for day in data.get("errors", []):
        codes = [{"errorCode": str(c), "count": int(n)} for c, n in day.get("codes", {}).items()]
        inst.errors.append({"date": day["date"], "total": sum(c["count"] for c in codes), "errors": codes})
    return inst


def synthetic_instance(
    n_fields: int = 600, n_forms: int = 150, n_campaigns: int = 400, n_programs: int = 120, n_people: int = 3000
) -> FakeInstance:
    """A large instance for call-count benchmarks: a mid-size subscription's lead schema and assets."""
    fields: list[dict[str, Any]] = [
        {"name": "email", "dataType": "email", "crmManaged": True, "fill": 1.0},
        {"name": "sfdcLeadId", "dataType": "string", "crmManaged": True, "updateable": False, "fill": 0.8},
    ]
    for i in range(n_fields - len(fields)):
        custom = i % 3 != 0
        name = f"Custom_Attr_{i:04d}__c" if custom else f"stdAttr{i:04d}"
        fields.append(
            {
                "name": name,
                "dataType": ["string", "integer", "boolean", "datetime"][i % 4],
                "custom": custom,
                "crmManaged": i % 5 == 0,
                "fill": [0.9, 0.4, 0.05, 0.0][i % 4],
            }
        )
    soaps = [f["name"][:1].upper() + f["name"][1:] for f in fields]
    return load_instance(
        {
            "fields": fields,
            "people": {"count": n_people, "since": "2026-06-01T00:00:00Z"},
            "forms": [{"id": 2000 + i, "fields": ["Email", soaps[(i * 7) % len(soaps)]]} for i in range(n_forms)],
            "smart_campaigns": [{"id": 5000 + i, "isActive": i % 4 == 0} for i in range(n_campaigns)],
            "programs": [{"id": 8000 + i, "status": "on" if i % 2 else "off"} for i in range(n_programs)],
            "usage": [{"date": f"2026-11-{d:02d}", "users": {"api@example.com": 2000}} for d in range(24, 31)],
            "errors": [{"date": f"2026-11-{d:02d}", "codes": {"1006": 10}} for d in range(24, 31)],
        }
    )
