"""The demo's findings are exactly the problems planted in its data (issue 6's acceptance).

``stackaudit demo`` runs the whole pipeline on Northwind Analytics: the manifest (stackaudit/demo/data/stack.yaml,
mappings.csv, waivers.yaml) and the HubSpot, Salesforce, Marketo and Segment connectors against recorded vendor data
(stackaudit/demo/recorded/*). Each data file lists the problems planted in it; this test writes the whole list
down: every finding as (rule, sorted subject ids, status), and every check a rule reported it could not make. A
finding that is not planted is a false positive (fix the rule or the data); a planted problem that is not found
is a miss. Either fails here, and so does a registered rule that the demo does not exercise.
"""

from __future__ import annotations

from collections.abc import Set

import pytest
from rich.console import Console

from stackaudit.audit.registry import default_registry
from stackaudit.demo.run import run_demo
from stackaudit_inventory import AuditResult

Key = tuple[str, tuple[str, ...], str]

# Where a problem is planted: [stack] stack.yaml (its header numbers the problems), [csv] mappings.csv,
# [waivers] waivers.yaml, [hubspot] recorded/hubspot/portal.json, [salesforce] recorded/salesforce/org.json,
# [marketo] recorded/marketo/instance.json, [segment] recorded/segment/workspace.json.
PLANTED: list[Key] = [
    # ------------------------------------------------------------------------------------------ broken sync
    ("BS001", ("drift->salesforce",), "open"),  # [stack] #10: 268 errors against 412 successes in 7 days
    ("BS001", ("marketo->salesforce",), "open"),  # [marketo] API error spike of 2026-11-29/30 (18%)
    ("BS001", ("segment->hubspot",), "open"),  # [segment] HubSpot destination fails on ~39% of deliveries
    ("BS002", ("hubspot->salesforce",), "open"),  # [hubspot][salesforce][stack] #9: sync paused since 2026-11-10
    ("BS002", ("typeform->hubspot:demo-request",), "open"),  # [stack] #9: zap on, webhook deleted, silent 9 days
    # [marketo][salesforce] fields deleted in Salesforce during the HubSpot migration, still mapped by Marketo's sync
    ("BS003", ("marketo->salesforce", "salesforce:Lead.Preferred_Language__c"), "open"),
    ("BS003", ("marketo->salesforce", "salesforce:Lead.Product_Interest__c"), "open"),
    # [csv] #13: HubSpot's text annualrevenue into the currency Lead.AnnualRevenue
    ("BS004", ("hubspot->salesforce", "hubspot:contacts.annualrevenue", "salesforce:Lead.AnnualRevenue"), "open"),
    # [marketo] Marketo's free-text values into Salesforce's restricted picklists (the 1003 invalid-value errors)
    ("BS004", ("marketo->salesforce", "marketo:leads.industry", "salesforce:Lead.Industry"), "open"),
    ("BS004", ("marketo->salesforce", "marketo:leads.leadSource", "salesforce:Lead.LeadSource"), "open"),
    ("BS004", ("marketo->salesforce", "marketo:leads.leadStatus", "salesforce:Lead.Marketo_Lead_Status__c"), "open"),
    # [csv][salesforce] #13: HubSpot's 'RevOps' persona missing from Lead.Persona__c
    ("BS005", ("hubspot->salesforce", "hubspot:contacts.persona", "salesforce:Lead.Persona__c"), "open"),
    # [csv][salesforce] #13: fit_score on 80% of contacts, Lead.Fit_Score__c on 3% (integration user cannot edit it)
    ("BS006", ("hubspot->salesforce", "hubspot:contacts.fit_score", "salesforce:Lead.Fit_Score__c"), "open"),
    ("BS007", ("hubspot:contacts.utm_campaign",), "open"),  # [stack] #11: Webflow UTMs vs LinkedIn campaign names
    ("BS007", ("salesforce:Lead.AnnualRevenue",), "open"),  # [stack] #11: HubSpot vs ZoomInfo firmographics
    ("BS007", ("salesforce:Lead.NumberOfEmployees",), "open"),  # [stack] #11: HubSpot ranges vs ZoomInfo counts
    # [stack] #12: the lifecycle-writeback zap copies Salesforce's stage back into the HubSpot field that feeds it
    ("BS008", ("hubspot:contacts.lifecyclestage", "salesforce:Lead.Lifecycle_Stage__c"), "open"),
    # [stack] #14: declared flows that no connector observes and nobody recorded runs for (low)
    ("BS009", ("6sense->salesforce",), "open"),
    ("BS009", ("clearbit->hubspot",), "open"),
    ("BS009", ("hubspot->google-ads",), "open"),
    ("BS009", ("intercom->hubspot",), "open"),
    ("BS009", ("leandata->salesforce",), "open"),
    ("BS009", ("linkedin-ads->hubspot",), "open"),
    ("BS009", ("snowflake->hubspot",), "open"),
    ("BS009", ("typeform->hubspot:newsletter",), "open"),
    ("BS009", ("webflow->hubspot",), "open"),
    ("BS009", ("intercom->salesforce:connected-app",), "open"),  # [salesforce] Intercom's app unused for 120 days
    ("BS010", ("hubspot->partnerstack",), "open"),  # [hubspot] paused partner workflow still posts to PartnerStack
    ("BS010", ("segment->appcues",), "open"),  # [segment][stack] #7: Appcues destination off since May
    ("BS010", ("segment->salesforce",), "open"),  # [segment] old Salesforce destination disabled, still connected
    # ---------------------------------------------------------------------------------------- duplicate fields
    ("DF001", ("hubspot:contacts.lead_source", "hubspot:contacts.lead_source_2"), "open"),  # [hubspot]
    ("DF001", ("marketo:leads.leadScore", "marketo:leads.leadScoreLegacy"), "open"),  # [marketo] old scoring model
    ("DF001", ("salesforce:Lead.LeadSource", "salesforce:Lead.Lead_Source_2__c"), "open"),  # [salesforce]
    # [stack] #17: lifecycle stage in three systems, Marketo's lead status synced to none of the stage fields
    (
        "DF002",
        (
            "hubspot:contacts.hs_lead_status",
            "hubspot:contacts.lead_stage_old",
            "hubspot:contacts.lifecyclestage",
            "marketo:leads.leadStatus",
            "salesforce:Contact.Lifecycle_Stage__c",
            "salesforce:Lead.Lifecycle_Stage__c",
            "salesforce:Lead.Status",
            "salesforce:Opportunity.StageName",
        ),
        "open",
    ),
    # [marketo] HubSpot now holds what Marketo's copies of the deleted Salesforce fields hold, unmapped
    ("DF002", ("hubspot:contacts.preferred_language", "marketo:leads.Preferred_Language__c"), "open"),
    ("DF002", ("hubspot:contacts.product_interest", "marketo:leads.Product_Interest__c"), "open"),
    ("DF002", ("marketo:leads.mqlDate", "salesforce:Lead.MQL_Date__c"), "open"),  # [marketo] MQL date not synced
    # ------------------------------------------------------------------------------------------------ hygiene
    # [hubspot][marketo][salesforce] custom fields without a description, one finding per object
    (
        "HY001",
        (
            "hubspot:companies.account_tier",
            "hubspot:companies.arr_band",
            "hubspot:companies.icp_fit",
            "hubspot:companies.store_count",
            "hubspot:companies.target_account_2023",
        ),
        "open",
    ),
    (
        "HY001",
        (
            "hubspot:contacts.ai_summary_opt_in",
            "hubspot:contacts.clearbit_company_domain",
            "hubspot:contacts.demo_requested_at",
            "hubspot:contacts.gdpr_consent_source",
            "hubspot:contacts.intercom_last_seen",
            "hubspot:contacts.lead_source",
            "hubspot:contacts.lead_source_detail",
            "hubspot:contacts.marketo_lead_id",
            "hubspot:contacts.newsletter_frequency",
            "hubspot:contacts.partner_referral_code",
            "hubspot:contacts.persona",
            "hubspot:contacts.preferred_language",
            "hubspot:contacts.product_interest",
            "hubspot:contacts.q4_promo_code_2024",
            "hubspot:contacts.sdr_notes_summary",
            "hubspot:contacts.trade_show_2022_booth_scan",
            "hubspot:contacts.trial_end_date",
            "hubspot:contacts.trial_signup_source",
        ),
        "open",
    ),
    (
        "HY001",
        (
            "hubspot:deals.competitor",
            "hubspot:deals.legacy_opportunity_type",
            "hubspot:deals.loss_reason",
            "hubspot:deals.renewal_date",
        ),
        "open",
    ),
    (
        "HY001",
        (
            "marketo:leads.Preferred_Language__c",
            "marketo:leads.Product_Interest__c",
            "marketo:leads.fullName",
            "marketo:leads.partnerReferralCode",
            "marketo:leads.trialWorkspaceId",
        ),
        "open",
    ),
    (
        "HY001",
        (
            "marketo:subscription_c.plan",
            "marketo:subscription_c.renewalDate",
            "marketo:subscription_c.seats",
            "marketo:subscription_c.subscriptionId",
        ),
        "open",
    ),
    ("HY001", ("salesforce:Account.Customer_Since__c",), "open"),
    ("HY001", ("salesforce:Contact.Secondary_Email__c",), "open"),
    (
        "HY001",
        (
            "salesforce:Lead.Fax_Opt_In__c",
            "salesforce:Lead.Marketo_Lead_Status__c",
            "salesforce:Lead.Outreach_Stage__c",
        ),
        "open",
    ),
    ("HY001", ("salesforce:Opportunity.Renewal_Risk__c",), "open"),
    (
        "HY001",
        ("salesforce:Partner_Referral__c.Partner_Name__c", "salesforce:Partner_Referral__c.Referral_Date__c"),
        "open",
    ),
    (
        "HY001",
        (
            "salesforce:Product_Usage__c.Account__c",
            "salesforce:Product_Usage__c.Active_Users__c",
            "salesforce:Product_Usage__c.Event_Count__c",
            "salesforce:Product_Usage__c.Snapshot_Date__c",
        ),
        "open",
    ),
    ("HY002", ("salesforce:Account",), "open"),  # [salesforce] 408 of 500 custom fields (Hightouch's usage columns)
    ("HY003", ("calendly",), "open"),  # [stack] #4: bought on a sales manager's card
    ("HY003", ("fullstory",), "open"),  # [segment] the shadow tool has no owner either
    ("HY004", ("hightouch",), "open"),  # [stack] #5: $36,000 a year, order form not on file
    ("HY005", ("salesforce",), "open"),  # [salesforce] 64% of the rolling 24-hour API allowance used
    # ------------------------------------------------------------------------------------------- lifecycle
    ("LC001", ("hubspot:contacts.lead_stage_old",), "open"),  # [stack] #16: Marketo-era stage field, no mapping
    ("LC001", ("hubspot:contacts.lifecyclestage",), "open"),  # [hubspot] 'Product Qualified Lead' (1093847)
    ("LC001", ("salesforce:Contact.Lifecycle_Stage__c",), "open"),  # [stack] #16: stage field with no mapping
    ("LC001", ("salesforce:Lead.Status",), "open"),  # [salesforce] 'Unqualified' and 'Recycled' unmapped
    ("LC002", ("lifecycle:handoff-definition",), "open"),  # [stack] #15: handoff definition missing
    ("LC003", ("salesforce:Lead.Status",), "open"),  # [salesforce] the mapping's 'Nurture' is not in the org
    # ------------------------------------------------------------------------------------------ orphaned fields
    # [hubspot] empty, unreferenced, past the grace period (partner_referral_code's only reader is a disabled workflow)
    ("OF001", ("hubspot:companies.old_territory",), "open"),
    ("OF001", ("hubspot:companies.target_account_2023",), "open"),
    ("OF001", ("hubspot:contacts.old_lead_score",), "open"),
    ("OF001", ("hubspot:contacts.partner_referral_code",), "open"),
    ("OF001", ("hubspot:contacts.q4_promo_code_2024",), "open"),
    ("OF001", ("hubspot:contacts.trade_show_2022_booth_scan",), "open"),
    ("OF001", ("hubspot:contacts.webinar_2023_q2_attended",), "open"),
    ("OF001", ("hubspot:deals.legacy_opportunity_type",), "open"),
    # [salesforce] likewise (Webinar_Attended__c's only reader is the inactive Old_Lead_Router)
    ("OF001", ("salesforce:Account.Old_ERP_ID__c",), "open"),
    ("OF001", ("salesforce:Contact.Webinar_Count__c",), "open"),
    ("OF001", ("salesforce:Lead.Fax_Opt_In__c",), "open"),
    ("OF001", ("salesforce:Lead.Trade_Show_2022__c",), "open"),
    ("OF001", ("salesforce:Lead.Webinar_Attended__c",), "open"),
    ("OF001", ("salesforce:Opportunity.Promo_Code_Q3__c",), "open"),
    ("OF002", ("salesforce:Lead.Event_Badge_Scan_ID__c",), "open"),  # [salesforce] 0.4% from a 2022 list import
    ("OF003", ("salesforce:Contact.NPS_Score__c",), "open"),  # [salesforce] no new value since August 2024
    ("OF004", ("marketo:leads.partnerReferralCode",), "open"),  # [marketo] only the draft Partner Referral form
    ("OF004", ("salesforce:Lead.Lead_Source_2__c",), "open"),  # [salesforce] only the inactive Old_Lead_Router
    # [salesforce][stack] #8: the removed Marketo Measure trial's package fields
    (
        "OF005",
        (
            "salesforce:Contact.bizible2__Marketing_Channel_FT__c",
            "salesforce:Lead.bizible2__Marketing_Channel_FT__c",
            "salesforce:Lead.bizible2__Touchpoint_Date_FT__c",
            "salesforce:Lead.bizible2__Touchpoint_Source_FT__c",
        ),
        "open",
    ),
    # ------------------------------------------------------------------------------------------- tools
    ("RT001", ("amplitude", "mixpanel"), "waived"),  # [stack] #1, [waivers] waived until 2027-03-31
    ("RT001", ("calendly", "chili-piper"), "open"),  # [stack] #1: scheduling twice
    ("RT001", ("drift", "intercom"), "open"),  # [stack] #1: chat twice (its waiver expired)
    ("RT002", ("appcues",), "open"),  # [stack] #2: Intercom has product tours
    ("RT002", ("calendly",), "open"),  # [stack] #2: HubSpot has meetings
    ("RT002", ("drift",), "open"),  # [stack] #2: HubSpot has chat
    ("RT002", ("hightouch",), "open"),  # [stack] #2: Segment has reverse ETL
    ("RT002", ("leandata",), "open"),  # [stack] #2: Chili Piper routes leads too
    ("RT002", ("mailchimp",), "open"),  # [stack] #2: HubSpot sends email
    ("SA001", ("waiver:RT001/drift",), "open"),  # [waivers] expired 2026-09-30
    ("SA002", ("waiver:RT002/typeform",), "open"),  # [waivers] matches nothing since Typeform's surveys are declared
    ("UT001", ("appcues",), "open"),  # [stack] #7, [segment]: nothing flows to it since May
    ("UT002", ("gong",), "open"),  # [stack] #3: 14 of 40 seats
    ("UT003", ("drift",), "open"),  # [stack] #6: notice by 2027-01-01, flagged by RT001/RT002
    ("UT003", ("zoominfo",), "open"),  # [stack] #6: notice by 2026-12-15, auto-renews (a reminder, low)
    ("UT004", ("fullstory",), "open"),  # [segment] a destination nobody declared
]

