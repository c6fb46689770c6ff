"""The steps of a Salesforce pull after sign-in, each recording what it read into :class:`Gathered` and what failed
into :class:`PullState` (a step's failure never stops the next one; quota, deadline and auth errors do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stackaudit_inventory import Capability, FillMethod, SourceError
from stackaudit_inventory.catalogue import VendorCatalogue

from ..base import PullContext
from ..http import HttpClient, HttpError
from . import parse, parse_assets
from .config import FillRateMode, SalesforceConfig
from .deps import Partition, fetch_dependencies
from .describe import DescribeCache, get_describes, get_global
from .fill import FillRun
from .fill_plan import ObjectToCount
from .pull import (
    CUSTOM_FIELDS,
    CUSTOM_OBJECTS,
    FLOWS,
    LICENSES,
    PACKAGES,
    TOKENS,
    Gathered,
    Reader,
    object_field_ids,
    users_specs,
)
from .state import PullState

__all__ = ["Steps"]


@dataclass
class Steps:
    client: HttpClient
    cfg: SalesforceConfig
    read: Reader
    state: PullState
    got: Gathered
    cache: DescribeCache
    now: datetime
    id: str
    context: PullContext
    catalogue: VendorCatalogue
    setup: dict[str, Any] = field(default_factory=dict)  # records (or the error) of the batched REST queries

    def _report(self, done: int | None, total: int | None, message: str) -> None:
        self.context.report(self.id, done, total, message)

    # ------------------------------------------------------------------------------------------- discovery

    def discover(self) -> bool:
        """``/limits``, describeGlobal and the Tooling custom objects and fields; False if no object was seen."""
        state, got, cache, read = self.state, self.got, self.cache, self.read
        with state.step(Capability.quota, "/limits"):
            got.quota_start = parse.daily_requests(read.limits())
        self._report(None, None, "describeGlobal")
        with state.step(Capability.fields, "describeGlobal"):
            body, got.global_unchanged = get_global(self.client, self.cfg.api_version, cache, self.now)
            got.global_objects = parse.parse_global(body)
        if not got.global_objects:
            state.failed(Capability.fields, "describeGlobal (no objects)")
            return False
        tooling = cache.tooling
        reuse = got.global_unchanged and isinstance(tooling.get("custom_objects"), list) and isinstance(
            tooling.get("custom_fields"), list)
        if reuse:
            state.notes.append("Tooling CustomObject and CustomField reused from the cache (describeGlobal: 304)")
        else:
            cache.tooling = tooling = {}
        with state.step(Capability.fields, "Tooling CustomObject"):
            rows = tooling["custom_objects"] if reuse else read.query(CUSTOM_OBJECTS)
            got.custom_objects = parse.parse_custom_objects(rows)
            tooling["custom_objects"] = rows
        with state.step(Capability.fields, "Tooling CustomField"):
            rows = tooling["custom_fields"] if reuse else read.query(CUSTOM_FIELDS)
            got.custom_fields, unplaced = parse.parse_custom_fields(rows, got.custom_objects)
            tooling["custom_fields"] = rows
            if unplaced:
                state.notes.append(f"{unplaced} custom fields belong to objects outside the audit (metadata types, "
                                   "events) and were skipped")
        got.audited = parse.select_objects(got.global_objects, self.cfg.objects, {o for o, _ in got.custom_fields},
                                           self.cfg.exclude_objects)
        return True

    # ----------------------------------------------------------------------------------------------- reads

    def describe(self) -> None:
        state, got, cfg = self.state, self.got, self.cfg
        self._report(0, len(got.audited), "describes")
        with state.step(Capability.fields, "describes"):
            outcome = get_describes(self.client, cfg.api_version, got.audited, self.cache, self.now,
                                    global_unchanged=got.global_unchanged, batch=cfg.composite_size,
                                    workers=cfg.max_concurrency,
                                    report=lambda d, t: self._report(d, t, "describes"))
            got.describes = outcome.bodies
            why = "describeGlobal said nothing changed" if outcome.skipped_all else "304 per object"
            state.notes.append(f"describes: {outcome.fetched} fetched, {outcome.reused} reused from the cache "
                               f"({why}), {outcome.calls} composite calls")
            for name, reason in sorted(outcome.failed.items()):
                state.failed(Capability.fields, name, SourceError(
                    code="describe", capability=Capability.fields, where=name,
                    message=f"connector '{self.id}': describe {name}: {reason}"))
        cached = {n: int(e["total"]) for n, e in self.cache.fills.items() if isinstance(e.get("total"), int)}
        if all(n in cached for n in got.describes):
            got.record_counts = {n: cached[n] for n in got.describes}  # last pull's exact counts
            return
        with state.step(Capability.fill_rates, "record counts"):
            got.record_counts = self.read.record_counts(sorted(got.describes))

    def setup_reads(self) -> None:
        """Installed packages (Tooling), then flows, OAuth tokens, licences and field creators' names in one
        composite request."""
        state, got = self.state, self.got
        with state.step(Capability.tools, "installed packages"):
            packages = parse_assets.parse_packages(self.read.query(PACKAGES))
            tools, assets, got.package_owners, got.package_assets = parse_assets.package_tools(
                packages, self.catalogue, self.id, self.context.declared_tools, self.id)
            got.tools += tools
            got.assets += assets
        known: dict[str, str] = dict(self.cache.tooling.get("users") or {}) if got.global_unchanged else {}
        wanted = {u for info in got.custom_fields.values() for u in (info.created_by, info.updated_by) if u}
        specs = {"flows": FLOWS, "tokens": TOKENS, "licences": LICENSES}
        for i, spec in enumerate(users_specs(sorted(wanted - set(known)), self.cfg.max_query_chars)):
            specs[f"users{i}"] = spec
        with state.step(Capability.references, "FlowDefinitionView, OauthToken, UserLicense, User"):
            results = self.read.batch(list(specs.values()))
            self.setup = dict(zip(specs, results, strict=True))
        for key, value in self.setup.items():
            if key.startswith("users") and isinstance(value, list):
                for rec in value:
                    if isinstance(rec.get("Id"), str) and isinstance(rec.get("Name"), str):
                        known[rec["Id"]] = rec["Name"]
        got.users = {**known, **{k[:15]: v for k, v in known.items()}}
        self.cache.tooling["users"] = known

    def _records(self, key: str) -> list[dict[str, Any]]:
        value = self.setup.get(key)
        if isinstance(value, HttpError):
            raise value
        if value is None:
            raise HttpError(self.id, f"{key} not read")
        return list(value)

    # ------------------------------------------------------------------------------------------- inventory

    def fields(self) -> None:
        got, catalogue = self.got, self.catalogue

        def owner_of(name: str, namespace: str | None) -> str | None:
            if namespace:
                entry = catalogue.by_salesforce_namespace(namespace)
                owner = got.package_owners.get(namespace.lower()) or (entry.id if entry else None)
                if owner:
                    return owner
            entry = catalogue.owner_by_field_name("salesforce", name)
            return entry.id if entry is not None and entry.id != self.id else None

        for name in sorted(got.describes):
            obj, fields, specs = parse.parse_describe(
                got.describes[name], self.id, got.custom_fields, owner_of=owner_of, users=got.users,
                custom_field_limit=self.cfg.custom_field_limit,
            )
            got.objects.append(obj.model_copy(update={"record_count": got.record_counts.get(name)}))
            got.fields += fields
            got.specs += specs
        got.references += parse_assets.package_references(got.fields, got.package_assets)
        missing = sum(1 for f in got.fields if f.custom and f.created_at is None)
        if missing:
            self.state.notes.append(f"{missing} custom fields have no Tooling CustomField row (no description, "
                                    "no dates)")

    def where_used(self) -> None:
        state, got, cfg = self.state, self.got, self.cfg
        flow_index = parse_assets.FlowIndex()
        with state.step(Capability.references, "FlowDefinitionView"):
            flows, flow_index = parse_assets.parse_flows(self._records("flows"), self.id)
            got.assets += flows
        ids_by_sfid = object_field_ids(got.custom_fields, got.fields)
        sf_ids = sorted({k for k in ids_by_sfid if len(k) == 18} or set(ids_by_sfid))
        leaves = self.cache.tooling.get("dependency_partitions") if got.global_unchanged else None
        start = [p for p in (Partition.from_json(x) for x in leaves or []) if p is not None] or None
        with state.step(Capability.references, "MetadataComponentDependency"):
            self.cache.tooling.pop("dependency_partitions", None)
            result = fetch_dependencies(
                self.client, cfg.api_version, sf_ids, cap=cfg.dependency_row_cap, max_chars=cfg.max_query_chars,
                workers=cfg.max_concurrency, start=start,
                report=lambda q, what: self._report(q, None, f"where-used: {what}"),
            )
            if not result.failed:
                self.cache.tooling["dependency_partitions"] = [p.to_json() for p in result.leaves]
            assets, refs, skipped = parse_assets.parse_dependencies(result.rows, ids_by_sfid, flow_index, self.id)
            known = {a.id for a in got.assets}
            got.assets += [a for a in assets if a.id not in known]
            got.references += refs
            state.notes.append(f"where-used: {result.queries} MetadataComponentDependency queries"
                               f"{' (partitions of the last pull)' if start else ''}, {len(result.rows)} rows "
                               f"({skipped} on fields outside the audit)")
            for what in result.truncated:
                state.failed(Capability.references, f"dependencies of {what} beyond the 2,000-row cap")
            for what, err in result.failed:
                state.failed(Capability.references, what, SourceError(
                    code=getattr(err, "code", "error"), message=str(err), capability=Capability.references,
                    where=what))
        got.where_used_read = True

    def fill(self, mode: FillRateMode) -> None:
        state, got = self.state, self.got
        if mode == "off":
            return
        run = FillRun(self.client, self.cfg, mode, self.now, cache=self.cache.fills,
                      report=lambda d, t: self._report(d, t, "fill rates"))
        by_object: dict[str, list[parse.FieldSpec]] = {}
        for spec in got.specs:
            by_object.setdefault(spec.object, []).append(spec)
        objects = [ObjectToCount(o, tuple(s), got.record_counts.get(o)) for o, s in sorted(by_object.items())]
        try:
            with state.step(Capability.fill_rates, "fill-rate counts"):
                run.run(run.start(objects))
                run.run(run.newest_tasks())
        finally:
            for err in run.errors:
                state.error(err)
            rates = run.rates
            got.fields = [f.model_copy(update={"fill": rates.get((f.object, f.name))}) for f in got.fields]
            got.objects = [o.model_copy(update={"record_count": run.totals.get(o.name, o.record_count)})
                           for o in got.objects]
            sampled = sorted({o for (o, _), r in rates.items() if r.method is FillMethod.sampled})
            state.notes.append(
                f"fill rates: {run.queries} queries in {run.calls} composite calls; counts reused for "
                f"{len(run.reused)} unchanged objects" + (f"; sampled: {', '.join(sampled[:10])}" if sampled else ""))
            self.cache.fills = run.store()

    def tools_and_integrations(self) -> None:
        state, got = self.state, self.got
        state.cover(Capability.tools)
        with state.step(Capability.integrations, "OauthToken (connected apps)"):
            apps = parse_assets.parse_connected_apps(self._records("tokens"))
            tools, integrations, notes = parse_assets.app_tools_and_integrations(
                apps, self.catalogue, self.id, self.id, self.context.declared_tools, self.now)
            got.tools += [t for t in tools if t.id not in {x.id for x in got.tools}]
            got.integrations += integrations
            state.notes += notes
        state.cover(Capability.integrations, detail="connected apps with OAuth tokens (last use per app)")
        state.coverage[Capability.activity] = state.coverage[Capability.integrations]
        with state.step(Capability.seats, "UserLicense"):
            got.seats, notes = parse_assets.parse_licenses(self._records("licences"))
            state.notes += notes
        if got.seats is not None or state.is_failed(Capability.seats):
            state.cover(Capability.seats)
        else:
            state.missing(Capability.seats, "UserLicense has no Salesforce licence row")
