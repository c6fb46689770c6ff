"""The fake org's state: sObjects with compact records, setup tables (flows, packages, tokens, licences) and
metadata dependencies.

Records are compact, as in the fake HubSpot portal: record ``i`` of an object was created at ``start + i*step``
and last modified one step later, and each field is a bitset (a Python int) of the records holding a value (for
checkboxes: the records where it is true). Counts are ``bit_count`` on AND-ed bitsets; values are synthesised
from the field type when records are read.

An org is loaded from a description (JSON or a dict, see ``stackaudit/demo/recorded/salesforce/org.json``). A
field's ``fill`` is a fraction, or ``{"fraction": f, "from": a, "to": b, "since": iso, "until": iso}`` placing a
fraction ``f`` of the records, evenly spaced, inside a window given by positions ``a..b`` (0..1 of the record
range, oldest first) or by dates.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "FakeField",
    "FakeOrg",
    "FakeSObject",
    "RecordSet",
    "parse_time",
    "sf_id",
    "sf_time",
]

_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Fields every sObject has, always filled.
SYSTEM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("Id", "id", "Record ID"),
    ("IsDeleted", "boolean", "Deleted"),
    ("CreatedDate", "datetime", "Created Date"),
    ("CreatedById", "reference", "Created By ID"),
    ("LastModifiedDate", "datetime", "Last Modified Date"),
    ("LastModifiedById", "reference", "Last Modified By ID"),
    ("SystemModstamp", "datetime", "System Modstamp"),
)
KEY_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "Lead": "00Q", "Campaign": "701",
                "CampaignMember": "00v", "Case": "500", "Task": "00T", "Event": "00U", "User": "005"}
ALWAYS_FILLED = frozenset(
    {"Id", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp"}
)


@functools.lru_cache(maxsize=65536)
def sf_id(prefix: str, seed: str) -> str:
    """A deterministic 18-character Salesforce id: 3-character key prefix, 12 characters, 3-character suffix."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    body = ""
    for _ in range(12):
        digest, rem = divmod(digest, 62)
        body += _B62[rem]
    short = (prefix + "0" * 3)[:3] + body
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(short[chunk * 5 : chunk * 5 + 5]):
            if ch.isupper():
                bits |= 1 << i
        suffix += _SUFFIX_CHARS[bits]
    return short + suffix


def parse_time(text: str) -> datetime:
    """``2026-11-30T09:00:00Z``, ``...+00:00`` or Salesforce's ``...000+0000``."""
    value = text.strip().replace("Z", "+00:00")
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def sf_time(moment: datetime) -> str:
    """Salesforce's record datetime format: ``2021-04-07T06:57:22.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _stride_bits(lo: int, hi: int, fraction: float) -> int:
    """A bitset with about ``fraction`` of the records in ``[lo, hi)`` set, evenly spaced."""
    width = max(0, hi - lo)
    if width == 0 or fraction <= 0:
        return 0
    if fraction >= 1:
        return ((1 << width) - 1) << lo
    stride = max(1, round(1 / fraction))
    pattern = ("1" + "0" * (stride - 1)) * (width // stride + 1)
    return int(pattern[:width][::-1], 2) << lo


@dataclass
class RecordSet:
    """``count`` records; record ``i`` was created at ``start + i*step`` and last modified one step later."""

    count: int
    start: datetime
    step: timedelta

    @classmethod
    def spanning(cls, count: int, since: datetime, until: datetime) -> RecordSet:
        step = (until - since) / max(1, count + 1)
        return cls(count, since, max(step, timedelta(milliseconds=1)))

    def created(self, i: int) -> datetime:
        return self.start + self.step * i

    def modified(self, i: int) -> datetime:
        return self.start + self.step * (i + 1)

    @property
    def all_mask(self) -> int:
        return (1 << self.count) - 1

    def index_at(self, moment: datetime) -> int:
        """Records created strictly before ``moment``."""
        if moment <= self.start:
            return 0
        return min(self.count, math.ceil((moment - self.start) / self.step))

    def bits(self, spec: Any) -> int:
        if spec is None or spec == 0:
            return 0
        if isinstance(spec, int | float):
            spec = {"fraction": float(spec)}
        lo = int(float(spec.get("from", 0.0)) * self.count)
        hi = int(float(spec.get("to", 1.0)) * self.count)
        if "since" in spec:
            lo = max(lo, self.index_at(parse_time(spec["since"])))
        if "until" in spec:
            hi = min(hi, self.index_at(parse_time(spec["until"])))
        return _stride_bits(lo, hi, float(spec.get("fraction", 1.0)))


@dataclass
class FakeField:
    """One field as the org holds it: what describe shows, what Tooling ``CustomField`` shows, and its data."""

    name: str
    type: str
    label: str
    custom: bool = False
    id: str | None = None  # 00N... for custom fields
    length: int = 0
    values: list[dict[str, Any]] = field(default_factory=list)
    reference_to: list[str] = field(default_factory=list)
    calculated: bool = False
    formula: str | None = None
    description: str | None = None
    help: str | None = None
    namespace: str | None = None
    manageable_state: str = "unmanaged"
    created: str | None = None
    created_by: str | None = None
    modified: str | None = None
    modified_by: str | None = None
    aggregatable: bool = True
    filterable: bool = True
    hidden: bool = False
    compound: str | None = None  # name of the compound field this is part of
    query_error: str | None = None  # e.g. INVALID_FIELD: listed by describe, refused by queries
    describe: dict[str, Any] = field(default_factory=dict)  # raw overrides of the describe body
    bits: int = 0

    @property
    def developer_name(self) -> str:
        """Tooling's ``DeveloperName``: no namespace, no ``__c``."""
        name = self.name[: -len("__c")] if self.name.endswith("__c") else self.name
        if self.namespace and name.startswith(self.namespace + "__"):
            name = name[len(self.namespace) + 2 :]
        return name