# Tools no connector reads (declared in the manifest, or discovered without their fields): their mapped fields
# cannot be checked for existence (BS003), types (BS004), options (BS005) or fill rates (BS006).
UNREAD_FIELD_TOOLS = (
    "6sense", "amplitude", "calendly", "chili-piper", "clearbit", "drift", "gong", "google-analytics-4", "intercom",
    "leandata", "linkedin-ads", "mixpanel", "outreach", "segment", "snowflake", "typeform", "webflow", "zoominfo",
)  # fmt: skip

# Genuine "could not check" results, each with the reason the data cannot answer it.
EXPECTED_INCONCLUSIVE: list[tuple[str, str]] = [
    *((rule, tool) for rule in ("BS003", "BS004", "BS005", "BS006") for tool in UNREAD_FIELD_TOOLS),
    # Declared flows shown running only by their Salesforce connected app's token use (no counts, no success time).
    ("BS001", "chili-piper->salesforce"),
    ("BS001", "gong->salesforce"),
    ("BS001", "outreach->salesforce"),
    ("BS001", "snowflake->salesforce"),  # via Hightouch's connected app
    ("BS001", "zoominfo->salesforce"),
    ("BS002", "chili-piper->salesforce"),
    ("BS002", "gong->salesforce"),
    ("BS002", "outreach->salesforce"),
    ("BS002", "snowflake->salesforce"),
    ("BS002", "zoominfo->salesforce"),
    ("BS001", "hubspot->salesforce"),  # HubSpot shows no sync error counts (BS002 judges its staleness)
    # Flows found in HubSpot workflows (custom code to Segment, a Zapier webhook): no run data at all.
    ("BS001", "hubspot->segment"),
    ("BS001", "hubspot->zapier"),
    ("BS002", "hubspot->segment"),
    ("BS002", "hubspot->zapier"),
    # Intercom's Salesforce app: token use only (BS009 reports it idle), no counts, no success time, no mappings.
    ("BS001", "intercom->salesforce:connected-app"),
    ("BS002", "intercom->salesforce:connected-app"),
    ("BS007", "intercom->salesforce:connected-app"),
    # Segment's warehouse sync: the workspace API reports no deliveries for warehouses.
    ("BS001", "segment->snowflake"),
    ("BS002", "segment->snowflake"),
    # Segment destinations the manifest does not declare: no expected interval to judge staleness against.
    ("BS002", "segment->fullstory"),
    ("BS002", "segment->google-ads"),
    ("BS002", "segment->hubspot"),
    ("BS002", "segment->linkedin-ads"),
    ("BS007", "segment->hubspot"),  # which HubSpot properties the destination writes is not recorded
    # Flows whose tools form a loop while their field mappings are not recorded.
    ("BS008", "hubspot->segment"),
    ("BS008", "hubspot->zapier"),
    ("BS008", "segment->hubspot"),
    ("BS008", "segment->linkedin-ads"),
    ("BS008", "segment->snowflake"),
    ("HY002", "marketo"),  # no known custom-field limit for Marketo objects
    ("LC001", "marketo:leads.leadStatus"),  # free text in Marketo: no option list to compare
    ("LC003", "marketo:leads.leadStatus"),
    ("OF001", "marketo"),  # the subscription_c custom object's fill rates are not measured
    ("OF002", "marketo"),
    ("OF002", "marketo:leads.leadScoreLegacy"),  # Marketo reports no field creation dates: grace period unknown
    ("OF003", "marketo"),  # Marketo's sample gives no newest-value dates
    ("UT001", "mailchimp"),  # only declared: no connector sees its flows or activity
    ("UT003", "hightouch"),  # flagged by RT002, but no notice or renewal date is on file
]


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    out = tmp_path_factory.mktemp("demo-findings")
    with open(out / "console.txt", "w", encoding="utf-8") as stream:
        code = run_demo(out / "demo", console=Console(file=stream, width=200))
    assert code == 0
    return AuditResult.model_validate_json((out / "demo" / "findings.json").read_text(encoding="utf-8"))


