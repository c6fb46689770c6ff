"""Diagram labels: untrusted text made safe for DOT and Mermaid, and the names diagrams give things.

Every label is user or vendor text (tool names, field labels, integration names). Both writers start from
:func:`clean_label`, one line of plain text, then escape for their own syntax:

- DOT (:func:`dot_label`): backslashes doubled so ``\\l`` or ``\\N`` stay literal, quotes escaped by the graphviz
  package, and ``<...>`` never read as an HTML-like label;
- Mermaid (:func:`mermaid_text`): every character with a meaning in flowchart syntax or in the HTML Mermaid
  renders (``" # & < > [ ] { } ( ) | ; `` and the backtick) written as a Mermaid entity code (``#35;``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import graphviz

from stackaudit_inventory import Snapshot
from stackaudit_inventory.catalogue import load_catalogue
from stackaudit_inventory.ids import parse_field_id

__all__ = ["MAX_LABEL", "capability_title", "clean_label", "dot_label", "flow_labels", "mermaid_text"]

MAX_LABEL = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MERMAID_SPECIAL = re.compile(r"[\"#&<>\[\]{}()|;`]")
# How many field names an edge label lists before "+N".
_FLOW_FIELDS = 3


def clean_label(text: str, limit: int = MAX_LABEL) -> str:
    """One line of plain text: control and separator characters become spaces; long text is shortened."""
    flat = _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()
    flat = re.sub(r" {2,}", " ", flat)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def dot_label(*lines: str, limit: int = MAX_LABEL) -> str:
    """A DOT label from lines of untrusted text: each line escaped, joined with DOT's centred line break."""
    cleaned = [clean_label(line, limit) for line in lines if line]
    escaped = [graphviz.escape(line) for line in cleaned if line]
    # escape() doubled every backslash, so the ``\n`` joiner is the only escape sequence Graphviz will see.
    return graphviz.nohtml("\\n".join(escaped))  # type: ignore[no-any-return]


def mermaid_text(*lines: str, limit: int = MAX_LABEL) -> str:
    """Text for inside a quoted Mermaid label (``["..."]``, ``|"..."|``): one entity code per special character,
    lines joined with ``<br>`` (the only markup ever emitted, and never from the input)."""
    cleaned = [clean_label(line, limit) for line in lines if line]
    escaped = [_MERMAID_SPECIAL.sub(lambda m: f"#{ord(m.group(0))};", line) for line in cleaned if line]
    return "<br>".join(escaped)


def capability_title(slug: str) -> str:
    """The catalogue's label for a capability slug (``CRM``, ``Email marketing``), or the slug itself."""
    info = load_catalogue().capabilities.get(slug)
    return info.label if info is not None else slug


def _field_name(field_id: str) -> str:
    try:
        return parse_field_id(field_id).field
    except ValueError:
        return field_id


def flow_labels(snapshot: Snapshot, limit: int = _FLOW_FIELDS) -> dict[str, str]:
    """Integration id -> what flows, for edge labels: ``demo-request: email, company +1 · via Zapier``."""
    names: Mapping[str, str] = {t.id: t.name for t in snapshot.tools}
    out: dict[str, str] = {}
    for integration in snapshot.integrations:
        fields = sorted({_field_name(m.target) for m in integration.mappings})
        what = ", ".join(fields[:limit]) + (f" +{len(fields) - limit}" if len(fields) > limit else "")
        head = ": ".join(p for p in (integration.name, what) if p)
        via = f"via {names.get(integration.via, integration.via)}" if integration.via else ""
        label = " · ".join(p for p in (head, via) if p)
        if label:
            out[integration.id] = label
    return out
