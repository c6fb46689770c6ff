"""A small portal covering every feature, the fake HubSpot serving it, and a helper that pulls it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stackaudit.fakes.hubspot import FakeHubSpot, load_portal
from stackaudit_connectors.base import PullContext, PullResult
from stackaudit_connectors.http import RetryPolicy
from stackaudit_connectors.hubspot import HubSpotConfig, HubSpotConnector

TOKEN = "pat-na1-11112222-SECRET-3333"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SYNC_UNTIL = "2026-11-10T00:00:00Z"
FAST = {"rate_limit": (100_000, 10.0), "search_rate_limit": (100_000, 1.0)}


def std(name: str, type: str = "string", **kw: Any) -> dict[str, Any]:
    return {"name": name, "type": type, "hubspotDefined": True, **kw}


def cus(name: str, type: str = "string", **kw: Any) -> dict[str, Any]:
    return {"name": name, "type": type, "createdAt": "2022-01-05T10:00:00.000Z", "createdUserId": "777", **kw}


def portal_spec() -> dict[str, Any]:
    """400 contacts: a sample of 100 sees the oldest quarter, the newest-records search the newest half."""
    return {
        "clock": "2026-11-30T09:00:00Z",
        "account": {"portalId": 555, "uiDomain": "app-eu1.hubspot.com", "timeZone": "Europe/Berlin"},
        "objects": {
            "contacts": {
                "records": 400,
                "records_since": "2022-01-01T00:00:00Z",
                "properties": [
                    std("email", fill=1.0, groupName="contactinformation", label="Email"),
                    std("firstname", fill=0.5),
                    std(
                        "lifecyclestage",
                        "enumeration",
                        fieldType="radio",
                        fill=1.0,
                        options=[
                            ["lead", "Lead"],
                            ["customer", "Customer"],
                            {"value": "other", "label": "Other", "hidden": True},
                        ],
                    ),
                    std("hs_lead_status", "enumeration", options=["NEW", "OPEN"], fill={"fraction": 0.5, "to": 0.5}),
                    std("hs_never_used", fill=0),
                    std(
                        "salesforcelastsynctime",
                        "datetime",
                        fieldType="date",
                        fill={"fraction": 1.0, "until": SYNC_UNTIL},
                    ),
                    std("salesforceleadid", fill={"fraction": 0.5, "until": SYNC_UNTIL}),
                    cus(
                        "favourite_color",
                        "enumeration",
                        fieldType="select",
                        options=["red", "green"],
                        fill=0.25,
                        groupName="custom_group",
                        label="Favourite colour",
                        description="Asked on the contact form.",
                    ),
                    cus("empty_custom", "number", fill=0, createdAt="2021-02-03T04:05:06.000Z"),
                    cus("recent_band", fill={"fraction": 1.0, "from": 0.9}),
                    cus("middle_band", fill={"fraction": 0.5, "from": 0.3, "to": 0.35}),
                    cus("only_disabled", fill=0),
                    cus(
                        "calc_score",
                        "number",
                        fieldType="calculation_equation",
                        calculated=True,
                        fill=0.5,
                        calculationFormula="1 + 1",
                    ),
                    cus("hidden_flag", "bool", hidden=True, fill=0),
                    {
                        "raw": {
                            "name": "odd_json",
                            "label": "Odd",
                            "type": "json",
                            "fieldType": "text",
                            "groupName": "g",
                            "description": "",
                            "options": None,
                            "createdAt": 1700000000000,
                        }
                    },
                ],
            },
            "companies": {
                "records": 10,
                "properties": [
                    std("name", fill=1.0, groupName="companyinformation"),
                    std("industry", "enumeration", options=["RETAIL"], fill=0.5, groupName="companyinformation"),
                    cus("tier", "enumeration", options=["1", "2"], fill=0.3),
                    cus("old_territory", fill=0),
                ],
            },
            "deals": {
                "records": 6,
                "properties": [
                    std("dealname", fill=1.0),
                    std("dealstage", "enumeration", fill=1.0),
                    std("amount", "number", fill=0.5),
                ],
            },
        },
        "custom_objects": [
            {
                "id": "999",
                "name": "project",
                "objectTypeId": "2-999",
                "fullyQualifiedName": "p555_project",
                "labels": {"singular": "Project", "plural": "Projects"},
                "records": 4,
                "properties": [
                    cus("project_code", fill=1.0, groupName="project_information"),
                    cus("budget", "number", fill=0),
                ],
            }
        ],
        "pipelines": {
            "deals": [
                {
                    "id": "default",
                    "label": "Sales",
                    "displayOrder": 0,
                    "archived": False,
                    "createdAt": "2021-01-01T00:00:00Z",
                    "updatedAt": "2024-01-01T00:00:00Z",
                    "stages": [
                        {
                            "id": "appointmentscheduled",
                            "label": "Appointment",
                            "displayOrder": 0,
                            "metadata": {},
                            "archived": False,
                            "createdAt": "2021-01-01T00:00:00Z",
                            "updatedAt": "2021-01-01T00:00:00Z",
                        },
                        {
                            "id": "closedwon",
                            "label": "Won",
                            "displayOrder": 1,
                            "metadata": {"isClosed": "true"},
                            "archived": False,
                            "createdAt": "2021-01-01T00:00:00Z",
                            "updatedAt": "2021-01-01T00:00:00Z",
                        },
                    ],
                }
            ],
        },
        "owners": [{"id": str(i)} for i in range(1, 6)]
        + [{"id": "90", "type": "QUEUE"}, {"id": "7", "archived": True}, {"id": "8", "archived": True}],
        "forms": [
            {
                "id": "f-contact",
                "name": "Contact us",
                "updatedAt": "2025-01-02T03:04:05.000Z",
                "fields": [
                    "email",
                    {"name": "favourite_color", "dependentFields": ["firstname"]},
                    {"objectTypeId": "0-2", "name": "industry"},
                ],
                "lifecycleStages": ["lead"],
            },
            {"id": "f-old", "name": "Old form", "archived": True, "fields": ["email", "recent_band"]},
            {"id": "f-3", "name": "Third", "fields": ["email"]},
            {"id": "f-4", "name": "Fourth", "fields": ["firstname"]},
        ],
        "flows": [
            {
                "id": "101",
                "name": "Nurture",
                "isEnabled": True,
                "updatedAt": "2025-05-05T05:05:05.000Z",
                "enrollment": [{"property": "lifecyclestage", "values": ["lead"]}],
                "goal": [{"property": "hs_lead_status", "values": ["OPEN"]}],
                "actions": [
                    {"set_property": "hs_lead_status", "value": "NEW"},
                    {"webhook": "https://hooks.zapier.com/hooks/catch/1/abc"},
                    {"custom_code": "await fetch('https://api.segment.io/v1/track')", "inputs": ["email"]},
                ],
            },
            {
                "id": "102",
                "name": "Old partner routing",
                "isEnabled": False,
                "enrollment": [{"property": "only_disabled", "operator": "IS_KNOWN"}],
                "actions": [
                    {"set_property": "favourite_color", "value": "red"},
                    {"webhook": "https://api.partnerstack.com/v2/leads"},
                ],
            },
            {
                "id": "103",
                "name": "Company tiering",
                "isEnabled": True,
                "objectTypeId": "0-2",
                "enrollment": [{"property": "tier", "operator": "IS_KNOWN"}],
                "actions": [{"set_property": "industry", "value": "RETAIL"}],
            },
        ],
        "lists": [
            {
                "listId": "201",
                "name": "Leads",
                "processingType": "DYNAMIC",
                "filters": [{"property": "lifecyclestage", "values": ["lead"]}, {"property": "middle_band"}],
            },
            {"listId": "202", "name": "Manual import", "processingType": "MANUAL"},
            {
                "listId": "203",
                "name": "Tier accounts",
                "processingType": "DYNAMIC",
                "filters": [{"property": "email"}, {"property": "tier", "association": "0-2"}],
            },
        ],
    }


Puller = Callable[..., PullResult]


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(load_portal(portal_spec()), token=TOKEN, max_page_size=2, **FAST) as server:  # type: ignore[arg-type]
        yield server


def pull_from(
    server: FakeHubSpot,
    *,
    env: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    retry_policy: RetryPolicy | None = None,
    **config: Any,
) -> PullResult:
    settings: dict[str, Any] = {
        "type": "hubspot",
        "token": "${HUBSPOT_TOKEN}",
        "base_url": server.base_url,
        "limits": {"requests_per_10s": 100_000, "search_per_second": 100_000},
        "sample_size": 100,
        **config,
    }
    connector = HubSpotConnector(
        HubSpotConfig(**settings),
        PullContext(
            config_dir=Path("."),
            env={"HUBSPOT_TOKEN": TOKEN} if env is None else env,
            now=lambda: NOW,
            options=options or {},
        ),
    )
    # Production backs off from 1 s up to 20 s (HubSpot's window is 10 s); tests use short windows and waits.
    connector.retry_policy = retry_policy or RetryPolicy(max_attempts=8, backoff_base=0.02, backoff_cap=0.2)
    return connector.pull()


@pytest.fixture
def pull(fake: FakeHubSpot) -> Puller:
    def run(**kwargs: Any) -> PullResult:
        return pull_from(fake, **kwargs)

    return run


@pytest.fixture
def token() -> str:
    return TOKEN


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def spec() -> Callable[[], dict[str, Any]]:
    """A fresh copy of the small portal's description (tests may change it before serving it)."""
    return portal_spec


@pytest.fixture
def contact_records() -> Any:
    """The fake's record set for contacts (to compute expected counts and dates)."""
    return load_portal(portal_spec()).objects["contacts"].records


@pytest.fixture
def last_sync(contact_records: Any) -> datetime:
    """The update time of the newest contact holding ``salesforcelastsynctime`` (its value, in the fake)."""
    index = contact_records.index_until(datetime.fromisoformat(SYNC_UNTIL)) - 1
    return datetime.fromtimestamp(contact_records.updated_ms(index) / 1000, UTC)


@pytest.fixture
def serve() -> Callable[..., Any]:
    """``with serve(spec_dict, **fake_options) as fake`` (fast limits unless given)."""

    def start(description: dict[str, Any], **options: Any) -> FakeHubSpot:
        settings: dict[str, Any] = {"token": TOKEN, "max_page_size": 2, **FAST, **options}
        return FakeHubSpot(load_portal(description), **settings)

    return start


@pytest.fixture
def puller() -> Callable[..., PullResult]:
    """``puller(fake, **config)``: pull from any fake server."""
    return pull_from
