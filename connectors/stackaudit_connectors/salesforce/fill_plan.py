"""Planning fill-rate queries (pure): which query counts which field, the SOQL of each, and the call estimate.

Query kinds:

- ``agg``: ``SELECT COUNT(Id)[, MAX(SystemModstamp)], COUNT(F1), ... FROM Obj [WHERE window]``: ``expr0`` is the
  record count, then (in an object's first batch) the newest record modification, then one count per field;
- ``sample``: ``SELECT Id, F1, ... FROM Obj ORDER BY CreatedDate DESC LIMIT n``: the newest records, for fields
  that cannot be aggregated (checkboxes, multi-select picklists, long text areas);
- ``anyof``: ``SELECT COUNT() FROM Obj WHERE (F1 = true OR F2 != null ...) [AND window]``: 0 proves every listed
  field empty at once; with one field it is that field's exact count;
- ``check``: ``SELECT COUNT(Id), MAX(SystemModstamp) FROM Obj``: unchanged record count and newest modification
  since the cached counts mean no record was created, changed or deleted, so the cached counts still hold;
- ``newest``: ``SELECT MAX(LastModifiedDate) FROM Obj WHERE F != null``: when a value was last written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import FillRateMode, SalesforceConfig
from .parse import FieldSpec
from .soql import chunk_by_length

__all__ = ["SYSTEM_FIELDS", "ObjectToCount", "Task", "estimate_fill_calls", "plan_object"]

# Set on every record a query sees: their fill is the record count, no query needed.
SYSTEM_FIELDS = frozenset({"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                           "SystemModstamp"})
OR_GROUP = 20  # fields OR-ed in one emptiness check


@dataclass(frozen=True)
class ObjectToCount:
    name: str
    specs: tuple[FieldSpec, ...]
    approx_records: int | None = None


@dataclass(frozen=True)
class Task:
    kind: str  # agg | sample | anyof | check | newest
    obj: str
    fields: tuple[str, ...] = ()
    conds: tuple[str, ...] = ()  # anyof/newest: the condition per field ("F = true" or "F != null")
    where: str | None = None  # the sample window, for objects counted over recent records only
    first: bool = False  # agg: also asks MAX(SystemModstamp)

    def soql(self, sample_size: int) -> str:
        window = f" AND {self.where}" if self.where else ""
        if self.kind == "agg":
            items = ["COUNT(Id)", *(["MAX(SystemModstamp)"] if self.first else []),
                     *(f"COUNT({f})" for f in self.fields)]
            return f"SELECT {', '.join(items)} FROM {self.obj}" + (f" WHERE {self.where}" if self.where else "")  # noqa: S608 - SOQL built from API names and escaped literals
        if self.kind == "check":
            return f"SELECT COUNT(Id), MAX(SystemModstamp) FROM {self.obj}"  # noqa: S608 - SOQL built from API names and escaped literals
        if self.kind == "anyof":
            cond = self.conds[0] if len(self.conds) == 1 else "(" + " OR ".join(self.conds) + ")"
            return f"SELECT COUNT() FROM {self.obj} WHERE {cond}{window}"  # noqa: S608 - SOQL built from API names and escaped literals
        if self.kind == "newest":
            return f"SELECT MAX(LastModifiedDate) FROM {self.obj} WHERE {self.conds[0]}"  # noqa: S608 - SOQL built from API names and escaped literals
        return f"SELECT Id, {', '.join(self.fields)} FROM {self.obj} ORDER BY CreatedDate DESC LIMIT {sample_size}"  # noqa: S608 - SOQL built from API names and escaped literals

    def sub(self, fields: Sequence[str]) -> Task:
        """The same query over a subset of its fields (conditions follow their fields)."""
        keep = [i for i, f in enumerate(self.fields) if f in fields]
        conds = tuple(self.conds[i] for i in keep) if self.conds else ()
        return Task(self.kind, self.obj, tuple(self.fields[i] for i in keep), conds, self.where, self.first)


def condition(spec: FieldSpec) -> str:
    return f"{spec.name} = true" if spec.sf_type == "boolean" else f"{spec.name} != null"


def agg_tasks(obj: str, names: Sequence[str], where: str | None, config: SalesforceConfig) -> list[Task]:
    fixed = len(Task("agg", obj, (), where=where, first=True).soql(0))
    chunks = chunk_by_length(names, fixed=fixed, per_item=9, max_chars=config.max_query_chars,
                             max_items=config.max_counts_per_query) or [[]]
    return [Task("agg", obj, tuple(c), where=where, first=i == 0) for i, c in enumerate(chunks)]


def sample_tasks(obj: str, names: Sequence[str], config: SalesforceConfig) -> list[Task]:
    chunks = chunk_by_length(names, fixed=80 + len(obj), per_item=2, max_chars=config.max_query_chars,
                             max_items=config.max_counts_per_query)
    return [Task("sample", obj, tuple(c)) for c in chunks]


def anyof_tasks(obj: str, specs: Sequence[FieldSpec], where: str | None, config: SalesforceConfig,
                *, group: int = OR_GROUP) -> list[Task]:
    conds = {s.name: condition(s) for s in specs}
    fixed = 60 + len(obj) + len(where or "")
    chunks = chunk_by_length([s.name for s in specs], fixed=fixed, per_item=16, max_chars=config.max_query_chars,
                             max_items=group)
    return [Task("anyof", obj, tuple(c), tuple(conds[n] for n in c), where) for c in chunks]


def plan_object(obj: ObjectToCount, where: str | None, config: SalesforceConfig) -> tuple[list[Task], list[str]]:
    """The first queries for one object, and its compound fields (never counted: their components are)."""
    aggs: list[str] = []
    others: list[str] = []
    compound: list[str] = []
    for spec in obj.specs:
        if spec.name in SYSTEM_FIELDS:
            continue
        if spec.compound:
            compound.append(spec.name)
        elif spec.aggregatable and spec.sf_type != "boolean":
            aggs.append(spec.name)
        else:
            others.append(spec.name)
    tasks = agg_tasks(obj.name, aggs, where, config)
    tasks += sample_tasks(obj.name, others, config)
    return tasks, compound


def estimate_fill_calls(field_counts: Mapping[str, int], config: SalesforceConfig, mode: FillRateMode,
                        *, cached: Sequence[str] = ()) -> int:
    """Calls the fill-rate pass will probably need (before describes tell the types, about 12% of fields are
    checkboxes, multi-select picklists or long text areas), plus the newest-value queries. Objects with cached
    counts cost one check, and a fifth of them are assumed to have changed."""
    queries = 0.0
    reuse = set(cached)
    for obj, count in field_counts.items():
        full = max(1, math.ceil(count * 0.88 / config.max_counts_per_query)) + 1
        full += math.ceil(count * 0.12) if mode == "exact" else math.ceil(count * 0.12 / OR_GROUP) + 1
        queries += 1 + 0.2 * full if obj in reuse else full
    queries += config.newest_value_queries
    return math.ceil(queries / config.composite_queries)