@dataclass
class FakeSObject:
    name: str
    label: str
    custom: bool
    key_prefix: str
    records: RecordSet
    fields: dict[str, FakeField] = field(default_factory=dict)  # by lower-case API name
    id: str | None = None  # 01I... for custom objects
    description: str | None = None
    namespace: str | None = None
    created: str | None = None
    metadata_modified: datetime | None = None
    queryable: bool = True
    touched: datetime | None = None  # a record was modified at this time (MAX(SystemModstamp) says so)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # explicit rows by Id (User names)

    def field(self, name: str) -> FakeField | None:
        return self.fields.get(name.lower())

    @property
    def developer_name(self) -> str:
        name = self.name[: -len("__c")] if self.name.endswith("__c") else self.name
        if self.namespace and name.startswith(self.namespace + "__"):
            name = name[len(self.namespace) + 2 :]
        return name


@dataclass
class FakeOrg:
    clock: datetime
    org_id: str
    objects: dict[str, FakeSObject] = field(default_factory=dict)  # by lower-case API name
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # setup objects' rows
    users: dict[str, str] = field(default_factory=dict)
    daily_limit: int = 100_000
    daily_used: int = 2_000
    # Unconfirmed vendor behaviour switched per org (see tables.py): e.g. {"flow_trigger_fields": False}.
    quirks: dict[str, Any] = field(default_factory=dict)

    def sobject(self, name: str) -> FakeSObject | None:
        return self.objects.get(name.lower())

    @property
    def metadata_modified(self) -> datetime:
        stamps = [o.metadata_modified for o in self.objects.values() if o.metadata_modified]
        return max(stamps) if stamps else self.clock - timedelta(days=30)

    def touch(self, name: str, when: datetime | None = None) -> None:
        """Mark an object's metadata as changed (a repeat pull must describe it again)."""
        obj = self.sobject(name)
        if obj is not None:
            obj.metadata_modified = when or self.clock

    def touch_records(self, name: str, when: datetime | None = None) -> None:
        """Mark a record of an object as modified (a repeat pull must count it again)."""
        obj = self.sobject(name)
        if obj is not None:
            obj.touched = when or self.clock

    def custom_fields(self) -> list[tuple[FakeSObject, FakeField]]:
        return [(o, f) for o in self.objects.values() for f in o.fields.values() if f.custom]


# ---------------------------------------------------------------------------------------------- loading

_DEFAULT_LENGTH = {"string": 255, "picklist": 255, "multipicklist": 4099, "email": 80, "phone": 40, "url": 255,
                   "textarea": 255, "id": 18, "reference": 18}
_NOT_AGGREGATABLE = frozenset({"boolean", "multipicklist", "address", "location", "base64", "encryptedstring"})
_NOT_FILTERABLE = frozenset({"address", "location", "base64", "encryptedstring"})


