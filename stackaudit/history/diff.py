"""What changed between two snapshots: tools, objects, fields, fill rates, integrations and references.

A pure function of the two snapshots. Items are matched by id (ids are built from API names, never labels,
so a relabelled field is a change, not a removal and an addition). An item that appears or disappears is
only reported when the snapshot lacking it read that part of the stack completely (see :mod:`.coverage`);
otherwise it is counted under the diff's ``not_comparable`` entries.

Cost: one pass over each side's items with dictionary lookups, so two 100,000-field snapshots diff in well
under a second (``benchmarks/diff_bench.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Literal

from stackaudit_inventory import (
    Capability,
    FieldDef,
    Integration,
    IntegrationStatus,
    ObjectDef,
    Snapshot,
    Tool,
    ToolStatus,
)
from stackaudit_inventory.ids import tool_of

from .coverage import Comparison, Side
from .model import PARTS, AttrChange, Change, DiffItem, Scalar, SnapshotDiff, StackTotals

__all__ = ["DEFAULT_FILL_THRESHOLD", "diff_snapshots", "stack_totals"]

DEFAULT_FILL_THRESHOLD = 0.2


def stack_totals(snapshot: Snapshot) -> StackTotals:
    """Tools in use, fields, custom fields, integrations and annual licence spend (in the most used currency;
    tools priced in another currency are left out of the sum)."""
    in_use = [t for t in snapshot.tools if t.status is not ToolStatus.removed]
    currencies = Counter(t.cost.currency for t in in_use if t.cost is not None)
    currency = currencies.most_common(1)[0][0] if currencies else "USD"
    spend = sum(t.cost.annual for t in in_use if t.cost is not None and t.cost.currency == currency)
    return StackTotals(
        tools=len(in_use),
        fields=len(snapshot.fields),
        custom_fields=sum(1 for f in snapshot.fields if f.custom and not f.archived),
        integrations=len(snapshot.integrations),
        annual_spend=round(spend, 2),
        currency=currency,
    )


def _attr(name: str, old: Scalar, new: Scalar) -> AttrChange | None:
    return None if old == new else AttrChange(name=name, old=old, new=new)


def _list_change(name: str, old: list[str], new: list[str]) -> AttrChange | None:
    old_set, new_set = set(old), set(new)
    if old_set == new_set:
        return None
    return AttrChange(
        name=name,
        added=[v for v in dict.fromkeys(new) if v not in old_set],
        removed=[v for v in dict.fromkeys(old) if v not in new_set],
    )


def _present(changes: list[AttrChange | None]) -> list[AttrChange]:
    return [c for c in changes if c is not None]


# ------------------------------------------------------------------------------------------------ tools


def _cost(old: Tool, new: Tool) -> AttrChange | None:
    before = old.cost.annual if old.cost else None
    after = new.cost.annual if new.cost else None
    if before == after:
        return None
    cost = new.cost or old.cost
    unit = cost.currency if cost is not None else None
    return AttrChange(name="annual_cost", old=before, new=after, unit=unit)


def _tool_changes(old: Tool, new: Tool) -> list[AttrChange]:
    def contract_date(tool: Tool, key: str) -> str | None:
        value = getattr(tool.contract, key) if tool.contract is not None else None
        return value.isoformat() if value is not None else None

    def seats(tool: Tool, key: str) -> int | None:
        return getattr(tool.seats, key) if tool.seats is not None else None

    return _present(
        [
            _attr("name", old.name, new.name),
            _attr("status", old.status.value, new.status.value),
            _attr("owner", old.owner, new.owner),
            _cost(old, new),
            _attr("currency", old.cost.currency if old.cost else None, new.cost.currency if new.cost else None)
            if old.cost and new.cost
            else None,
            _attr("seats_bought", seats(old, "bought"), seats(new, "bought")),
            _attr("seats_used", seats(old, "used"), seats(new, "used")),
            _attr("renewal", contract_date(old, "renewal"), contract_date(new, "renewal")),
            _attr("notice_date", contract_date(old, "notice_date"), contract_date(new, "notice_date")),
        ]
    )


def _diff_tools(cmp: Comparison) -> Iterator[DiffItem]:
    old, new = cmp.old.snapshot.tools_by_id, cmp.new.snapshot.tools_by_id
    for tid, tool in new.items():
        before = old.get(tid)
        if before is None:
            if cmp.providers_seen("old", cmp.new.providers(tool), Capability.tools, tid):
                yield DiffItem(part="tools", change=Change.added, id=tid, tool=tid, label=tool.name)
        elif attrs := _tool_changes(before, tool):
            yield DiffItem(part="tools", change=Change.changed, id=tid, tool=tid, label=tool.name, attrs=attrs)
    for tid, tool in old.items():
        if tid not in new and cmp.providers_seen("new", cmp.old.providers(tool), Capability.tools, tid):
            yield DiffItem(part="tools", change=Change.removed, id=tid, tool=tid, label=tool.name)


# -------------------------------------------------------------------------------------- objects, fields


def _diff_objects(cmp: Comparison) -> Iterator[DiffItem]:
    old: dict[str, ObjectDef] = cmp.old.snapshot.objects_by_id
    new: dict[str, ObjectDef] = cmp.new.snapshot.objects_by_id
    for oid, obj in new.items():
        before = old.get(oid)
        if before is None:
            if cmp.tool_seen("old", obj.tool, Capability.fields, oid):
                yield DiffItem(part="objects", change=Change.added, id=oid, tool=obj.tool, label=obj.label)
        elif before.label != obj.label:
            attrs = [AttrChange(name="label", old=before.label, new=obj.label)]
            yield DiffItem(part="objects", change=Change.changed, id=oid, tool=obj.tool, label=obj.label, attrs=attrs)
    for oid, obj in old.items():
        if oid not in new and cmp.tool_seen("new", obj.tool, Capability.fields, oid):
            yield DiffItem(part="objects", change=Change.removed, id=oid, tool=obj.tool, label=obj.label)


def _options(field: FieldDef) -> list[str]:
    return [o.value for o in field.options] if field.options else []


def _same_definition(old: FieldDef, new: FieldDef) -> bool:
    """The fast path of the field loop: plain attribute comparisons, option values only when there are any."""
    return (
        old.type == new.type
        and old.label == new.label
        and old.description == new.description
        and old.owning_tool == new.owning_tool
        and old.archived == new.archived
        and (not (old.options or new.options) or _options(old) == _options(new))
    )


def _field_changes(old: FieldDef, new: FieldDef) -> list[AttrChange]:
    return _present(
        [
            _attr("type", old.type, new.type),
            _list_change("options", _options(old), _options(new)),
            _attr("label", old.label, new.label),
            _attr("description", old.description, new.description),
            _attr("owning_tool", old.owning_tool, new.owning_tool),
            _attr("archived", old.archived, new.archived),
        ]
    )


def _fill_item(cmp: Comparison, old: FieldDef, new: FieldDef, threshold: float) -> DiffItem | None:
    before_fill, after_fill = old.fill, new.fill
    if (
        before_fill is not None
        and after_fill is not None
        and before_fill.filled == after_fill.filled
        and before_fill.total == after_fill.total
        and before_fill.method is after_fill.method
    ):
        return None  # re-measured, same figures (the common case)
    before = before_fill.rate if before_fill is not None else None
    after = after_fill.rate if after_fill is not None else None
    if before is None or after is None:
        if before is not None or after is not None:
            cmp.skip_tool(new.tool, Capability.fill_rates, new.id, "old" if before is None else "new")
        return None
    if abs(after - before) <= threshold:
        return None
    attrs = [AttrChange(name="fill_rate", old=round(before, 4), new=round(after, 4))]
    return DiffItem(part="fill_rates", change=Change.changed, id=new.id, tool=new.tool, label=new.label, attrs=attrs)


def _diff_fields(cmp: Comparison, threshold: float) -> tuple[list[DiffItem], list[DiffItem]]:
    old: dict[str, FieldDef] = cmp.old.snapshot.fields_by_id
    new: dict[str, FieldDef] = cmp.new.snapshot.fields_by_id
    fields: list[DiffItem] = []
    fills: list[DiffItem] = []
    for fid, fld in new.items():
        before = old.get(fid)
        if before is None:
            if cmp.tool_seen("old", fld.tool, Capability.fields, fid):
                fields.append(DiffItem(part="fields", change=Change.added, id=fid, tool=fld.tool, label=fld.label))
            continue
        if not _same_definition(before, fld):
            attrs = _field_changes(before, fld)
            fields.append(
                DiffItem(part="fields", change=Change.changed, id=fid, tool=fld.tool, label=fld.label, attrs=attrs)
            )
        if before.fill is not None or fld.fill is not None:
            fill = _fill_item(cmp, before, fld, threshold)
            if fill is not None:
                fills.append(fill)
    for fid, fld in old.items():
        if fid not in new and cmp.tool_seen("new", fld.tool, Capability.fields, fid):
            fields.append(DiffItem(part="fields", change=Change.removed, id=fid, tool=fld.tool, label=fld.label))
    return fields, fills


# ----------------------------------------------------------------------------------------- integrations


def _mapping_keys(integ: Integration) -> list[str]:
    return [f"{m.source} -> {m.target}" for m in integ.mappings]


def _integration_changes(cmp: Comparison, old: Integration, new: Integration) -> list[AttrChange]:
    changes: list[AttrChange | None] = []
    if old.status != new.status:
        unknown = IntegrationStatus.unknown
        if unknown in (old.status, new.status):
            # "unknown" means nobody read its health on that side: no evidence of a change.
            side: Side = "old" if old.status is unknown else "new"
            cmp.skip_tool(new.source, Capability.sync_health, new.id, side)
        else:
            changes.append(AttrChange(name="status", old=old.status.value, new=new.status.value))
    changes.append(_list_change("mappings", _mapping_keys(old), _mapping_keys(new)))
    return _present(changes)


def _diff_integrations(cmp: Comparison) -> Iterator[DiffItem]:
    old, new = cmp.old.snapshot.integrations_by_id, cmp.new.snapshot.integrations_by_id
    for iid, integ in new.items():
        before = old.get(iid)
        if before is None:
            if cmp.providers_seen("old", cmp.new.providers(integ), Capability.integrations, iid):
                yield DiffItem(part="integrations", change=Change.added, id=iid, tool=integ.source, label=integ.name)
        elif attrs := _integration_changes(cmp, before, integ):
            yield DiffItem(
                part="integrations", change=Change.changed, id=iid, tool=integ.source, label=integ.name, attrs=attrs
            )
    for iid, integ in old.items():
        if iid not in new and cmp.providers_seen("new", cmp.old.providers(integ), Capability.integrations, iid):
            yield DiffItem(part="integrations", change=Change.removed, id=iid, tool=integ.source, label=integ.name)


# ------------------------------------------------------------------------------------------- references


_RefKey = tuple[str, str, Literal["read", "write"]]


def _diff_references(cmp: Comparison) -> Iterator[DiffItem]:
    old: set[_RefKey] = {(r.asset, r.field, r.mode) for r in cmp.old.snapshot.references}
    new: set[_RefKey] = {(r.asset, r.field, r.mode) for r in cmp.new.snapshot.references}
    sides: tuple[tuple[Change, set[_RefKey], Side], ...] = (
        (Change.added, new - old, "old"),
        (Change.removed, old - new, "new"),
    )
    for change, keys, other in sides:
        for asset, field_id, mode in sorted(keys):
            tool = tool_of(asset)
            if cmp.tool_seen(other, tool, Capability.references, f"{asset} {field_id}"):
                yield DiffItem(part="references", change=change, id=field_id, tool=tool, asset=asset, mode=mode)


# ------------------------------------------------------------------------------------------------- diff

_CHANGE_ORDER = {Change.added: 0, Change.removed: 1, Change.changed: 2}


def diff_snapshots(old: Snapshot, new: Snapshot, *, fill_threshold: float = DEFAULT_FILL_THRESHOLD) -> SnapshotDiff:
    """Everything that changed from ``old`` to ``new``, and the parts that cannot be compared.

    ``fill_threshold`` is the absolute move in fill rate (0.2 = 20 points) below which a fill rate is unchanged.
    """
    if not 0 <= fill_threshold <= 1:
        raise ValueError("fill_threshold must be between 0 and 1")
    cmp = Comparison(old, new)
    fields, fills = _diff_fields(cmp, fill_threshold)
    items = [
        *_diff_tools(cmp),
        *_diff_objects(cmp),
        *fields,
        *fills,
        *_diff_integrations(cmp),
        *_diff_references(cmp),
    ]
    order = {p: i for i, p in enumerate(PARTS)}
    items.sort(key=lambda i: (order[i.part], _CHANGE_ORDER[i.change], i.id, i.asset or "", i.mode or ""))
    return SnapshotDiff(
        old_snapshot_id=old.id,
        new_snapshot_id=new.id,
        old_taken_at=old.taken_at,
        new_taken_at=new.taken_at,
        stack=new.stack,
        fill_threshold=fill_threshold,
        old_totals=stack_totals(old),
        new_totals=stack_totals(new),
        items=items,
        not_comparable=cmp.not_comparable(),
    )
