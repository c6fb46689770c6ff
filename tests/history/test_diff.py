"""The diff of the history's snapshots lists exactly the changes the history made, and never calls a part that
a failed connector did not read "removed"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from stackaudit.history.diff import diff_snapshots
from stackaudit.history.model import SnapshotDiff
from stackaudit.history.prose import MARKDOWN, PLAIN, item_sentence, not_comparable_sentence
from stackaudit.history.render import diff_markdown
from stackaudit_inventory import Origin, Snapshot

Row = tuple[Any, ...]


def rows(diff: SnapshotDiff) -> set[Row]:
    """Each item as (part, change, id[, asset, mode], (attr, old, new, added, removed)...)."""
    out = set()
    for i in diff.items:
        attrs = tuple((a.name, a.old, a.new, tuple(a.added), tuple(a.removed)) for a in i.attrs)
        key: Row = (i.part, i.change.value, i.id)
        if i.part == "references":
            key += (i.asset, i.mode)
        out.add(key + attrs)
    return out


EXPECTED: dict[tuple[int, int], set[Row]] = {
    (0, 1): {
        ("tools", "added", "hotjar"),
        (
            "tools",
            "changed",
            "gong",
            ("owner", "Ravi Menon (Sales Enablement)", "Ivy Chen (Sales Enablement)", (), ()),
            ("annual_cost", 64000.0, 48000.0, (), ()),
        ),
        ("fields", "added", "hubspot:contacts.nps_score"),
        ("fields", "removed", "hubspot:contacts.partner_code"),
        ("fill_rates", "changed", "hubspot:contacts.region", ("fill_rate", 0.6, 0.1, (), ())),
        ("references", "added", "hubspot:contacts.nps_score", "hubspot:workflow/7", "read"),
    },
    (1, 2): {
        ("tools", "removed", "mailchimp"),
        (
            "tools",
            "changed",
            "zoominfo",
            ("renewal", "2027-02-13", "2028-02-13", (), ()),
            ("notice_date", "2026-12-15", "2027-12-15", (), ()),
        ),
        ("fields", "changed", "hubspot:contacts.email", ("description", None, "Primary email", (), ())),
        ("fields", "changed", "hubspot:contacts.region", ("options", None, None, ("apac",), ("latam",))),
        (
            "fields",
            "changed",
            "salesforce:Lead.Legacy_Score__c",
            ("type", "number", "string", (), ()),
            ("owning_tool", None, "marketo", (), ()),
        ),
        ("fields", "changed", "salesforce:Lead.Region__c", ("label", "Region", "Sales Region", (), ())),
        ("integrations", "added", "hubspot->snowflake"),
        ("integrations", "changed", "drift->salesforce", ("status", "error", "active", (), ())),
        ("references", "removed", "hubspot:contacts.email", "hubspot:form/1", "write"),
    },
    # S3 is partial: Salesforce failed. Only what HubSpot really changed is a change.
    (2, 3): {("fields", "added", "hubspot:contacts.utm_term")},
    (3, 4): {("integrations", "changed", "hubspot->snowflake", ("status", "active", "error", (), ()))},
    # Across the gap, both sides complete: Region__c's deletion shows.
    (2, 4): {
        ("fields", "added", "hubspot:contacts.utm_term"),
        ("fields", "removed", "salesforce:Lead.Region__c"),
        ("integrations", "changed", "hubspot->snowflake", ("status", "active", "error", (), ())),
    },
}


@pytest.mark.parametrize("pair", sorted(EXPECTED), ids=lambda p: f"S{p[0]}-S{p[1]}")
def test_diff_lists_exactly_the_known_changes(loaded: Callable[[int], Snapshot], pair: tuple[int, int]) -> None:
    diff = diff_snapshots(loaded(pair[0]), loaded(pair[1]))
    assert rows(diff) == EXPECTED[pair]


def test_complete_pairs_have_nothing_not_comparable(loaded: Callable[[int], Snapshot]) -> None:
    for pair in ((0, 1), (1, 2), (2, 4)):
        assert diff_snapshots(loaded(pair[0]), loaded(pair[1])).not_comparable == []


def test_failed_connector_is_not_comparable_never_removed(loaded: Callable[[int], Snapshot]) -> None:
    diff = diff_snapshots(loaded(2), loaded(3))
    assert not diff.part("fields", "removed")  # type: ignore[arg-type]
    assert not diff.part("objects", "removed")  # type: ignore[arg-type]
    by_cap = {(n.source, n.capability): n for n in diff.not_comparable}
    assert set(by_cap) == {("salesforce", "fields"), ("salesforce", "fill_rates"), ("salesforce", "references")}
    fields = by_cap[("salesforce", "fields")]
    assert (fields.old, fields.new, fields.skipped) == ("complete", "missing", 5)  # 4 fields and the Lead object
    assert "session expired" in fields.reason
    assert "salesforce:Lead.Old_Campaign__c" in fields.examples
    sentence = not_comparable_sentence(fields, PLAIN)
    assert sentence.startswith("salesforce fields: complete before, missing now")
    assert "5 items not compared" in sentence

    back = diff_snapshots(loaded(3), loaded(4))
    assert not back.part("fields", "added")  # type: ignore[arg-type]
    fields = {(n.source, n.capability): n for n in back.not_comparable}[("salesforce", "fields")]
    assert (fields.old, fields.new, fields.skipped) == ("missing", "complete", 4)


def test_a_tool_seen_only_by_a_failed_connector_is_not_removed(loaded: Callable[[int], Snapshot]) -> None:
    s2, s3 = loaded(2), loaded(3)
    shadow = s2.tools_by_id["hotjar"].model_copy(update={"id": "fullstory", "name": "FullStory"})
    shadow = shadow.model_copy(update={"origin": Origin.discovered, "discovered_by": ["salesforce"]})
    old = Snapshot.model_validate({**s2.model_dump(), "tools": [*s2.tools, shadow]})
    diff = diff_snapshots(old, s3)
    assert not diff.part("tools", "removed")  # type: ignore[arg-type]
    tools = {(n.source, n.capability): n for n in diff.not_comparable}[("salesforce", "tools")]
    assert tools.skipped == 1 and tools.examples == ["fullstory"]


def test_fill_threshold_is_absolute_and_strict(loaded: Callable[[int], Snapshot]) -> None:
    s0, s1 = loaded(0), loaded(1)
    assert diff_snapshots(s0, s1, fill_threshold=0.5).part("fill_rates") == []  # moved exactly 0.5
    assert len(diff_snapshots(s0, s1, fill_threshold=0.49).part("fill_rates")) == 1
    with pytest.raises(ValueError):
        diff_snapshots(s0, s1, fill_threshold=1.5)


def test_totals_follow_the_changes(loaded: Callable[[int], Snapshot]) -> None:
    diff = diff_snapshots(loaded(0), loaded(2))
    assert diff.new_totals.tools == diff.old_totals.tools  # hotjar in, mailchimp out
    assert diff.old_totals.annual_spend - diff.new_totals.annual_spend == 64000 - 48000 - 2400 + 4200


def test_diff_json_round_trips(loaded: Callable[[int], Snapshot]) -> None:
    diff = diff_snapshots(loaded(2), loaded(3))
    assert SnapshotDiff.model_validate_json(diff.model_dump_json()) == diff
    doc = json.loads(diff.model_dump_json())
    assert doc["not_comparable"][0]["source"] == "salesforce"


def test_sentences_and_markdown(loaded: Callable[[int], Snapshot]) -> None:
    diff = diff_snapshots(loaded(1), loaded(2))
    plain = {item_sentence(i, PLAIN) for i in diff.items}
    assert "Field hubspot:contacts.region: options added: apac; options removed: latam" in plain
    assert "Integration drift->salesforce: status error → active" in plain
    assert "hubspot:form/1 no longer writes hubspot:contacts.email" in plain
    assert "ZoomInfo SalesOS (zoominfo): renewal 2027-02-13 → 2028-02-13; notice date 2026-12-15 → 2027-12-15" in plain
    md = diff_markdown(diff)
    for item in diff.items:
        assert item_sentence(item, MARKDOWN) in md
    assert "`hubspot:contacts.region`" in md


def test_identical_snapshots_have_no_changes(loaded: Callable[[int], Snapshot]) -> None:
    s1 = loaded(1)
    diff = diff_snapshots(s1, s1)
    assert diff.items == [] and diff.not_comparable == []
