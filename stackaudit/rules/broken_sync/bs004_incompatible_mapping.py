"""BS004: a field mapping between types that cannot carry each other's values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field

from stackaudit_inventory.models import Capability, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import mapped_pairs, plural, unread_fields_inconclusive

Verdict = Literal["ok", "lossy", "incompatible"]

# Normalised field types (FieldDef.type), grouped.
_FREE_TEXT = frozenset({"string", "text"})
_TEXTUAL = _FREE_TEXT | {"email", "phone", "url", "id"}
_KNOWN = _TEXTUAL | {"number", "bool", "date", "datetime", "time", "enum", "multienum", "reference"}
_BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "1", "0", "y", "n", "on", "off", "checked", "unchecked"})

# The compatibility table: target type -> source type -> verdict. A pair not listed is incompatible. `lossy`
# means some values are rejected or cut; `incompatible` means values of that kind cannot be written at all.
# Two refinements read the options: a picklist whose values are all numbers can feed a number, and one whose
# values are all boolean words can feed a checkbox.
COMPATIBILITY: dict[str, dict[str, Verdict]] = {
    # Anything can be written as free text.
    "string": {t: "ok" for t in _KNOWN},  # and any other type (json, compound...)
    "text": {t: "ok" for t in _KNOWN},
    "email": {"email": "ok", "string": "ok", "text": "ok"},
    "url": {"url": "ok", "string": "ok", "text": "ok"},
    "phone": {"phone": "ok", "string": "ok", "text": "ok", "number": "ok"},
    "id": {"id": "ok", "reference": "ok", "string": "ok", "text": "ok"},
    "reference": {"reference": "ok", "id": "ok", "string": "ok", "text": "ok"},
    "number": {"number": "ok"},
    "bool": {"bool": "ok"},
    "date": {"date": "ok", "datetime": "ok"},
    "datetime": {"datetime": "ok", "date": "ok"},
    "time": {"time": "ok"},
    # Text into a picklist: any value outside its options is rejected (restricted) or pollutes it.
    "enum": {
        "enum": "ok",
        "bool": "lossy",
        "string": "lossy",
        "text": "lossy",
        "number": "lossy",
        "multienum": "lossy",
    },
    "multienum": {"multienum": "ok", "enum": "ok", "string": "lossy", "text": "lossy"},
}

_WHY = {
    ("enum", "bool"): "a checkbox takes only true or false, not the picklist's values",
    ("enum", "number"): "a number field rejects the picklist's non-numeric values",
    ("multienum", "enum"): "several selected values cannot go into a single-select picklist",
}


_LABELS = {"enum": "picklist", "multienum": "multi-select picklist", "bool": "checkbox"}


def label(field_type: str) -> str:
    """How people call a normalised type: ``enum`` is a picklist, ``bool`` a checkbox."""
    return _LABELS.get(field_type, field_type)


def _options(fld: FieldDef) -> list[str] | None:
    return [o.value for o in fld.options] if fld.options is not None else None


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def is_mirror_pair(a: FieldDef, b: FieldDef) -> bool:
    """True when one field is the other tool's synced copy (``owning_tool`` is the other end's tool), such as
    Marketo's CRM-managed fields, which take their definition from the Salesforce field they sync with."""
    return a.owning_tool == b.tool or b.owning_tool == a.tool


def judge(src: FieldDef, tgt: FieldDef) -> tuple[Verdict, str] | None:
    """The verdict for values going ``src`` -> ``tgt`` with the reason, or None when a type is not in the table.
    Lengths are not compared between a field and its mirror (:func:`is_mirror_pair`)."""
    if tgt.type not in COMPATIBILITY or (src.type not in _KNOWN and tgt.type not in _FREE_TEXT):
        return None
    opts = _options(src)
    if src.type == "enum" and tgt.type == "number" and opts and all(_number(v) for v in opts):
        verdict: Verdict = "ok"
    elif src.type == "enum" and tgt.type == "bool" and opts and {v.lower() for v in opts} <= _BOOLEAN_WORDS:
        verdict = "ok"
    else:
        verdict = "ok" if tgt.type in _FREE_TEXT else COMPATIBILITY[tgt.type].get(src.type, "incompatible")
    why = _WHY.get((src.type, tgt.type))
    if why is None:
        why = {
            "ok": "compatible",
            "lossy": f"{label(src.type)} values outside the {label(tgt.type)}'s options are rejected",
            "incompatible": f"{label(src.type)} values cannot be written to a {label(tgt.type)} field",
        }[verdict]
    shorter = bool(src.length and tgt.length and src.length > tgt.length)
    if verdict == "ok" and tgt.type in _TEXTUAL and shorter and not is_mirror_pair(src, tgt):
        return "lossy", f"values longer than {tgt.length} characters (the source allows {src.length}) are cut"
    return verdict, why


