"""The HubSpot connector against the fake HubSpot (real HTTP on loopback, pages of 2 so paging always runs)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from stackaudit.fakes.hubspot import FakeHubSpot
from stackaudit_connectors.base import PullResult
from stackaudit_inventory import Capability, CoverageStatus, FillMethod, RunStatus

Puller = Callable[..., PullResult]


def by_id(items):  # type: ignore[no-untyped-def]
    return {i.id: i for i in items}


def test_every_property_arrives_with_its_definition(pull: Puller) -> None:
    result = pull()
    fields = by_id(result.part.fields)
    assert {f.object for f in fields.values()} == {"contacts", "companies", "deals", "p555_project"}
    assert len(fields) == 15 + 4 + 3 + 2

    color = fields["hubspot:contacts.favourite_color"]
    assert (color.custom, color.type, color.vendor_type, color.group) == (
        True,
        "enum",
        "enumeration/select",
        "custom_group",
    )
    assert [(o.value, o.label) for o in color.options or []] == [("red", "Red"), ("green", "Green")]
    assert (color.label, color.description, color.created_by) == (
        "Favourite colour",
        "Asked on the contact form.",
        "777",
    )
    assert color.created_at == datetime(2022, 1, 5, 10, 0, tzinfo=UTC)

    stage = fields["hubspot:contacts.lifecyclestage"]
    assert not stage.custom and stage.created_by is None
    assert [(o.value, o.hidden) for o in stage.options or []] == [("lead", False), ("customer", False), ("other", True)]

    assert fields["hubspot:contacts.email"].type == "string" and fields["hubspot:contacts.email"].options is None
    assert fields["hubspot:contacts.empty_custom"].created_at == datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert fields["hubspot:contacts.calc_score"].calculated
    assert fields["hubspot:contacts.hidden_flag"].hidden and fields["hubspot:contacts.hidden_flag"].type == "bool"
    odd = fields["hubspot:contacts.odd_json"]  # options: null, epoch-millisecond dates: tolerated
    assert (odd.type, odd.options, odd.custom) == ("json", None, True)
    assert odd.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert fields["hubspot:contacts.salesforcelastsynctime"].owning_tool == "salesforce"
    # Deal stages come from the pipelines when the property lists none.
    assert [o.value for o in fields["hubspot:deals.dealstage"].options or []] == ["appointmentscheduled", "closedwon"]
    # Custom objects: addressed by their fully qualified name.
    assert fields["hubspot:p555_project.project_code"].custom


def test_references_read_write_active_and_inactive(pull: Puller) -> None:
    result = pull()
    assets = by_id(result.part.assets)
    got = {(r.asset, r.field.removeprefix("hubspot:"), r.mode, r.context) for r in result.part.references}
    assert got == {
        ("hubspot:form/f-contact", "contacts.email", "write", "form field"),
        ("hubspot:form/f-contact", "contacts.favourite_color", "write", "form field"),
        ("hubspot:form/f-contact", "contacts.firstname", "write", "form field"),
        ("hubspot:form/f-contact", "companies.industry", "write", "form field"),
        ("hubspot:form/f-contact", "contacts.lifecyclestage", "write", "form sets lifecycle stage"),
        ("hubspot:form/f-old", "contacts.email", "write", "form field"),
        ("hubspot:form/f-old", "contacts.recent_band", "write", "form field"),
        ("hubspot:form/f-3", "contacts.email", "write", "form field"),
        ("hubspot:form/f-4", "contacts.firstname", "write", "form field"),
        ("hubspot:workflow/101", "contacts.lifecyclestage", "read", "enrollment filter"),
        ("hubspot:workflow/101", "contacts.hs_lead_status", "read", "goal filter"),
        ("hubspot:workflow/101", "contacts.hs_lead_status", "write", "set property action"),
        ("hubspot:workflow/101", "contacts.email", "read", "custom code input"),
        ("hubspot:workflow/102", "contacts.only_disabled", "read", "enrollment filter"),
        ("hubspot:workflow/102", "contacts.favourite_color", "write", "set property action"),
        ("hubspot:workflow/103", "companies.tier", "read", "enrollment filter"),
        ("hubspot:workflow/103", "companies.industry", "write", "set property action"),
        ("hubspot:list/201", "contacts.lifecyclestage", "read", "list filter"),
        ("hubspot:list/201", "contacts.middle_band", "read", "list filter"),
        ("hubspot:list/203", "contacts.email", "read", "list filter"),
        ("hubspot:list/203", "companies.tier", "read", "list filter"),
    }
    assert {a: assets[a].active for a in assets if assets[a].kind != "pipeline"} == {
        "hubspot:form/f-contact": True,
        "hubspot:form/f-old": False,
        "hubspot:form/f-3": True,
        "hubspot:form/f-4": True,
        "hubspot:workflow/101": True,
        "hubspot:workflow/102": False,
        "hubspot:workflow/103": True,
        "hubspot:list/201": True,
        "hubspot:list/202": True,
        "hubspot:list/203": True,
    }
    flow = assets["hubspot:workflow/101"]
    assert (flow.name, flow.kind, flow.external_targets) == (
        "Nurture",
        "workflow",
        ["api.segment.io", "hooks.zapier.com"],
    )
    assert flow.last_modified_at == datetime(2025, 5, 5, 5, 5, 5, tzinfo=UTC)
    assert assets["hubspot:pipeline/deals-default"].name == "Sales (deals)"


def test_fill_rates_with_their_method_and_counts(pull: Puller, now: datetime, contact_records: Any) -> None:
    fields = by_id(pull().part.fields)

    def fill(name: str) -> tuple[str, int | None, int | None]:
        rate = fields[f"hubspot:{name}"].fill
        assert rate is not None and rate.measured_at == now
        return rate.method.value, rate.filled, rate.total

    # Sampled from the oldest 100 of 400 contacts; not confirmed when the sample shows values.
    assert fill("contacts.email") == ("sampled", 100, 100)
    assert fill("contacts.firstname") == ("sampled", 50, 100)
    assert fill("contacts.favourite_color") == ("sampled", 25, 100)
    # HubSpot-defined and looking empty: not a verdict anyone needs, so it stays sampled.
    assert fill("contacts.hs_never_used") == ("sampled", 0, 100)
    # Custom, invisible to the oldest records, seen among the 200 newest.
    assert fill("contacts.recent_band") == ("sampled", 40, 300)
    # Custom and empty in both samples: confirmed exactly, including the one holding values mid-range.
    for name in ("empty_custom", "only_disabled", "hidden_flag", "odd_json"):
        assert fill(f"contacts.{name}") == ("exact", 0, 400)
    assert fill("contacts.middle_band") == ("exact", 10, 400)
    # Small objects are read in full: exact without a search per property.
    assert fill("companies.tier") == ("exact", 3, 10)
    assert fill("companies.old_territory") == ("exact", 0, 10)
    assert fill("deals.amount") == ("exact", 3, 6)
    assert fill("p555_project.budget") == ("exact", 0, 4)
    # newest_value_at is a record's updatedAt, never a value.
    newest = fields["hubspot:contacts.middle_band"].fill.newest_value_at  # type: ignore[union-attr]
    assert newest == datetime.fromtimestamp(contact_records.updated_ms(138) / 1000, UTC)


def test_fill_rate_modes(fake: FakeHubSpot, pull: Puller) -> None:
    exact = by_id(pull(fill_rates="exact").part.fields)
    assert {f.fill.method for f in exact.values()} == {FillMethod.exact}  # type: ignore[union-attr]
    assert exact["hubspot:contacts.firstname"].fill.filled == 200  # type: ignore[union-attr]
    assert exact["hubspot:contacts.hs_never_used"].fill.total == 400  # type: ignore[union-attr]

    before = len(fake.calls("POST", "/crm/v3/objects/"))
    off = pull(options={"fill_rates": "off"})  # the CLI's --fill-rates wins over the config
    assert all(f.fill is None for f in off.part.fields)
    assert off.run.coverage[Capability.fill_rates].status is CoverageStatus.missing
    assert "turned off" in (off.run.coverage[Capability.fill_rates].reason or "")
    searches = len(fake.calls("POST", "/crm/v3/objects/")) - before
    assert searches == 1  # only the Salesforce last-sync lookup


def test_paging_runs_on_every_paged_endpoint(fake: FakeHubSpot, pull: Puller) -> None:
    pull()

    def with_after(prefix: str) -> int:
        return sum(1 for r in fake.calls("GET", prefix) if "after" in r.query)

    assert with_after("/crm/v3/owners") >= 2
    assert with_after("/marketing/v3/forms") >= 1
    assert with_after("/automation/v4/flows") >= 1
    assert with_after("/crm/v3/objects/contacts") == 49  # 100 records in pages of 2
    assert any(r.body["offset"] > 0 for r in fake.calls("POST", "/crm/v3/lists/search"))
    # Flow details one call per flow; list filters fetched with includeFilters=true for non-manual lists.
    assert sorted(r.path for r in fake.calls("GET", "/automation/v4/flows/")) == [
        "/automation/v4/flows/101",
        "/automation/v4/flows/102",
        "/automation/v4/flows/103",
    ]
    [lists] = [r for r in fake.calls("GET", "/crm/v3/lists") if r.path == "/crm/v3/lists"]
    assert lists.query["includeFilters"] == ["true"] and sorted(lists.query["listIds"]) == ["201", "203"]


def test_only_reads(fake: FakeHubSpot, pull: Puller) -> None:
    pull(fill_rates="exact")
    assert fake.requests and fake.non_read_requests() == []
    assert {r.method for r in fake.requests} == {"GET", "POST"}


def test_objects_owners_tool_lifecycle_and_quota(fake: FakeHubSpot, pull: Puller) -> None:
    result = pull()
    objects = by_id(result.part.objects)
    assert set(objects) == {"hubspot:contacts", "hubspot:companies", "hubspot:deals", "hubspot:p555_project"}
    assert objects["hubspot:contacts"].record_count == 400
    assert objects["hubspot:contacts"].custom_field_limit == 1000
    project = objects["hubspot:p555_project"]
    assert (project.custom, project.label, project.record_count) == (True, "Projects", 4)
    [tool] = result.part.tools
    assert (tool.id, tool.vendor, tool.url) == ("hubspot", "HubSpot", "https://app-eu1.hubspot.com")
    assert tool.seats is not None and tool.seats.used == 5  # active people; the queue is not a seat
    assert "Portal 555" in (tool.notes or "")
    assert result.part.lifecycle is not None
    assert result.part.lifecycle.stage_fields == ["hubspot:contacts.lifecyclestage", "hubspot:contacts.hs_lead_status"]
    assert result.part.lifecycle.origin.value == "discovered"
    quotas = {q.name: q for q in result.run.quota}
    assert quotas["daily_api_requests"].limit == 500_000
    assert quotas["burst_requests"].limit == 100_000  # from X-HubSpot-RateLimit-Max
    assert quotas["custom_properties"].used == 12  # 8 on contacts, 2 on companies, 2 on the custom object
    assert "owners: 5 active, 2 archived" in result.run.notes


def test_integrations_from_sync_properties_and_webhooks(pull: Puller, now: datetime, last_sync: datetime) -> None:
    integrations = by_id(pull().part.integrations)
    assert set(integrations) == {"hubspot->salesforce", "hubspot->zapier", "hubspot->segment", "hubspot->partnerstack"}
    sf = integrations["hubspot->salesforce"]
    assert sf.last_sync_at == sf.last_success_at == last_sync
    assert (now - last_sync).days >= 20  # the sync stopped: far past its 15-minute rhythm
    assert (sf.direction, sf.origin.value, sf.expected_interval_minutes) == ("two-way", "discovered", 15)
    assert integrations["hubspot->partnerstack"].status.value == "disabled"  # only a disabled flow calls it
    assert integrations["hubspot->zapier"].status.value == "active"


def test_run_accounting(fake: FakeHubSpot, pull: Puller) -> None:
    result = pull()
    run = result.run
    assert run.status is RunStatus.complete and run.errors == []
    assert run.api_calls == len(fake.requests)
    assert (run.id, run.connector_type, run.tool) == ("hubspot", "hubspot", "hubspot")
    cov = {c: v.status for c, v in run.coverage.items()}
    assert cov[Capability.fields] is CoverageStatus.complete
    assert cov[Capability.fill_rates] is CoverageStatus.complete
    assert cov[Capability.references] is CoverageStatus.complete
    assert cov[Capability.seats] is CoverageStatus.complete
    assert cov[Capability.lifecycle] is CoverageStatus.complete
    assert cov[Capability.quota] is CoverageStatus.complete
    assert cov[Capability.integrations] is CoverageStatus.partial  # no API for connector mappings
    assert cov[Capability.sync_health] is CoverageStatus.partial
    # 5 properties confirmed with 5 searches: the newest-records sample, then a group of 5 split once.
    assert "contacts: 5 fill rates confirmed exactly with 5 searches" in run.notes


def test_no_token_in_anything_written(pull: Puller, token: str) -> None:
    result = pull()
    assert token not in result.model_dump_json()
