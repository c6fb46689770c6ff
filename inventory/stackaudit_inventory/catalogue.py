"""The vendor catalogue: what common martech products are, so discovered tools resolve without the user typing them.

The catalogue ships as data (``data/vendors.json``): about 150 products with their capabilities (the first is the
primary one, which RT001 compares), whether they are a suite (RT002 asks whether a suite covers a point tool),
aliases, Salesforce managed-package namespaces, Segment destination names, and the field-name prefixes or suffixes
their integrations create in other tools (OF005 uses them to find fields left behind by a removed tool).

Identifiers are listed only where they are known with confidence. An empty list means "unknown", never "none";
an entry's ``confidence`` notes say what was left out and why.

Lookups, all exact after normalisation (no fuzzy guessing: a wrong match would blame the wrong vendor):

- :meth:`VendorCatalogue.match_name` compares names and aliases ignoring case, spaces, punctuation and accents
  (``"tray.io"``, ``"Tray IO"`` and ``"TRAY-IO"`` are one key), see :func:`name_key`.
- :meth:`VendorCatalogue.by_segment_destination` normalises Segment's catalog names with
  :func:`segment_destination_key` (drops ``(Actions)``-style tails, a leading ``Actions``, and connection-mode words
  such as ``Web``, ``Cloud Mode``), then falls back to product names.
- :meth:`VendorCatalogue.by_salesforce_namespace` ignores case and a trailing ``__``.
- :meth:`VendorCatalogue.owner_by_field_name` matches prefixes (and namespaces as ``ns__``) and suffixes; the
  longest marker wins, and a field carrying the host tool's own marker belongs to no other tool.

What the manifest declares always wins (:func:`load_catalogue`): an extension with a bundled id overrides exactly the
fields it sets, and any name, alias, namespace, destination or field marker it claims resolves to it rather than to a
bundled entry. Conflicts inside the bundled data, or inside the manifest's own extensions, are errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from . import ids
from .errors import InputError

__all__ = [
    "CapabilityInfo",
    "CatalogueError",
    "FieldPrefix",
    "VendorCatalogue",
    "VendorEntry",
    "load_catalogue",
    "name_key",
    "segment_destination_key",
]

_DATA_FILE = "vendors.json"

# Salesforce namespace prefixes: a letter, then letters, digits or underscores, 15 characters at most.
_NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,14}$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")
_ACTIONS_HEAD = re.compile(r"^actions\s+")
_MODE_TAIL = re.compile(r"\s+(?:cloud mode|web mode|device mode|browser mode|mobile mode|cloud|web)$")

ConfidenceKey = Literal[
    "vendor",
    "capabilities",
    "suite",
    "aliases",
    "salesforce_namespaces",
    "segment_destinations",
    "field_prefixes",
    "field_suffixes",
    "typical_annual_cost_usd",
]


class CatalogueError(InputError):
    """The vendor catalogue, or a manifest extension of it, is invalid (duplicates, unknown capabilities...)."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower().strip()


def name_key(name: str) -> str:
    """The matching key of a product name: accents folded, lowercase, letters and digits only.

    ``"Customer.io"`` -> ``customerio``; ``"Chili Piper"`` -> ``chilipiper``; ``"D&B Hoovers"`` -> ``dbhoovers``.
    """
    return _NON_ALNUM.sub("", _fold(name))


def _segment_base(name: str) -> str:
    """A Segment destination name without parenthesised tails and without Segment's leading ``Actions``."""
    text = _fold(name)
    while (stripped := _PAREN_TAIL.sub("", text)) != text and stripped:
        text = stripped
    stripped = _ACTIONS_HEAD.sub("", text)
    return stripped or text


def segment_destination_key(name: str) -> str:
    """The matching key of a Segment destination name, so every variant of one integration shares a key.

    The rule, applied in order:

    1. fold accents and case;
    2. drop trailing parenthesised groups: ``(Actions)``, ``(Legacy)``, ``(Classic)``, ``(Customer Match)``, and the
       labels users give instances such as ``(prod)``;
    3. drop a leading ``Actions`` (Segment's internal creation names, ``Actions Amplitude``);
    4. drop trailing connection-mode words, repeatedly: ``Cloud Mode``, ``Web Mode``, ``Device Mode``,
       ``Browser Mode``, ``Mobile Mode``, ``Cloud``, ``Web``;
    5. keep letters and digits only.

    ``"Intercom Web (Actions)"``, ``"Intercom Cloud Mode (Actions)"`` and ``"Intercom"`` all give ``intercom``;
    ``"Google Analytics 4 Web"`` gives ``googleanalytics4``. A step that would leave nothing is skipped.
    """
    text = _segment_base(name)
    while (stripped := _MODE_TAIL.sub("", text)) != text and stripped:
        text = stripped
    return _NON_ALNUM.sub("", text)


