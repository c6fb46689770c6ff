"""The manifest connector: the demo manifest, the source run, CSV mappings, derived dates, and every error class
as one `file:line: key: message` line."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from stackaudit_connectors.base import PullContext, load_connector_class
from stackaudit_connectors.files import FileError, load_yaml
from stackaudit_connectors.manifest.config import ManifestConfig
from stackaudit_connectors.manifest.connector import ManifestConnector, load_manifest
from stackaudit_connectors.manifest.parse import parse_manifest, parse_mappings_csv
from stackaudit_connectors.manifest.schema import ContractDoc, parse_interval
from stackaudit_inventory import Capability, CoverageStatus, IntegrationStatus, RunStatus, ToolStatus

DEMO_NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DEMO_DIR = Path(str(resources.files("stackaudit.demo") / "data"))

TOOLS = """\
tools:
  - {id: hubspot, name: HubSpot}
  - {id: salesforce, name: Salesforce}
  - {id: zapier, name: Zapier}
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path so errors name files as the user would type them (`stack.yaml:12: ...`)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(directory: Path, text: str, name: str = "stack.yaml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(FileError) as info:
        load_manifest(path)
    text = str(info.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------------------------------- the demo


def test_demo_manifest_parses_with_its_planted_problems() -> None:
    part = load_manifest(DEMO_DIR / "stack.yaml")
    tools = {t.id: t for t in part.tools}
    flows = {i.id: i for i in part.integrations}
    assert 22 <= len(tools) <= 28
    assert len(flows) >= 15
    assert all(f.expected_interval_minutes for f in flows.values())

    # 1. active tools sharing a primary capability
    by_primary: dict[str, list[str]] = {}
    for t in tools.values():
        if t.status is ToolStatus.active and t.primary_capability:
            by_primary.setdefault(t.primary_capability, []).append(t.id)
    shared = {cap: sorted(ids) for cap, ids in by_primary.items() if len(ids) > 1}
    assert shared == {
        "product-analytics": ["amplitude", "mixpanel"],
        "chat": ["drift", "intercom"],
        "scheduling": ["calendly", "chili-piper"],
        "ads": ["google-ads", "linkedin-ads"],  # one platform per channel: RT001 ignores `ads`
    }
    assert tools["marketo"].status is ToolStatus.retiring
    # 2. seats bought and not used
    gong_seats = tools["gong"].seats
    assert gong_seats is not None and (gong_seats.bought, gong_seats.used) == (40, 14)
    # 3. no owner
    assert [t.id for t in tools.values() if not t.owner] == ["calendly"]
    # 4. a stale Zapier flow
    stale = flows["typeform->hubspot:demo-request"]
    assert stale.via == "zapier" and stale.expected_interval_minutes == 15
    assert stale.last_success_at is not None
    assert DEMO_NOW - stale.last_success_at >= timedelta(days=9)
    assert "typeform->hubspot:newsletter" in flows
    # 5. a high error rate
    drift = flows["drift->salesforce"]
    assert drift.error_count == 268 and drift.error_rate is not None and drift.error_rate > 0.3
    assert drift.status is IntegrationStatus.error
    # 6. paid, no renewal date
    paid_no_renewal = [
        t.id for t in tools.values() if t.cost and t.cost.amount > 0 and not (t.contract and t.contract.renewal)
    ]
    assert paid_no_renewal == ["hightouch"]
    # 7. notice dates within 90 days of the demo clock
    soon = sorted(
        t.id
        for t in tools.values()
        if t.contract and t.contract.notice_date
        and DEMO_NOW.date() <= t.contract.notice_date <= DEMO_NOW.date() + timedelta(days=90)
    )
    assert soon == ["drift", "zoominfo"]
    assert tools["zoominfo"].contract is not None and tools["zoominfo"].contract.notice_date == date(2026, 12, 15)
    # 8. lifecycle: MQL written down, handoff missing
    assert part.lifecycle is not None
    assert part.lifecycle.mql_definition and part.lifecycle.handoff_definition is None
    assert [s.id for s in part.lifecycle.stages][:3] == ["subscriber", "lead", "mql"]
    assert "hubspot:contacts.lifecyclestage" in part.lifecycle.stage_fields
    assert "hubspot:contacts.lead_stage_old" in part.lifecycle.stage_fields

    # the backbone's mappings come from mappings.csv
    backbone = flows["hubspot->salesforce"]
    assert backbone.direction == "two-way" and len(backbone.mappings) == 20
    status = next(m for m in backbone.mappings if m.target == "salesforce:Lead.Status")
    assert status.source == "hubspot:contacts.hs_lead_status"
    assert (status.direction, status.precedence) == ("both", "salesforce")


def test_demo_manifest_lists_its_planted_problems_in_comments() -> None:
    text = (DEMO_DIR / "stack.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Demo clock: 2026-11-30T09:00:00Z")
    for needle in ("mixpanel + amplitude", "drift + intercom", "gong", "calendly", "typeform->hubspot:demo-request",
                   "drift->salesforce", "hightouch", "zoominfo", "handoff_definition"):
        assert needle in text.split("version: 1")[0], needle


def test_connector_pull_returns_a_complete_declared_run(tmp_path: Path) -> None:
    seen: list[tuple[str, int | None, int | None, str]] = []
    context = PullContext(
        config_dir=DEMO_DIR, env={}, now=lambda: DEMO_NOW, progress=lambda *args: seen.append(args)
    )
    assert load_connector_class("manifest") is ManifestConnector
    connector = ManifestConnector(ManifestConfig(path=Path("stack.yaml")), context)
    result = connector.pull()
    run = result.run
    assert (run.id, run.connector_type, run.tool, run.api_calls) == ("manifest", "manifest", None, 0)
    assert run.status is RunStatus.complete and run.errors == []
    assert run.started_at == run.ended_at == DEMO_NOW
    cov = run.coverage
    for capability in (Capability.tools, Capability.costs, Capability.seats, Capability.integrations,
                       Capability.lifecycle):
        assert cov[capability].status is CoverageStatus.complete, capability
    assert cov[Capability.sync_health].status is CoverageStatus.partial
    assert cov[Capability.costs].detail == "23 of 27 tools"
    assert run.covers(Capability.fields) is CoverageStatus.not_supported
    assert "not verified against vendor APIs" in run.notes[0]
    assert len(result.part.tools) == 27
    assert seen[-1][0] == "manifest"
    assert all(i.evidence_sources == ["manifest"] for i in result.part.integrations)


def test_absent_sections_are_reported_missing(in_tmp: Path) -> None:
    write(in_tmp, TOOLS)
    run = ManifestConnector(
        ManifestConfig(id="team-b", path=Path("stack.yaml")), PullContext(config_dir=in_tmp, env={})
    ).pull().run
    assert run.id == "team-b"
    assert run.coverage[Capability.tools].status is CoverageStatus.complete
    assert run.coverage[Capability.lifecycle].status is CoverageStatus.missing
    assert run.coverage[Capability.costs].reason == "no costs declared in stack.yaml"
    assert run.coverage[Capability.sync_health].status is CoverageStatus.missing


def test_empty_manifest_declares_nothing(in_tmp: Path) -> None:
    part = load_manifest(write(in_tmp, "# to do\n"))
    assert part.tools == [] and part.integrations == [] and part.lifecycle is None


# ----------------------------------------------------------------------------------- derived values


@pytest.mark.parametrize(
    ("contract", "notice_date", "notice_days"),
    [
        ({"renewal": "2027-02-13", "notice_days": 60}, date(2026, 12, 15), 60),
        ({"renewal": "2027-02-13", "notice_date": "2027-01-14"}, date(2027, 1, 14), 30),
        ({"renewal": "2027-02-13"}, None, None),
        ({"notice_days": 30}, None, 30),
        ({"renewal": "2027-03-01", "notice_days": 0}, date(2027, 3, 1), 0),
    ],
)
def test_notice_date_derivation(in_tmp: Path, contract: dict[str, Any], notice_date: date | None,
                                notice_days: int | None) -> None:
    data = {"tools": [{"id": "zoominfo", "name": "ZoomInfo", "contract": contract}]}
    part = parse_manifest(data, {}, "stack.yaml")
    result = part.tools[0].contract
    assert result is not None
    assert (result.notice_date, result.notice_days) == (notice_date, notice_days)


@pytest.mark.parametrize(
    ("value", "minutes"), [("15m", 15), ("1h", 60), ("1d", 1440), (30, 30), ("90 min", 90), (" 2h ", 120)]
)
def test_intervals(value: Any, minutes: int) -> None:
    assert parse_interval(value) == minutes


@pytest.mark.parametrize("value", ["0m", "15s", "soon", True, -5, 0, "1w", 1.5])
def test_bad_intervals(value: Any) -> None:
    with pytest.raises(ValueError, match="expected an interval like 15m, 1h or 1d"):
        parse_interval(value)


def test_contract_doc_accepts_one_notice_only() -> None:
    with pytest.raises(ValueError, match="set notice_days or notice_date, not both"):
        ContractDoc.model_validate({"renewal": "2027-01-01", "notice_days": 30, "notice_date": "2026-12-01"})


# -------------------------------------------------------------------------------------- CSV mappings


def test_csv_mappings(in_tmp: Path) -> None:
    (in_tmp / "maps").mkdir()
    (in_tmp / "maps" / "hs-sf.csv").write_text(
        "\ufeffsource, target ,direction,transform,precedence\n"
        "hubspot:contacts.email,salesforce:Lead.Email,both,,salesforce\n"
        "\n"
        "# legacy, kept for reference\n"
        '"hubspot:contacts.lifecyclestage",salesforce:Lead.Status,,"map, see lifecycle",\n',
        encoding="utf-8",
    )
    path = write(
        in_tmp,
        TOOLS
        + """\
integrations:
  - source: hubspot
    target: salesforce
    mappings:
      - {source: "hubspot:contacts.phone", target: "salesforce:Lead.Phone"}
    mappings_csv: maps/hs-sf.csv
""",
    )
    (flow,) = load_manifest(path).integrations
    assert [(m.source, m.target, m.direction, m.transform, m.precedence) for m in flow.mappings] == [
        ("hubspot:contacts.phone", "salesforce:Lead.Phone", "forward", None, None),
        ("hubspot:contacts.email", "salesforce:Lead.Email", "both", None, "salesforce"),
        ("hubspot:contacts.lifecyclestage", "salesforce:Lead.Status", "forward", "map, see lifecycle", None),
    ]


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("source,target\nhubspot:contacts.email,salesforce:Lead\n",
         "m.csv:2: target: not a field id (expected <tool>:<object>.<field>)"),
        ("source,target,direction\na:b.c,d:e.f,forward\na:b.c,d:e.f,backward\n",
         "m.csv:3: direction: Input should be 'forward' or 'both'"),
        ("source,target,notes\n", "m.csv:1: notes: unknown column (columns: source, target, direction, transform, "
         "precedence)"),
        ("source,transform\n", "m.csv:1: target: required column is missing"),
        ("source,target\na:b.c,d:e.f,extra\n", "m.csv:2: more cells than the 2 columns of the header"),
        ("source,target\n,d:e.f\n", "m.csv:2: source: required cell is empty"),
        ("", "m.csv:1: empty CSV: expected a header row source,target,direction,transform,precedence"),
    ],
)
def test_csv_errors_name_the_row(csv_text: str, expected: str) -> None:
    with pytest.raises(FileError) as info:
        parse_mappings_csv(csv_text, "m.csv")
    assert str(info.value) == expected


