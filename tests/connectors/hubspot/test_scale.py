"""The 3,000-property, 50,000-contact portal: far fewer calls than one search per property, and no call lost
to throttling. The fake enforces HubSpot's limits scaled up 50x (the connector is told the same), so the test
is fast while the pacing is real; benchmarks run the same pull at HubSpot's own limits."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from stackaudit.fakes.hubspot import FakeHubSpot, synthetic_portal
from stackaudit_connectors.base import PullContext
from stackaudit_connectors.hubspot import HubSpotConfig, HubSpotConnector
from stackaudit_inventory import FillMethod, RunStatus

SCALE = 50


def test_large_portal_call_count(token: str) -> None:
    portal = synthetic_portal(3000, 50_000)
    contacts = portal.objects["contacts"]
    with FakeHubSpot(portal, token=token, rate_limit=(190 * SCALE, 10.0), search_rate_limit=(4 * SCALE, 1.0)) as fake:
        config = HubSpotConfig(
            type="hubspot",
            token=token,
            base_url=fake.base_url,
            objects=["contacts"],
            limits={"requests_per_10s": 190 * SCALE, "search_per_second": 4 * SCALE},
        )
        started = time.monotonic()
        result = HubSpotConnector(config, PullContext(config_dir=Path("."), env={})).pull()
        seconds = time.monotonic() - started
    run = result.run
    searches = len(fake.calls("POST", "/crm/v3/objects/"))
    throttled = sum(1 for r in fake.requests if r.status == 429)
    naive = len(contacts.properties)  # one HAS_PROPERTY search per property
    figures = {
        "api_calls": run.api_calls,
        "searches": searches,
        "naive_searches": naive,
        "throttled_429": throttled,
        "seconds": round(seconds, 1),
        "limits_scale": SCALE,
    }
    logging.getLogger(__name__).info("hubspot 3,000-property portal: %s", figures)
    if os.environ.get("STACKAUDIT_BENCH_JSON"):  # benchmarks collect the figures this way
        Path(os.environ["STACKAUDIT_BENCH_JSON"]).write_text(json.dumps(figures, indent=2))

    assert run.status is RunStatus.complete and run.errors == []  # nothing failed, throttled or not
    assert run.api_calls == len(fake.requests)
    assert run.api_calls < naive * 0.35, (run.api_calls, searches)
    assert throttled <= run.api_calls // 100  # the limiter paces; HubSpot (the fake) hardly ever has to say 429
    assert fake.non_read_requests() == []

    # Every property has a fill rate, and none is called empty while records hold it.
    fields = {f.name: f for f in result.part.fields}
    assert len(fields) == 3000
    for name, field in fields.items():
        truth = contacts.records.filled(name).bit_count()
        fill = field.fill
        assert fill is not None and fill.method is not FillMethod.unknown
        if fill.filled == 0 and (field.custom or fill.method is FillMethod.exact):
            assert truth == 0, name  # HubSpot-defined ones may stay "0 in the samples": sampled, and said so
        if fill.method is FillMethod.exact:
            assert fill.filled == truth, name
        if field.custom and truth == 0:
            assert (fill.method, fill.total) == (FillMethod.exact, 50_000), name
