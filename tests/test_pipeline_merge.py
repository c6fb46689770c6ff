"""Merging connector fragments: declared facts win, discovered ones fill gaps, nothing is listed twice."""

from __future__ import annotations

from datetime import UTC, datetime

from stackaudit.pipeline import merge_parts
from stackaudit_inventory import (
    Cost,
    FieldMapping,
    Integration,
    IntegrationStatus,
    InventoryPart,
    LifecycleDefinition,
    Origin,
    Seats,
    Tool,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_declared_tool_wins_and_discovered_fills_gaps() -> None:
    declared = Tool(
        id="hubspot",
        name="HubSpot Marketing Hub",
        owner="Marketing Ops",
        capabilities=["marketing-automation"],
        cost=Cost(amount=36000),
        origin=Origin.declared,
    )
    discovered = Tool(
        id="hubspot",
        name="HubSpot",
        owner=None,
        capabilities=["crm"],
        seats=Seats(bought=None, used=12),
        origin=Origin.discovered,
        discovered_by=["hubspot"],
        last_activity_at=T0,
    )
    merged = merge_parts([InventoryPart(tools=[declared]), InventoryPart(tools=[discovered])])
    assert len(merged.tools) == 1
    tool = merged.tools[0]
    assert tool.name == "HubSpot Marketing Hub"
    assert tool.owner == "Marketing Ops"
    assert tool.cost is not None and tool.cost.amount == 36000
    assert tool.seats is not None and tool.seats.used == 12
    assert tool.capabilities[0] == "marketing-automation" and "crm" in tool.capabilities
    assert tool.origin is Origin.both
    assert tool.discovered_by == ["hubspot"]
    assert tool.last_activity_at == T0


def test_discovered_only_tool_stays_discovered() -> None:
    merged = merge_parts([InventoryPart(tools=[Tool(id="hotjar", name="Hotjar", origin=Origin.discovered)])])
    assert merged.tools[0].origin is Origin.discovered


def test_integration_keeps_declared_intent_and_discovered_evidence() -> None:
    declared = Integration(
        id="hubspot->salesforce",
        source="hubspot",
        target="salesforce",
        expected_interval_minutes=15,
        mappings=[FieldMapping(source="hubspot:contacts.email", target="salesforce:Lead.Email")],
    )
    discovered = Integration(
        id="hubspot->salesforce",
        source="hubspot",
        target="salesforce",
        origin=Origin.discovered,
        status=IntegrationStatus.active,
        last_success_at=T0,
        expected_interval_minutes=60,
        mappings=[FieldMapping(source="hubspot:contacts.firstname", target="salesforce:Lead.FirstName")],
    )
    merged = merge_parts([InventoryPart(integrations=[discovered]), InventoryPart(integrations=[declared])])
    (flow,) = merged.integrations
    assert flow.expected_interval_minutes == 15
    assert flow.last_success_at == T0
    assert flow.status is IntegrationStatus.active
    assert {m.source for m in flow.mappings} == {"hubspot:contacts.email", "hubspot:contacts.firstname"}
    assert flow.origin is Origin.both


def test_lifecycle_declared_definition_kept_and_stage_fields_unioned() -> None:
    declared = LifecycleDefinition(mql_definition="Score >= 60 and fit A/B", stage_fields=["salesforce:Lead.Status"])
    discovered = LifecycleDefinition(origin=Origin.discovered, stage_fields=["hubspot:contacts.lifecyclestage"])
    merged = merge_parts([InventoryPart(lifecycle=discovered), InventoryPart(lifecycle=declared)])
    assert merged.lifecycle is not None
    assert merged.lifecycle.mql_definition == "Score >= 60 and fit A/B"
    assert merged.lifecycle.stage_fields == ["hubspot:contacts.lifecyclestage", "salesforce:Lead.Status"]


def test_merge_is_deterministic_regardless_of_part_order() -> None:
    a = InventoryPart(tools=[Tool(id="b-tool", name="B"), Tool(id="a-tool", name="A")])
    b = InventoryPart(tools=[Tool(id="c-tool", name="C")])
    assert (
        [t.id for t in merge_parts([a, b]).tools]
        == [t.id for t in merge_parts([b, a]).tools]
        == [
            "a-tool",
            "b-tool",
            "c-tool",
        ]
    )


def test_catalogue_fills_only_what_nobody_declared() -> None:
    from stackaudit.pipeline import enrich_from_catalogue

    part = InventoryPart(
        tools=[
            Tool(id="mixpanel", name="Mixpanel", origin=Origin.discovered),
            Tool(id="amp", name="Amplitude", capabilities=["web-analytics"], vendor="Us"),
            Tool(id="homegrown", name="Our Lead Scorer"),
        ]
    )
    tools = {t.id: t for t in enrich_from_catalogue(part).tools}
    assert tools["mixpanel"].capabilities and tools["mixpanel"].capabilities[0] == "product-analytics"
    assert tools["mixpanel"].vendor
    # declared facts win; matched by name when the id is the team's own
    assert tools["amp"].capabilities == ["web-analytics"] and tools["amp"].vendor == "Us"
    assert tools["homegrown"].capabilities == [] and tools["homegrown"].vendor is None


def test_unknown_discovered_status_never_overwrites_declared_evidence() -> None:
    declared = Integration(
        id="drift->salesforce", source="drift", target="salesforce", status=IntegrationStatus.error, error_count=5
    )
    discovered = Integration(id="drift->salesforce", source="drift", target="salesforce", origin=Origin.discovered)
    (flow,) = merge_parts(
        [InventoryPart(integrations=[declared]), InventoryPart(integrations=[discovered])]
    ).integrations
    assert flow.status is IntegrationStatus.error
    assert flow.error_count == 5


def test_newest_success_seen_by_any_source_wins() -> None:
    older = datetime(2026, 11, 9, 8, 54, tzinfo=UTC)
    newer = datetime(2026, 11, 10, 14, 5, tzinfo=UTC)
    declared = Integration(id="hubspot->salesforce", source="hubspot", target="salesforce", last_success_at=newer)
    discovered = Integration(
        id="hubspot->salesforce", source="hubspot", target="salesforce", origin=Origin.discovered, last_success_at=older
    )
    for parts in ([declared], [discovered]), ([discovered], [declared]):
        merged = merge_parts([InventoryPart(integrations=parts[0]), InventoryPart(integrations=parts[1])])
        assert merged.integrations[0].last_success_at == newer