class _Frozen(BaseModel):
    """Catalogue models are shared (the bundled catalogue is cached), so they are immutable; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CapabilityInfo(_Frozen):
    """One capability of the controlled vocabulary."""

    label: str = Field(description="Human label for reports, e.g. `Email marketing`.")
    description: str = Field(description="One line saying what a tool with this capability does.")


class FieldPrefix(_Frozen):
    """A field-name prefix that marks fields an integration created in another tool.

    In the JSON data a bare string means "in any host"; an object can limit the prefix to some host tools, because
    short prefixes are only telling in one place (HubSpot's ``salesforce*`` properties, Marketo's ``sfdc*`` fields).
    """

    prefix: str = Field(min_length=2, description="Matched case-insensitively against the start of the field name.")
    hosts: tuple[str, ...] = Field(
        default=(), description="Tool ids in which the prefix applies; empty means every host."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"prefix": value} if isinstance(value, str) else value


class VendorEntry(_Frozen):
    """One product of the catalogue, or a manifest's declaration about a tool (same shape, so it can override)."""

    id: str = Field(description="Tool slug, as `ids.slugify` builds it: `google-analytics-4`.")
    name: str = Field(min_length=1, description="Product name as the vendor spells it.")
    vendor: str | None = Field(default=None, description="The company selling it today.")
    capabilities: tuple[str, ...] = Field(
        default=(), description="Capability slugs from the vocabulary; the first is the primary capability."
    )
    suite: bool = Field(
        default=False,
        description="Covers its listed capabilities well enough that a point tool beside it may be redundant.",
    )
    aliases: tuple[str, ...] = Field(default=(), description="Other names, spellings and former names.")
    salesforce_namespaces: tuple[str, ...] = Field(
        default=(), description="Managed-package namespace prefixes, without `__`."
    )
    segment_destinations: tuple[str, ...] = Field(default=(), description="Segment catalog destination names.")
    field_prefixes: tuple[FieldPrefix, ...] = Field(
        default=(), description="Prefixes of fields its integrations create in CRM or MA tools."
    )
    field_suffixes: tuple[str, ...] = Field(
        default=(), description="Suffixes of such fields, for vendors that mark fields at the end (6sense)."
    )
    typical_annual_cost_usd: int | None = Field(default=None, ge=0, description="Rough list price, where known.")
    confidence: dict[ConfidenceKey, str] = Field(
        default_factory=dict, description="Per field: what is uncertain or was deliberately left out."
    )
    notes: str | None = Field(default=None, description="Where identifiers come from; anything a reviewer should know.")
    source: Literal["catalogue", "manifest"] = Field(
        default="catalogue", description="`manifest` when the team's manifest declared or overrode the entry."
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not ids.is_tool_slug(value):
            raise ValueError(f"vendor id must be a lowercase tool slug like 'google-analytics-4', got {value!r}")
        return value

    @field_validator("capabilities")
    @classmethod
    def _distinct_capabilities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"capabilities repeat a slug: {list(value)}")
        return value

    @field_validator("salesforce_namespaces")
    @classmethod
    def _namespaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(ns.strip().rstrip("_") for ns in value)
        for ns in cleaned:
            if not _NAMESPACE_RE.match(ns):
                raise ValueError(f"not a Salesforce namespace prefix: {ns!r}")
        return cleaned

    @field_validator("field_suffixes")
    @classmethod
    def _suffixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for suffix in value:
            if len(suffix) < 3:
                raise ValueError(f"field suffix {suffix!r} is too short to tell a vendor's fields apart")
        return value

    @property
    def primary_capability(self) -> str | None:
        """The capability RT001 compares: the first listed."""
        return self.capabilities[0] if self.capabilities else None

    @property
    def names(self) -> tuple[str, ...]:
        """The name and every alias."""
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class _Marker:
    """A lowercase field prefix or suffix of one entry, with the hosts it applies to (empty: all)."""

    text: str
    suffix: bool
    hosts: frozenset[str]
    entry: VendorEntry
    layer: int

    def matches(self, host: str, field: str) -> bool:
        if self.hosts and host not in self.hosts:
            return False
        return field.endswith(self.text) if self.suffix else field.startswith(self.text)


@dataclass(slots=True)
class _Index:
    by_id: dict[str, VendorEntry]
    names: dict[str, VendorEntry]
    namespaces: dict[str, VendorEntry]
    destinations: dict[str, VendorEntry]
    markers: list[_Marker]


_LAYERS = {"catalogue": 0, "manifest": 1}


def _markers(entry: VendorEntry, layer: int) -> Iterable[_Marker]:
    for fp in entry.field_prefixes:
        yield _Marker(fp.prefix.lower(), False, frozenset(fp.hosts), entry, layer)
    for ns in entry.salesforce_namespaces:
        yield _Marker(f"{ns.lower()}__", False, frozenset(), entry, layer)
    for suffix in entry.field_suffixes:
        yield _Marker(suffix.lower(), True, frozenset(), entry, layer)


