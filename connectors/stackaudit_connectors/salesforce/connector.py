"""The Salesforce connector: objects, fields, where-used, fill rates, flows, packages and connected apps of one org,
within a share of the org's daily API allocation.

Order of a pull: discovery (``/limits``, describeGlobal, Tooling ``CustomObject`` and ``CustomField``), the quota
guard (estimate the rest; refuse above ``max_api_share`` of the remaining daily requests), then describes, record
counts, installed packages, users, flows, where-used, fill rates, connected apps, licences and ``/limits`` again.
Each step's failure is recorded against its capability and the pull goes on; the daily limit or the deadline stop
it with a partial result that says so; a rejected session ends it with one line saying what to refresh.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, ClassVar, cast

import httpx

from stackaudit_inventory import (
    Capability,
    CoverageStatus,
    FillMethod,
    InventoryPart,
    LifecycleDefinition,
    Origin,
    SourceError,
    Tool,
)
from stackaudit_inventory.catalogue import VendorCatalogue, load_catalogue

from ..base import Connector, ConnectorConfigError, ConnectorError, PullContext, PullResult, resolve_secret
from ..files import env_reference
from ..http import AuthError, DeadlineError, HttpClient, QuotaError
from . import api, parse
from .config import FillRateMode, SalesforceConfig
from .describe import DescribeCache
from .pull import Gathered, Reader, estimate_calls, quota_of
from .state import PullState
from .steps import Steps

__all__ = ["SalesforceConnector"]

REFERENCES_BLIND_SPOTS = (
    "MetadataComponentDependency (Beta) does not include reports, report types, list views, dashboards or email "
    "alerts, and covers custom fields only (standard fields have no where-used)"
)


class SalesforceConnector(Connector):
    type = "salesforce"
    config_model = SalesforceConfig
    capabilities = frozenset(
        {Capability.tools, Capability.seats, Capability.fields, Capability.fill_rates, Capability.references,
         Capability.integrations, Capability.activity, Capability.lifecycle, Capability.quota}
    )
    scopes: ClassVar[tuple[str, ...]] = ("api", "API Enabled", "View Setup and Configuration", "View All Data",
                                         "View All Users")

    def __init__(
        self,
        config: SalesforceConfig | Any,
        context: PullContext,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        catalogue: VendorCatalogue | None = None,
    ) -> None:
        super().__init__(config, context)
        self.cfg = cast(SalesforceConfig, config)
        self._transport = transport
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._catalogue = catalogue

    # ----------------------------------------------------------------------------------------------- options

    @property
    def fill_mode(self) -> FillRateMode:
        value = self.context.options.get("fill_rates")
        return cast(FillRateMode, value) if value in ("exact", "sampled", "off") else self.cfg.fill_rates

    @property
    def max_api_share(self) -> float:
        value = self.context.options.get("max_api_share")
        return float(value) if isinstance(value, int | float) and 0 < value <= 1 else self.cfg.max_api_share

    def _token(self) -> tuple[str, tuple[str, ...], bool]:
        cfg, env = self.cfg, self.context.env
        if cfg.access_token is not None:
            return resolve_secret(cfg.access_token, connector=self.id, key="access_token", env=env), (), False
        cid = resolve_secret(cfg.client_id, connector=self.id, key="client_id", env=env)
        secret = resolve_secret(cfg.client_secret, connector=self.id, key="client_secret", env=env)
        return api.fetch_token(cfg, cid, secret, transport=self._transport), (secret,), True

    # -------------------------------------------------------------------------------------------------- pull

    def _resolve_url(self) -> None:
        """An ``instance_url`` given as ``${VAR}`` comes from the environment (sandboxes, the demo's fake)."""
        var = env_reference(self.cfg.instance_url)
        if var is None:
            return
        url = (self.context.env.get(var) or "").strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            problem = "is not set" if not url else "is not an http(s) URL"
            raise ConnectorConfigError(self.id, f"'instance_url': environment variable {var} {problem}",
                                       where="instance_url")
        self.cfg = self.cfg.model_copy(update={"instance_url": url})

    def pull(self) -> PullResult:
        started = self.context.now()
        self._resolve_url()
        token, secrets, fetched = self._token()
        client, tracker = api.build_salesforce_client(
            self.cfg, token, clock=self._clock, sleep=self._sleep, rng=self._rng, transport=self._transport,
            secrets=secrets,
        )
        state = PullState(self.id, started)
        got = Gathered()
        if fetched:
            state.notes.append("signed in with the OAuth client-credentials flow (1 token request, not counted by "
                               "Salesforce against the daily allocation)")
        with client:
            try:
                self._run(client, tracker, state, got)
            except AuthError as exc:
                what = "the access token (access_token)" if self.cfg.access_token is not None else \
                    "the connected app's client credentials (client_id, client_secret)"
                raise ConnectorError(
                    self.id,
                    f"Salesforce rejected the session ({exc.status} INVALID_SESSION_ID: session expired or invalid); "
                    f"refresh {what} and pull again",
                    code="auth",
                    where=exc.path,
                ) from None
            except QuotaError as exc:
                state.stopped = "stopped: the org's daily API request limit was reached (REQUEST_LIMIT_EXCEEDED)"
                state.error(SourceError(code="quota", where=exc.path, message=f"connector '{self.id}': "
                            f"{state.stopped}; the snapshot holds what was read before"))
            except DeadlineError as exc:
                state.stopped = f"stopped: the time budget of {self.cfg.deadline_seconds:.0f}s ran out"
                state.error(SourceError(code="deadline", message=str(exc), where=exc.path))
        calls = client.counter.total + (1 if fetched else 0)
        return self._result(state, got, tracker, calls)

    def _catalogue_or_default(self) -> VendorCatalogue:
        return self._catalogue or self.context.catalogue or load_catalogue()

    def _run(self, client: HttpClient, tracker: api.LimitTracker, state: PullState, got: Gathered) -> None:
        cfg = self.cfg
        cache = DescribeCache.load(self.context.options.get("cache_dir"), self.id, cfg.instance_url, cfg.api_version)
        if cache.problem:
            state.notes.append(cache.problem)
            cache.problem = None
        steps = Steps(client, cfg, Reader(client, cfg, state.notes.append), state, got, cache, self.context.now(),
                      self.id, self.context, self._catalogue_or_default())
        try:
            if not steps.discover():
                return
            self._guard(tracker, state, got, cache)
            steps.describe()
            steps.setup_reads()
            steps.fields()
            steps.where_used()
            steps.fill(self.fill_mode)
            steps.tools_and_integrations()
            with state.step(Capability.quota, "/limits (after)"):
                got.quota_end = parse.daily_requests(steps.read.limits())
        finally:
            cache.save()
            if cache.problem:
                state.notes.append(cache.problem)

    def _guard(self, tracker: api.LimitTracker, state: PullState, got: Gathered, cache: DescribeCache) -> None:
        user_ids = {u for info in got.custom_fields.values() for u in (info.created_by, info.updated_by) if u}
        got.estimate, steps = estimate_calls(self.cfg, got.audited, got.custom_fields, cache,
                                             global_unchanged=got.global_unchanged, fill=self.fill_mode,
                                             user_ids=len(user_ids - set(cache.tooling.get("users") or {})))
        remaining = got.quota_start[1] if got.quota_start else tracker.remaining
        share = self.max_api_share
        detail = ", ".join(f"{k} {v}" for k, v in steps.items())
        if remaining is None:
            state.notes.append(f"quota guard: remaining daily requests unknown; estimated {got.estimate} calls "
                               f"({detail})")
            return
        allowed = int(remaining * share)
        state.notes.append(f"quota guard: about {got.estimate} calls needed ({detail}); {remaining} daily requests "
                           f"remaining, {share:.0%} allows {allowed}")
        if got.estimate > allowed:
            raise ConnectorError(
                self.id,
                f"quota guard: this pull needs about {got.estimate} API calls, "
                f"{got.estimate / max(1, remaining):.1%} of the {remaining} daily requests the org has left, above "
                f"max_api_share {share:.0%} ({allowed} calls); raise max_api_share (or --max-api-share) to go ahead",
                code="quota_guard",
            )

    # ------------------------------------------------------------------------------------------------ result

    def _result(self, state: PullState, got: Gathered, tracker: api.LimitTracker, calls: int) -> PullResult:
        now = self.context.now()
        end = got.quota_end or (
            (tracker.limit, tracker.limit - tracker.used) if tracker.limit is not None and tracker.used is not None
            else None)
        # The daily allocation after the pull (what HY005 judges), and its use before the pull as context.
        quotas = [q for q in (quota_of("daily_api_requests", end, now, "rolling 24 hours"),
                              quota_of("api_requests_before_pull", got.quota_start, state.started_at,
                                       "rolling 24-hour window, read before this pull"))
                  if q is not None]
        estimate = f" (estimated {got.estimate} before the heavy reads)" if got.estimate is not None else ""
        state.notes.insert(0, f"API calls: {calls} made{estimate}")
        self._coverage(state, got)
        lifecycle = LifecycleDefinition(stage_fields=parse.lifecycle_field_ids(got.fields), origin=Origin.discovered)
        part = InventoryPart(
            tools=[self._own_tool(got), *got.tools],
            objects=got.objects,
            fields=got.fields,
            assets=got.assets,
            references=got.references,
            integrations=got.integrations,
            lifecycle=lifecycle if lifecycle.stage_fields else None,
        )
        run = state.run(tool=self.id, ended_at=now, api_calls=calls, quota=quotas, got_data=bool(got.fields))
        return PullResult(part=part, run=run)

    def _own_tool(self, got: Gathered) -> Tool:
        declared = self.context.declared_tools.get(self.id)
        entry = None if declared else self._catalogue_or_default().by_id("salesforce")
        return Tool(
            id=self.id,
            name=declared or (entry.name if entry else "Salesforce"),
            vendor=None if declared else "Salesforce",
            capabilities=list(entry.capabilities) if entry else [],
            seats=got.seats,
            origin=Origin.discovered,
            discovered_by=[self.id],
            url=self.cfg.instance_url,
        )

    def _coverage(self, state: PullState, got: Gathered) -> None:
        if got.fields:
            state.cover(Capability.fields, detail=f"{len(got.objects)} objects, {len(got.fields)} fields")
            state.cover(Capability.lifecycle, detail="Lead Status, Opportunity StageName and lifecycle-stage fields")
            if got.where_used_read:
                state.cover(Capability.references, reason=REFERENCES_BLIND_SPOTS, partial=True)
            unknown = [f.id for f in got.fields if f.fill is None or (
                f.fill.method is FillMethod.unknown and not (f.fill.note or "").startswith("compound"))]
            if self.fill_mode == "off":
                state.missing(Capability.fill_rates, "fill rates switched off (--fill-rates off)",
                              status=CoverageStatus.not_supported)
            elif len(unknown) < len(got.fields):
                if unknown:
                    state.failed(Capability.fill_rates, f"{len(unknown)} fields ({', '.join(unknown[:3])}...)")
                sampled = sum(1 for f in got.fields if f.fill and f.fill.method is FillMethod.sampled)
                state.cover(Capability.fill_rates, detail=f"{sampled} fields sampled" if sampled else None)
        if got.quota_end or got.quota_start:
            state.cover(Capability.quota)
        for cap in self.capabilities:
            if cap not in state.coverage:
                state.missing(cap, state.stopped or "not reached")
