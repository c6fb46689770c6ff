"""Stable, human-readable ids: the one place they are built and parsed.

Ids are part of the public contract (findings, waivers and baselines refer to them), so they are built from
the vendor's own API names, never from labels:

- a tool is its slug: ``hubspot``, ``salesforce``, ``google-analytics-4``
- an object is ``<tool>:<object>``: ``hubspot:contacts``, ``salesforce:Lead``
- a field is ``<tool>:<object>.<field>``: ``hubspot:contacts.lifecyclestage``,
  ``salesforce:Lead.Legacy_Score__c``
- an asset is ``<tool>:<kind>/<native id>``: ``hubspot:workflow/123``, ``marketo:form/1001``
- an integration is ``<source>-><target>``, with ``:<name>`` appended when two flows join the same pair:
  ``hubspot->salesforce``, ``segment->mixpanel:web``
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

__all__ = [
    "FieldId",
    "asset_id",
    "field_id",
    "integration_id",
    "is_tool_slug",
    "object_id",
    "parse_field_id",
    "slugify",
    "tool_of",
]

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Turn a product or vendor name into a tool slug: ``"Google Analytics 4"`` -> ``google-analytics-4``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", ascii_name.lower()).strip("-")
    if not slug:
        raise ValueError(f"cannot make a tool id from {name!r}")
    return slug


def is_tool_slug(value: str) -> bool:
    """True if ``value`` is a valid tool id (lowercase letters, digits, single ``-`` or ``_`` separators)."""
    return bool(_SLUG_RE.match(value))


def object_id(tool: str, obj: str) -> str:
    return f"{tool}:{obj}"


def field_id(tool: str, obj: str, field: str) -> str:
    return f"{tool}:{obj}.{field}"


def asset_id(tool: str, kind: str, native_id: str | int) -> str:
    return f"{tool}:{kind}/{native_id}"


def integration_id(source: str, target: str, name: str | None = None) -> str:
    base = f"{source}->{target}"
    return f"{base}:{name}" if name else base


class FieldId(NamedTuple):
    tool: str
    object: str
    field: str


def parse_field_id(value: str) -> FieldId:
    """Split ``tool:object.field``. The object is everything up to the first dot after the colon, since
    vendor object names carry no dots while some field names do (e.g. Segment trait paths)."""
    tool, sep, rest = value.partition(":")
    obj, dot, field = rest.partition(".")
    if not sep or not dot or not tool or not obj or not field:
        raise ValueError(f"not a field id (expected <tool>:<object>.<field>): {value!r}")
    return FieldId(tool, obj, field)


def tool_of(any_id: str) -> str:
    """The tool an id belongs to (the slug before ``:`` for objects, fields and assets)."""
    return any_id.split(":", 1)[0].split("->", 1)[0]
