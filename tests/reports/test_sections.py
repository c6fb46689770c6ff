"""View-model tests for the sections added with the full report: summary changes slot, findings filters and cap,
procurement, integrations' mapped fields, field explorer, field impact, lifecycle and the coverage matrix."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from stackaudit_inventory import (
    Asset,
    AuditResult,
    Capability,
    Contract,
    Cost,
    Coverage,
    CoverageStatus,
    FieldDef,
    FillMethod,
    FillRate,
    Finding,
    LifecycleDefinition,
    LifecycleStage,
    PickOption,
    Reference,
    Seats,
    Snapshot,
    StageMapping,
    Tool,
    fingerprint,
)
from stackaudit_inventory.results import FieldImpact, FieldImpactExport, ImpactLink
from stackaudit_reports._fields import FIELD_COLUMNS, FLAG_CUSTOM, FLAG_NOT_INVENTORIED
from stackaudit_reports.changes import ChangeItem, SnapshotChanges
from stackaudit_reports.html import render_html
from stackaudit_reports.viewmodel import MAX_FINDINGS_PER_CATEGORY, build_report_view


def test_changes_slot_is_empty_without_a_diff_and_shown_with_one(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    assert build_report_view(snapshot, result, now).changes is None
    html = render_html(snapshot, result, now=now, diagram_svg=None)
    assert 'id="changes"' not in html
    changes = SnapshotChanges(
        "20241015T000000Z-aaaa", "2024-10-15", (ChangeItem("2 new broken syncs", "alert", "#integrations"),)
    )
    view = build_report_view(snapshot, result, now, changes=changes)
    assert view.changes is changes
    html = render_html(snapshot, result, now=now, diagram_svg=None, changes=changes)
    assert 'id="changes"' in html and "2 new broken syncs" in html and "20241015T000000Z-aaaa" in html
    empty = render_html(snapshot, result, now=now, diagram_svg=None, changes=SnapshotChanges("x", "2024-10-15"))
    assert "Nothing changed since then." in empty


def test_findings_offer_rule_and_object_filters_and_link_fields_to_impact(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    view = build_report_view(snapshot, result, now)
    assert ("OF001", "OF001 · Orphaned custom field") in view.filter_rules
    assert view.filter_objects == ("hubspot:contacts",)
    orphan = next(f for f in view.finding_index if f["rule"] == "OF001")
    assert orphan["objects"] == ["hubspot:contacts"]
    subject = view.categories[0].severity_groups[0].findings[0].subjects[0]
    assert subject.is_field and subject.id == "hubspot:contacts.legacy_score"


def test_a_category_renders_its_worst_findings_up_to_the_cap(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    many = [
        Finding(
            fingerprint=fingerprint("OF001", [f"hubspot:contacts.f{i}"]),
            rule="OF001",
            category="orphaned-field",
            severity="high" if i == 499 else "low",
            subjects=[f"hubspot:contacts.f{i}"],
            title=f"f{i}",
            remediation="r",
        )
        for i in range(500)
    ]
    view = build_report_view(snapshot, result.model_copy(update={"findings": many}), now)
    group = view.categories[0]
    assert group.total == 500 and group.not_shown == 500 - MAX_FINDINGS_PER_CATEGORY
    shown = [f for sev in group.severity_groups for f in sev.findings]
    assert len(shown) == MAX_FINDINGS_PER_CATEGORY and shown[0].title == "f499"
    assert len(view.finding_index) == MAX_FINDINGS_PER_CATEGORY


def test_procurement_overlap_spend_seats_renewals_and_money_at_stake(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    p = build_report_view(snapshot, result, now).procurement
    # Drift and Intercom share chat; HubSpot's CRM overlaps Salesforce. The removed Typeform is left out.
    assert [c for c, _ in p.overlap_capabilities] == ["chat", "crm"]
    rows = {r.tool: r.cells for r in p.overlap_rows}
    assert rows == {
        "drift": ("primary", ""),
        "intercom": ("primary", ""),
        "hubspot": ("", "also"),
        "salesforce": ("", "primary"),
    }
    assert [(s.label, s.annual, s.share) for s in p.spend] == [
        ("CRM", "$120,000", "61%"),
        ("Chat / conversational marketing", "$42,000", "21%"),
        ("Marketing automation", "$36,000", "18%"),
    ]
    assert p.spend_total == "$198,000"
    assert (p.seats[0].tool, p.seats[0].used, p.seats[0].bought, p.seats[0].low) == ("drift", 3, 10, True)
    assert p.unused_seats == 7 + 5 + 20
    # Drift: notice 2025-02-01, 17 days from now; HubSpot notice 2025-07-01: both within 12 months.
    items = [i for m in p.renewals for i in m.items]
    assert [(i.tool, i.act_by, i.state) for i in items] == [
        ("drift", "2025-02-01", "soon"),
        ("hubspot", "2025-07-01", ""),
    ]
    assert p.renewals[0].label == "February 2025"
    assert p.no_renewal_date == ("Intercom", "Salesforce")
    # RT001 and UT001 both name Drift's $18k: counted once.
    assert [a.rule for a in p.at_stake] == ["RT001", "UT001"] and p.at_stake_total == "$18,000"


def test_procurement_notice_passed_and_other_currencies(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    tools = [
        Tool(
            id="a",
            name="A",
            capabilities=["crm"],
            cost=Cost(amount=1000),
            contract=Contract(renewal=date(2025, 3, 1), notice_date=date(2025, 1, 1), auto_renew=True),
        ),
        Tool(
            id="b",
            name="B",
            capabilities=["crm"],
            cost=Cost(amount=9000, currency="CHF"),
            seats=Seats(bought=4, used=4),
        ),
    ]
    p = build_report_view(snapshot.model_copy(update={"tools": tools}), result, now).procurement
    assert [i.tool for i in p.notice_passed] == ["a"] and p.renewal_count == 0
    # One tool in each currency: the tie goes to CHF alphabetically, and the USD tool is named, not converted.
    assert p.currency == "CHF" and p.other_currency == ("A ($1,000)",)


def test_integrations_list_their_mapped_fields(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    rows = {r.id: r for r in build_report_view(snapshot, result, now).integrations}
    mappings = rows["hubspot->salesforce"].mappings
    assert [(m.source, m.target, m.arrow) for m in mappings] == [
        ("hubspot:contacts.email", "salesforce:Lead.Email", "→"),
        ("hubspot:contacts.lifecyclestage", "salesforce:Lead.Status", "→"),
    ]


def _explorer_snapshot(snapshot: Snapshot) -> Snapshot:
    fields = [
        FieldDef(
            id="hubspot:contacts.legacy_score",
            tool="hubspot",
            object="contacts",
            name="legacy_score",
            label="<b>Legacy</b>",
            type="number",
            custom=True,
            fill=FillRate(method=FillMethod.sampled, filled=1, total=1000),
        ),
        FieldDef(
            id="hubspot:contacts.email",
            tool="hubspot",
            object="contacts",
            name="email",
            type="string",
            fill=FillRate(method=FillMethod.unknown),
            owning_tool="drift",
        ),
    ]
    assets = [Asset(id="hubspot:workflow/1", tool="hubspot", kind="workflow", name="Nurture")]
    refs = [Reference(asset="hubspot:workflow/1", field="hubspot:contacts.email", mode="read")]
    return snapshot.model_copy(update={"fields": fields, "assets": assets, "references": refs})


def test_field_explorer_rows_are_compact_and_complete(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    fx = build_report_view(_explorer_snapshot(snapshot), result, now).fields
    payload = fx.payload
    assert payload["columns"] == list(FIELD_COLUMNS)
    tools = [t[0] for t in payload["tools"]]
    rows = {f"{tools[r[0]]}:{payload['objects'][r[1]]}.{r[2]}": r for r in payload["rows"]}
    # Two inventoried fields, then the three only mappings name (not inventoried), each once.
    assert list(rows) == [
        "hubspot:contacts.email",
        "hubspot:contacts.legacy_score",
        "hubspot:contacts.lifecyclestage",
        "salesforce:Lead.Email",
        "salesforce:Lead.Status",
    ]
    email, legacy = rows["hubspot:contacts.email"], rows["hubspot:contacts.legacy_score"]
    assert email[5:11] == [-1, payload["methods"].index("unknown"), 1, 1, tools.index("drift"), 0]
    assert legacy[3] == "<b>Legacy</b>" and legacy[5] == 1 and legacy[10] == 1 and legacy[11] & FLAG_CUSTOM
    assert rows["salesforce:Lead.Status"][11] == FLAG_NOT_INVENTORIED
    assert (fx.total, fx.inventoried, fx.not_inventoried, fx.custom, fx.unreferenced, fx.fill_unknown) == (
        5,
        2,
        3,
        1,
        1,
        1,
    )
    assert not fx.impact_computed and payload["impact"] == {}
    entries = payload["findings"][str(list(rows).index("hubspot:contacts.legacy_score"))]
    assert [payload["findingTable"][k][1] for k in entries] == ["OF001"]
    # each finding is embedded once, whatever the number of fields it names
    assert len(payload["findingTable"]) == len({tuple(e) for e in payload["findingTable"]})
    # The whole payload is plain JSON.
    json.dumps(payload)


def test_field_impact_is_embedded_as_indexes_only_for_linked_fields(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    impact = FieldImpactExport(
        fields=[
            FieldImpact(
                field="hubspot:contacts.email",
                readers=[
                    ImpactLink(node="hubspot:workflow/1", kind="asset"),
                    ImpactLink(node="salesforce:Lead.Email", kind="field", via="hubspot->salesforce", missing=True),
                ],
                downstream=[
                    ImpactLink(node="hubspot:workflow/1", kind="asset"),
                    ImpactLink(node="salesforce:Lead.Email", kind="field", missing=True),
                ],
                downstream_total=2,
            )
        ]
    )
    fx = build_report_view(_explorer_snapshot(snapshot), result, now, impact=impact).fields
    payload = fx.payload
    assert fx.impact_computed and fx.linked == 1
    assert list(payload["impact"]) == ["0"]  # row 0 is hubspot:contacts.email
    writers, readers, downstream, total = payload["impact"]["0"]
    n = len(payload["rows"])
    assert writers == [] and total == 2
    assert readers == [n, -1, 3, 0]  # the asset is the first extra node; Lead.Email is row 3, via integration 0
    assert payload["nodes"] == [["hubspot:workflow/1", "workflow", "Nurture", 0, 0]]
    assert payload["integrations"] == [["hubspot->salesforce", "HubSpot → Salesforce"]]
    assert downstream == [n, 3]


def _lifecycle_snapshot(snapshot: Snapshot, *, read: bool) -> Snapshot:
    lifecycle = LifecycleDefinition(
        stages=[
            LifecycleStage(id="lead", name="Lead"),
            LifecycleStage(id="mql", name="MQL"),
            LifecycleStage(id="sql", name="SQL"),
        ],
        mappings=[
            StageMapping(
                tool="hubspot",
                field="hubspot:contacts.lifecyclestage",
                values={"lead": ["lead"], "mql": ["marketingqualifiedlead", "mql_old"], "sql": ["lead"]},
            )
        ],
        mql_definition="Score 100+",
        stage_fields=["hubspot:contacts.lead_stage_old"],
    )
    fields = []
    if read:
        fields.append(
            FieldDef(
                id="hubspot:contacts.lifecyclestage",
                tool="hubspot",
                object="contacts",
                name="lifecyclestage",
                type="enum",
                options=[PickOption(value=v) for v in ("lead", "marketingqualifiedlead", "other")],
            )
        )
    return snapshot.model_copy(update={"lifecycle": lifecycle, "fields": fields})


def test_lifecycle_sets_the_definition_beside_the_values_each_system_holds(
    snapshot: Snapshot, result: AuditResult, now: datetime
) -> None:
    lc = build_report_view(_lifecycle_snapshot(snapshot, read=True), result, now).lifecycle
    assert lc.declared and lc.mql_definition == "Score 100+" and lc.handoff_definition is None
    (system,) = lc.systems
    assert system.values_read
    assert system.unmapped == ("other",)
    assert system.not_offered == ("mql_old",)
    assert system.ambiguous == ("lead",)  # one value means lead and SQL
    assert lc.mismatch_count == 3
    mql = next(r for r in lc.stages if r.id == "mql")
    assert mql.cells[0].values == ("marketingqualifiedlead", "mql_old") and mql.cells[0].bad == ("mql_old",)
    assert lc.other_stage_fields == (("hubspot:contacts.lead_stage_old", None),)


def test_lifecycle_says_when_nobody_read_the_values(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    # HubSpot's fields were read (coverage complete) and the stage field is not among them: a mismatch.
    lc = build_report_view(_lifecycle_snapshot(snapshot, read=False), result, now).lifecycle
    (system,) = lc.systems
    assert not system.values_read and system.missing_field and "Not found" in system.note
    unread = snapshot.model_copy(update={"source_runs": snapshot.source_runs[:1]})
    lc = build_report_view(_lifecycle_snapshot(unread, read=False), result, now).lifecycle
    assert not lc.systems[0].missing_field and lc.systems[0].note.startswith("Not checked")
    assert not build_report_view(snapshot, result, now).lifecycle.declared


def test_coverage_matrix_per_tool(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    cov = build_report_view(snapshot, result, now).coverage
    assert cov.capabilities == ("tools", "costs", "fields", "references")
    rows = {r.tool: {c.capability: c.status for c in r.cells} for r in cov.tools}
    # HubSpot was read by its connector; the others only declared in the manifest.
    assert rows["hubspot"] == {"tools": "declared", "costs": "declared", "fields": "complete", "references": "missing"}
    assert rows["drift"] == {"tools": "declared", "costs": "declared", "fields": "not_read", "references": "not_read"}
    assert cov.tools[0].tool == "hubspot" and "typeform" not in rows
    hubspot_refs = next(c for c in cov.tools[0].cells if c.capability == "references")
    assert hubspot_refs.reason == "no scope"


def test_coverage_partial_beats_missing_across_runs(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    extra = snapshot.source_runs[1].model_copy(
        update={"id": "hubspot-2", "coverage": {Capability.references: Coverage(status=CoverageStatus.partial)}}
    )
    cov = build_report_view(
        snapshot.model_copy(update={"source_runs": [*snapshot.source_runs, extra]}), result, now + timedelta(0)
    ).coverage
    hub = next(r for r in cov.tools if r.tool == "hubspot")
    assert {c.capability: c.status for c in hub.cells}["references"] == "partial"
    assert hub.sources == ("hubspot", "hubspot-2")
