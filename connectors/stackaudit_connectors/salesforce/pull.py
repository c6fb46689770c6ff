"""The steps of one Salesforce pull, in order, each recording what it read into a :class:`Gathered`.

Discovery (cheap, needed for the estimate): ``/limits``, describeGlobal, Tooling ``CustomObject`` and
``CustomField`` (reused from the cache when describeGlobal answers 304: no object's metadata changed). Then, once
the quota guard agreed: describes, record counts, installed packages, one composite of the REST setup queries
(flows, OAuth tokens, licences, users), where-used, fill rates and ``/limits`` again. Every query tolerates the
unconfirmed field names of the reference: an ``INVALID_FIELD`` naming an optional column drops it and asks again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stackaudit_inventory import (
    Asset,
    FieldDef,
    Integration,
    ObjectDef,
    Quota,
    Reference,
    Seats,
    Tool,
)

from ..http import AuthError, DeadlineError, HttpClient, HttpError, QuotaError
from . import api
from .config import FillRateMode, SalesforceConfig
from .describe import DescribeCache
from .fill_plan import estimate_fill_calls
from .parse import CustomFieldInfo, CustomObjectInfo, FieldSpec, GlobalObject, records_of
from .soql import chunk_by_length, split_in_list

__all__ = ["CUSTOM_FIELDS", "CUSTOM_OBJECTS", "FLOWS", "LICENSES", "PACKAGES", "TOKENS", "Gathered", "QuerySpec",
           "Reader", "estimate_calls", "object_field_ids", "quota_of", "users_specs"]

_NO_COLUMN = re.compile(r"No such column '([^']+)' on entity '([^']+)'", re.IGNORECASE)


@dataclass
class Gathered:
    """Everything read so far (what a partial result is made of)."""

    quota_start: tuple[int, int] | None = None  # (max, remaining) from /limits before
    quota_end: tuple[int, int] | None = None
    global_objects: list[GlobalObject] = field(default_factory=list)
    global_unchanged: bool = False
    custom_objects: dict[str, CustomObjectInfo] = field(default_factory=dict)
    custom_fields: dict[tuple[str, str], CustomFieldInfo] = field(default_factory=dict)
    audited: list[str] = field(default_factory=list)
    describes: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_counts: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    objects: list[ObjectDef] = field(default_factory=list)
    fields: list[FieldDef] = field(default_factory=list)
    specs: list[FieldSpec] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    seats: Seats | None = None
    package_owners: dict[str, str] = field(default_factory=dict)
    package_assets: dict[str, str] = field(default_factory=dict)
    estimate: int | None = None
    where_used_read: bool = False  # the where-used step ran (its coverage is then partial by nature, or failed)


@dataclass(frozen=True)
class QuerySpec:
    """One query of a pull; ``optional`` fields are unconfirmed in the reference and dropped if the org refuses."""

    entity: str
    fields: tuple[str, ...]
    optional: tuple[str, ...] = ()
    where: str = ""
    tooling: bool = False

    def soql(self, fields: Sequence[str] | None = None) -> str:
        return f"SELECT {', '.join(fields or self.fields)} FROM {self.entity}" + (f" {self.where}" if self.where  # noqa: S608 - SOQL built from API names and escaped literals
                                                                                  else "")


CUSTOM_OBJECTS = QuerySpec("CustomObject", ("Id", "DeveloperName", "NamespacePrefix", "Description"),
                           optional=("Description",), tooling=True)
CUSTOM_FIELDS = QuerySpec(
    "CustomField",
    ("Id", "DeveloperName", "TableEnumOrId", "NamespacePrefix", "ManageableState", "Description", "CreatedDate",
     "CreatedById", "LastModifiedDate", "LastModifiedById"),
    optional=("ManageableState", "Description"), tooling=True,
)
PACKAGES = QuerySpec(
    "InstalledSubscriberPackage",
    ("Id", "SubscriberPackageId", "SubscriberPackageVersionId", "SubscriberPackage.NamespacePrefix",
     "SubscriberPackage.Name", "SubscriberPackageVersion.Name", "SubscriberPackageVersion.MajorVersion",
     "SubscriberPackageVersion.MinorVersion", "SubscriberPackageVersion.PatchVersion"),
    optional=("SubscriberPackageId", "SubscriberPackage.Name", "SubscriberPackageVersion.Name"), tooling=True,
)
FLOWS = QuerySpec(
    "FlowDefinitionView",
    ("DurableId", "ApiName", "Label", "ProcessType", "TriggerType", "IsActive", "ActiveVersionId", "LatestVersionId",
     "NamespacePrefix", "LastModifiedDate", "TriggerObjectOrEventLabel"),
    optional=("TriggerType", "TriggerObjectOrEventLabel", "NamespacePrefix"),
)
TOKENS = QuerySpec("OauthToken", ("AppName", "LastUsedDate", "UseCount", "UserId"), optional=("UseCount", "UserId"))
LICENSES = QuerySpec("UserLicense", ("Name", "LicenseDefinitionKey", "Status", "TotalLicenses", "UsedLicenses"),
                     optional=("LicenseDefinitionKey", "Status"))


def users_specs(user_ids: Sequence[str], max_chars: int) -> list[QuerySpec]:
    """``SELECT Id, Name FROM User WHERE Id IN (...)`` in chunks under the query-length limit."""
    return [QuerySpec("User", ("Id", "Name"), where=soql[soql.index("WHERE"):])
            for _chunk, soql in split_in_list("SELECT Id, Name FROM User WHERE Id IN ", sorted(user_ids), "",
                                              max_chars)]


def _named(message: str, candidates: Sequence[str]) -> list[str] | None:
    match = _NO_COLUMN.search(message)
    if match is None:
        return None
    column, entity = match.group(1).lower(), match.group(2).lower()
    hits = [c for c in candidates if c.lower() == column or c.lower() == f"{entity}.{column}"]
    return hits[:1] or None


@dataclass
class Reader:
    """The endpoint calls of a pull, with the config and version bound (thin: no parsing beyond records)."""

    client: HttpClient
    config: SalesforceConfig
    note: Callable[[str], None]

    @property
    def version(self) -> str:
        return self.config.api_version

    def limits(self) -> dict[str, Any]:
        return api.get_limits(self.client, self.version)

    def query(self, spec: QuerySpec, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Every record of ``spec``; an ``INVALID_FIELD`` on an optional field drops it (noted) and asks again."""
        wanted = list(fields or spec.fields)
        optional = [f for f in spec.optional if f in wanted]
        while True:
            try:
                return [r for page in api.iter_query(self.client, self.version, spec.soql(wanted),
                                                     tooling=spec.tooling) for r in records_of(page)]
            except api.SalesforceAPIError as err:
                if err.error_code != "INVALID_FIELD" or not optional:
                    raise
                optional, wanted = self._drop(spec, err.vendor_message, optional, wanted)

    def _drop(self, spec: QuerySpec, message: str, optional: list[str], wanted: list[str]
              ) -> tuple[list[str], list[str]]:
        drop = _named(message, optional) or list(optional)
        self.note(f"{spec.entity}: {', '.join(drop)} not available in this org or API version; read without")
        return [f for f in optional if f not in drop], [f for f in wanted if f not in drop]

    def batch(self, specs: Sequence[QuerySpec]) -> list[list[dict[str, Any]] | HttpError]:
        """REST queries read together, ``composite_queries`` per composite call; later pages and refused optional
        fields are fetched with GETs. Each result is the records or the error that query met (stop errors raise)."""
        out: list[list[dict[str, Any]] | HttpError] = []
        size = self.config.composite_queries
        for start in range(0, len(specs), size):
            group = specs[start : start + size]
            subs = [{"referenceId": f"s{i}", "url": api.query_url(self.version, spec.soql())}
                    for i, spec in enumerate(group)]
            try:
                answers = api.composite(self.client, self.version, subs)
            except (QuotaError, DeadlineError, AuthError):
                raise
            except HttpError:
                # The composite itself was refused (fewer query subrequests allowed than configured, say): ask
                # each query on its own.
                out += [self._alone(spec) for spec in group]
                continue
            for spec, sub in zip(group, answers, strict=False):
                out.append(self._answer(spec, sub))
            out += [HttpError(self.client.connector, "no answer in the composite response")] * (
                len(group) - len(answers))
        return out

    def _alone(self, spec: QuerySpec) -> list[dict[str, Any]] | HttpError:
        try:
            return self.query(spec)
        except (QuotaError, DeadlineError, AuthError):
            raise
        except HttpError as err:
            return err

    def _answer(self, spec: QuerySpec, sub: api.SubResponse) -> list[dict[str, Any]] | HttpError:
        try:
            if sub.status == 200 and isinstance(sub.body, dict):
                records = records_of(sub.body)
                nxt = api.next_page_url(sub.body, self.version)
                if nxt:
                    records += [r for page in api.iter_more(self.client, self.version, nxt) for r in records_of(page)]
                return records
            code, message = api.error_of(sub.body)
            if code == "INVALID_FIELD" and spec.optional:
                optional, wanted = self._drop(spec, message, list(spec.optional), list(spec.fields))
                return self.query(QuerySpec(spec.entity, tuple(wanted), tuple(optional), spec.where), wanted)
            return api.SalesforceAPIError(self.client.connector, code, self.client.scrub(message), method="GET",
                                          path=f"/services/data/v{self.version}/query ({spec.entity})",
                                          status=sub.status or 502)
        except (QuotaError, DeadlineError, AuthError):
            raise
        except HttpError as err:
            return err

    def record_counts(self, names: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in chunk_by_length(names, fixed=60, per_item=3, max_chars=self.config.max_query_chars,
                                     max_items=200):
            body = api.get_record_counts(self.client, self.version, chunk)
            for item in body.get("sObjects") or []:
                if isinstance(item, Mapping) and isinstance(item.get("name"), str) and isinstance(item.get("count"),
                                                                                                  int):
                    out[item["name"]] = item["count"]
        return out


def estimate_calls(
    config: SalesforceConfig,
    audited: Sequence[str],
    custom_fields: Mapping[tuple[str, str], CustomFieldInfo],
    cache: DescribeCache,
    *,
    global_unchanged: bool,
    fill: FillRateMode,
    user_ids: int,
) -> tuple[int, dict[str, int]]:
    """Calls the rest of the pull will probably need, by step (an estimate: field types are not known yet)."""

    per_object: dict[str, int] = {name: 0 for name in audited}
    for obj, _name in custom_fields:
        if obj in per_object:
            per_object[obj] += 1
    uncached = [n for n in audited if not isinstance(cache.objects.get(n, {}).get("describe"), dict)]
    for name in audited:
        cached = cache.objects.get(name, {}).get("describe")
        # Custom objects carry about ten standard fields (Id, Name, OwnerId, audit fields); standard objects ~50.
        guess = 10 if name.endswith("__c") else 50
        standard = len([f for f in cached.get("fields", []) if not f.get("custom")]) if isinstance(cached, dict) \
            else guess
        per_object[name] += standard
    to_describe = uncached if global_unchanged else list(audited)
    n_custom = sum(1 for obj, _ in custom_fields if obj in per_object)
    steps = {
        "describes": math.ceil(len(to_describe) / config.composite_size),
        "record counts": 0 if all(n in cache.fills for n in audited) else max(1, math.ceil(len(audited) / 200)),
        "packages, flows, connected apps, licences, users": 1 + math.ceil((3 + math.ceil(user_ids / 150)) /
                                                                          config.composite_queries),
        "where-used": 1 + (6 + math.ceil(n_custom * 22 / config.max_query_chars) if n_custom > 1500 else 0),
        "fill rates": estimate_fill_calls(per_object, config, fill, cached=list(cache.fills))
        if fill != "off" else 0,
        "limits": 1,
    }
    return sum(steps.values()), steps


def object_field_ids(customs: Mapping[tuple[str, str], CustomFieldInfo], fields: Iterable[FieldDef]
                     ) -> dict[str, str]:
    """Salesforce custom-field Id (18 and 15 characters) -> field id, for the fields the audit kept."""
    kept = {(f.object, f.name): f.id for f in fields if f.custom}
    out: dict[str, str] = {}
    for key, info in customs.items():
        fid = kept.get(key)
        if fid is not None:
            out[info.id] = fid
            out[info.id[:15]] = fid
    return out


def quota_of(name: str, pair: tuple[int, int] | None, now: datetime, period: str) -> Quota | None:
    """A :class:`Quota` from ``(max, remaining)``."""
    if pair is None:
        return None
    limit, remaining = pair
    return Quota(name=name, used=max(0, limit - remaining), limit=limit, period=period, observed_at=now)