def _claim(
    table: dict[str, VendorEntry],
    owners: dict[tuple[int, str], VendorEntry],
    key: str,
    entry: VendorEntry,
    layer: int,
    what: str,
    problems: list[str],
) -> None:
    """Record ``key`` for ``entry``: a clash within one layer is a problem, a later layer (the manifest) wins."""
    if not key:
        problems.append(f"{entry.id}: {what} is empty after normalisation")
        return
    holder = owners.get((layer, key))
    if holder is not None and holder.id != entry.id:
        problems.append(f"{what} {key!r} is claimed by both {holder.id!r} and {entry.id!r}")
        return
    owners[(layer, key)] = entry
    table[key] = entry


def _build_index(catalogue: VendorCatalogue) -> tuple[_Index, list[str]]:
    """Build the lookup tables and collect every validation problem (so one error lists them all)."""
    problems: list[str] = []
    index = _Index({}, {}, {}, {}, [])
    owners: dict[str, dict[tuple[int, str], VendorEntry]] = {"name": {}, "namespace": {}, "destination": {}}
    # Bundled entries first, manifest entries after: later writes win in the tables.
    ordered = sorted(catalogue.vendors, key=lambda v: _LAYERS[v.source])
    for entry in ordered:
        layer = _LAYERS[entry.source]
        if entry.id in index.by_id:
            problems.append(f"duplicate vendor id {entry.id!r}")
        index.by_id[entry.id] = entry
        unknown = [c for c in entry.capabilities if c not in catalogue.capabilities]
        if unknown:
            problems.append(f"{entry.id}: capabilities not in the vocabulary: {unknown}")
        for name in entry.names:
            _claim(index.names, owners["name"], name_key(name), entry, layer, "name or alias", problems)
        for ns in entry.salesforce_namespaces:
            _claim(index.namespaces, owners["namespace"], ns.lower(), entry, layer, "Salesforce namespace", problems)
        for dest in entry.segment_destinations:
            key = segment_destination_key(dest)
            _claim(index.destinations, owners["destination"], key, entry, layer, "Segment destination", problems)
        index.markers.extend(_markers(entry, layer))
    problems.extend(_marker_clashes(index.markers))
    return index, problems


def _marker_clashes(markers: list[_Marker]) -> list[str]:
    """Two entries of one layer may not claim the same prefix (or suffix) in an overlapping set of hosts."""
    problems: list[str] = []
    groups: dict[tuple[int, bool, str], list[_Marker]] = {}
    for marker in markers:
        groups.setdefault((marker.layer, marker.suffix, marker.text), []).append(marker)
    for (_, suffix, text), group in groups.items():
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                overlap = not first.hosts or not second.hosts or first.hosts & second.hosts
                if first.entry.id != second.entry.id and overlap:
                    kind = "field suffix" if suffix else "field prefix"
                    problems.append(f"{kind} {text!r} is claimed by both {first.entry.id!r} and {second.entry.id!r}")
    return problems


