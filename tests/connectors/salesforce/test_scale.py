"""The 200-object synthetic org: every field arrives, no dependency row is lost to the 2,000-row cap, and the calls
used are far below the naive count (one describe per object and one count query per field). The figures are
printed (``pytest -s``) and attached to the test report as properties."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stackaudit.fakes.salesforce import FakeOrg, FakeSalesforce, synthetic_org
from stackaudit_connectors.base import PullResult
from stackaudit_inventory import FillMethod, RunStatus

from .conftest import TOKEN, make_connector


@pytest.fixture(scope="module")
def org() -> FakeOrg:
    return synthetic_org()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sf-cache")


@pytest.fixture(scope="module")
def pulls(org: FakeOrg, cache: Path) -> Iterator[tuple[PullResult, PullResult, int]]:
    with FakeSalesforce(org, token=TOKEN) as fake:
        options = {"cache_dir": str(cache)}
        first = make_connector(fake, options=options, declared={}).pull()
        seen = len(fake.requests)
        second = make_connector(fake, options=options, declared={}).pull()
        assert fake.non_read_requests() == []
        yield first, second, seen


def test_org_shape(org: FakeOrg) -> None:
    assert len(org.objects) == 200
    wide = org.sobject("Wide_Object__c")
    assert wide is not None and sum(1 for f in wide.fields.values() if f.custom) == 800


def test_every_field_of_the_wide_object_arrives(pulls: tuple[PullResult, PullResult, int], org: FakeOrg) -> None:
    first, _, _ = pulls
    assert first.run.status is RunStatus.complete, first.run.errors
    wide = [f for f in first.part.fields if f.object == "Wide_Object__c" and f.custom]
    assert len(wide) == 800
    for fld in wide:
        assert fld.fill is not None and fld.fill.method in (FillMethod.exact, FillMethod.sampled), fld.id
        assert fld.created_at is not None and fld.created_by in ("Admin User", "Ops User")
    got = {f.name: f.fill for f in wide}
    fake = org.sobject("Wide_Object__c")
    assert fake is not None
    for spec in (f for f in fake.fields.values() if f.custom and f.bits == 0):
        fill = got[spec.name]
        assert fill is not None and fill.filled == 0
        # Empty is proven by a count wherever the field can be filtered; long text areas are only ever sampled.
        assert fill.method is (FillMethod.exact if spec.filterable else FillMethod.sampled), spec.name


def test_no_dependency_row_is_lost_to_the_cap(pulls: tuple[PullResult, PullResult, int], org: FakeOrg) -> None:
    first, second, _ = pulls
    rows = org.tables["MetadataComponentDependency"]
    assert len(rows) > 2000
    by_field: dict[str, int] = {}
    for row in rows:
        by_field[row["RefMetadataComponentId"]] = by_field.get(row["RefMetadataComponentId"], 0) + 1
    assert max(by_field.values()) > 2000  # one field alone is past the cap: only a split by type gets it all
    for result in (first, second):
        refs = [r for r in result.part.references if "MetadataComponentDependency" in (r.context or "")]
        assert len(refs) == len(rows)
        heavy = [r for r in refs if r.field == "salesforce:Heavy_Deps__c.Heavy_000__c"]
        assert len(heavy) == max(by_field.values())
        assert not any("beyond the 2,000-row cap" in (c.reason or "") for c in result.run.coverage.values())


def test_calls_far_below_the_naive_count(pulls: tuple[PullResult, PullResult, int],
                                         record_property: Callable[[str, object], None]) -> None:
    first, second, seen = pulls
    objects = len(first.part.objects)
    naive = objects + len(first.part.fields)  # one describe per object, one count query per field
    figures = {
        "objects_audited": objects,
        "fields": len(first.part.fields),
        "calls_first_pull": first.run.api_calls,
        "calls_repeat_pull": second.run.api_calls,
        "naive_calls": naive,
    }
    for key, value in figures.items():
        record_property(key, value)
    print(f"\nsalesforce 200-object org: {figures}")
    assert first.run.api_calls == seen
    assert first.run.api_calls * 20 < naive
    assert second.run.api_calls <= first.run.api_calls / 2
    assert second.run.status is RunStatus.complete
    estimate = int(next(n for n in first.run.notes if n.startswith("API calls:")).split("estimated ")[1].split()[0])
    assert first.run.api_calls <= estimate, "the quota guard's estimate is an upper bound"


def test_cache_file_holds_no_record_values(pulls: tuple[PullResult, PullResult, int], cache: Path) -> None:
    files = list(cache.glob("salesforce-*.describe.json"))
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert "Synthetic field" in text  # descriptions (metadata) are cached...
    assert "Name 1" not in text and "@" not in text  # ...record values never are
