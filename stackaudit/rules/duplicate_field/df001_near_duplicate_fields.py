"""DF001: several fields of one object that hold the same thing."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import Field, model_validator
from rapidfuzz import fuzz, process

from stackaudit_inventory.models import Capability, CoverageStatus, FieldDef
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import best_coverage, cannot_see, is_covered, plural
from .._fields import FieldUse, NameKey, field_use, name_key, type_family, unread_field_tools

# Option values so common that two fields sharing them say nothing about meaning (yes/no/unknown, ratings).
GENERIC_OPTION_VALUES = frozenset(
    {"yes", "no", "true", "false", "y", "n", "unknown", "none", "na", "n/a", "other", "maybe", "high", "medium", "low"}
)
# Two words differing between otherwise similar names must be a plural of one another or this similar (a typo:
# ``sorce``/``source`` scores 91): ``stage``/``state`` (80) and ``first``/``last`` are different concepts.
WORD_SIMILARITY = 85
# Shorter stems are compared exactly only: at four or five letters one edit is a different word.
MIN_FUZZY_LENGTH = 6
BLOCK = 4
# Blocks larger than this are split on longer prefixes or suffixes (see ``stem_blocks``).
MAX_BLOCK = 64


class Params(RuleParams):
    name_similarity: int = Field(
        default=90,
        ge=50,
        le=100,
        description="rapidfuzz ratio (0-100) above which two normalised names or labels count as the same; 100 "
        "keeps only names equal after normalisation.",
    )
    min_options: int = Field(
        default=3, ge=2, description="Identical option sets count as evidence only with at least this many options."
    )
    max_options: int = Field(
        default=50,
        ge=2,
        description="Larger identical option sets are shared reference lists (countries, states, industries) that "
        "distinct fields use on purpose; they are not evidence on their own (names still are).",
    )

    @model_validator(mode="after")
    def _order(self) -> Params:
        if self.max_options < self.min_options:
            raise ValueError("max_options must be at least min_options")
        return self


@dataclass
class Grouping:
    """Near-duplicate groups of one object: field indexes, the reason for each link, and the work done."""

    groups: list[list[int]]
    links: list[tuple[int, int, str]]
    fuzzy_comparisons: int = 0


@dataclass
class _UnionFind:
    parent: list[int]
    links: list[tuple[int, int, str]] = field(default_factory=list)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, reason: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
            self.links.append((min(a, b), max(a, b), reason))


def field_keys(fld: FieldDef) -> list[NameKey]:
    """The normalised API name, and the label when it has one."""
    keys = [name_key(fld.name, api_name=True)]
    if fld.label and fld.label.strip():
        keys.append(name_key(fld.label))
    return keys


def _option_key(fld: FieldDef, p: Params) -> frozenset[str] | None:
    if not fld.options:
        return None
    values = frozenset(o.value.strip().casefold() for o in fld.options if o.value.strip())
    if not p.min_options <= len(values) <= p.max_options:
        return None
    if all(v in GENERIC_OPTION_VALUES or v.isdigit() for v in values):
        return None
    return values


def _words_compatible(a: NameKey, b: NameKey) -> bool:
    """Similar stems name one concept only when the words that differ are themselves near-identical (a plural, a
    typo, other word breaks); an extra word (``fit_timeline`` vs ``timeline``) or a different one (``first`` vs
    ``last``) makes another concept."""
    only_a = [t for t in a.tokens if t not in b.tokens]
    only_b = [t for t in b.tokens if t not in a.tokens]
    if not only_a and not only_b:
        return True
    if not only_a or not only_b:
        return False
    wa, wb = "".join(only_a), "".join(only_b)
    return _plural_pair(wa, wb) or bool(fuzz.ratio(wa, wb) >= WORD_SIMILARITY)


def _plural_pair(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return long in (short + "s", short + "es") or (short.endswith("y") and long == short[:-1] + "ies")


def _may_link(na: int | None, nb: int | None) -> bool:
    """Two numbered members with different numbers are a series (address line 1 and 2), not copies."""
    return na is None or nb is None or na == nb


def find_duplicate_groups(fields: Sequence[FieldDef], p: Params) -> Grouping:
    """Group the fields of ONE object into near-duplicate sets (indexes into ``fields``).

    Linking evidence, all within one type family (:func:`~stackaudit.rules._fields.type_family`):

    1. equal stems of names or labels (bucketed by stem: linear). A stem shared by members carrying two or more
       different trailing numbers is a numbered series, and only its un-numbered members are linked;
    2. identical option sets of ``min_options`` to ``max_options`` values that are not all generic (bucketed by
       the option set: linear);
    3. similar stems (rapidfuzz ratio ≥ ``name_similarity``), compared only inside blocks of stems sharing the
       type, the digits they contain and their first or last four letters (eight, sixteen... when a block holds
       more than :data:`MAX_BLOCK` stems, as under a house prefix), and within the length window the threshold
       allows; differing words must themselves be similar (plural or typo, not first/last, not an extra word).

    The cost is linear in the fields plus the fuzzy comparisons inside blocks, at most ``MAX_BLOCK`` per stem and
    side. A pair whose only differences sit both in its first and its last letters is not compared (names that
    differ at both ends are rarely copies).
    """
    uf = _UnionFind(list(range(len(fields))))
    by_stem: dict[tuple[str, str], dict[int, int | None]] = {}
    tokens_of: dict[tuple[str, str], NameKey] = {}
    by_options: dict[tuple[str, frozenset[str]], list[int]] = {}
    for i, fld in enumerate(fields):
        family = type_family(fld.type)
        for key in field_keys(fld):
            members = by_stem.setdefault((family, key.stem), {})
            members[i] = None if (i in members and members[i] is None) else key.number
            tokens_of.setdefault((family, key.stem), key)
        options = _option_key(fld, p)
        if options is not None:
            by_options.setdefault((family, options), []).append(i)

    for (_, stem), members in by_stem.items():
        numbers = {n for n in members.values() if n is not None}
        linkable = [i for i, n in members.items() if n is None] if len(numbers) > 1 else list(members)
        for i in linkable[1:]:
            uf.union(linkable[0], i, f"same name after normalisation ('{stem}')")
    for (_, options), same in by_options.items():
        for i in same[1:]:
            uf.union(same[0], i, f"identical options ({len(options)} values)")

    comparisons = _fuzzy_links(uf, by_stem, tokens_of, p.name_similarity) if p.name_similarity < 100 else 0
    roots: dict[int, list[int]] = {}
    for i in range(len(fields)):
        roots.setdefault(uf.find(i), []).append(i)
    groups = sorted(g for g in roots.values() if len(g) > 1)
    return Grouping(groups, uf.links, comparisons)


def stem_blocks(stems: list[str], side: int, width: int) -> Iterator[list[str]]:
    """Stems sharing their first (``side`` 0) or last (``side`` -1) ``width`` letters. A block larger than
    :data:`MAX_BLOCK` (a house prefix such as ``acme_`` on every field) is split again on twice the width, so no
    block grows with the object."""
    groups: dict[str, list[str]] = {}
    for stem in stems:
        groups.setdefault(stem[:width] if side == 0 else stem[-width:], []).append(stem)
    for group in groups.values():
        if len(group) > MAX_BLOCK and any(len(s) > width for s in group):
            yield from stem_blocks(group, side, width * 2)
        elif len(group) > 1:
            yield group


def _fuzzy_links(
    uf: _UnionFind,
    by_stem: dict[tuple[str, str], dict[int, int | None]],
    tokens_of: dict[tuple[str, str], NameKey],
    threshold: int,
) -> int:
    families: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for family, stem in by_stem:
        if len(stem) >= MIN_FUZZY_LENGTH:
            families.setdefault((family, tokens_of[(family, stem)].digits), []).append(stem)
    comparisons = 0
    for (family, _), family_stems in sorted(families.items()):
        for side in (0, -1):
            for block in stem_blocks(sorted(family_stems), side, BLOCK):
                comparisons += _compare_block(uf, family, block, by_stem, tokens_of, threshold)
    return comparisons


def _compare_block(
    uf: _UnionFind,
    family: str,
    block: list[str],
    by_stem: dict[tuple[str, str], dict[int, int | None]],
    tokens_of: dict[tuple[str, str], NameKey],
    threshold: int,
) -> int:
    comparisons = 0
    stems = sorted(block, key=lambda s: (len(s), s))
    lengths = [len(s) for s in stems]
    for i, stem in enumerate(stems):
        # ratio = 2·matches / (len a + len b) ≤ 2·len a / (len a + len b): longer partners cannot reach it.
        # A pair sharing both its first and last letters is compared twice; union makes that harmless.
        window = stems[i + 1 : bisect_right(lengths, len(stem) * (200 - threshold) / threshold)]
        if not window:
            continue
        comparisons += len(window)
        for other, score, _ in process.extract(stem, window, scorer=fuzz.ratio, score_cutoff=threshold, limit=None):
            a, b = (family, stem), (family, str(other))
            if not _words_compatible(tokens_of[a], tokens_of[b]):
                continue
            for fa, na in by_stem[a].items():
                for fb, nb in by_stem[b].items():
                    if fa != fb and _may_link(na, nb):
                        uf.union(fa, fb, f"similar names ('{stem}' ~ '{other}', {score:.0f})")
    return comparisons


def _rate(fld: FieldDef) -> float:
    return (fld.fill.rate if fld.fill else None) or 0.0


def _decorated(fld: FieldDef) -> bool:
    return any(k.decorated for k in field_keys(fld))


@dataclass(frozen=True)
class Suggestion:
    keep: FieldDef
    why: str


def suggest_keeper(members: Sequence[FieldDef], uses: dict[str, FieldUse]) -> Suggestion:
    """The member to keep: a standard field (it cannot be deleted), then the fullest, then the most used (active
    references and integration mappings), then one whose name is not marked as a copy, version or old field,
    then the oldest; the reason names what set it apart."""

    def created(f: FieldDef) -> float:
        return -f.created_at.timestamp() if f.created_at else float("-inf")

    def rank(f: FieldDef) -> tuple[bool, float, int, bool, float, str]:
        return (not f.custom, _rate(f), uses[f.id].count, not _decorated(f), created(f), f.id)

    keep = max(members, key=rank)
    others = [f for f in members if f is not keep]
    reasons = []
    if not keep.custom and all(f.custom for f in others):
        reasons.append("it is the standard field (it cannot be deleted and integrations map it by default)")
    if all(_rate(keep) > _rate(f) for f in others):
        rates = ", ".join(f"{_rate(f):.0%}" for f in others)
        reasons.append(f"it is the fullest ({_rate(keep):.0%} filled against {rates})")
    if all(uses[keep.id].count > uses[f.id].count for f in others):
        counts = ", ".join(str(uses[f.id].count) for f in others)
        used = plural(uses[keep.id].count, "active reference or mapping", "active references and mappings")
        reasons.append(f"it is the most used ({used} against {counts})")
    if not _decorated(keep) and all(_decorated(f) for f in others):
        reasons.append("the others' names mark them as copies, versions or old fields")
    if not reasons:
        reasons.append(
            "no member is fuller or more used; it is the oldest"
            if keep.created_at and all(f.created_at and keep.created_at < f.created_at for f in others)
            else "no member is fuller or more used, so any one will do: pick by convention"
        )
    return Suggestion(keep, "; ".join(reasons))


class NearDuplicateFieldsRule(Rule[Params]):
    """Several fields of one object with the same type and a similar name or label, or identical options.

    Why it matters: ``lead_source``, ``Lead Source 2`` and ``leadsource_old`` on one object split one fact in
    three. Forms write one, imports another, a workflow reads the third, and every report undercounts. Each copy
    also costs a slot against the object's custom-field limit.

    How fields are grouped (within one object, one type family: text-like types together, date with datetime):
    names and labels are normalised first (case, separators and camelCase, Salesforce's ``__c``, decorations at
    either end such as ``old``, ``(old)``, ``copy``, ``copy of``, ``legacy``, ``do not use``, and a short
    trailing number such as ``2`` or ``v3``); then fields are linked by equal normalised names, by similar ones
    (rapidfuzz ratio ≥ ``name_similarity``, with differing words required to be near-identical so
    ``first_touch_x`` and ``last_touch_x``, or ``timeline`` and ``fit_timeline``, stay apart), or by identical
    option sets of ``min_options`` to
    ``max_options`` values that are not all generic (yes/no/unknown, numbers). Numbered series (``address_line_1``,
    ``address_line_2``) and names differing only in other digits (``webinar_2023``, ``webinar_2024``) are not
    duplicates. Archived and calculated fields are left out, and a group needs at least one custom field (two
    standard fields are the vendor's design). Comparisons are bucketed by type and normalised stem, so an object of
    800 fields and a snapshot of 100,000 stay fast.

    The finding suggests which field to keep, and says why: a standard field first (it cannot be deleted), then the
    fullest, then the most used, then the one whose name is not marked as a copy, then the oldest.

    Example: ``hubspot:contacts.lead_source`` (62% filled, read by 4 workflows), ``lead_source_2`` (3%) and
    ``leadsource_old`` (0%), all enumerations with the same options: keep ``lead_source``.

    Fix: pick the field to keep, copy the others' values into it where it is empty, repoint forms, workflows,
    reports and integration mappings, then archive the others.
    """

    id = "DF001"
    name = "near-duplicate-fields"
    title = "Near-duplicate fields in one object"
    category = Category.duplicate_field
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.fields})
    remediation = (
        "Keep the suggested field, merge the others' values into it, repoint forms, workflows, reports and "
        "mappings, then archive the others."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        snap = ctx.snapshot
        for tool, reason in unread_field_tools(snap).items():
            yield ctx.inconclusive(tool, reason)
        by_object: dict[str, list[FieldDef]] = {}
        for fld in snap.fields:
            if not fld.archived and not fld.calculated:
                by_object.setdefault(fld.object_id, []).append(fld)
        for object_id, fields in sorted(by_object.items()):
            fields.sort(key=lambda f: f.id)
            grouping = find_duplicate_groups(fields, ctx.params)
            for group in grouping.groups:
                members = [fields[i] for i in group]
                if all(not f.custom for f in members):
                    continue
                inside = set(group)
                links = [(fields[a].id, fields[b].id, why) for a, b, why in grouping.links if a in inside]
                yield self._finding(ctx, object_id, members, links)

    def _finding(
        self, ctx: RuleContext[Params], object_id: str, members: list[FieldDef], links: list[tuple[str, str, str]]
    ) -> Finding:
        snap = ctx.snapshot
        tool = members[0].tool
        uses = {f.id: field_use(snap, ctx.graph, f.id) for f in members}
        suggestion = suggest_keeper(members, uses)
        family = type_family(members[0].type)
        evidence = [f"{plural(len(members), 'field')} on {object_id} hold the same type ({family}) and look alike:"]
        for f in members:
            u = uses[f.id]
            fill = f"{f.fill.rate:.1%} filled" if f.fill and f.fill.rate is not None else "fill unknown"
            label = f" '{f.label}'" if f.label else ""
            evidence.append(
                f"{f.id}{label} ({'custom' if f.custom else 'standard'} {f.vendor_type or f.type}): {fill}, "
                f"{plural(len(u.active_assets), 'active reference')}, {plural(len(u.integrations), 'mapping')}."
            )
        evidence.append("Linked by: " + "; ".join(f"{a} ~ {b}: {why}" for a, b, why in links) + ".")
        evidence.append(f"Keep {suggestion.keep.id}: {suggestion.why}.")
        not_checked = [
            cannot_see(tool, cap, status, cov) + ": the suggestion could not weigh it"
            for cap in (Capability.fill_rates, Capability.references)
            for status, cov in [best_coverage(snap, tool, cap)]
            if not is_covered(status) or status is CoverageStatus.partial
        ]
        names = ", ".join(f.name for f in members)
        return ctx.finding(
            [f.id for f in members],
            f"{plural(len(members), 'near-duplicate field')} on {object_id}: {names}",
            evidence=evidence,
            facts={
                "object": object_id,
                "type": family,
                "keep": suggestion.keep.id,
                "keep_reason": suggestion.why,
                "links": [f"{a} ~ {b}: {why}" for a, b, why in links],
                "custom": [f.id for f in members if f.custom],
            },
            not_checked=not_checked,
            remediation=f"Keep {suggestion.keep.id}, merge the others' values into it, repoint forms, workflows, "
            "reports and mappings, then archive the others.",
            tools=[tool],
        )
