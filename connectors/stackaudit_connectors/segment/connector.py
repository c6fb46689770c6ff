"""The Segment connector: sources, destinations and the tools behind them, warehouses, tracking plans, and the
delivery health of every connection.

Order of the pull, each part recorded against its capability:

1. sources and destinations (each destination instance belongs to one source: the connections);
2. the warehouses each source feeds; tracking plans and the sources each governs;
3. delivery health per enabled connection over the window (:mod:`.health`);
4. tools (every destination and warehouse product, named through the vendor catalogue; the manifest's id wins),
   integrations ``segment-><tool>`` (``:<source>`` suffixes when several reach one tool), assets, quota.

A deadline or credentials that stop working end the pull: what was read is kept and the run is partial.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

import httpx

from stackaudit_inventory import Capability, CoverageStatus, Origin, Quota, Tool
from stackaudit_inventory.catalogue import load_catalogue

from ..base import Connector, PullContext, PullResult, resolve_secret
from ..http import AuthError, DeadlineError, QuotaError, RetryPolicy
from ..marketo.state import PullState  # vendor-neutral run accounting (see the report: to move to a shared module)
from . import parse
from .api import SegmentApi, build_segment_api
from .config import SegmentConfig
from .health import read_delivery

__all__ = ["SegmentConnector"]

TOOLS, FLOWS, HEALTH = Capability.tools, Capability.integrations, Capability.sync_health


class SegmentConnector(Connector):
    """Reads one Segment workspace with a read-only Public API token."""

    type: ClassVar[str] = "segment"
    config_model = SegmentConfig
    capabilities = frozenset({Capability.tools, Capability.integrations, Capability.sync_health, Capability.quota})
    scopes = ("Workspace Member (read-only)",)

    def __init__(
        self,
        config: SegmentConfig,
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
        self.api: SegmentApi | None = None
        self.sources: dict[str, parse.Source] = {}
        self.destinations: list[parse.Destination] = []
        self.warehouses: dict[str, tuple[parse.Warehouse, list[str]]] = {}

    def pull(self) -> PullResult:
        token = resolve_secret(self.cfg.token, connector=self.id, key="token", env=self.context.env)
        state = PullState(self.id, self.id, self.context.now())
        api = build_segment_api(
            self.cfg,
            token,
            clock=self._clock,
            sleep=self._sleep,
            rng=self._rng,
            transport=self._transport,
            policy=self._policy,
            now=self.context.now,
        )
        self.api = api
        with api.client:
            try:
                self._pull(api, state)
            except (QuotaError, DeadlineError, AuthError) as exc:
                if not self.sources and not self.destinations:
                    raise exc from None
            self._finish(api, state)
        run = state.run(ended_at=self.context.now(), api_calls=api.client.counter.total, connector_type=self.type)
        return PullResult(part=state.part(), run=run)

    def _report(self, message: str) -> None:
        self.context.report(self.id, None, None, message)

    def _pull(self, api: SegmentApi, state: PullState) -> None:
        self._report("sources and destinations")
        with state.step(FLOWS, "/sources"):
            for page in api.iter_sources():
                for raw in self._items(state, page, "sources", "/sources"):
                    src = parse.parse_source(raw)
                    if src is None:
                        state.problem(FLOWS, "/sources", "a source without an id was skipped")
                        continue
                    self.sources[src.id] = src
        with state.step(TOOLS, "/destinations"):
            for page in api.iter_destinations():
                for raw in self._items(state, page, "destinations", "/destinations"):
                    dest = parse.parse_destination(raw)
                    if dest is None:
                        state.problem(TOOLS, "/destinations", "a destination without an id or product was skipped")
                        continue
                    self.destinations.append(dest)
        if self.cfg.warehouses:
            self._report("warehouses")
            for src in self.sources.values():
                path = f"/sources/{src.id}/connected-warehouses"
                with state.step(FLOWS, path):
                    for page in api.iter_connected_warehouses(src.id):
                        for raw in self._items(state, page, "warehouses", path):
                            wh = parse.parse_warehouse(raw)
                            if wh is None:
                                state.problem(FLOWS, path, "a warehouse without an id or product was skipped")
                                continue
                            self.warehouses.setdefault(wh.id, (wh, []))[1].append(src.id)
        if self.cfg.tracking_plans:
            self._report("tracking plans")
            self._tracking_plans(api, state)

    def _items(self, state: PullState, page: dict[str, object], key: str, path: str) -> list[object]:
        items, problem = parse.items_of(page, key)
        if problem:
            state.problem(FLOWS, path, problem)
        return items

    def _tracking_plans(self, api: SegmentApi, state: PullState) -> None:
        governed: set[str] = set()
        with state.step(Capability.references, "/tracking-plans"):
            plans = [
                raw
                for page in api.iter_tracking_plans()
                for raw in self._items(state, page, "trackingPlans", "/tracking-plans")
            ]
            for raw in plans:
                asset = parse.tracking_plan_asset(raw, tool=self.id)
                if asset is None:
                    state.problem(Capability.references, "/tracking-plans", "a tracking plan without an id was skipped")
                    continue
                state.assets.append(asset)
                plan_id = asset.id.rsplit("/", 1)[1]
                path = f"/tracking-plans/{plan_id}/sources"
                names: list[str] = []
                with state.step(Capability.references, path):
                    for page in api.iter_tracking_plan_sources(plan_id):
                        for src_raw in self._items(state, page, "sources", path):
                            src = parse.parse_source(src_raw)
                            if src is None:
                                state.problem(Capability.references, path, "a source without an id was skipped")
                                continue
                            governed.add(src.id)
                            names.append(src.name)
                state.notes.append(f"Tracking plan '{asset.name}' governs: {', '.join(names) or 'no source'}.")
        loose = [s.name for s in self.sources.values() if s.enabled and s.id not in governed]
        if loose and not state.is_failed(Capability.references):
            state.notes.append(f"Enabled sources without a tracking plan: {', '.join(sorted(loose))}.")

    # ---------------------------------------------------------------------------------------------- finish

    def _connections(self, resolver: parse.ToolResolver) -> list[tuple[parse.Connection, parse.ToolRef]]:
        out: list[tuple[parse.Connection, parse.ToolRef]] = []
        for dest in self.destinations:
            ref = resolver.resolve(dest.product)
            src = self.sources.get(dest.source_id or "")
            enabled = dest.enabled and (src is None or src.enabled)
            label = f"{src.name if src else dest.source_id or '?'} -> {dest.name}"
            out.append((parse.Connection(dest.id, ref.id, src, label, enabled, dest.name), ref))
        for wh, source_ids in self.warehouses.values():
            ref = resolver.resolve(wh.product, warehouse=True)
            srcs = [self.sources[s] for s in source_ids if s in self.sources]
            enabled = wh.enabled and any(s.enabled for s in srcs)
            label = f"{', '.join(s.name for s in srcs)} -> {wh.name}"
            out.append((parse.Connection(wh.id, ref.id, None, label, enabled, wh.name), ref))
        return out

    def _finish(self, api: SegmentApi, state: PullState) -> None:
        resolver = parse.ToolResolver(self.context.catalogue or load_catalogue(), self.context.declared_tools)
        pairs = self._connections(resolver)
        conns = [c for c, _ in pairs]
        names = parse.integration_ids(self.id, conns)
        deliveries: dict[str, parse.Delivery] = {}
        dest_ids = {d.id for d in self.destinations}
        if self.cfg.delivery_health and not state.stopped:
            self._report("delivery health")
            wanted = [c for c in conns if c.enabled and c.key in dest_ids and c.source is not None]
            deliveries = read_delivery(
                api, state, wanted, now=self.context.now(), window_days=self.cfg.delivery_window_days
            )
        for conn in conns:
            integration_id, suffix = names[conn.key]
            integ = parse.build_integration(
                conn,
                segment_tool=self.id,
                integration_id=integration_id,
                suffix=suffix,
                delivery=deliveries.get(conn.key),
                run_id=self.id,
            )
            state.integrations.append(integ)
            if not conn.enabled and conn.key in dest_ids and conn.source is not None:
                state.notes.append(f"Destination disabled but still connected: {conn.label} ({integration_id}).")
        for dest in self.destinations:
            target = names[dest.id][0].split("->", 1)[1].split(":", 1)[0]
            state.assets.append(parse.destination_asset(dest, tool=self.id, target=target))
        for wh, _ in self.warehouses.values():
            state.assets.append(
                parse.warehouse_asset(wh, tool=self.id, target=resolver.resolve(wh.product, warehouse=True).id)
            )
        state.assets.extend(parse.source_asset(s, tool=self.id) for s in self.sources.values())
        active = {c.key: deliveries[c.key].last_success_at if c.key in deliveries else None for c in conns}
        state.tools.extend(parse.build_tools(((ref, active[c.key]) for c, ref in pairs), run_id=self.id))
        state.tools.append(self._own_tool())
        shadow = sorted({ref.id for _, ref in pairs if not ref.declared})
        if shadow and self.context.declared_tools:
            state.notes.append(f"Destinations whose tools the manifest does not declare: {', '.join(shadow)}.")
        self._quota(api, state)
        state.cover(TOOLS)
        state.cover(FLOWS)
        if not self.cfg.delivery_health:
            state.set_coverage(HEALTH, CoverageStatus.missing, "delivery health is off in the config")
        elif state.stopped and not deliveries:
            state.set_coverage(HEALTH, CoverageStatus.missing, f"not read: the pull {state.stopped}")
        elif HEALTH not in state.coverage:
            state.cover(
                HEALTH, partial_reason=None if deliveries or not conns else "no enabled connection was measured"
            )

    def _own_tool(self) -> Tool:
        entry = (self.context.catalogue or load_catalogue()).by_id("segment")
        return Tool(
            id=self.id,
            name=entry.name if entry else "Segment",
            vendor=entry.vendor if entry else "Twilio",
            capabilities=list(entry.capabilities) if entry else ["cdp"],
            origin=Origin.discovered,
            discovered_by=[self.id],
        )

    def _quota(self, api: SegmentApi, state: PullState) -> None:
        latest = api.headers.latest
        if not latest:
            state.set_coverage(Capability.quota, CoverageStatus.missing, "no X-RateLimit headers were seen")
            return
        consumed, remaining = latest.get("Consumed"), latest.get("Remaining")
        limit = consumed + remaining if consumed is not None and remaining is not None else None
        reset = f" (window resets {api.headers.reset})" if api.headers.reset else ""
        observed: datetime = self.context.now()
        state.quotas.append(
            Quota(
                name="rate_limit_points", used=consumed, limit=limit, period=f"rate window{reset}", observed_at=observed
            )
        )
        state.set_coverage(Capability.quota, CoverageStatus.complete, "from the last X-RateLimit headers")