_RANK: dict[Verdict, int] = {"ok": 0, "lossy": 1, "incompatible": 2}


class Params(RuleParams):
    report_lossy: bool = Field(
        default=True,
        description="Also report mappings that lose some values (text into a picklist, lengths that truncate), "
        "at low severity.",
    )


class IncompatibleMappingRule(Rule[Params]):
    """A field mapping between types that cannot carry each other's values.

    Why it matters: a mapping is checked when it is built; the fields change later. A text field mapped into a
    number, a picklist into a checkbox, or a 255-character field into an 80-character one fails on some records
    or cuts their values, and the integration's error log is the only place that says so.

    The compatibility table (source type to target type, using the normalised types of the snapshot):

    ===================  ====================================================================================
    target               accepts
    ===================  ====================================================================================
    string, text         anything (numbers, dates and picklist values are written as text)
    email, url           text of its own kind
    phone                text, numbers
    id, reference        ids, references, text
    number               numbers; a picklist whose values are all numbers
    bool                 checkboxes; a picklist whose values are all boolean words (true/false, yes/no...)
    date, datetime       dates and date-times (a date-time's time is dropped)
    time                 times
    enum (picklist)      picklists (options compared by BS005); text, numbers, checkboxes and multi-select
                         picklists are *lossy*: values outside its options are rejected
    multienum            picklists of either kind; text is *lossy*
    ===================  ====================================================================================

    Anything else is *incompatible* (text into a number, a picklist into a checkbox, text into a date). A mapping
    into a text field whose length is smaller than the source's is *lossy* when both lengths are known, except
    between a field and its mirror: a field the other end's tool manages (``owning_tool``, as the Marketo source
    records for CRM-managed fields) takes its definition, including the length its forms accept, from the field
    it syncs with, and the length its API reports is a generic maximum.
    Incompatible mappings are ``medium``, lossy ones ``low`` (``report_lossy`` turns them off). A ``both``
    mapping is judged each way. A mapping that declares a ``transform`` is trusted to convert and is not judged.
    Types outside the table (json, compound, binary), except into free text, make the integration inconclusive,
    as do fields of a tool no source read.

    Example: ``hubspot:contacts.employees`` (string) mapped to ``salesforce:Lead.NumberOfEmployees`` (number):
    "51-200" cannot be written.

    Fix: map to a field of a compatible type, change one field's type, or add a transform in the integration
    that converts the value (and declare it in the manifest's mapping).
    """

    id = "BS004"
    name = "incompatible-mapping-types"
    title = "Field mapping between incompatible types"
    category = Category.broken_sync
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.integrations, Capability.fields})
    remediation = (
        "Map to a field of a compatible type, change one field's type, or add (and declare) a transform that converts "
        "the value."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        pairs, unread = mapped_pairs(ctx.snapshot)
        untyped: dict[str, list[str]] = {}
        for pair in pairs:
            if pair.mapping.transform:
                continue
            judged = []
            for src, tgt in pair.directions():
                result = judge(src, tgt)
                if result is None:
                    untyped.setdefault(pair.integration.id, []).append(
                        f"{src.id} ({src.type}) -> {tgt.id} ({tgt.type})"
                    )
                    continue
                judged.append((src, tgt, *result))
            bad = [j for j in judged if j[2] != "ok" and (j[2] == "incompatible" or ctx.params.report_lossy)]
            if not bad:
                continue
            evidence = [
                f"{pair.integration.id} copies {a.id} ({label(a.type)}"
                + (f", {a.length} chars" if a.length else "")
                + f") to {b.id} ({label(b.type)}"
                + (f", {b.length} chars" if b.length else "")
                + f"): {verdict}, {why}."
                for a, b, verdict, why in bad
            ]
            src, tgt, worst, _ = max(bad, key=lambda j: _RANK[j[2]])
            yield ctx.finding(
                [pair.integration.id, pair.source.id, pair.target.id],
                f"{pair.integration.id}: {src.id} ({label(src.type)}) into {tgt.id} ({label(tgt.type)}) "
                + ("cannot carry its values" if worst == "incompatible" else "loses some values"),
                evidence=evidence,
                facts={
                    "integration": pair.integration.id,
                    "source_type": pair.source.type,
                    "target_type": pair.target.type,
                    "source_length": pair.source.length,
                    "target_length": pair.target.length,
                    "verdict": worst,
                    "direction": pair.mapping.direction,
                },
                severity=Severity.medium if worst == "incompatible" else Severity.low,
            )
        for integ, items in sorted(untyped.items()):
            yield ctx.inconclusive(
                integ,
                f"{plural(len(items), 'mapping')} between types outside the compatibility table (e.g. {items[0]})",
            )
        yield from unread_fields_inconclusive(ctx, unread)
