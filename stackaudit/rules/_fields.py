"""Helpers shared by the field rules (orphaned-field, duplicate-field and field hygiene).

Three things live here, so that the rules agree with each other:

- **which fields the orphaned-field rules judge** and **how a field is used** (:class:`FieldUse`), plus the
  verdicts of OF001, OF002 and OF004 as pure predicates. One field gets at most one orphaned-field finding: the
  rules are ordered OF001 (empty) → OF002 (almost empty) → OF004 (referenced only by inactive assets) → OF003
  (no new value for a long time), and each skips the fields an earlier one flags, whose evidence already carries
  the later facts (inactive references, the newest value). A later rule computes an earlier one's verdict with
  the user's thresholds for it (``ctx.params_of``).
- **name normalisation** (:func:`name_key`): what DF001 and DF002 compare instead of raw names and labels.
- **coverage**: which tools' fields a source tried and failed to read (:func:`unread_field_tools`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from stackaudit_inventory.catalogue import VendorCatalogue, VendorEntry
from stackaudit_inventory.models import (
    Asset,
    Capability,
    CoverageStatus,
    FieldDef,
    FillMethod,
    FillRate,
    RunStatus,
    Snapshot,
)
from stackaudit_inventory.results import Inconclusive

from ..audit.rule import RuleContext
from ..graph import StackGraph
from ._common import (
    best_coverage,
    cannot_see,
    days_since,
    format_timestamp,
    is_covered,
    lifecycle_field_ids,
    plural,
)

__all__ = [
    "DECORATION_WORDS",
    "FieldUse",
    "NameKey",
    "almost_empty_and_unused",
    "audited_custom_fields",
    "catalogue_entry",
    "claimed_by_empty_rules",
    "describe_fill",
    "empty_and_unused",
    "exact_newest_value_at",
    "field_use",
    "is_exact_empty",
    "is_measured",
    "judge_tool_fields",
    "lower_first",
    "name_key",
    "newest_value_sentence",
    "only_inactive_references",
    "past_grace",
    "recently_changed",
    "tool_covers",
    "type_family",
    "unread_field_tools",
]

# ------------------------------------------------------------------------------------------ field selection


def audited_custom_fields(snapshot: Snapshot) -> dict[str, list[FieldDef]]:
    """Tool id -> the custom fields the orphaned-field rules judge, sorted by id.

    Left out: standard fields (they cannot be deleted), archived fields (already dealt with), calculated fields
    (formulas hold no data of their own), and fields the declared lifecycle relies on."""
    skip = lifecycle_field_ids(snapshot)
    out: dict[str, list[FieldDef]] = {}
    for fld in snapshot.fields:
        if fld.custom and not fld.archived and not fld.calculated and fld.id not in skip:
            out.setdefault(fld.tool, []).append(fld)
    return {tool: sorted(fields, key=lambda f: f.id) for tool, fields in sorted(out.items())}


def tool_covers(snapshot: Snapshot, tool: str, *capabilities: Capability) -> bool:
    """True when some source read every one of ``capabilities`` for ``tool`` (completely or partly)."""
    return all(is_covered(best_coverage(snapshot, tool, cap)[0]) for cap in capabilities)


def unread_field_tools(snapshot: Snapshot) -> dict[str, str]:
    """Tool id -> why its fields are unknown, for tools whose fields a source tried and failed to read (coverage
    ``missing``, or the tool's connector failed outright) and no other source read.

    A tool no source can read fields from (``not_supported``) is not listed: there is nothing to judge and
    nothing was lost, whereas a failed read means fields exist that the rules cannot see."""
    tools = {t.id for t in snapshot.tools} | {r.tool for r in snapshot.source_runs if r.tool}
    out: dict[str, str] = {}
    for tool in sorted(tools):
        status, cov = best_coverage(snapshot, tool, Capability.fields)
        if is_covered(status):
            continue
        if status is CoverageStatus.missing:
            out[tool] = cannot_see(tool, Capability.fields, status, cov)
            continue
        failed = [r for r in snapshot.runs_for_tool(tool) if r.status is RunStatus.failed]
        if failed:
            why = failed[0].errors[0].message if failed[0].errors else "no detail recorded"
            out[tool] = f"{tool} fields: not read, the {failed[0].id} connector failed ({why})"
    return out


# ------------------------------------------------------------------------------------------------ usage


@dataclass(frozen=True)
class FieldUse:
    """How a field is used: assets referencing it (split by whether they are active) and integrations mapping it.

    An asset the snapshot does not describe counts as active: it may well be live, and a false "unused" costs
    more than a miss. Any integration mapping the field at either end counts as use, whatever its status (a
    disabled integration that still maps it is BS010's concern)."""

    active_assets: tuple[str, ...]
    inactive_assets: tuple[str, ...]
    integrations: tuple[str, ...]

    @property
    def in_active_use(self) -> bool:
        return bool(self.active_assets or self.integrations)

    @property
    def count(self) -> int:
        """Active references plus integrations: how much would have to change if the field went away."""
        return len(self.active_assets) + len(self.integrations)


def field_use(snapshot: Snapshot, graph: StackGraph, field_id: str) -> FieldUse:
    active: set[str] = set()
    inactive: set[str] = set()
    for ref in snapshot.references_by_field.get(field_id, []):
        asset = snapshot.assets_by_id.get(ref.asset)
        (inactive if asset is not None and not asset.active else active).add(ref.asset)
    return FieldUse(
        active_assets=tuple(sorted(active)),
        inactive_assets=tuple(sorted(inactive - active)),
        integrations=tuple(graph.integrations_touching(field_id)),
    )


# --------------------------------------------------------------------------------------- fill and verdicts


def is_measured(fill: FillRate | None) -> bool:
    return fill is not None and fill.method is not FillMethod.unknown and fill.rate is not None


def is_exact_empty(fill: FillRate | None) -> bool:
    """An exact count of zero filled records on a non-empty object: OF001's ground (a sample of zero is not)."""
    return fill is not None and fill.method is FillMethod.exact and fill.filled == 0 and fill.total != 0


def past_grace(fld: FieldDef, now: datetime, min_age_days: int) -> bool:
    """Created at least ``min_age_days`` ago; an unknown creation date is never past the grace period."""
    return fld.created_at is not None and days_since(now, fld.created_at) >= min_age_days


def empty_and_unused(fld: FieldDef, use: FieldUse, now: datetime, min_age_days: int) -> bool:
    """OF001's verdict for a field it judges (its tool's fill rates and references read)."""
    return is_exact_empty(fld.fill) and not use.in_active_use and past_grace(fld, now, min_age_days)


def almost_empty_and_unused(
    fld: FieldDef, use: FieldUse, now: datetime, min_age_days: int, max_fill_rate: float
) -> bool:
    """OF002's verdict: measured (exactly or by sample) below ``max_fill_rate``, not an exact zero (OF001's), not
    in active use, past the grace period."""
    fill = fld.fill
    if fill is None or not is_measured(fill) or is_exact_empty(fill):
        return False
    rate = fill.rate
    return rate is not None and rate < max_fill_rate and not use.in_active_use and past_grace(fld, now, min_age_days)


def claimed_by_empty_rules(
    snapshot: Snapshot,
    fld: FieldDef,
    use: FieldUse,
    now: datetime,
    of001_min_age_days: int,
    of002_min_age_days: int,
    of002_max_fill_rate: float,
) -> bool:
    """Whether OF001 or OF002 reports the field: they judge a tool only when its fill rates and references
    were both read, then apply their verdicts."""
    if not tool_covers(snapshot, fld.tool, Capability.fill_rates, Capability.references):
        return False
    return empty_and_unused(fld, use, now, of001_min_age_days) or almost_empty_and_unused(
        fld, use, now, of002_min_age_days, of002_max_fill_rate
    )


def recently_changed(assets: Iterable[Asset], now: datetime, days: int) -> list[Asset]:
    """Inactive assets modified within ``days``: a draft being built or a workflow paused for a fix."""
    return [a for a in assets if a.last_modified_at is not None and days_since(now, a.last_modified_at) < days]


def only_inactive_references(
    use: FieldUse, assets_by_id: Mapping[str, Asset], now: datetime, recent_change_days: int
) -> bool:
    """OF004's own verdict (before it skips fields OF001 and OF002 flag): referenced, but only by inactive assets
    none of which changed recently, and mapped by no integration."""
    if use.in_active_use or not use.inactive_assets:
        return False
    assets = [assets_by_id[a] for a in use.inactive_assets if a in assets_by_id]
    return not recently_changed(assets, now, recent_change_days)


def describe_fill(fld: FieldDef) -> str | None:
    """``Filled on 12 of 48,000 contacts records (0.03%, exact count)``, or None when unmeasured."""
    fill = fld.fill
    if fill is None or not is_measured(fill) or fill.filled is None or fill.total is None:
        return None
    how = "exact count" if fill.method is FillMethod.exact else "estimated from a sample"
    sample = "sampled " if fill.method is FillMethod.sampled else ""
    share = fill.filled / fill.total
    return f"Filled on {fill.filled:,} of {fill.total:,} {sample}{fld.object} records ({share:.2%}, {how})"


def lower_first(text: str) -> str:
    """``Filled on ...`` -> ``filled on ...`` without touching the object names inside."""
    return text[:1].lower() + text[1:]


def newest_value_sentence(fld: FieldDef, now: datetime) -> str | None:
    """When the newest record holding a value was modified; from a sample, only the newest one sampled."""
    fill = fld.fill
    if fill is None or fill.newest_value_at is None:
        return None
    when = fill.newest_value_at
    if fill.method is FillMethod.exact:
        age = days_since(now, when)
        return f"The newest record holding a value was modified {format_timestamp(when)}, {age} days ago."
    return (
        f"The newest sampled record holding a value was modified {format_timestamp(when)}, "
        f"{days_since(now, when)} days ago (records outside the sample may be newer)."
    )


def exact_newest_value_at(fld: FieldDef) -> datetime | None:
    """``newest_value_at`` when it covers every record (exact fill). A sample's newest value is only a lower bound
    (the newest record holding a value may lie outside the sample), so it can prove a field fresh, never stale."""
    fill = fld.fill
    if fill is None or fill.method is not FillMethod.exact:
        return None
    return fill.newest_value_at


# ---------------------------------------------------------------------------------------- name normalisation

# Words that mark a copy or a retired field rather than a different concept. Removed only at either end of a
# name, so that a word in the middle (``age_old_value``) keeps its meaning.
DECORATION_WORDS = frozenset(
    {"old", "copy", "legacy", "backup", "bak", "deprecated", "dnu", "obsolete", "archived", "unused", "temp", "tmp"}
)
_DECORATION_PHRASES = (("do", "not", "use"), ("dont", "use"), ("copy", "of"))
_EDGE_WORDS = DECORATION_WORDS | {w for phrase in _DECORATION_PHRASES for w in (phrase[0], phrase[-1])}
_SALESFORCE_SUFFIX = re.compile(r"__(?:c|pc)$", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9])")
_LETTER_DIGIT = re.compile(r"[A-Za-z][0-9]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# A short trailing number is a version or a copy (``Lead Source 2``, ``score_v3``); a year is part of the name.
_VERSION = re.compile(r"^[0-9]{1,2}$")


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name or label reduced to what it means.

    ``stem`` joins the remaining words without separators, so ``lead_source``, ``Lead Source 2``,
    ``leadsource_old`` and ``LeadSource`` all give ``leadsource``; ``number`` is a trailing copy or version number
    that was removed (2 for ``Lead Source 2``); ``marks`` are the decoration words removed (``old``, ``copy``...).
    """

    stem: str
    tokens: tuple[str, ...]
    number: int | None
    marks: tuple[str, ...]

    @property
    def decorated(self) -> bool:
        """Marked as a copy, a version or a retired field."""
        return bool(self.marks) or self.number is not None

    @property
    def digits(self) -> tuple[str, ...]:
        """Digit runs left in the stem: ``webinar_2023`` and ``webinar_2024`` are a series, not duplicates."""
        return tuple(re.findall(r"[0-9]+", self.stem))


def _strip_phrases(tokens: list[str], marks: list[str]) -> bool:
    for phrase in _DECORATION_PHRASES:
        n = len(phrase)
        if len(tokens) > n and tuple(tokens[:n]) == phrase:
            marks.append(" ".join(phrase))
            del tokens[:n]
            return True
        if len(tokens) > n and tuple(tokens[-n:]) == phrase:
            marks.append(" ".join(phrase))
            del tokens[-n:]
            return True
    return False


def name_key(text: str, *, api_name: bool = False, strip_prefixes: Iterable[str] = ()) -> NameKey:
    """Normalise a field name or label (see :class:`NameKey`).

    Steps: drop a Salesforce ``__c``/``__pc`` suffix (API names only) and any of ``strip_prefixes`` (a host
    tool's own markers such as HubSpot's ``hs_``); split camelCase and letters from digits; lowercase; split on
    anything that is not a letter or digit; then remove, repeatedly and only at either end, decoration words
    (:data:`DECORATION_WORDS`, "do not use", "copy of") and one short trailing number (``2``, ``v3``; four-digit
    years stay). If that would leave nothing, the words are kept as they were.
    """
    return _name_key(text, api_name, tuple(strip_prefixes))


# Labels repeat across objects and snapshots (``Lead Source``, ``Create Date``); the key is a pure function.
@lru_cache(maxsize=1 << 16)
def _name_key(text: str, api_name: bool, strip_prefixes: tuple[str, ...]) -> NameKey:
    raw = _SALESFORCE_SUFFIX.sub("", text.strip()) if api_name else text.strip()
    lowered = raw.lower()
    for prefix in strip_prefixes:
        if prefix and lowered.startswith(prefix.lower()) and len(raw) > len(prefix):
            raw = raw[len(prefix) :]
            break
    split = raw.lower() if raw.islower() and not _LETTER_DIGIT.search(raw) else _CAMEL.sub(" ", raw).lower()
    words = [w for w in _NON_ALNUM.split(split) if w]
    if not words or (words[0] not in _EDGE_WORDS and words[-1] not in _EDGE_WORDS and not words[-1].isdigit()):
        return NameKey("".join(words), tuple(words), None, ())  # the common case: nothing to strip
    tokens, marks = list(words), list[str]()
    number: int | None = None
    changed = True
    while changed and tokens:
        changed = False
        if _strip_phrases(tokens, marks):
            changed = True
        elif len(tokens) > 1 and tokens[0] in DECORATION_WORDS:
            marks.append(tokens.pop(0))
            changed = True
        elif len(tokens) > 1 and tokens[-1] in DECORATION_WORDS:
            marks.append(tokens.pop())
            changed = True
        elif number is None and len(tokens) > 1 and _VERSION.match(tokens[-1]):
            number = int(tokens.pop())
            if len(tokens) > 1 and tokens[-1] == "v":  # ``score_v3`` splits into score, v, 3
                tokens.pop()
            changed = True
    if not tokens:
        tokens, marks, number = words, [], None
    return NameKey("".join(tokens), tuple(tokens), number, tuple(marks))


# Types that hold the same kind of value for duplicate detection (a phone number kept as text is still text).
_TYPE_FAMILIES = {
    "string": "text",
    "text": "text",
    "email": "text",
    "phone": "text",
    "url": "text",
    "datetime": "date",
    "date": "date",
}


def type_family(field_type: str) -> str:
    """The normalised type DF001 compares: text-like types are one family, and date with datetime."""
    return _TYPE_FAMILIES.get(field_type, field_type)


# ------------------------------------------------------------------------------------------------ catalogue


def catalogue_entry(catalogue: VendorCatalogue, tool_id: str, tool_name: str | None = None) -> VendorEntry | None:
    """The catalogue entry of a stack tool: by id, then by its name (exactly, after normalisation)."""
    return catalogue.by_id(tool_id) or (catalogue.match_name(tool_name) if tool_name else None)


def judge_tool_fields(
    ctx: RuleContext[Any], tool: str, fields: list[FieldDef]
) -> tuple[list[Inconclusive], list[str] | None]:
    """The coverage gate OF001 and OF002 share before judging a tool's custom fields by fill and use.

    Returns the inconclusive checks to report and, when the tool can be judged, what its sources could only
    partly see (for each finding's "not checked"); ``None`` when fill rates or references are not covered.
    """
    snap = ctx.snapshot
    coverage = {cap: best_coverage(snap, tool, cap) for cap in (Capability.fill_rates, Capability.references)}
    uncovered = [cannot_see(tool, cap, *cov) for cap, cov in coverage.items() if not is_covered(cov[0])]
    if uncovered:
        return [ctx.inconclusive(tool, "; ".join(uncovered))], None
    not_checked = [cannot_see(tool, cap, *cov) for cap, cov in coverage.items() if cov[0] is CoverageStatus.partial]
    unmeasured = sorted(f.id for f in fields if f.fill is None or f.fill.method is FillMethod.unknown)
    found: list[Inconclusive] = []
    if unmeasured:
        found.append(
            ctx.inconclusive(
                tool,
                f"fill rate unknown for {plural(len(unmeasured), 'custom field')} (e.g. {', '.join(unmeasured[:3])})",
            )
        )
    return found, not_checked
