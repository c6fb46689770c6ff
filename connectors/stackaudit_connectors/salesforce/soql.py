"""Building the SOQL the connector sends: quoting, count queries and ``IN`` lists kept under a length limit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

__all__ = ["chunk_by_length", "count_query", "literal", "soql_datetime", "split_in_list"]


def literal(value: str) -> str:
    """A SOQL string literal: backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal, ``2026-09-01T09:00:00Z`` (unquoted)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def count_query(obj: str, fields: Sequence[str], where: str | None = None) -> str:
    """``SELECT COUNT(Id), COUNT(F1), ... FROM Obj [WHERE ...]``: ``expr0`` is the record count."""
    items = ", ".join(["COUNT(Id)", *(f"COUNT({f})" for f in fields)])
    return f"SELECT {items} FROM {obj}" + (f" WHERE {where}" if where else "")  # noqa: S608 - SOQL built from API names and escaped literals


def chunk_by_length(items: Sequence[str], *, fixed: int, per_item: int, max_chars: int, max_items: int
                    ) -> list[list[str]]:
    """Split ``items`` so ``fixed + sum(len(item) + per_item)`` stays under ``max_chars`` and a chunk holds at most
    ``max_items`` (one item longer than the budget still gets a chunk of its own)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = fixed
    for item in items:
        cost = len(item) + per_item
        if current and (size + cost > max_chars or len(current) >= max_items):
            chunks.append(current)
            current, size = [], fixed
        current.append(item)
        size += cost
    if current:
        chunks.append(current)
    return chunks


def split_in_list(prefix: str, values: Sequence[str], suffix: str, max_chars: int) -> list[tuple[list[str], str]]:
    """``prefix + ('v1','v2',...) + suffix`` queries, each under ``max_chars``: ``[(values, soql)]``."""
    fixed = len(prefix) + len(suffix) + 2
    out = []
    for chunk in chunk_by_length(values, fixed=fixed, per_item=3, max_chars=max_chars, max_items=10_000):
        out.append((chunk, f"{prefix}({','.join(literal(v) for v in chunk)}){suffix}"))
    return out
