"""Where-used from Tooling ``MetadataComponentDependency``, partitioned so no query loses rows to the 2,000-row cap.

The object returns at most 2,000 rows per query, with no queryMore, no ORDER BY and no COUNT(), so a page of
exactly the cap means rows were cut off, silently. The connector therefore asks first for every dependency on a
custom field in one query and, only when that hits the cap, partitions:

1. by the referencing component's type, in a few groups (flows and Apex, layouts and pages, ...) plus a remainder
   (``NOT IN`` every listed type); a capped group is halved until a single type is capped;
2. a capped single type by the referenced field's Id (``RefMetadataComponentId IN (...)``, lists kept under the
   query-length limit); a capped list is halved until a single field is capped;
3. a single field of a single type still capped cannot be split further: its first 2,000 rows are kept and the
   partition is reported as truncated (the field is clearly in use either way).

What this source cannot see is recorded by the connector as coverage notes: reports, list views, dashboards and
email alerts are not in MetadataComponentDependency, standard fields are not covered, and the object is Beta.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..http import AuthError, DeadlineError, HttpClient, QuotaError, run_bounded
from . import api
from .parse import records_of
from .soql import chunk_by_length, literal

__all__ = ["COMPONENT_TYPE_GROUPS", "DependencyResult", "Partition", "fetch_dependencies"]

SELECT = (
    "SELECT MetadataComponentId, MetadataComponentName, MetadataComponentNamespace, MetadataComponentType, "
    "RefMetadataComponentId, RefMetadataComponentName, RefMetadataComponentType FROM MetadataComponentDependency "
    "WHERE RefMetadataComponentType = 'CustomField'"
)
COMPONENT_TYPE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Flow", "ApexClass", "ApexTrigger", "WorkflowRule", "WorkflowFieldUpdate"),
    ("Layout", "FlexiPage", "CompactLayout", "FieldSet", "QuickAction"),
    ("ValidationRule", "CustomField", "GlobalValueSet", "EmailTemplate", "ListView"),
    ("ApexPage", "ApexComponent", "LightningComponentBundle", "AuraDefinitionBundle", "Report"),
)
STOP = (QuotaError, DeadlineError, AuthError)


@dataclass(frozen=True)
class Partition:
    types: tuple[str, ...] | None = None  # None: every type
    remainder: bool = False  # every type NOT IN the listed groups
    ids: tuple[str, ...] | None = None  # None: every custom field

    def soql(self) -> str:
        parts = [SELECT]
        known = [t for group in COMPONENT_TYPE_GROUPS for t in group]
        if self.remainder:
            parts.append(f"MetadataComponentType NOT IN ({','.join(literal(t) for t in known)})")
        elif self.types:
            parts.append(f"MetadataComponentType IN ({','.join(literal(t) for t in self.types)})")
        if self.ids:
            parts.append(f"RefMetadataComponentId IN ({','.join(literal(i) for i in self.ids)})")
        return " AND ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"types": list(self.types) if self.types else None, "remainder": self.remainder,
                "ids": list(self.ids) if self.ids else None}

    @classmethod
    def from_json(cls, data: Any) -> Partition | None:
        if not isinstance(data, dict):
            return None
        types, ids = data.get("types"), data.get("ids")
        if (types is not None and not isinstance(types, list)) or (ids is not None and not isinstance(ids, list)):
            return None
        return cls(tuple(str(t) for t in types) if types else None, bool(data.get("remainder")),
                   tuple(str(i) for i in ids) if ids else None)

    def describe(self) -> str:
        what = "other component types" if self.remainder else ", ".join(self.types or ("all component types",))
        return f"{what} on {len(self.ids)} field(s)" if self.ids else what


@dataclass
class DependencyResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    queries: int = 0
    truncated: list[str] = field(default_factory=list)
    failed: list[tuple[str, Exception]] = field(default_factory=list)
    leaves: list[Partition] = field(default_factory=list)  # the partitions whose rows were kept


def _capped(page: dict[str, Any], cap: int) -> bool:
    records = records_of(page)
    total = page.get("totalSize")
    return len(records) >= cap or page.get("done") is False or (isinstance(total, int) and total > len(records))


def _split(part: Partition, all_ids: Sequence[str], max_chars: int) -> list[Partition]:
    """The next, finer partitions of a capped one (empty when it cannot be split)."""
    if part.types is None and not part.remainder:
        return [Partition(types=g) for g in COMPONENT_TYPE_GROUPS] + [Partition(remainder=True)]
    if part.types is not None and len(part.types) > 1:
        half = len(part.types) // 2
        return [Partition(types=part.types[:half], ids=part.ids), Partition(types=part.types[half:], ids=part.ids)]
    if part.ids is None:
        fixed = len(Partition(types=part.types, remainder=part.remainder, ids=("x",)).soql())
        chunks = chunk_by_length(all_ids, fixed=fixed, per_item=3, max_chars=max_chars, max_items=10_000)
        return [Partition(types=part.types, remainder=part.remainder, ids=tuple(c)) for c in chunks]
    if len(part.ids) > 1:
        half = len(part.ids) // 2
        return [Partition(part.types, part.remainder, part.ids[:half]), Partition(part.types, part.remainder,
                                                                                    part.ids[half:])]
    return []


def fetch_dependencies(
    client: HttpClient,
    version: str,
    field_ids: Sequence[str],
    *,
    cap: int = 2000,
    max_chars: int = 4000,
    workers: int = 4,
    start: Sequence[Partition] | None = None,
    report: Callable[[int, str], None] = lambda queries, what: None,
) -> DependencyResult:
    """Every dependency row on the custom fields ``field_ids`` (Salesforce Ids), none lost to the cap.

    ``start``: the partitions a previous pull ended with (valid while no object's metadata changed), so a repeat
    pull skips the capped queries above them. Raises quota, deadline and auth errors after keeping what was read;
    records other failures per partition.
    """
    result = DependencyResult()
    seen: set[tuple[Any, Any, Any]] = set()
    level = list(start) if start else [Partition()]
    while level:
        def run(part: Partition) -> dict[str, Any]:
            return api.query_once(client, version, part.soql(), tooling=True)

        outcome = run_bounded(run, level, workers=workers, stop_on=STOP)
        nxt: list[Partition] = []
        for res in outcome.results:
            if not res.ran:
                continue
            result.queries += 1
            if res.error is not None:
                if not isinstance(res.error, STOP):
                    result.failed.append((res.item.describe(), res.error))
                continue
            page = res.value or {}
            capped = _capped(page, cap)
            finer = _split(res.item, field_ids, max_chars) if capped else []
            if capped and finer:
                nxt.extend(finer)
                continue
            if capped:
                result.truncated.append(res.item.describe())
            result.leaves.append(res.item)
            for row in records_of(page):
                key = (row.get("MetadataComponentId"), row.get("RefMetadataComponentId"),
                       row.get("MetadataComponentType"))
                if key not in seen:
                    seen.add(key)
                    result.rows.append(row)
        report(result.queries, f"{len(result.rows)} dependency rows")
        if outcome.stopped is not None:
            raise outcome.stopped
        level = nxt
    return result