class VendorCatalogue(_Frozen):
    """The catalogue: a capability vocabulary and the vendor entries, with validated lookups.

    Build it with :func:`load_catalogue`. Construction validates: unique ids; every capability in the vocabulary;
    names and aliases, namespaces, Segment destinations and field markers each claimed by one entry per layer.
    """

    version: int = Field(ge=1, description="Version of the bundled data; bumped when entries change.")
    updated: date = Field(description="When the bundled data was last reviewed.")
    description: str | None = None
    capabilities: dict[str, CapabilityInfo] = Field(description="Capability slug -> label and description.")
    vendors: tuple[VendorEntry, ...]

    _index: _Index = PrivateAttr()

    @model_validator(mode="after")
    def _validate_and_index(self) -> Self:
        for slug in self.capabilities:
            if not ids.is_tool_slug(slug):
                raise ValueError(f"capability slug must be lowercase with hyphens, got {slug!r}")
        index, problems = _build_index(self)
        if problems:
            raise ValueError("; ".join(problems))
        self._index = index
        return self

    def by_id(self, tool_id: str) -> VendorEntry | None:
        """The entry with this tool id, or None."""
        return self._index.by_id.get(tool_id)

    def match_name(self, name: str) -> VendorEntry | None:
        """The entry whose name or alias equals ``name`` ignoring case, spaces, punctuation and accents; else None."""
        key = name_key(name)
        return self._index.names.get(key) if key else None

    def by_salesforce_namespace(self, namespace: str) -> VendorEntry | None:
        """The entry owning a managed-package namespace (``pi``, ``PI`` and ``pi__`` are the same), or None."""
        key = namespace.strip().rstrip("_").lower()
        return self._index.namespaces.get(key) if key else None

    def by_segment_destination(self, name: str) -> VendorEntry | None:
        """The entry behind a Segment destination's catalog name, or None.

        Listed destination names are compared by :func:`segment_destination_key`. Failing that, the name is tried as
        a product name: first with only parenthesised tails and a leading ``Actions`` removed (so ``Marketing Cloud``
        keeps its last word), then fully normalised.
        """
        key = segment_destination_key(name)
        if key and (entry := self._index.destinations.get(key)):
            return entry
        return self.match_name(_segment_base(name)) or (self._index.names.get(key) if key else None)

    def owner_by_field_name(self, tool_id: str, field_name: str) -> VendorEntry | None:
        """The tool whose integration created ``field_name`` (an API name) in the tool ``tool_id``, or None.

        Markers are an entry's field prefixes, its Salesforce namespaces as ``<ns>__`` prefixes, and its field
        suffixes, compared case-insensitively; prefixes limited to some hosts count only there. The longest matching
        marker wins (a manifest entry beats a bundled one of the same length). If the winner is the host tool itself
        the field is native (``hs_lead_status`` in HubSpot) and no other tool owns it, so the answer is None.
        """
        field = field_name.lower()
        best: _Marker | None = None
        for marker in self._index.markers:
            if not marker.matches(tool_id, field):
                continue
            if best is None or (len(marker.text), marker.layer, not marker.suffix) > (
                len(best.text),
                best.layer,
                not best.suffix,
            ):
                best = marker
        if best is None or best.entry.id == tool_id:
            return None
        return best.entry

    def capability_label(self, slug: str) -> str:
        """The human label of a capability slug; KeyError for a slug outside the vocabulary."""
        info = self.capabilities.get(slug)
        if info is None:
            raise KeyError(f"unknown capability {slug!r}")
        return info.label

    def primary_capability(self, tool_id: str) -> str | None:
        """The primary capability of a tool, or None when the tool is unknown or lists none."""
        entry = self.by_id(tool_id)
        return entry.primary_capability if entry else None


def _error_text(err: ValidationError) -> str:
    parts = []
    for item in err.errors():
        loc = ".".join(str(p) for p in item["loc"])
        msg = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


@cache
def _bundled() -> VendorCatalogue:
    """The bundled catalogue, parsed and validated once per process (read lazily, never at import time)."""
    text = (resources.files(__package__) / "data" / _DATA_FILE).read_text(encoding="utf-8")
    try:
        return VendorCatalogue.model_validate_json(text)
    except ValidationError as err:
        raise CatalogueError(f"bundled vendor catalogue data/{_DATA_FILE}: {_error_text(err)}") from err


def _override(base: VendorEntry, declared: VendorEntry) -> VendorEntry:
    """``base`` with every field the manifest set replaced by the manifest's value.

    When the manifest renames a tool, the catalogue's name stays matchable as an alias, so a connector that
    discovers the product under its usual name still lands on the team's tool.
    """
    update: dict[str, Any] = {f: getattr(declared, f) for f in declared.model_fields_set if f != "source"}
    new_name = update.get("name", base.name)
    aliases: tuple[str, ...] = update.get("aliases", base.aliases)
    if name_key(new_name) != name_key(base.name) and name_key(base.name) not in {name_key(a) for a in aliases}:
        update["aliases"] = (*aliases, base.name)
    update["source"] = "manifest"
    return base.model_copy(update=update)


def load_catalogue(extra: Sequence[VendorEntry] | None = None) -> VendorCatalogue:
    """The bundled catalogue, extended and overridden by the manifest's vendor declarations.

    Without ``extra`` this returns the cached bundled catalogue. With it, an entry whose id is bundled overrides only
    the fields it sets (``model_fields_set``); a new id is added. Whatever a manifest entry claims (name, alias,
    namespace, destination, field marker) resolves to it, even if a bundled entry claims the same. Raises
    :class:`CatalogueError` for two manifest entries with one id, or for clashes among manifest entries.
    """
    bundled = _bundled()
    if not extra:
        return bundled
    declared: dict[str, VendorEntry] = {}
    for entry in extra:
        if entry.id in declared:
            raise CatalogueError(f"manifest vendors: tool {entry.id!r} is declared twice")
        declared[entry.id] = entry
    merged = [
        _override(base, entry) if (base := bundled.by_id(entry.id)) else entry.model_copy(update={"source": "manifest"})
        for entry in declared.values()
    ]
    vendors = [v for v in bundled.vendors if v.id not in declared] + merged
    try:
        return VendorCatalogue(
            version=bundled.version,
            updated=bundled.updated,
            description=bundled.description,
            capabilities=bundled.capabilities,
            vendors=tuple(vendors),
        )
    except ValidationError as err:
        raise CatalogueError(f"manifest vendors: {_error_text(err)}") from err
