"""The Marketo connector: lead fields, custom objects, forms, smart campaigns, programs, the CRM sync and API usage.

Order of the pull, each part recorded against its capability (see :mod:`.state`):

1. lead fields from describe2, schema fields and describe; custom objects and their fields;
2. the CRM: configured, shown by Marketo's ``sfdc*`` fields, or the CRM the manifest declares;
3. fill rates from one bulk lead extract of a recent window (:mod:`.extract`), or unknown;
4. programs, smart campaigns, forms and each form's fields (write references);
5. API usage and errors of the last 7 days: quota, and the CRM sync's evidence.

A daily quota (607), the deadline, or credentials that stop working end the pull: what was read is kept and the
run is partial, naming where it stopped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from stackaudit_inventory import Capability, CoverageStatus, FillMethod, FillRate, ObjectDef, Origin, Tool, ids
from stackaudit_inventory.catalogue import VendorCatalogue, load_catalogue

from ..base import Connector, PullContext, PullResult, resolve_secret
from ..http import AuthError, DeadlineError, HttpError, QuotaError, RetryPolicy, run_bounded
from . import parse, parse_assets, parse_sync
from .api import MarketoApi, build_marketo_api
from .config import MarketoConfig
from .extract import extract_fill_rates
from .state import PullState

__all__ = ["MarketoConnector"]

FIELDS, REFS, FILL = Capability.fields, Capability.references, Capability.fill_rates


class MarketoConnector(Connector):
    """Reads one Marketo Engage instance with a read-only API user."""

    type: ClassVar[str] = "marketo"
    config_model = MarketoConfig
    capabilities = frozenset(
        {
            Capability.tools,
            Capability.fields,
            Capability.fill_rates,
            Capability.references,
            Capability.integrations,
            Capability.sync_health,
            Capability.quota,
        }
    )
    scopes = ("Read-Only Lead", "Read-Only Assets", "Read-Only Custom Objects")

    def __init__(
        self,
        config: MarketoConfig,
        context: PullContext,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(config, context)
        self.cfg = config
        self._transport = transport
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._policy = policy
        self.api: MarketoApi | None = None  # kept after the pull for tests and benchmarks
        self._crm: tuple[str | None, bool, str] = (None, False, "the lead fields were not read")
        self._lead: parse.LeadFields | None = None
        self._stats_read: parse_sync.ApiStats | None = None

    def pull(self) -> PullResult:
        env = self.context.env
        client_id = resolve_secret(self.cfg.client_id, connector=self.id, key="client_id", env=env)
        client_secret = resolve_secret(self.cfg.client_secret, connector=self.id, key="client_secret", env=env)
        state = PullState(self.id, self.id, self.context.now())
        catalogue = self.context.catalogue or load_catalogue()
        api = build_marketo_api(
            self.cfg,
            client_id,
            client_secret,
            clock=self._clock,
            sleep=self._sleep,
            rng=self._rng,
            transport=self._transport,
            policy=self._policy,
        )
        self.api = api
        with api.client:
            try:
                self._pull(api, state, catalogue)
            except (QuotaError, DeadlineError, AuthError) as exc:
                if not state.fields and not state.assets:
                    raise exc from None  # nothing usable: the pipeline records a failed run
        if self._lead is not None:
            # Built from what was read, also when the pull stopped early (then without API statistics).
            self._sync(state, self._lead, self._stats_read)
        self._finish(api, state, catalogue)
        run = state.run(ended_at=self.context.now(), api_calls=api.client.counter.total, connector_type=self.type)
        return PullResult(part=state.part(), run=run)

    # ------------------------------------------------------------------------------------------------ stages

    def _report(self, message: str) -> None:
        self.context.report(self.id, None, None, message)

    def _pull(self, api: MarketoApi, state: PullState, catalogue: VendorCatalogue) -> None:
        self._report("lead fields")
        lead_fields = self._lead_fields(api, state, catalogue)
        if self.cfg.custom_objects:
            self._custom_objects(api, state)
        if self.cfg.fill_rates == "extract" and self.context.options.get("fill_rates") != "off":
            self._report("fill rates (bulk extract)")
            self._fill_rates(api, state, lead_fields)
        else:
            why = "fill rates are off in the config or on the command line"
            state.set_coverage(FILL, CoverageStatus.missing, why)
            _mark_unknown(state, why, self.context.now())
        self._report("programs, smart campaigns and forms")
        self._assets(api, state, lead_fields)
        self._report("API usage and errors")
        self._stats_read = self._stats(api, state)

    def _lead_fields(self, api: MarketoApi, state: PullState, catalogue: VendorCatalogue) -> parse.LeadFields:
        describe2: Any = None
        schema: list[Any] | None = None
        describe: Any = None
        with state.step(FIELDS, "/rest/v1/leads/describe2.json"):
            describe2 = api.get_describe2()
        with state.step(FIELDS, "/rest/v1/leads/schema/fields.json"):
            items: list[Any] = []
            for page in api.iter_lead_schema_fields():
                found, problem = parse.results_of(page)
                if problem:
                    state.problem(FIELDS, "/rest/v1/leads/schema/fields.json", problem)
                items.extend(found)
            schema = items
        with state.step(FIELDS, "/rest/v1/leads/describe.json"):
            describe = api.get_describe()
        probe = parse.parse_lead_fields(describe2, schema, describe, tool=self.id, crm=None)
        crm, is_sfdc, why = parse_sync.resolve_crm(self.cfg.crm, self.context.declared_tools, probe, catalogue)
        lead_fields = parse.parse_lead_fields(describe2, schema, describe, tool=self.id, crm=crm, catalogue=catalogue)
        for problem in lead_fields.problems:
            state.problem(FIELDS, "lead fields", problem)
        if schema is None:
            state.notes.append("Lead fields: custom vs system unknown (schema fields not read); none marked custom.")
        state.objects.append(
            ObjectDef(id=ids.object_id(self.id, parse.LEADS), tool=self.id, name=parse.LEADS, label="Person")
        )
        state.fields.extend(lead_fields.fields)
        self._crm = (crm, is_sfdc, why)
        self._lead = lead_fields
        return lead_fields

    def _custom_objects(self, api: MarketoApi, state: PullState) -> None:
        crm = self._crm[0]
        with state.step(FIELDS, "/rest/v1/customobjects.json"):
            objects, raws, problems = parse.parse_custom_objects(api.get_custom_objects(), tool=self.id)
            for problem in problems:
                state.problem(FIELDS, "/rest/v1/customobjects.json", problem)
            state.objects.extend(objects)
            for raw in raws:
                name = str(raw.get("name") or raw.get("apiName"))
                if not raw.get("fields"):
                    with state.step(FIELDS, f"custom object {name}"):
                        items, _ = parse.results_of(api.get_custom_object_describe(name))
                        raw = items[0] if items and isinstance(items[0], Mapping) else raw
                state.fields.extend(parse.custom_object_fields(raw, tool=self.id, crm=crm))
            if objects:
                state.notes.append(f"Custom objects: {', '.join(o.name for o in objects)}.")

    def _fill_rates(self, api: MarketoApi, state: PullState, lead_fields: parse.LeadFields) -> None:
        names = [f.name for f in lead_fields.fields]
        if not names:
            state.set_coverage(FILL, CoverageStatus.missing, "no lead fields were read")
            return
        now = self.context.now()
        result = None
        with state.step(FILL, "bulk lead extract"):
            result = extract_fill_rates(
                api,
                names,
                now=now,
                window_days=self.cfg.fill_window_days,
                poll_seconds=self.cfg.extract_poll_seconds,
                max_wait_seconds=self.cfg.extract_max_wait_seconds,
                sleep=self._sleep,
            )
        if result is None or result.problem:
            why = result.problem if result is not None else "the bulk lead extract failed (see errors)"
            state.set_coverage(FILL, CoverageStatus.missing, f"{why}; fill rates unknown")
            _mark_unknown(state, why, now)
            return
        state.fields[:] = [
            f.model_copy(update={"fill": result.rates[f.name]})
            if f.object == parse.LEADS and f.name in result.rates
            else f
            for f in state.fields
        ]
        state.set_coverage(
            FILL,
            CoverageStatus.complete,
            f"sampled: the {result.rows:,} people created in the last {self.cfg.fill_window_days} days "
            "(custom object fields are not measured)",
        )
        state.notes.append(f"Fill rates: one bulk extract, {result.rows:,} people, {result.polls} status polls.")

    def _assets(self, api: MarketoApi, state: PullState, lead_fields: parse.LeadFields) -> None:
        crm = self._crm[0]
        listings: list[tuple[str, Callable[[], Any], Callable[[Mapping[str, Any]], None]]] = [
            (
                "/rest/asset/v1/programs.json",
                api.iter_programs,
                lambda raw: state.assets.append(parse_assets.program_asset(raw, tool=self.id, crm=crm)),
            ),
            (
                "/rest/asset/v1/smartCampaigns.json",
                api.iter_smart_campaigns,
                lambda raw: state.assets.append(parse_assets.smart_campaign_asset(raw, tool=self.id)),
            ),
        ]
        forms: list[Mapping[str, Any]] = []
        listings.append(("/rest/asset/v1/forms.json", api.iter_forms, forms.append))
        for path, pages, keep in listings:
            with state.step(REFS, path):
                for page in pages():
                    items, problem = parse.results_of(page)
                    if problem:
                        state.problem(REFS, path, problem)
                    for raw in items:
                        if isinstance(raw, Mapping) and raw.get("id") is not None:
                            keep(raw)
        campaigns = [a for a in state.assets if a.kind == "smart-campaign"]
        if campaigns:
            state.notes.append(
                f"Smart campaigns: {sum(a.active for a in campaigns)} active of {len(campaigns)}; the REST API "
                "exposes neither last run times nor flow steps."
            )
        form_assets = {str(raw["id"]): parse_assets.form_asset(raw, tool=self.id) for raw in forms}
        state.assets.extend(form_assets.values())
        if not self.cfg.form_fields:
            return
        run = run_bounded(api.get_form_fields, list(form_assets), workers=self.cfg.max_concurrency)
        unresolved: set[str] = set()
        for result in run.results:
            if isinstance(result.error, HttpError):
                state.http_failure(REFS, f"form {result.item} fields", result.error)
                continue
            if result.value is None:
                state.failed(REFS, f"form {result.item} fields")
                continue
            items, problem = parse.results_of(result.value)
            if problem:
                state.problem(REFS, f"form {result.item} fields", problem)
            refs = parse_assets.form_references(
                form_assets[result.item].id, items, lead_fields=lead_fields, tool=self.id
            )
            state.references.extend(refs.references)
            unresolved.update(refs.unresolved)
        if unresolved:
            state.notes.append(
                f"Form fields that are not lead fields (not referenced): {', '.join(sorted(unresolved)[:10])}."
            )
        if run.stopped is not None:
            with state.step(REFS, "form fields"):  # records where and why the pull stopped, then re-raises
                raise run.stopped

    def _stats(self, api: MarketoApi, state: PullState) -> parse_sync.ApiStats | None:
        usage: Any = None
        errors: Any = None
        with state.step(Capability.quota, "/rest/v1/stats/usage/last7days.json"):
            usage = api.get_usage_last7days()
        with state.step(Capability.sync_health, "/rest/v1/stats/errors/last7days.json"):
            errors = api.get_errors_last7days()
        if usage is None and errors is None:
            return None
        stats = parse_sync.parse_stats(usage, errors)
        for problem in stats.problems:
            state.problem(Capability.quota, "stats", problem)
        quota = stats.quota(limit=self.cfg.limits.daily_calls, observed_at=self.context.now())
        if quota is not None:
            state.quotas.append(quota)
        return stats

    def _sync(self, state: PullState, lead_fields: parse.LeadFields, stats: parse_sync.ApiStats | None) -> None:
        crm, is_sfdc, why = self._crm
        managed = len(lead_fields.crm_managed)
        if crm is None:
            if managed:
                state.notes.append(f"{managed} CRM-managed lead fields, but the CRM is unknown: {why}.")
            return
        if not managed and not any(f.name.lower().startswith(parse_sync.SFDC_PREFIX) for f in lead_fields.fields):
            state.notes.append(f"No CRM-managed lead field: no CRM sync to {crm} seen.")
            return
        mappings: list[Any] = []
        if is_sfdc:
            mappings, skipped = parse_sync.crm_mappings(
                lead_fields, tool=self.id, crm=crm, objects=self.cfg.crm_objects
            )
            if skipped:
                state.notes.append(f"CRM-managed fields not mapped (CRM name unknown): {', '.join(skipped[:10])}.")
        else:
            state.notes.append(f"CRM {crm} is not Salesforce: its field names cannot be derived; no mappings.")
        evidence = stats if self.cfg.api_stats_as_sync_evidence else None
        state.integrations.append(
            parse_sync.sync_integration(
                tool=self.id,
                crm=crm,
                mappings=mappings,
                stats=evidence,
                spike_factor=self.cfg.error_spike_factor,
                run_id=self.id,
            )
        )
        state.notes.append(f"CRM sync to {crm} ({why}): {managed} CRM-managed lead fields, {len(mappings)} mappings.")
        if evidence is not None and evidence.days:
            state.notes.append(
                f"Sync evidence for {self.id}->{crm} is the instance's REST API statistics over {evidence.days} days "
                "(Marketo exposes no per-sync counts)."
            )

    # ---------------------------------------------------------------------------------------------- finish

    def _finish(self, api: MarketoApi, state: PullState, catalogue: VendorCatalogue) -> None:
        entry = catalogue.by_id("marketo")
        state.tools.append(
            Tool(
                id=self.id,
                name=entry.name if entry else "Marketo Engage",
                vendor=entry.vendor if entry else "Adobe",
                capabilities=list(entry.capabilities) if entry else [],
                origin=Origin.discovered,
                discovered_by=[self.id],
            )
        )
        crm = self._crm[0]
        if crm and state.integrations and crm not in self.context.declared_tools:
            crm_entry = catalogue.by_id(crm)
            state.tools.append(
                Tool(
                    id=crm,
                    name=crm_entry.name if crm_entry else crm,
                    vendor=crm_entry.vendor if crm_entry else None,
                    capabilities=list(crm_entry.capabilities) if crm_entry else [],
                    origin=Origin.discovered,
                    discovered_by=[self.id],
                )
            )
        objects = FillRate(method=FillMethod.unknown, note="custom object records are not measured")
        stopped = FillRate(method=FillMethod.unknown, note="not measured: the pull stopped before the bulk extract")
        state.fields[:] = [
            f if f.fill else f.model_copy(update={"fill": stopped if f.object == parse.LEADS else objects})
            for f in state.fields
        ]
        state.set_coverage(Capability.tools, CoverageStatus.complete, "the instance itself and its CRM")
        state.cover(FIELDS)
        if FILL not in state.coverage:
            state.cover(FILL)
        gaps = ["smart-list rules are not read and flow steps are not exposed by the REST API"]
        if not self.cfg.form_fields:
            gaps.append("form fields are off in the config")
        state.cover(REFS, partial_reason="; ".join(gaps))
        state.cover(Capability.integrations)
        if self.cfg.api_stats_as_sync_evidence:
            state.cover(Capability.sync_health, partial_reason="counts are REST API statistics, not per-sync counts")
        else:
            state.set_coverage(
                Capability.sync_health, CoverageStatus.missing, "API statistics are not used as evidence"
            )
        state.cover(Capability.quota)
        if api.refreshes:
            state.notes.append(f"Access token refreshed {api.refreshes} time(s) after Marketo reported 601/602.")


def _mark_unknown(state: PullState, why: str, now: datetime) -> None:
    """Every lead field's fill rate is unknown, saying why (never left blank, never guessed)."""
    unknown = FillRate(method=FillMethod.unknown, measured_at=now, note=why[:200])
    state.fields[:] = [f.model_copy(update={"fill": unknown}) if f.object == parse.LEADS else f for f in state.fields]