def _diff(label: str, expected: Set[object], actual: Set[object]) -> str:
    missing = "\n".join(f"  missed: {k}" for k in sorted(expected - actual, key=str))
    extra = "\n".join(f"  not planted: {k}" for k in sorted(actual - expected, key=str))
    return f"{label} differ from the planted list:\n{missing}\n{extra}"


def test_planted_lists_have_no_duplicates() -> None:
    assert len(set(PLANTED)) == len(PLANTED)
    assert len(set(EXPECTED_INCONCLUSIVE)) == len(EXPECTED_INCONCLUSIVE)


def test_findings_are_exactly_the_planted_problems(demo_result: AuditResult) -> None:
    actual = [(f.rule, tuple(sorted(f.subjects)), f.status.value) for f in demo_result.findings]
    assert len(actual) == len(set(actual)), "a finding is reported twice"
    assert set(actual) == set(PLANTED), _diff("findings", set(PLANTED), set(actual))


def test_could_not_check_only_what_the_data_cannot_answer(demo_result: AuditResult) -> None:
    actual = {(i.rule, i.subject) for i in demo_result.inconclusive}
    assert actual == set(EXPECTED_INCONCLUSIVE), _diff("inconclusive checks", set(EXPECTED_INCONCLUSIVE), actual)


def test_every_registered_rule_fires_on_the_demo(demo_result: AuditResult) -> None:
    fired = {f.rule for f in demo_result.findings}
    assert set(default_registry().ids()) - fired == set()
    assert {rule for rule, _, _ in PLANTED} == set(default_registry().ids())