def test_csv_field_of_another_tool_names_the_csv_row(in_tmp: Path) -> None:
    (in_tmp / "m.csv").write_text("source,target\nhubspot:contacts.email,salesforce:Lead.Email\n"
                                  "hubspot:contacts.email,zapier:zaps.email\n")
    path = write(in_tmp, TOOLS + "integrations:\n  - {source: hubspot, target: salesforce, mappings_csv: m.csv}\n")
    assert error_of(path) == (
        "m.csv:3: target: field 'zapier:zaps.email' belongs to 'zapier', which is not an end of hubspot->salesforce"
    )


def test_missing_csv_names_the_manifest_line(in_tmp: Path) -> None:
    path = write(in_tmp, TOOLS + "integrations:\n  - source: hubspot\n    target: salesforce\n"
                 "    mappings_csv: nope.csv\n")
    assert error_of(path) == "stack.yaml:8: integrations[0].mappings_csv: file not found: nope.csv"


# --------------------------------------------------------------------------------------------- errors


def test_missing_manifest(in_tmp: Path) -> None:
    assert error_of(in_tmp / "stack.yaml") == "stack.yaml: file not found"


def test_bad_yaml(in_tmp: Path) -> None:
    path = write(in_tmp, "tools:\n  - id: hubspot\n    name: [HubSpot\n")
    assert error_of(path).startswith("stack.yaml:4: invalid YAML: ")


