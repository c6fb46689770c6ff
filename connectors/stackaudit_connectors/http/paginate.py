"""Paginators as small strategies: cursor, offset and next-URL. A cursor that repeats is an error, never a loop.

Each paginator takes a ``fetch`` function (one page for one position) and a function reading the next position
from a page, so the paginator knows nothing about HTTP or the vendor's JSON. Iteration is lazy: a caller that has
seen enough (a sample) simply stops iterating and no further page is requested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from .errors import PaginationError

__all__ = ["iter_cursor", "iter_next_url", "iter_offset"]

P = TypeVar("P")


def iter_cursor(
    fetch: Callable[[str | None], P],
    next_cursor: Callable[[P], str | None],
    *,
    connector: str,
    where: str,
    max_pages: int | None = None,
) -> Iterator[P]:
    """Pages for cursors ``None, c1, c2, ...`` until ``next_cursor`` returns None (or an empty string)."""
    seen: set[str] = set()
    cursor: str | None = None
    pages = 0
    while True:
        page = fetch(cursor)
        pages += 1
        yield page
        cursor = next_cursor(page)
        if not cursor:
            return
        if cursor in seen:
            raise PaginationError(connector, f"cursor {cursor[:40]!r} repeated after {pages} pages", path=where)
        seen.add(cursor)
        if max_pages is not None and pages >= max_pages:
            raise PaginationError(connector, f"more than {max_pages} pages", path=where)


def iter_offset(
    fetch: Callable[[int], P],
    next_offset: Callable[[P], int | None],
    *,
    connector: str,
    where: str,
    start: int = 0,
    max_pages: int | None = None,
) -> Iterator[P]:
    """Pages for offsets ``start, o1, o2, ...``; the next offset must move forward (a stuck offset is a loop)."""
    offset = start
    pages = 0
    while True:
        page = fetch(offset)
        pages += 1
        yield page
        nxt = next_offset(page)
        if nxt is None:
            return
        if nxt <= offset:
            raise PaginationError(connector, f"offset did not advance ({offset} -> {nxt})", path=where)
        offset = nxt
        if max_pages is not None and pages >= max_pages:
            raise PaginationError(connector, f"more than {max_pages} pages", path=where)


def iter_next_url(
    fetch: Callable[[str], P],
    next_url: Callable[[P], str | None],
    first: str,
    *,
    connector: str,
    max_pages: int | None = None,
) -> Iterator[P]:
    """Pages following each page's next link. ``fetch`` goes through the client, which refuses foreign hosts."""
    seen = {first}
    url = first
    pages = 0
    while True:
        page = fetch(url)
        pages += 1
        yield page
        nxt = next_url(page)
        if not nxt:
            return
        if nxt in seen:
            raise PaginationError(connector, f"next link repeated after {pages} pages", path=first.split("?")[0])
        seen.add(nxt)
        url = nxt
        if max_pages is not None and pages >= max_pages:
            raise PaginationError(connector, f"more than {max_pages} pages", path=first.split("?")[0])
