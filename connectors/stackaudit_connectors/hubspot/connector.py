"""The HubSpot connector: orchestration and coverage accounting (HTTP in :mod:`.api`, JSON in :mod:`.parse`).

Ids: the tool is the connector id (default ``hubspot``); a field is ``hubspot:<object>.<property>`` where
``<object>`` is the API name of a standard object (``contacts``, ``line_items``) or the fully qualified name of a
custom object (``p1234567_project``: unique in the portal, accepted by every endpoint, never equal to a standard
object's name, unchanged when the object's label changes).

Order of a pull: account and quotas (the first call also checks the token), objects and properties, pipelines,
owners, forms, workflows, lists, fill rates, Salesforce-sync evidence. A daily-limit 429, the deadline or a token
that stops working mid-pull ends it early: what was read is kept and the run says what is missing and why.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import httpx

from stackaudit_inventory import Capability, SourceError

from ..base import Connector, ConnectorConfig, ConnectorConfigError, ConnectorError, PullResult, resolve_secret
from ..files import env_reference
from ..http import AuthError, HttpClient, HttpError, RetryPolicy, run_bounded
from ..http.concurrency import STOP_ERRORS
from . import api
from .assemble import Gathered, PulledObject, build_part, set_coverage
from .assets import pull_flows, pull_forms, pull_lists
from .config import FillRateMode, HubSpotConfig
from .fill import PropertyInfo, measure_object
from .parse import (
    OBJECT_TYPE_IDS,
    TYPE_ID_OF,
    parse_custom_property_limits,
    parse_daily_usage,
    parse_pipelines,
    parse_properties,
    parse_rate_headers,
    parse_schemas,
    parse_seats,
    parse_time,
    results_of,
)
from .state import PullState

__all__ = ["HubSpotConnector"]

C = Capability
SYNC_PROPERTY = "salesforcelastsynctime"


class HubSpotConnector(Connector):
    """Properties, objects, pipelines, owners, forms, workflows, lists, fill rates and sync evidence of a portal."""

    type: ClassVar[str] = "hubspot"
    config_model: ClassVar[builtins.type[ConnectorConfig]] = HubSpotConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {C.tools, C.seats, C.fields, C.fill_rates, C.references, C.integrations, C.sync_health, C.lifecycle, C.quota}
    )
    scopes: ClassVar[tuple[str, ...]] = (
        "crm.objects.contacts.read",
        "crm.objects.companies.read",
        "crm.objects.deals.read",
        "tickets",
        "e-commerce",
        "crm.objects.quotes.read",
        "crm.objects.custom.read",
        "crm.objects.owners.read",
        "crm.schemas.contacts.read",
        "crm.schemas.companies.read",
        "crm.schemas.deals.read",
        "crm.schemas.custom.read",
        "crm.lists.read",
        "forms",
        "automation",
        "oauth",
    )

    # Hooks for tests and benchmarks (real network, clock, sleep and retry policy by default).
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], float] = staticmethod(time.monotonic)
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    retry_policy: RetryPolicy | None = None

    # --------------------------------------------------------------------------------------------- settings

    def _config(self) -> HubSpotConfig:
        if not isinstance(self.config, HubSpotConfig):
            raise TypeError("HubSpotConnector needs a HubSpotConfig")
        return self.config

    def _token(self, cfg: HubSpotConfig) -> str:
        if cfg.token is None:
            raise ConnectorConfigError(
                self.id, "'token' is not set: add `token: ${HUBSPOT_TOKEN}` and export HUBSPOT_TOKEN", where="token"
            )
        return resolve_secret(cfg.token, connector=self.id, key="token", env=self.context.env)

    def _mode(self, cfg: HubSpotConfig) -> FillRateMode:
        mode = self.context.options.get("fill_rates") or cfg.fill_rates
        if mode == "exact" or mode == "sampled" or mode == "off":
            return mode
        raise ConnectorConfigError(self.id, f"fill_rates must be exact, sampled or off, not {mode!r}")

    def _auth_failure(self, cfg: HubSpotConfig, exc: AuthError) -> ConnectorError:
        raw = cfg.token.get_secret_value() if cfg.token else ""
        var = env_reference(raw)
        source = f"environment variable {var}" if var else "the 'token' key"
        return ConnectorError(
            self.id,
            f"HubSpot rejected the token from {source} (HTTP 401): set a valid private-app or OAuth access token",
            code="auth",
            where=exc.path,
        )

    # ------------------------------------------------------------------------------------------------- pull

    def pull(self) -> PullResult:
        cfg = self._config()
        token = self._token(cfg)
        mode = self._mode(cfg)
        state = PullState(connector=self.id, tool=self.id, started_at=self.context.now())
        client, rate_headers = api.build_hubspot_client(
            cfg, token, clock=self.clock, sleep=self.sleep, transport=self.transport, policy=self.retry_policy
        )
        gathered = Gathered()
        with client:
            try:
                self._pull(client, cfg, mode, state, gathered)
            except AuthError as exc:
                if not gathered.objects and not state.assets:
                    raise self._auth_failure(cfg, exc) from None
                state.stopped = "the token stopped working (HTTP 401)"
                state.error(SourceError(code="auth", message=f"{exc}: the pull stopped; what was read is kept"))
            except STOP_ERRORS as exc:
                state.stopped = "HubSpot's daily API limit was reached" if exc.code == "quota" else "time budget spent"
                state.error(SourceError(code=exc.code, message=f"{exc}: the pull stopped; what was read is kept"))
            if mode != "off" and state.began(C.fill_rates):
                for obj in gathered.objects:  # objects a stop kept from being measured
                    if any(f.fill is None or f.fill.method.value == "unknown" for f in obj.fields):
                        state.failed(C.fill_rates, obj.name)
            # The newest header values supersede the usage endpoint's figure read at the start of the pull.
            seen = parse_rate_headers(rate_headers.latest, self.context.now())
            names = {q.name for q in seen}
            state.quotas = [q for q in state.quotas if q.name not in names] + seen
            part = build_part(
                state,
                gathered,
                tool_name=self.context.declared_tools.get(self.id, "HubSpot"),
                salesforce=self._salesforce_tool(),
            )
            set_coverage(state, self.capabilities, mode)
            counter = client.counter
            state.notes.append(
                f"{counter.total} API calls ({counter.by_bucket[api.SEARCH]} searches, {counter.retries} retries, "
                f"{counter.throttled} throttled by HubSpot)"
            )
            run = state.run(ended_at=self.context.now(), api_calls=counter.total, connector_type=self.type)
        return PullResult(part=part, run=run)

    def _report(self, message: str, done: int | None = None, total: int | None = None) -> None:
        self.context.report(self.id, done, total, message)

    def _salesforce_tool(self) -> str:
        """The Salesforce tool id: the one the manifest declares if there is exactly one, else ``salesforce``."""
        declared = [t for t in self.context.declared_tools if t.startswith("salesforce")]
        return declared[0] if len(declared) == 1 else "salesforce"

    def _pull(
        self, client: HttpClient, cfg: HubSpotConfig, mode: FillRateMode, state: PullState, gathered: Gathered
    ) -> None:
        now = self.context.now
        self._report("account")
        state.begin(C.quota)
        with state.step(C.quota, "account details"):
            gathered.account.update(api.get_account_details(client))
        with state.step(C.quota, "daily API usage"):
            state.quotas.extend(parse_daily_usage(api.get_daily_usage(client), now()))
        with state.step(C.quota, "custom property limits"):
            quotas, gathered.property_limits = parse_custom_property_limits(api.get_custom_property_limits(client))
            state.quotas.extend(quotas)

        self._report("properties")
        state.begin(C.fields)
        state.begin(C.lifecycle)
        self._objects(client, cfg, state, gathered.objects)

        self._report("pipelines")
        for object_type in ("deals", "tickets"):
            with state.step(C.fields, f"{object_type} pipelines"):
                found, problems = parse_pipelines(api.get_pipelines(client, object_type), object_type)
                gathered.pipelines.extend(found)
                for problem in problems:
                    state.failed(C.fields, f"{object_type} pipelines", self._malformed(problem, C.fields))

        self._report("owners")
        state.begin(C.seats)
        with state.step(C.seats, "owners"):
            active = [o for page in api.iter_owners(client, archived=False) for o in results_of(page)[0]]
            archived = [o for page in api.iter_owners(client, archived=True) for o in results_of(page)[0]]
            gathered.seats, note = parse_seats(active, archived)
            state.notes.append(note)

        names = self._object_names(gathered.objects)
        state.begin(C.references)
        state.begin(C.integrations)
        self._report("forms")
        pull_forms(client, state, objects=names)
        self._report("workflows")
        pull_flows(client, state, objects=names, workers=cfg.max_concurrency)
        self._report("lists")
        pull_lists(client, state, objects=names, workers=cfg.max_concurrency)

        if mode != "off":
            state.begin(C.fill_rates)
            self._fill_rates(client, cfg, mode, state, gathered.objects)
        self._report("salesforce sync")
        self._salesforce(client, state, gathered)

    # ----------------------------------------------------------------------------------------------- fields

    def _malformed(self, problem: str, capability: Capability) -> SourceError:
        return SourceError(
            code="malformed", message=f"connector '{self.id}': {problem}", capability=capability, where=problem[:80]
        )

    def _objects(self, client: HttpClient, cfg: HubSpotConfig, state: PullState, loaded: list[PulledObject]) -> None:
        """Every object's properties into ``loaded`` (filled before a stop error propagates: nothing read is lost)."""
        targets = [PulledObject(name, TYPE_ID_OF.get(name), False) for name in cfg.objects]
        schema_props: dict[str, list[Any]] = {}
        if cfg.custom_objects:
            with state.step(C.fields, "custom object schemas"):
                custom, problems = parse_schemas(api.get_schemas(client))
                for problem in problems:
                    state.failed(C.fields, "custom object schemas", self._malformed(problem, C.fields))
                for schema in custom:
                    targets.append(PulledObject(schema.name, schema.object_type_id, True, schema.label))
                    schema_props[schema.name] = schema.properties

        def load(obj: PulledObject) -> tuple[Any, Any]:
            body = schema_props.get(obj.name)
            props = {"results": body} if body is not None else api.get_properties(client, obj.name)
            try:
                groups: Any = api.get_property_groups(client, obj.name)
            except HttpError as exc:
                if isinstance(exc, (*STOP_ERRORS, AuthError)):
                    raise
                groups = exc
            return props, groups

        run = run_bounded(load, targets, workers=cfg.max_concurrency)
        for result in run.results:
            obj = result.item
            if result.value is None:
                if isinstance(result.error, HttpError) and not isinstance(result.error, STOP_ERRORS):
                    state.http_failure(C.fields, obj.name, result.error)
                else:
                    state.failed(C.fields, obj.name)
                continue
            props_body, groups = result.value
            items, shape = results_of(props_body)
            parsed = parse_properties(items, tool=self.id, object_name=obj.name)
            for line in ([f"{obj.name} properties: {shape}"] if shape else []) + parsed.problems:
                state.failed(C.fields, obj.name, self._malformed(line, C.fields))
            if isinstance(groups, HttpError):
                state.http_failure(C.fields, f"{obj.name} property groups", groups)
            elif parsed.fields:
                n_groups = len(results_of(groups)[0])
                state.notes.append(f"{obj.name}: {len(parsed.fields)} properties in {n_groups} groups")
            if parsed.fields or obj.custom:
                obj.fields = parsed.fields
                loaded.append(obj)
        if run.stopped is not None:
            raise run.stopped

    @staticmethod
    def _object_names(objects: list[PulledObject]) -> dict[str, str]:
        names = dict(OBJECT_TYPE_IDS)
        for obj in objects:
            names[obj.name] = obj.name
            if obj.type_id:
                names[obj.type_id] = obj.name
        return names

    # ------------------------------------------------------------------------------------------ fill rates

    def _fill_rates(
        self, client: HttpClient, cfg: HubSpotConfig, mode: FillRateMode, state: PullState, objects: list[PulledObject]
    ) -> None:
        for i, obj in enumerate(objects):
            if not obj.fields:
                continue
            self._report(f"fill rates: {obj.name}", i, len(objects))
            result = measure_object(
                client,
                obj.name,
                [PropertyInfo(f.name, f.custom) for f in obj.fields],
                mode=mode,
                sample_size=cfg.sample_size,
                max_chars=cfg.max_properties_chars,
                max_groups=cfg.max_filter_groups,
                max_search_properties=cfg.max_search_properties,
                workers=cfg.max_concurrency,
                now=self.context.now,
                newest_by=obj.newest_by,
            )
            obj.record_count = result.record_count
            obj.fields = [f.model_copy(update={"fill": result.rates.get(f.name)}) for f in obj.fields]
            for err in result.errors:
                state.failed(C.fill_rates, obj.name, err)
            state.notes.extend(result.notes)
            if result.stopped is not None:
                raise result.stopped

    # -------------------------------------------------------------------------------------- sync evidence

    def _salesforce(self, client: HttpClient, state: PullState, gathered: Gathered) -> None:
        """The HubSpot-Salesforce connector has no API: its evidence is the ``salesforce*`` properties and the
        newest ``salesforcelastsynctime`` (a sync timestamp, the one record value read, kept as last sync)."""
        objects = gathered.objects
        sync_objects = [o for o in objects if any(f.name == SYNC_PROPERTY for f in o.fields)]
        sf_fields = [f for o in objects for f in o.fields if f.name.startswith("salesforce")]
        if not sf_fields:
            return
        state.begin(C.sync_health)
        last: datetime | None = None
        for obj in sync_objects:
            with state.step(C.sync_health, f"{obj.name}.{SYNC_PROPERTY}"):
                results, _ = results_of(api.search_newest_value(client, obj.name, SYNC_PROPERTY))
                record = results[0] if results and isinstance(results[0], dict) else {}
                props = record.get("properties") if isinstance(record.get("properties"), dict) else {}
                seen = parse_time((props or {}).get(SYNC_PROPERTY))
                if seen is not None and (last is None or seen > last):
                    last = seen
        filled = any(f.fill is not None and (f.fill.filled or 0) > 0 for f in sf_fields)
        gathered.salesforce_last_sync = last
        gathered.salesforce_seen = last is not None or filled
