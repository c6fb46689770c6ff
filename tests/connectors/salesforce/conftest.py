"""Fixtures for the Salesforce connector tests: fake orgs on loopback and a connector factory with a frozen clock.

Every test runs against ``stackaudit.fakes.salesforce`` over real HTTP on 127.0.0.1; no test reaches the internet
and none sleeps (the connector's pacing and retry sleeps are replaced by no-ops).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stackaudit.fakes.salesforce import FakeOrg, FakeSalesforce, load_org, recorded_org_path
from stackaudit_connectors.base import PullContext, PullResult
from stackaudit_connectors.salesforce.config import SalesforceConfig
from stackaudit_connectors.salesforce.connector import SalesforceConnector

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOKEN = "00DTEST!secret-session-token-value"
DECLARED = {"salesforce": "Salesforce Sales Cloud", "drift": "Drift (Salesloft)", "zapier": "Zapier Team",
            "hubspot": "HubSpot Marketing Hub Enterprise", "intercom": "Intercom", "leandata": "LeanData"}

Pull = Callable[..., PullResult]


def make_connector(fake: FakeSalesforce, *, options: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                   declared: dict[str, str] | None = None, **config: Any) -> SalesforceConnector:
    cfg = SalesforceConfig(type="salesforce", **({"instance_url": fake.base_url,
                                                 "access_token": "${SALESFORCE_ACCESS_TOKEN}"} | config))
    ctx = PullContext(config_dir=Path("."), env={"SALESFORCE_ACCESS_TOKEN": fake.token, **(env or {})},
                      now=lambda: NOW, options=dict(options or {}), declared_tools=declared or DECLARED)
    return SalesforceConnector(cfg, ctx, sleep=lambda _s: None)


@pytest.fixture
def demo_org() -> FakeOrg:
    return load_org(recorded_org_path())


@pytest.fixture
def demo_fake(demo_org: FakeOrg) -> Iterator[FakeSalesforce]:
    # Small pages so paging always runs (REST and Tooling alike).
    with FakeSalesforce(demo_org, token=TOKEN, page_size=15, tooling_page_size=25) as fake:
        yield fake


@pytest.fixture
def pull(demo_fake: FakeSalesforce) -> Pull:
    def run(**kwargs: Any) -> PullResult:
        return make_connector(demo_fake, **kwargs).pull()

    return run
