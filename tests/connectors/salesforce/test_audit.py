"""The demo org through the whole pipeline (manifest + Salesforce connector + audit): orphaned-field findings never
call a field unused when any evidence says it is used (data, a reference, a package that owns it), and say what
could not be checked."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from stackaudit.audit.engine import run_audit
from stackaudit.config import load_config
from stackaudit.fakes.salesforce import DEMO_TOKEN, serve_recorded_org
from stackaudit.pipeline import run_pull
from stackaudit_inventory import AuditResult, Finding, Snapshot

from .conftest import NOW

PLANTED_EMPTY = {"Lead.Trade_Show_2022__c", "Lead.Fax_Opt_In__c", "Contact.Webinar_Count__c",
                 "Account.Old_ERP_ID__c", "Opportunity.Promo_Code_Q3__c"}
IN_USE = {"Account.Legacy_Region__c", "Lead.LeanData__Routing_Action__c", "Lead.Lead_Source_2__c",
          "Lead.Partner_Referral_Code__c", "Lead.HubSpot_Score__c", "Product_Usage__c.Active_Users__c"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, AuditResult]:
    folder = tmp_path_factory.mktemp("demo-sf")
    data = resources.files("stackaudit.demo") / "data"
    for name in ("stack.yaml", "mappings.csv"):
        (folder / name).write_bytes((data / name).read_bytes())
    with serve_recorded_org() as (base_url, _token):
        (folder / "stackaudit.yaml").write_text(
            "stack: Northwind Analytics\nstore: .stackaudit\nmanifest: stack.yaml\nconnectors:\n"
            f"  - type: salesforce\n    instance_url: {base_url}\n    access_token: ${{SALESFORCE_ACCESS_TOKEN}}\n",
            encoding="utf-8",
        )
        config = load_config(folder / "stackaudit.yaml")
        outcome = run_pull(config, env={"SALESFORCE_ACCESS_TOKEN": DEMO_TOKEN}, now=lambda: NOW,
                           options={"fill_rates": "sampled", "cache_dir": str(folder / "cache")})
    shutil.rmtree(folder / "cache", ignore_errors=True)
    assert outcome.complete, [r.errors for r in outcome.snapshot.source_runs]
    return outcome.snapshot, run_audit(outcome.snapshot, now=NOW)


def subjects(result: AuditResult, *rules: str) -> dict[str, Finding]:
    return {s.removeprefix("salesforce:"): f for f in result.findings if f.rule in rules for s in f.subjects
            if s.startswith("salesforce:")}


def test_snapshot_merges_declared_and_discovered(audited: tuple[Snapshot, AuditResult]) -> None:
    snapshot, _ = audited
    sf = snapshot.tools_by_id["salesforce"]
    assert sf.origin.value == "both" and sf.seats is not None and sf.seats.bought == 120
    run = next(r for r in snapshot.source_runs if r.id == "salesforce")
    assert run.api_calls > 0 and run.status.value == "complete"
    assert "salesforce:Lead.Status" in (snapshot.lifecycle.stage_fields if snapshot.lifecycle else [])


def test_empty_unreferenced_fields_are_found_with_what_was_not_checked(
        audited: tuple[Snapshot, AuditResult]) -> None:
    _, result = audited
    found = subjects(result, "OF001")
    assert set(found) >= PLANTED_EMPTY
    for name in PLANTED_EMPTY:
        finding = found[name]
        assert any("exact count" in e for e in finding.evidence)
        assert any("reports" in n for n in finding.not_checked), finding.not_checked


def test_no_field_with_evidence_of_use_is_called_unused(audited: tuple[Snapshot, AuditResult]) -> None:
    _, result = audited
    unused = subjects(result, "OF001", "OF002")  # the rules that call a field empty, hence unused
    assert not (set(unused) & IN_USE), sorted(set(unused) & IN_USE)
    assert not any(name.startswith("Partner_Referral__c.") for name in unused)  # an object with no records
    left_behind = subjects(result, "OF005")  # fields of removed tools: LeanData's package is installed and declared
    assert "Lead.LeanData__Routing_Action__c" not in left_behind


def test_a_field_used_only_by_an_inactive_flow_is_reported_with_that_flow(
        audited: tuple[Snapshot, AuditResult]) -> None:
    _, result = audited
    found = subjects(result, "OF001", "OF004")
    finding = found["Lead.Webinar_Attended__c"]
    assert any("Old Lead Router" in e or "salesforce:flow/" in e for e in finding.evidence)


def test_idle_connected_app_and_undeclared_lead_statuses(audited: tuple[Snapshot, AuditResult]) -> None:
    _, result = audited
    idle = [f for f in result.findings if "intercom->salesforce:connected-app" in f.subjects]
    assert idle, "the Intercom connected app unused for 120 days is reported"
    drift = [f for f in result.findings if f.rule == "LC001" and "salesforce:Lead.Status" in f.subjects]
    assert drift and any("Unqualified" in e for e in drift[0].evidence)


def test_near_duplicate_lead_source(audited: tuple[Snapshot, AuditResult]) -> None:
    _, result = audited
    dup = [f for f in result.findings if f.rule == "DF001" and "salesforce:Lead.Lead_Source_2__c" in f.subjects]
    assert dup and "salesforce:Lead.LeadSource" in dup[0].subjects


def test_config_key_docs_exist() -> None:
    from stackaudit_connectors.salesforce.config import SalesforceConfig

    undocumented = [k for k, f in SalesforceConfig.model_fields.items() if not f.description]
    assert undocumented == []
    assert Path(resources.files("stackaudit") / "demo" / "recorded" / "salesforce" / "org.json").is_file()  # type: ignore[arg-type]
