"""Each connector pulls a synthetic stack from its fake vendor server, with a per-request latency and the vendor's
real limits enforced by the fake (HubSpot 429, Marketo 606/615, Segment 429, Salesforce's daily allocation), and
the connector told the same limits it would be told in production.

One run per (vendor, size), in its own process (``python -m benchmarks.connectors hubspot S``) so its peak memory is
its own; it prints one JSON object. Figures: calls made (as the fake counted them), wall time, the floor for those
calls under the vendor's limits (:mod:`benchmarks.floor`), the ratio to it, calls the vendor refused for throttling,
memory (the process's peak RSS, which includes the fake and its synthetic data, and how much the process grew
during the pull), the CPU seconds the process spent (fake and connector together: where it nears the wall time,
the fake's own work on this machine, not the vendor's limits, bounds the run), and the naive strategy's calls and
floor: one describe per object and one call per field or property for fill rates. The naive strategy is costed,
not run: at real limits its floor alone is minutes (3,000 HubSpot searches at 4 a second is 750 s), and the floor
is the best it could ever do.

Vendor limits used (the fakes enforce them, the connectors are configured with them):

- HubSpot: 190 calls per rolling 10 s (Professional/Enterprise) and 4 CRM searches per second.
- Salesforce: no per-second limit; a daily allocation (the fake's 100,000) shared with every integration of the
  org. The floor is latency-bound at the connector's 4 calls in flight; the cost that matters is the calls.
- Marketo: 100 calls per rolling 20 s and 10 in flight.
- Segment: unpublished; the fake enforces 600 per 60 s. The connector paces itself at 5 a second by default (it
  cannot see the limit until a 429 tells it), so it is measured against both.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import stacks
from benchmarks.floor import Window, floor_seconds

VENDORS = ("hubspot", "salesforce", "marketo", "segment")
HUBSPOT_BURST = (190, 10.0)
HUBSPOT_SEARCH = (4, 1.0)
MARKETO_WINDOW = (100, 20.0)
MARKETO_IN_FLIGHT = 10
SEGMENT_WINDOW = (600, 60.0)
SEGMENT_PACE = 5.0
SALESFORCE_IN_FLIGHT = 4
SALESFORCE_PACE = 20.0


_CPU: dict[str, float] = {}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _current_rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def _measure(pull: Callable[[], Any]) -> tuple[Any, float, float]:
    """``(result, wall seconds, MB the process grew by)`` of ``pull()``; its CPU seconds go to ``_CPU``.

    Not tracemalloc: it slows every allocation of the fake as well, and the fakes compute their answers in
    Python (counts over synthetic records), so it would inflate the wall time it is measured beside.
    """
    before = _current_rss_mb()
    cpu = _cpu()
    started = time.monotonic()
    result = pull()
    seconds = time.monotonic() - started
    _CPU["last"] = _cpu() - cpu
    return result, seconds, max(0.0, _current_rss_mb() - before)


def _fills(part: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in part.fields:
        method = f.fill.method.value if f.fill is not None else "none"
        out[method] = out.get(method, 0) + 1
    return out


def run_hubspot(size: str, latency: float, scale: int = 1) -> dict[str, Any]:
    from stackaudit.fakes.hubspot import FakeHubSpot
    from stackaudit_connectors.base import PullContext
    from stackaudit_connectors.hubspot import HubSpotConfig, HubSpotConnector

    token = "bench-token"
    portal = stacks.build_portal(size)
    n_props = sum(len(o.properties) for o in portal.objects.values())
    burst, search = (HUBSPOT_BURST[0] * scale, HUBSPOT_BURST[1]), (HUBSPOT_SEARCH[0] * scale, HUBSPOT_SEARCH[1])
    with FakeHubSpot(portal, token=token, rate_limit=burst, search_rate_limit=search, latency=latency) as fake:
        config = HubSpotConfig(
            type="hubspot", token=token, base_url=fake.base_url, objects=list(portal.objects),
            limits={"requests_per_10s": burst[0], "search_per_second": search[0]},
        )  # fmt: skip
        connector = HubSpotConnector(config, PullContext(config_dir=Path("."), env={}))
        result, seconds, peak = _measure(connector.pull)
    calls = len(fake.requests)
    searches = len([r for r in fake.requests if r.method == "POST" and r.path.endswith("/search")])

    def floor(n_calls: int, n_searches: int) -> float:
        windows = [Window(*burst, calls=n_calls), Window(*search, calls=n_searches)]
        return floor_seconds(windows, calls=n_calls, latency=latency)

    naive = 1 + n_props  # the property listing, then one HAS_PROPERTY search (limit 1: its total) per property
    return {
        "stack": f"{n_props:,} properties, {stacks.HUBSPOT[size].contacts:,} contacts",
        "calls": calls, "searches": searches, "wall_s": seconds, "floor_s": floor(calls, searches),
        "throttled": sum(1 for r in fake.requests if r.status == 429), "rss_growth_mb": peak, "cpu_s": _CPU["last"],
        "status": result.run.status.value, "api_calls_reported": result.run.api_calls, "fills": _fills(result.part),
        "fill_calls": _hubspot_fill_calls(fake.requests), "naive_fill_calls": n_props,
        "naive_calls": naive, "naive_floor_s": floor(naive, n_props),
    }  # fmt: skip


def _hubspot_fill_calls(requests: list[Any]) -> int:
    """Calls made for fill rates: searches, and the record pages read for samples."""
    return sum(
        1
        for r in requests
        if (r.method == "POST" and r.path.endswith("/search"))
        or (r.method == "GET" and r.path.startswith("/crm/v3/objects/") and r.path.count("/") == 4)
    )


def _salesforce_fill_calls(requests: list[Any]) -> int:
    """HTTP calls (what the daily allocation counts) that carried at least one COUNT() query."""
    return sum(1 for r in requests if any("COUNT" in u for u in (r.sub_urls or (r.path + str(r.query),))))


def _describes(requests: list[Any]) -> int:
    """Describe (sub)requests among ``requests``: describeGlobal and per-object describes, composite or not."""
    urls = [u for r in requests for u in (r.sub_urls or (r.path,))]
    return sum(1 for u in urls if u.split("?")[0].endswith(("/describe", "/describe/", "/sobjects", "/sobjects/")))


def run_salesforce(size: str, latency: float, scale: int = 1) -> dict[str, Any]:
    from stackaudit.fakes.salesforce import FakeSalesforce
    from stackaudit_connectors.base import PullContext
    from stackaudit_connectors.salesforce.config import SalesforceConfig
    from stackaudit_connectors.salesforce.connector import SalesforceConnector

    token = "00DBENCH!bench-token"
    org = stacks.build_org(size)
    n_objects = len(org.objects)
    n_fields = sum(len(o.fields) for o in org.objects.values())
    with tempfile.TemporaryDirectory() as cache, FakeSalesforce(org, token=token, latency=latency) as fake:

        def connector() -> Any:
            cfg = SalesforceConfig(
                type="salesforce", instance_url=fake.base_url, access_token="${SF_TOKEN}",
                requests_per_second=SALESFORCE_PACE * scale,
            )  # fmt: skip
            ctx = PullContext(config_dir=Path("."), env={"SF_TOKEN": token}, options={"cache_dir": cache},
                              declared_tools={})  # fmt: skip
            return SalesforceConnector(cfg, ctx)

        result, seconds, peak = _measure(connector().pull)
        calls = len(fake.requests)
        repeat, repeat_s, _ = _measure(connector().pull)
        repeat_requests = fake.requests[calls:]
    in_flight = SALESFORCE_IN_FLIGHT

    def floor(n: int) -> float:
        return floor_seconds([], calls=n, latency=latency, in_flight=in_flight)

    naive = n_objects + n_fields  # one describe per object, one COUNT() query per field
    # The connector paces itself at requests_per_second (default 20) per HTTP request: the floor of its own pacing.
    subrequests = sum(max(1, len(r.sub_urls)) for r in fake.requests[:calls])
    return {
        "subrequests": subrequests, "floor_at_pace_s": (calls - 1) / (SALESFORCE_PACE * scale) + latency,
        "stack": f"{n_objects} objects, {n_fields:,} fields",
        "calls": calls, "wall_s": seconds, "floor_s": floor(calls),
        "throttled": sum(1 for r in fake.requests if r.status == 403), "rss_growth_mb": peak, "cpu_s": _CPU["last"],
        "status": result.run.status.value, "api_calls_reported": result.run.api_calls, "fills": _fills(result.part),
        "fill_calls": _salesforce_fill_calls(fake.requests[:calls]), "naive_fill_calls": n_fields,
        "naive_calls": naive, "naive_floor_s": floor(naive),
        "repeat_calls": len(repeat_requests), "repeat_wall_s": repeat_s, "repeat_status": repeat.run.status.value,
        "repeat_304": sum(1 for r in repeat_requests if r.status == 304),
        "first_describes": _describes(fake.requests[:calls]), "repeat_describes": _describes(repeat_requests),
        "repeat_notes": [n for n in repeat.run.notes if "describe" in n.lower() or "304" in n],
        "fields_pulled": len(result.part.fields),
    }  # fmt: skip


def run_marketo(size: str, latency: float, scale: int = 1) -> dict[str, Any]:
    from stackaudit.fakes.marketo import FakeMarketo
    from stackaudit_connectors.base import PullContext
    from stackaudit_connectors.marketo.config import MarketoConfig
    from stackaudit_connectors.marketo.connector import MarketoConnector

    client_id, secret = "bench-id", "bench-secret"
    instance = stacks.build_instance(size)
    spec = stacks.MARKETO[size]
    window = (MARKETO_WINDOW[0] * scale, MARKETO_WINDOW[1])
    with FakeMarketo(
        instance, client_id=client_id, client_secret=secret, rate_limit=window,
        concurrency_limit=MARKETO_IN_FLIGHT, latency=latency, bulk_polls=0,
    ) as fake:  # fmt: skip
        config = MarketoConfig.model_validate(
            {
                "type": "marketo",
                "base_url": fake.base_url,
                "client_id": "${MKTO_ID}",
                "client_secret": "${MKTO_SECRET}",
                "limits": {"calls_per_20s": window[0], "concurrent_calls": MARKETO_IN_FLIGHT},
            }
        )
        ctx = PullContext(config_dir=Path("."), env={"MKTO_ID": client_id, "MKTO_SECRET": secret}, declared_tools={})
        result, seconds, peak = _measure(MarketoConnector(config, ctx).pull)
    calls = len(fake.requests)

    def floor(n: int) -> float:
        return floor_seconds([Window(*window, calls=n)], calls=n, latency=latency, in_flight=MARKETO_IN_FLIGHT)

    # Naive: the identity call, one describe, one call per field for its fill rate, one per form.
    naive = 2 + spec.fields + spec.forms
    return {
        "stack": f"{spec.fields:,} fields, {spec.forms} forms",
        "calls": calls, "wall_s": seconds, "floor_s": floor(calls),
        "throttled": sum(1 for c in fake.codes() if c in ("606", "615", "607")),
        "rss_growth_mb": peak, "cpu_s": _CPU["last"],
        "status": result.run.status.value, "api_calls_reported": result.run.api_calls, "fills": _fills(result.part),
        "fill_calls": sum(1 for r in fake.requests if r.path.startswith("/bulk/")),
        "naive_fill_calls": spec.fields,
        "naive_calls": naive, "naive_floor_s": floor(naive),
    }  # fmt: skip


def run_segment(size: str, latency: float, scale: int = 1) -> dict[str, Any]:
    from stackaudit.fakes.segment import FakeSegment
    from stackaudit_connectors.base import PullContext
    from stackaudit_connectors.segment.config import SegmentConfig
    from stackaudit_connectors.segment.connector import SegmentConnector

    class SlowSegment(FakeSegment):
        """The fake Segment with a per-request latency (the fake itself has none)."""

        def handle(self, *args: Any) -> Any:
            time.sleep(latency)
            return super().handle(*args)

    token = "bench-segment-token"
    workspace = stacks.build_workspace(size)
    spec = stacks.SEGMENT[size]
    window, pace = (SEGMENT_WINDOW[0] * scale, SEGMENT_WINDOW[1]), SEGMENT_PACE * scale
    with SlowSegment(workspace, token=token, rate_limit=window) as fake:
        config = SegmentConfig.model_validate(
            {"type": "segment", "base_url": fake.base_url, "token": "${SEG}", "requests_per_second": pace}
        )
        ctx = PullContext(config_dir=Path("."), env={"SEG": token}, declared_tools={})
        result, seconds, peak = _measure(SegmentConnector(config, ctx).pull)
    calls = len(fake.requests)
    floor = floor_seconds([Window(*window, calls=calls)], calls=calls, latency=latency, in_flight=4)
    paced = (calls - 1) / pace + latency
    n_dest = spec.sources * spec.destinations_per_source
    return {
        "stack": f"{spec.sources} sources, {n_dest} destinations",
        "calls": calls, "wall_s": seconds, "floor_s": floor, "floor_at_pace_s": paced,
        "throttled": sum(1 for r in fake.requests if r.status == 429), "rss_growth_mb": peak, "cpu_s": _CPU["last"],
        "status": result.run.status.value, "api_calls_reported": result.run.api_calls,
        # No fill rates in Segment: the naive strategy is one read per source and per destination unpaged, plus
        # the same delivery reads; it is not cheaper, so it is not costed.
        "naive_calls": None, "naive_floor_s": None,
    }  # fmt: skip


RUNNERS: dict[str, Callable[[str, float, int], dict[str, Any]]] = {
    "hubspot": run_hubspot,
    "salesforce": run_salesforce,
    "marketo": run_marketo,
    "segment": run_segment,
}


def run(vendor: str, size: str, latency: float, *, scale: int = 1) -> dict[str, Any]:
    """One measured pull, with the derived figures (ratio to the floor, share of the naive calls).

    ``scale`` multiplies every rate limit, the fake's and the connector's alike (the smoke test's 50x: fast, with
    the pacing still real); benchmarks run at 1, the vendors' own limits."""
    out = {"vendor": vendor, "size": size, "latency_s": latency, "limits_scale": scale,
           **RUNNERS[vendor](size, latency, scale)}  # fmt: skip
    out["ratio"] = out["wall_s"] / out["floor_s"] if out["floor_s"] else None
    out["share_of_naive"] = out["calls"] / out["naive_calls"] if out.get("naive_calls") else None
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One connector pull against its fake (prints JSON).")
    parser.add_argument("vendor", choices=VENDORS)
    parser.add_argument("size", choices=(stacks.SMOKE, *stacks.SIZES))
    parser.add_argument("--latency", type=float, default=0.1, help="Seconds added to every request (default 0.1).")
    parser.add_argument("--scale", type=int, default=1, help="Multiply every rate limit (default 1: the vendor's).")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.vendor, args.size, args.latency, scale=args.scale)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
