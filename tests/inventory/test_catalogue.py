"""The vendor catalogue: bundled data, lookups, manifest overrides and validation."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from pydantic import ValidationError

from stackaudit_inventory import ids
from stackaudit_inventory.catalogue import (
    CatalogueError,
    FieldPrefix,
    VendorCatalogue,
    VendorEntry,
    load_catalogue,
    name_key,
    segment_destination_key,
)
from stackaudit_inventory.errors import InputError


@pytest.fixture(scope="module")
def cat() -> VendorCatalogue:
    return load_catalogue()


def _tiny(*vendors: VendorEntry) -> VendorCatalogue:
    """A catalogue with a two-word vocabulary, for validation and matching cases."""
    return VendorCatalogue.model_validate(
        {
            "version": 1,
            "updated": "2026-01-01",
            "capabilities": {
                "crm": {"label": "CRM", "description": "d"},
                "chat": {"label": "Chat", "description": "d"},
            },
            "vendors": vendors,
        }
    )


# ------------------------------------------------------------------------------------------- bundled data


def test_data_file_ships_inside_the_package() -> None:
    path = resources.files("stackaudit_inventory") / "data" / "vendors.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw) >= {"version", "updated", "capabilities", "vendors"}
    assert len(raw["vendors"]) >= 140


def test_bundled_catalogue_loads_validates_and_is_cached(cat: VendorCatalogue) -> None:
    assert load_catalogue() is cat
    assert load_catalogue([]) is cat
    assert len(cat.vendors) >= 140
    assert cat.version >= 1
    assert all(v.source == "catalogue" for v in cat.vendors)


def test_every_entry_is_well_formed(cat: VendorCatalogue) -> None:
    for entry in cat.vendors:
        assert ids.is_tool_slug(entry.id), entry.id
        assert entry.capabilities, f"{entry.id} has no capability"
        assert all(c in cat.capabilities for c in entry.capabilities), entry.id
        assert entry.vendor, f"{entry.id} has no vendor"
        if entry.suite:
            assert len(entry.capabilities) >= 2, f"suite {entry.id} covers one capability"


# Capabilities the issue and DOMAIN.md name; the vocabulary must hold each of them.
ISSUE_CAPABILITIES = (
    "crm",
    "marketing-automation",
    "email-marketing",
    "cdp",
    "product-analytics",
    "web-analytics",
    "enrichment",
    "intent-data",
    "chat",
    "sales-engagement",
    "conversation-intelligence",
    "lead-routing",
    "scheduling",
    "forms",
    "landing-pages",
    "webinars",
    "ads",
    "data-warehouse",
    "reverse-etl",
    "ipaas",
    "abm",
    "attribution",
    "data-quality",
    "cms",
    "social-media",
    "surveys",
    "customer-success",
    "helpdesk",
    "cpq",
    "billing",
    "seo",
    "experimentation",
    "consent-management",
    "e-signature",
)


def test_vocabulary_is_labelled_and_all_used(cat: VendorCatalogue) -> None:
    used = {c for v in cat.vendors for c in v.capabilities}
    assert used == set(cat.capabilities)
    for slug, info in cat.capabilities.items():
        assert info.label and info.description, slug
    for slug in ISSUE_CAPABILITIES:
        assert slug in cat.capabilities, slug


def test_every_identifier_round_trips_to_its_entry(cat: VendorCatalogue) -> None:
    for entry in cat.vendors:
        assert cat.by_id(entry.id) is entry
        for name in entry.names:
            assert cat.match_name(name) is entry, name
        for ns in entry.salesforce_namespaces:
            assert cat.by_salesforce_namespace(ns) is entry, ns
            assert cat.owner_by_field_name("some-crm", f"{ns}__Anything__c") is entry, ns
        for dest in entry.segment_destinations:
            assert cat.by_segment_destination(dest) is entry, dest


# The DOMAIN.md stack table, by the names and aliases people use for each product.
DOMAIN_PRODUCTS = [
    ("Salesforce Sales Cloud", "salesforce"),
    ("Salesforce", "salesforce"),
    ("SFDC", "salesforce"),
    ("HubSpot", "hubspot"),
    ("HubSpot CRM", "hubspot"),
    ("HubSpot Marketing Hub", "hubspot"),
    ("Microsoft Dynamics 365", "dynamics-365"),
    ("Dynamics 365", "dynamics-365"),
    ("Pipedrive", "pipedrive"),
    ("Zoho CRM", "zoho-crm"),
    ("Marketo Engage", "marketo"),
    ("Marketo", "marketo"),
    ("Account Engagement (Pardot)", "pardot"),
    ("Account Engagement", "pardot"),
    ("Pardot", "pardot"),
    ("Mailchimp", "mailchimp"),
    ("Braze", "braze"),
    ("Customer.io", "customer-io"),
    ("ActiveCampaign", "activecampaign"),
    ("Segment", "segment"),
    ("Twilio Segment", "segment"),
    ("RudderStack", "rudderstack"),
    ("mParticle", "mparticle"),
    ("Google Analytics 4", "google-analytics-4"),
    ("GA4", "google-analytics-4"),
    ("Mixpanel", "mixpanel"),
    ("Amplitude", "amplitude"),
    ("Heap", "heap"),
    ("ZoomInfo", "zoominfo"),
    ("Clearbit", "clearbit"),
    ("HubSpot Breeze Intelligence", "clearbit"),
    ("Breeze Intelligence", "clearbit"),
    ("Apollo", "apollo"),
    ("Apollo.io", "apollo"),
    ("6sense", "6sense"),
    ("Bombora", "bombora"),
    ("Drift", "drift"),
    ("Salesloft Drift", "drift"),
    ("Intercom", "intercom"),
    ("Qualified", "qualified"),
    ("Outreach", "outreach"),
    ("Salesloft", "salesloft"),
    ("Gong", "gong"),
    ("Chorus", "chorus"),
    ("Chorus.ai", "chorus"),
    ("LeanData", "leandata"),
    ("Chili Piper", "chili-piper"),
    ("Calendly", "calendly"),
    ("Typeform", "typeform"),
    ("Google Ads", "google-ads"),
    ("LinkedIn Ads", "linkedin-ads"),
    ("Meta", "meta-ads"),
    ("Meta (Conversions API)", "meta-ads"),
    ("Facebook Ads", "meta-ads"),
    ("Snowflake", "snowflake"),
    ("BigQuery", "bigquery"),
    ("Hightouch", "hightouch"),
    ("Census", "census"),
    ("Zapier", "zapier"),
    ("Workato", "workato"),
    ("Tray.io", "tray-io"),
    ("Tray", "tray-io"),
]


@pytest.mark.parametrize(("name", "tool_id"), DOMAIN_PRODUCTS)
def test_domain_products_resolve_by_name_and_alias(cat: VendorCatalogue, name: str, tool_id: str) -> None:
    entry = cat.match_name(name)
    assert entry is not None, name
    assert entry.id == tool_id


# --------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize("spelling", ["Tray.io", "tray io", "TRAY-IO", "  tray_io  ", "Tray IO"])
def test_match_name_ignores_case_space_and_punctuation(cat: VendorCatalogue, spelling: str) -> None:
    entry = cat.match_name(spelling)
    assert entry is not None and entry.id == "tray-io"


@pytest.mark.parametrize("name", ["Hubspott", "Salesforc", "Zoom Info Pro", "", "---", "Google"])
def test_match_name_does_not_guess(cat: VendorCatalogue, name: str) -> None:
    assert cat.match_name(name) is None


def test_name_key() -> None:
    assert name_key("Customer.io") == "customerio"
    assert name_key("D&B Hoovers") == "dbhoovers"
    assert name_key("Marketo Engagé") == "marketoengage"


# --------------------------------------------------------------------------------------- Segment names


@pytest.mark.parametrize(
    ("destination", "key"),
    [
        ("Intercom Web (Actions)", "intercom"),
        ("Intercom Cloud Mode (Actions)", "intercom"),
        ("Intercom", "intercom"),
        ("Actions Amplitude", "amplitude"),
        ("Amplitude (Actions)", "amplitude"),
        ("Google Analytics 4 Web", "googleanalytics4"),
        ("Google Analytics 4 Cloud", "googleanalytics4"),
        ("Braze Web Mode (Actions)", "braze"),
        ("Mixpanel (Legacy)", "mixpanel"),
        ("Salesforce (prod)", "salesforce"),
        ("Google Adwords Remarketing Lists (Customer Match)", "googleadwordsremarketinglists"),
        ("Web", "web"),
        ("(Actions)", "actions"),
    ],
)
def test_segment_destination_key(destination: str, key: str) -> None:
    assert segment_destination_key(destination) == key


@pytest.mark.parametrize(
    ("destination", "tool_id"),
    [
        ("Salesforce", "salesforce"),
        ("Salesforce (Actions)", "salesforce"),
        ("HubSpot", "hubspot"),
        ("Hubspot Cloud Mode (Actions)", "hubspot"),
        ("Mixpanel", "mixpanel"),
        ("Mixpanel (Actions)", "mixpanel"),
        ("Amplitude", "amplitude"),
        ("Actions Amplitude", "amplitude"),
        ("Google Analytics 4 Web", "google-analytics-4"),
        ("Google Analytics 4 Cloud", "google-analytics-4"),
        ("Intercom Web (Actions)", "intercom"),
        ("Intercom Cloud Mode (Actions)", "intercom"),
        ("Facebook Conversions API (Actions)", "meta-ads"),
        ("LinkedIn Conversions API", "linkedin-ads"),
        ("Salesforce Marketing Cloud (Actions)", "salesforce-marketing-cloud"),
        ("Customer.io (Actions)", "customer-io"),
        ("Heap Web (Actions)", "heap"),
        ("Marketo V2", "marketo"),
        # Not listed as destinations: resolved through product names, keeping a meaningful last word.
        ("Marketing Cloud", "salesforce-marketing-cloud"),
        ("Workato (Actions)", "workato"),
    ],
)
def test_by_segment_destination(cat: VendorCatalogue, destination: str, tool_id: str) -> None:
    entry = cat.by_segment_destination(destination)
    assert entry is not None, destination
    assert entry.id == tool_id


@pytest.mark.parametrize("destination", ["Webhooks", "Google Sheets", "Slack", ""])
def test_unknown_segment_destination(cat: VendorCatalogue, destination: str) -> None:
    assert cat.by_segment_destination(destination) is None


# ------------------------------------------------------------------------------------------ namespaces


@pytest.mark.parametrize(
    ("namespace", "tool_id"),
    [
        ("pi", "pardot"),
        ("PI", "pardot"),
        ("pi__", "pardot"),
        ("mkto_si", "marketo"),
        ("LeanData", "leandata"),
        ("leandata", "leandata"),
        ("Gong", "gong"),
        ("DOZISF", "zoominfo"),
        ("zisf", "zoominfo"),
        ("HubSpot_Inc", "hubspot"),
        ("SBQQ", "salesforce-cpq"),
        ("et4ae5", "salesforce-marketing-cloud"),
        ("bizible2", "marketo-measure"),
    ],
)
def test_by_salesforce_namespace(cat: VendorCatalogue, namespace: str, tool_id: str) -> None:
    entry = cat.by_salesforce_namespace(namespace)
    assert entry is not None and entry.id == tool_id


@pytest.mark.parametrize("namespace", ["pub", "acme", "", "__"])
def test_unknown_namespace(cat: VendorCatalogue, namespace: str) -> None:
    assert cat.by_salesforce_namespace(namespace) is None


# ------------------------------------------------------------------------------------ field ownership


@pytest.mark.parametrize(
    ("host", "field", "owner"),
    [
        ("hubspot", "salesforceleadid", "salesforce"),
        ("hubspot", "salesforcelastsynctime", "salesforce"),
        ("hubspot", "clearbit_industry", "clearbit"),
        ("hubspot", "hs_lead_status", None),  # HubSpot's own property
        ("hubspot", "hubspot_owner_id", None),
        ("hubspot", "lifecyclestage", None),
        ("marketo", "sfdcLeadId", "salesforce"),
        ("salesforce", "sfdcLeadId__c", None),  # `sfdc` marks Salesforce fields only inside Marketo
        ("salesforce", "pi__score__c", "pardot"),
        ("salesforce", "PI__Grade__c", "pardot"),
        ("salesforce", "mkto71_Lead_Score__c", "marketo"),
        ("salesforce", "mkto_si__Last_Interesting_Moment__c", "marketo"),
        ("salesforce", "DOZISF__ZoomInfo_Id__c", "zoominfo"),
        ("salesforce", "LeanData__Reporting_Matched_Account__c", "leandata"),
        ("salesforce", "Gong__Gong_Call__c", "gong"),
        ("salesforce", "accountIntentScore6sense__c", "6sense"),
        ("salesforce", "HubSpot_Inc__HubSpot_Intelligence__c", "hubspot"),
        ("salesforce", "Lead_Score__c", None),
    ],
)
def test_owner_by_field_name_bundled(cat: VendorCatalogue, host: str, field: str, owner: str | None) -> None:
    entry = cat.owner_by_field_name(host, field)
    assert (entry.id if entry else None) == owner


def test_owner_by_field_name_longest_prefix_wins() -> None:
    cat = _tiny(
        VendorEntry(id="acme", name="Acme", capabilities=("crm",), field_prefixes=(FieldPrefix(prefix="acme_"),)),
        VendorEntry(
            id="acme-chat", name="Acme Chat", capabilities=("chat",), field_prefixes=(FieldPrefix(prefix="acme_chat_"),)
        ),
    )
    owner = cat.owner_by_field_name("crm", "acme_chat_last_seen")
    assert owner is not None and owner.id == "acme-chat"
    owner = cat.owner_by_field_name("crm", "acme_score")
    assert owner is not None and owner.id == "acme"


def test_owner_by_field_name_never_blames_another_tool_for_host_fields() -> None:
    cat = _tiny(
        VendorEntry(id="host", name="Host", capabilities=("crm",), field_prefixes=(FieldPrefix(prefix="host_"),)),
        VendorEntry(id="other", name="Other", capabilities=("chat",), field_prefixes=(FieldPrefix(prefix="ho"),)),
    )
    # In the host, its own longer prefix wins and makes the field native.
    assert cat.owner_by_field_name("host", "host_score") is None
    # Elsewhere the same field belongs to the host tool.
    owner = cat.owner_by_field_name("crm", "host_score")
    assert owner is not None and owner.id == "host"
    # A host never owns fields in itself, even when only its own marker matches.
    assert cat.owner_by_field_name("other", "ho_field") is None


def test_prefix_limited_to_hosts() -> None:
    cat = _tiny(
        VendorEntry(
            id="acme",
            name="Acme",
            capabilities=("crm",),
            field_prefixes=(FieldPrefix(prefix="acme", hosts=("hubspot",)),),
        )
    )
    assert cat.owner_by_field_name("hubspot", "acmeid") is not None
    assert cat.owner_by_field_name("marketo", "acmeid") is None


# ------------------------------------------------------------------------------------- small lookups


def test_capability_label_and_primary_capability(cat: VendorCatalogue) -> None:
    assert cat.capability_label("crm") == "CRM"
    assert cat.capability_label("email-marketing") == "Email marketing"
    with pytest.raises(KeyError):
        cat.capability_label("teleportation")
    assert cat.primary_capability("hubspot") == "marketing-automation"
    assert cat.primary_capability("salesforce") == "crm"
    assert cat.primary_capability("gong") == "conversation-intelligence"
    assert cat.primary_capability("no-such-tool") is None


def test_hubspot_is_a_suite_that_covers_chat_forms_and_landing_pages(cat: VendorCatalogue) -> None:
    hubspot = cat.by_id("hubspot")
    assert hubspot is not None and hubspot.suite
    assert {"crm", "email-marketing", "forms", "chat", "landing-pages"} <= set(hubspot.capabilities)
    drift = cat.by_id("drift")
    assert drift is not None and not drift.suite and drift.primary_capability == "chat"


# -------------------------------------------------------------------------------------- manifest wins


def test_manifest_overrides_only_the_fields_it_declares(cat: VendorCatalogue) -> None:
    declared = VendorEntry(id="hubspot", name="HubSpot", capabilities=("crm", "email-marketing"), suite=False)
    merged = load_catalogue([declared])
    hubspot = merged.by_id("hubspot")
    assert hubspot is not None
    assert hubspot.capabilities == ("crm", "email-marketing")
    assert merged.primary_capability("hubspot") == "crm"
    assert hubspot.suite is False
    assert hubspot.source == "manifest"
    # Undeclared fields keep the catalogue's knowledge.
    assert hubspot.salesforce_namespaces == ("HubSpot_Inc",)
    assert merged.match_name("HubSpot Marketing Hub") is hubspot
    # The cached bundled catalogue is untouched.
    original = load_catalogue().by_id("hubspot")
    assert original is not None and original.primary_capability == "marketing-automation"
    assert load_catalogue() is cat


def test_manifest_rename_keeps_the_catalogue_name_matchable() -> None:
    merged = load_catalogue([VendorEntry(id="marketo", name="Marketo (EMEA instance)")])
    marketo = merged.by_id("marketo")
    assert marketo is not None and marketo.name == "Marketo (EMEA instance)"
    assert merged.match_name("Marketo Engage") is marketo
    assert merged.match_name("Marketo (EMEA instance)") is marketo


def test_manifest_entry_wins_what_it_claims_over_bundled_entries() -> None:
    custom = VendorEntry(
        id="legacy-zoominfo",
        name="ZoomInfo (legacy package)",
        capabilities=("enrichment",),
        aliases=("DiscoverOrg",),
        salesforce_namespaces=("DOZISF",),
        segment_destinations=("Mixpanel (Actions)",),
    )
    merged = load_catalogue([custom])
    assert merged.match_name("DiscoverOrg") is merged.by_id("legacy-zoominfo")
    assert merged.by_salesforce_namespace("DOZISF") is merged.by_id("legacy-zoominfo")
    assert merged.by_segment_destination("Mixpanel") is merged.by_id("legacy-zoominfo")
    owner = merged.owner_by_field_name("salesforce", "DOZISF__ZoomInfo_Id__c")
    assert owner is not None and owner.id == "legacy-zoominfo"
    # What it did not claim still resolves to the bundled entry.
    zoominfo = merged.match_name("ZoomInfo")
    assert zoominfo is not None and zoominfo.id == "zoominfo"
    assert merged.by_salesforce_namespace("zisf") is zoominfo
    assert len(merged.vendors) == len(load_catalogue().vendors) + 1


# ---------------------------------------------------------------------------------------- validation


def test_manifest_declaring_one_tool_twice_is_an_error() -> None:
    entry = VendorEntry(id="acme", name="Acme", capabilities=("crm",))
    with pytest.raises(CatalogueError, match="declared twice"):
        load_catalogue([entry, entry])


def test_manifest_entries_clashing_with_each_other_is_an_error() -> None:
    first = VendorEntry(id="acme", name="Acme", capabilities=("crm",), aliases=("Shared",))
    second = VendorEntry(id="acme-two", name="Acme Two", capabilities=("crm",), aliases=("shared",))
    with pytest.raises(CatalogueError, match="'shared' is claimed by both") as info:
        load_catalogue([first, second])
    assert isinstance(info.value, InputError)


def test_manifest_capability_outside_the_vocabulary_is_an_error() -> None:
    with pytest.raises(CatalogueError, match="not in the vocabulary"):
        load_catalogue([VendorEntry(id="acme", name="Acme", capabilities=("emial-marketing",))])


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ({"id": "a", "name": "A"}, {"id": "a", "name": "B"}, "duplicate vendor id 'a'"),
        ({"id": "a", "name": "A", "aliases": ["Same Name"]}, {"id": "b", "name": "same-name"}, "'samename'"),
        (
            {"id": "a", "name": "A", "salesforce_namespaces": ["ns1"]},
            {"id": "b", "name": "B", "salesforce_namespaces": ["NS1"]},
            "Salesforce namespace 'ns1'",
        ),
        (
            {"id": "a", "name": "A", "segment_destinations": ["Acme (Actions)"]},
            {"id": "b", "name": "B", "segment_destinations": ["Acme Web"]},
            "Segment destination 'acme'",
        ),
        (
            {"id": "a", "name": "A", "field_prefixes": ["acme_"]},
            {"id": "b", "name": "B", "field_prefixes": [{"prefix": "ACME_", "hosts": ["hubspot"]}]},
            "field prefix 'acme_'",
        ),
        (
            {"id": "a", "name": "A", "salesforce_namespaces": ["acme"]},
            {"id": "b", "name": "B", "field_prefixes": ["acme__"]},
            "field prefix 'acme__'",
        ),
    ],
)
def test_duplicates_in_one_layer_are_validation_errors(
    first: dict[str, object], second: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _tiny(VendorEntry.model_validate(first), VendorEntry.model_validate(second))


def test_prefixes_in_disjoint_hosts_do_not_clash() -> None:
    cat = _tiny(
        VendorEntry.model_validate({"id": "a", "name": "A", "field_prefixes": [{"prefix": "x_", "hosts": ["h1"]}]}),
        VendorEntry.model_validate({"id": "b", "name": "B", "field_prefixes": [{"prefix": "x_", "hosts": ["h2"]}]}),
    )
    first, second = cat.owner_by_field_name("h1", "x_f"), cat.owner_by_field_name("h2", "x_f")
    assert first is not None and first.id == "a"
    assert second is not None and second.id == "b"


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "Not A Slug", "name": "X"},
        {"id": "x", "name": ""},
        {"id": "x", "name": "X", "capabilities": ["crm", "crm"]},
        {"id": "x", "name": "X", "salesforce_namespaces": ["1bad"]},
        {"id": "x", "name": "X", "salesforce_namespaces": ["much_too_long_namespace"]},
        {"id": "x", "name": "X", "field_prefixes": ["x"]},
        {"id": "x", "name": "X", "field_suffixes": ["_c"]},
        {"id": "x", "name": "X", "confidence": {"colour": "unsure"}},
        {"id": "x", "name": "X", "unknown_key": 1},
    ],
)
def test_invalid_entries_are_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        VendorEntry.model_validate(fields)


def test_entries_are_immutable(cat: VendorCatalogue) -> None:
    entry = cat.by_id("gong")
    assert entry is not None
    with pytest.raises(ValidationError):
        entry.name = "Gong!"  # type: ignore[misc]
