"""DF001 and DF002 in detail: name normalisation, grouping, the keep suggestion, and grouping that stays linear.

Performance is asserted through the work done (fuzzy comparisons counted by the grouping), never wall time.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from stackaudit.rules._fields import FieldUse, name_key, type_family
from stackaudit.rules.duplicate_field.df001_near_duplicate_fields import (
    BLOCK,
    MAX_BLOCK,
    Params,
    find_duplicate_groups,
    stem_blocks,
    suggest_keeper,
)
from stackaudit.rules.duplicate_field.df002_unmapped_concept import entity_kind
from stackaudit_inventory.models import FieldDef, FillMethod, FillRate, PickOption


def fld(
    name: str,
    *,
    label: str | None = None,
    type: str = "string",
    custom: bool = True,
    options: list[str] | None = None,
    filled: int | None = None,
    created: int | None = None,
) -> FieldDef:
    return FieldDef(
        id=f"hubspot:contacts.{name}",
        tool="hubspot",
        object="contacts",
        name=name,
        label=label,
        type=type,
        custom=custom,
        options=[PickOption(value=o) for o in options] if options else None,
        fill=FillRate(method=FillMethod.exact, filled=filled, total=1000) if filled is not None else None,
        created_at=datetime(created, 1, 1, tzinfo=UTC) if created else None,
    )


def groups_of(fields: list[FieldDef], **params: int) -> list[list[str]]:
    grouping = find_duplicate_groups(fields, Params(**params))
    return [sorted(fields[i].name for i in g) for g in grouping.groups]


# ------------------------------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    ("text", "api_name", "stem", "number", "marks"),
    [
        ("lead_source", False, "leadsource", None, ()),
        ("Lead Source 2", False, "leadsource", 2, ()),
        ("leadsource_old", False, "leadsource", None, ("old",)),
        ("Lead Source (old)", False, "leadsource", None, ("old",)),
        ("LeadSource", True, "leadsource", None, ()),
        ("Lead_Source__c", True, "leadsource", None, ()),
        ("leadSource2", True, "leadsource", 2, ()),
        ("Copy of Lead Source", False, "leadsource", None, ("copy of",)),
        ("Lead Source - copy", False, "leadsource", None, ("copy",)),
        ("legacy_lead_source", False, "leadsource", None, ("legacy",)),
        ("DO NOT USE Lead Source", False, "leadsource", None, ("do not use",)),
        ("score_v3", False, "score", 3, ()),
        ("Lead Score v2 (old)", False, "leadscore", 2, ("old",)),
        ("MQL_Date__c", True, "mqldate", None, ()),
        # a year is part of the name, and a word in the middle keeps its meaning
        ("webinar_2023_attended", False, "webinar2023attended", None, ()),
        ("utm_campaign_2024", False, "utmcampaign2024", None, ()),
        ("age_old_value", False, "ageoldvalue", None, ()),
        # stripping everything would leave nothing: keep the words
        ("old", False, "old", None, ()),
        ("copy", False, "copy", None, ()),
    ],
)
def test_name_key(text: str, api_name: bool, stem: str, number: int | None, marks: tuple[str, ...]) -> None:
    key = name_key(text, api_name=api_name)
    assert (key.stem, key.number, key.marks) == (stem, number, marks)
    assert key.decorated == bool(number is not None or marks)


def test_name_key_strips_a_hosts_own_prefix_only_when_asked() -> None:
    assert name_key("hs_lead_status").stem == "hsleadstatus"
    assert name_key("hs_lead_status", strip_prefixes=["hs_"]).stem == "leadstatus"
    assert name_key("hs_", strip_prefixes=["hs_"]).stem == "hs"  # nothing would be left


def test_type_families() -> None:
    assert type_family("email") == type_family("string") == type_family("text") == "text"
    assert type_family("datetime") == type_family("date") == "date"
    assert type_family("enum") != type_family("multienum")
    assert type_family("number") == "number"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("contacts", "person"), ("Lead", "person"), ("lead", "person"), ("identify", "person"),
     ("Account", "company"), ("companies", "company"), ("Opportunity", "deal"), ("Invoice__c", "invoice")],
)  # fmt: skip
def test_entity_kinds(name: str, kind: str) -> None:
    assert entity_kind(name) == kind


# ----------------------------------------------------------------------------------------------- grouping


def test_the_issue_example_is_one_group() -> None:
    fields = [
        fld("lead_source", label="Lead Source", type="enum"),
        fld("lead_source_2", label="Lead Source 2", type="enum"),
        fld("leadsource_old", label="Lead Source (old)", type="enum"),
        fld("lead_source_text", label="Lead Source Text"),  # another type family
    ]
    assert groups_of(fields) == [["lead_source", "lead_source_2", "leadsource_old"]]


def test_labels_link_fields_whose_names_differ() -> None:
    fields = [
        fld("hs_analytics_source", label="Original Source", custom=False),
        fld("orig_src", label="Original Source"),
    ]
    assert groups_of(fields) == [["hs_analytics_source", "orig_src"]]


@pytest.mark.parametrize(
    "names",
    [
        ["address_line_1", "address_line_2"],  # a numbered series
        ["phone_2", "phone_3"],
        ["webinar_2023_attended", "webinar_2024_attended"],  # differ only in digits
        ["first_touch_campaign_content", "last_touch_campaign_content"],  # different words
        ["billing_street", "shipping_street"],
        ["mql_date", "sql_date"],
        ["channel_stage", "channel_state"],  # one letter, another word
        ["timeline_channel", "fit_timeline_channel"],  # an extra word
        ["score", "scope"],  # too short for fuzzy matching
    ],
)
def test_distinct_concepts_stay_apart(names: list[str]) -> None:
    assert groups_of([fld(n) for n in names]) == []


def test_a_series_keeps_apart_but_its_unnumbered_copies_link() -> None:
    fields = [fld("phone_1"), fld("phone_2"), fld("phone"), fld("phone_old")]
    assert groups_of(fields) == [["phone", "phone_old"]]


def test_one_number_beside_an_unnumbered_name_is_a_copy() -> None:
    assert groups_of([fld("phone"), fld("phone_2")]) == [["phone", "phone_2"]]


def test_fuzzy_links_plurals_and_typos_above_the_threshold() -> None:
    fields = [fld("lead_source_detail"), fld("lead_sources_detail"), fld("lead_sorce_detail")]
    assert groups_of(fields) == [["lead_sorce_detail", "lead_source_detail", "lead_sources_detail"]]
    pair = [fld("lead_industry_category"), fld("lead_industry_categories")]
    assert groups_of(pair) == [["lead_industry_categories", "lead_industry_category"]]
    assert groups_of(fields, name_similarity=100) == []
    grouping = find_duplicate_groups(fields, Params())
    assert any("similar names" in why for _, _, why in grouping.links)


def test_identical_option_sets_link_unless_generic_or_too_large() -> None:
    hot = ["Hot", "Warm", "Cold"]
    assert groups_of([fld("rating", type="enum", options=hot), fld("temperature", type="enum", options=hot)]) == [
        ["rating", "temperature"]
    ]
    yes_no = ["Yes", "No", "Unknown"]
    assert groups_of([fld("attended", type="enum", options=yes_no), fld("opted_in", type="enum", options=yes_no)]) == []
    scores = ["1", "2", "3", "4", "5"]
    assert groups_of([fld("fit", type="enum", options=scores), fld("intent", type="enum", options=scores)]) == []
    two = ["a", "b"]
    assert groups_of([fld("x_one", type="enum", options=two), fld("y_two", type="enum", options=two)]) == []
    states = [f"state {i}" for i in range(51)]
    assert groups_of([fld("home", type="enum", options=states), fld("office", type="enum", options=states)]) == []
    assert groups_of(
        [fld("home", type="enum", options=states), fld("office", type="enum", options=states)], max_options=60
    ) == [["home", "office"]]


def test_params_reject_min_options_above_max() -> None:
    with pytest.raises(ValueError, match="max_options"):
        Params(min_options=10, max_options=5)


# ------------------------------------------------------------------------------------------ keep suggestion


def _uses(fields: list[FieldDef], counts: dict[str, int] | None = None) -> dict[str, FieldUse]:
    counts = counts or {}
    return {f.id: FieldUse(tuple(f"a/{i}" for i in range(counts.get(f.name, 0))), (), ()) for f in fields}


def test_keep_the_standard_field() -> None:
    fields = [fld("LeadSource", custom=False, filled=10), fld("Lead_Source__c", filled=900)]
    s = suggest_keeper(fields, _uses(fields))
    assert s.keep.name == "LeadSource" and "standard field" in s.why


def test_keep_the_fullest_then_the_most_used() -> None:
    fields = [fld("a", filled=620), fld("b", filled=30), fld("c", filled=0)]
    s = suggest_keeper(fields, _uses(fields, {"b": 5}))
    assert s.keep.name == "a"
    assert "fullest (62% filled against 3%, 0%)" in s.why and "most used" not in s.why
    fields = [fld("a", filled=10), fld("b", filled=10)]
    s = suggest_keeper(fields, _uses(fields, {"b": 2}))
    assert s.keep.name == "b" and s.why == "it is the most used (2 active references and mappings against 0)"


def test_keep_the_undecorated_then_the_oldest() -> None:
    fields = [fld("lead_source_old", created=2019), fld("lead_source", created=2022)]
    s = suggest_keeper(fields, _uses(fields))
    assert s.keep.name == "lead_source" and "copies, versions or old fields" in s.why
    fields = [fld("source_a", created=2022), fld("source_b", created=2019)]
    s = suggest_keeper(fields, _uses(fields))
    assert s.keep.name == "source_b" and s.why.endswith("it is the oldest")


# ---------------------------------------------------------------------------------- linear-ish grouping

WORDS = (
    "lead source campaign email score date owner region industry revenue employees stage status type channel "
    "medium content term first last touch web form event partner product plan tier trial signup demo request "
    "country state city phone mobile company account contact deal amount close reason lost won segment persona "
    "role title department budget timeline authority need intent fit engagement webinar"
).split()


def _names(rng: random.Random, n: int, prefix: str = "", suffix: str = "") -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add(prefix + "_".join(rng.choice(WORDS) for _ in range(rng.choice((2, 3, 4)))) + suffix)
    return sorted(out)


def test_an_800_field_object_costs_a_few_comparisons_per_field_and_finds_planted_copies() -> None:
    rng = random.Random(7)
    names = _names(rng, 800)
    fields = [fld(n, label=n.replace("_", " ").title()) for n in names]
    planted = [names[10], names[200], names[700]]
    fields += [fld(n + "_old") for n in planted] + [fld(n + "_2") for n in planted]
    grouping = find_duplicate_groups(fields, Params())
    assert grouping.fuzzy_comparisons < 10 * len(fields)  # against 320,000 for all pairs
    assert sorted(sorted(fields[i].name for i in g) for g in grouping.groups) == sorted(
        sorted([n, n + "_2", n + "_old"]) for n in planted
    )


def test_blocks_never_outgrow_the_cap() -> None:
    rng = random.Random(11)
    stems = [name_key(n).stem for n in _names(rng, 5000, prefix="acme_corp_", suffix="_c")]
    for side in (0, -1):
        blocks = list(stem_blocks(sorted(set(stems)), side, BLOCK))
        assert blocks and max(len(b) for b in blocks) <= MAX_BLOCK


def test_a_house_prefix_on_every_field_does_not_make_one_big_block() -> None:
    rng = random.Random(11)
    fields = [fld(n) for n in _names(rng, 800, prefix="acme_corp_", suffix="_c")]
    grouping = find_duplicate_groups(fields, Params())
    # Every stem shares its first and last letters with all others; re-blocking keeps the work per field bounded.
    assert grouping.fuzzy_comparisons < 10 * len(fields)
    assert grouping.groups == []


def test_numbered_fields_are_never_compared_fuzzily() -> None:
    fields = [fld(f"custom_field_{i:04d}") for i in range(800)]
    grouping = find_duplicate_groups(fields, Params())
    assert grouping.fuzzy_comparisons == 0
    assert grouping.groups == []


def test_work_per_field_is_bounded_whatever_the_object_size() -> None:
    # Each stem meets at most MAX_BLOCK - 1 others per side, and a field has at most two stems (name, label).
    rng = random.Random(3)
    for n in (800, 3200):
        fields = [fld(name, label=name.replace("_", " ")) for name in _names(rng, n)]
        grouping = find_duplicate_groups(fields, Params())
        assert grouping.fuzzy_comparisons <= 2 * n * (MAX_BLOCK - 1)
        assert grouping.groups == []  # random word combinations are not copies of each other


def test_grouping_does_not_depend_on_field_order() -> None:
    rng = random.Random(5)
    names = [*_names(rng, 300), "lead_source", "lead_source_2", "leadsource_old"]
    fields = [fld(n) for n in names]
    shuffled = fields[:]
    rng.shuffle(shuffled)
    first = sorted(sorted(fields[i].id for i in g) for g in find_duplicate_groups(fields, Params()).groups)
    second = sorted(sorted(shuffled[i].id for i in g) for g in find_duplicate_groups(shuffled, Params()).groups)
    assert first == second