def _picklist(raw: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in raw:
        entry = {"value": item, "label": item} if isinstance(item, str) else dict(item)
        out.append(
            {
                "active": bool(entry.get("active", True)),
                "defaultValue": bool(entry.get("defaultValue", False)),
                "label": entry.get("label", entry["value"]),
                "validFor": None,
                "value": entry["value"],
            }
        )
    return out


def build_field(obj_name: str, spec: Mapping[str, Any], records: RecordSet) -> FakeField:
    name = str(spec["name"])
    ftype = str(spec.get("type", "string"))
    custom = bool(spec.get("custom", name.endswith("__c")))
    namespace = spec.get("namespace")
    if namespace is None and custom and name.count("__") >= 2:
        namespace = name.split("__", 1)[0]
    length = int(spec.get("length", _DEFAULT_LENGTH.get(ftype, 0)))
    long_text = ftype == "textarea" and length > 255
    fld = FakeField(
        name=name,
        type=ftype,
        label=str(spec.get("label") or name.removesuffix("__c").replace("_", " ")),
        custom=custom,
        id=spec.get("id") or (sf_id("00N", f"{obj_name}.{name}") if custom else None),
        length=length,
        values=_picklist(list(spec.get("values", []))),
        reference_to=list(spec.get("reference_to", [])),
        calculated=bool(spec.get("calculated", False)),
        formula=spec.get("formula"),
        description=spec.get("description"),
        help=spec.get("help"),
        namespace=namespace,
        manageable_state=str(spec.get("manageable_state", "installed" if namespace else "unmanaged")),
        created=spec.get("created"),
        created_by=spec.get("created_by"),
        modified=spec.get("modified", spec.get("created")),
        modified_by=spec.get("modified_by", spec.get("created_by")),
        aggregatable=bool(spec.get("aggregatable", ftype not in _NOT_AGGREGATABLE and not long_text)),
        filterable=bool(spec.get("filterable", ftype not in _NOT_FILTERABLE and not long_text)),
        hidden=bool(spec.get("hidden", False)),
        compound=spec.get("compound"),
        query_error=spec.get("query_error"),
        describe=dict(spec.get("describe", {})),
    )
    fill = spec.get("fill", 1.0 if name in ALWAYS_FILLED else 0)
    fld.bits = records.bits(fill)
    return fld


def build_sobject(name: str, spec: Mapping[str, Any], clock: datetime, default_since: datetime) -> FakeSObject:
    since = parse_time(spec["records_since"]) if "records_since" in spec else default_since
    records = RecordSet.spanning(int(spec.get("records", 0)), since, clock)
    custom = bool(spec.get("custom", name.endswith("__c")))
    namespace = spec.get("namespace")
    if namespace is None and custom and name.count("__") >= 2:
        namespace = name.split("__", 1)[0]
    obj = FakeSObject(
        name=name,
        label=str(spec.get("label") or name.removesuffix("__c").replace("_", " ")),
        custom=custom,
        key_prefix=str(spec.get("key_prefix") or KEY_PREFIXES.get(name)
                       or ("a0" + _B62[sum(map(ord, name)) % 62] if custom else "0" + name[:2].upper())),
        records=records,
        id=spec.get("id") or (sf_id("01I", name) if custom else None),
        description=spec.get("description"),
        namespace=namespace,
        created=spec.get("created"),
        metadata_modified=parse_time(spec["metadata_modified"]) if "metadata_modified" in spec else None,
        queryable=bool(spec.get("queryable", True)),
    )
    listed = {str(f["name"]).lower() for f in spec.get("fields", [])}
    system: list[dict[str, Any]] = [
        {"name": n, "type": t, "label": lbl} for n, t, lbl in SYSTEM_FIELDS if n.lower() not in listed
    ]
    if custom:
        for extra in ({"name": "Name", "type": "string", "label": f"{obj.label} Name", "length": 80, "fill": 1.0},
                      {"name": "OwnerId", "type": "reference", "label": "Owner ID", "reference_to": ["Group", "User"],
                       "fill": 1.0}):
            if str(extra["name"]).lower() not in listed:
                system.append(extra)
    for fspec in [*system, *spec.get("fields", [])]:
        fld = build_field(name, fspec, records)
        if fspec.get("reference_to") is None and fld.type == "reference" and not fld.reference_to:
            fld.reference_to = ["User"]
        obj.fields[fld.name.lower()] = fld
    return obj