def test_top_level_must_be_a_mapping(in_tmp: Path) -> None:
    path = write(in_tmp, "- hubspot\n- salesforce\n")
    assert error_of(path) == (
        "stack.yaml:1: expected a mapping at the top level (tools:, integrations:, lifecycle:)"
    )


INTEGRATION = TOOLS + """\
integrations:
  - source: hubspot
    target: salesforce
    expected_interval: 15m
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # unknown keys
        ("tools:\n  - id: gong\n    name: Gong\n    colour: orange\n", "4: tools[0].colour: unknown key"),
        (TOOLS + "integration: []\n", "5: integration: unknown key"),
        (INTEGRATION + "    observed: {status: active, last_success: 2026-11-30T08:00:00Z}\n",
         "9: integrations[0].observed.last_success: unknown key"),
        # wrong types and formats
        ("tools:\n  - id: gong\n    name: Gong\n    cost: {amount: lots}\n",
         "4: tools[0].cost.amount: Input should be a valid number, unable to parse string as a number"),
        ("tools:\n  - id: gong\n    name: Gong\n    seats: {bought: -4}\n",
         "4: tools[0].seats.bought: Input should be greater than or equal to 0"),
        ("tools:\n  - id: gong\n    name: Gong\n    contract: {renewal: 31/12/2027}\n",
         "4: tools[0].contract.renewal: Input should be a valid date or datetime, invalid character in year"),
        ("tools:\n  - id: gong\n    name: Gong\n    status: paused\n",
         "4: tools[0].status: Input should be 'active', 'trial', 'retiring' or 'removed'"),
        ("tools:\n  - id: Gong.io\n    name: Gong\n",
         "2: tools[0].id: tool ids are lowercase slugs like 'google-analytics-4'"),
        ("tools:\n  - id: gong\n", "2: tools[0].name: required key is missing"),
        ("tools:\n  - id: gong\n    name: Gong\n    capabilities: [Call Recording]\n",
         "4: tools[0].capabilities[0]: use lowercase letters, digits, '-' or '_' (it becomes part of an id)"),
        ("tools:\n  - id: gong\n    name: Gong\n    contract: {renewal: 2027-01-01, notice_days: 30, "
         "notice_date: 2026-12-01}\n", "4: tools[0].contract: set notice_days or notice_date, not both"),
        (INTEGRATION.replace("15m", "every 15 minutes"),
         "8: integrations[0].expected_interval: expected an interval like 15m, 1h or 1d, or a number of minutes"),
        (INTEGRATION + "    observed: {last_success_at: 2026-11-30T08:00:00}\n",
         "9: integrations[0].observed.last_success_at: Input should have timezone info"),
        (INTEGRATION + "    mappings:\n      - {source: hubspot.email, target: salesforce:Lead.Email}\n",
         "10: integrations[0].mappings[0].source: not a field id (expected <tool>:<object>.<field>)"),
        ("version: 2\n" + TOOLS,
         "1: version: manifest version 2 is newer than this stackaudit supports (1); upgrade stackaudit"),
    ],
)
def test_schema_errors(in_tmp: Path, text: str, expected: str) -> None:
    assert error_of(write(in_tmp, text)) == f"stack.yaml:{expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TOOLS + "  - {id: hubspot, name: HubSpot again}\n",
         "5: tools[3].id: duplicate tool 'hubspot' (also at line 2)"),
        (INTEGRATION.replace("target: salesforce", "target: salesfroce"),
         "7: integrations[0].target: unknown tool 'salesfroce' (not declared under tools:); did you mean "
         "'salesforce'?"),
        (INTEGRATION + "    via: workato\n",
         "9: integrations[0].via: unknown tool 'workato' (not declared under tools:)"),
        (INTEGRATION + "    via: hubspot\n", "9: integrations[0].via: via must be a third tool (the middleware)"),
        (INTEGRATION.replace("target: salesforce", "target: hubspot"),
         "7: integrations[0].target: source and target are the same tool"),
        (INTEGRATION + "  - {source: hubspot, target: salesforce, via: zapier}\n",
         "9: integrations[1]: duplicate integration 'hubspot->salesforce' (also at line 6); give each flow a `name`"),
        (INTEGRATION + "    mappings:\n      - {source: 'hubspot:contacts.email', target: 'zapier:zap.email'}\n",
         "10: integrations[0].mappings[0].target: field 'zapier:zap.email' belongs to 'zapier', which is not an end "
         "of hubspot->salesforce"),
        (INTEGRATION + "    mappings:\n      - {source: 'hubspot:contacts.email', target: 'salesforce:Lead.Email', "
         "precedence: zapier}\n",
         "10: integrations[0].mappings[0].precedence: 'zapier' is not an end of hubspot->salesforce"),
        (TOOLS + "lifecycle:\n  mappings:\n    - {tool: marketo, field: 'marketo:leads.status'}\n",
         "7: lifecycle.mappings[0].tool: unknown tool 'marketo' (not declared under tools:)"),
        (TOOLS + "lifecycle:\n  mappings:\n    - {tool: hubspot, field: 'salesforce:Lead.Status'}\n",
         "7: lifecycle.mappings[0].field: field 'salesforce:Lead.Status' does not belong to 'hubspot'"),
        (TOOLS + "lifecycle:\n  stages:\n    - {id: mql, name: MQL}\n  mappings:\n    - tool: hubspot\n"
         "      field: hubspot:contacts.lifecyclestage\n      values:\n        sql: salesqualifiedlead\n",
         "12: lifecycle.mappings[0].values.sql: unknown stage 'sql' (stages: mql)"),
        (TOOLS + "lifecycle:\n  stages:\n    - {id: mql, name: MQL}\n    - {id: mql, name: Marketing QL}\n",
         "8: lifecycle.stages[1].id: duplicate stage 'mql'"),
        ("tools:\n  - id: calendly\n    name: Calendly\n    capabilities: [scheduling, meeting-scheduling]\n",
         "4: tools[0].capabilities[1]: unknown capability 'meeting-scheduling' (did you mean 'scheduling'?)"),
        (TOOLS + "lifecycle:\n  stage_fields: ['pardot:prospects.stage']\n",
         "6: lifecycle.stage_fields[0]: unknown tool 'pardot' (not declared under tools:)"),
    ],
)
def test_reference_errors(in_tmp: Path, text: str, expected: str) -> None:
    assert error_of(write(in_tmp, text)) == f"stack.yaml:{expected}"


def test_capabilities_come_from_a_vocabulary() -> None:
    data = {"tools": [{"id": "acme-widget", "name": "Widget", "capabilities": ["zzyzx"]}]}
    with pytest.raises(FileError, match=r"unknown capability 'zzyzx' \(known: abm, ads, .*crm, "):
        parse_manifest(data, {}, "stack.yaml")
    part = parse_manifest(data, {}, "stack.yaml", capabilities={"zzyzx"})
    assert part.tools[0].primary_capability == "zzyzx"


def test_named_flows_on_the_same_pair_are_fine(in_tmp: Path) -> None:
    text = TOOLS + (
        "integrations:\n"
        "  - {source: hubspot, target: salesforce, name: native, expected_interval: 15}\n"
        "  - {source: hubspot, target: salesforce, via: zapier, name: webinar-leads}\n"
        "lifecycle:\n  stages: [{id: mql, name: MQL}]\n  mappings:\n    - tool: hubspot\n"
        "      field: hubspot:contacts.lifecyclestage\n      values: {mql: marketingqualifiedlead}\n"
    )
    part = load_manifest(write(in_tmp, text))
    assert [i.id for i in part.integrations] == ["hubspot->salesforce:native", "hubspot->salesforce:webinar-leads"]
    assert part.lifecycle is not None
    assert part.lifecycle.mappings[0].values == {"mql": ["marketingqualifiedlead"]}


def test_parse_is_pure_over_data_and_lines(in_tmp: Path) -> None:
    path = write(in_tmp, INTEGRATION)
    data, lines = load_yaml(path)
    part = parse_manifest(data, lines, "stack.yaml", source_id="declared")
    assert part.integrations[0].evidence_sources == ["declared"]
    assert part.integrations[0].expected_interval_minutes == 15
    bad = dict(data)
    bad["integrations"] = [{"source": "hubspot", "target": "nowhere"}]
    with pytest.raises(FileError, match=r"^stack\.yaml:7: integrations\[0\]\.target: unknown tool 'nowhere'"):
        parse_manifest(bad, lines, "stack.yaml")
