"""Paginators: cursor, offset, next-URL; a repeated cursor is an error, never an endless loop."""

from __future__ import annotations

import pytest

from stackaudit_connectors.http import PaginationError, iter_cursor, iter_next_url, iter_offset


def cursor_pages(pages: dict[str | None, dict]):
    calls: list[str | None] = []

    def fetch(cursor: str | None) -> dict:
        calls.append(cursor)
        return pages[cursor]

    return fetch, calls


def next_after(page: dict) -> str | None:
    return page.get("next")


def test_cursor_follows_until_no_next() -> None:
    fetch, calls = cursor_pages(
        {None: {"items": [1], "next": "a"}, "a": {"items": [2], "next": "b"}, "b": {"items": [3]}}
    )
    items = [i for page in iter_cursor(fetch, next_after, connector="c", where="/x") for i in page["items"]]
    assert items == [1, 2, 3]
    assert calls == [None, "a", "b"]


def test_cursor_empty_string_ends() -> None:
    fetch, _ = cursor_pages({None: {"items": [1], "next": ""}})
    assert len(list(iter_cursor(fetch, next_after, connector="c", where="/x"))) == 1


def test_repeated_cursor_raises_after_yielding_what_was_read() -> None:
    fetch, calls = cursor_pages({None: {"next": "a"}, "a": {"next": "b"}, "b": {"next": "a"}})
    seen = []
    with pytest.raises(PaginationError, match="repeated") as err:
        for page in iter_cursor(fetch, next_after, connector="hubspot", where="/crm/v3/owners"):
            seen.append(page)
    assert len(seen) == 3
    assert calls == [None, "a", "b"]
    assert err.value.code == "pagination"
    assert "connector 'hubspot'" in str(err.value)


def test_cursor_max_pages() -> None:
    fetch, _ = cursor_pages({None: {"next": "a"}, "a": {"next": "b"}, "b": {"next": "c"}})
    with pytest.raises(PaginationError, match="more than 2 pages"):
        list(iter_cursor(fetch, next_after, connector="c", where="/x", max_pages=2))


def test_lazy_iteration_stops_requesting_when_the_caller_stops() -> None:
    fetch, calls = cursor_pages({None: {"next": "a"}, "a": {"next": "b"}, "b": {}})
    for _page in iter_cursor(fetch, next_after, connector="c", where="/x"):
        break
    assert calls == [None]


def test_offset_paging_and_stuck_offset() -> None:
    pages = {0: {"n": [1, 2], "offset": 2, "more": True}, 2: {"n": [3], "offset": 3, "more": False}}
    got = list(iter_offset(lambda o: pages[o], lambda p: p["offset"] if p["more"] else None, connector="c", where="/l"))
    assert [x for p in got for x in p["n"]] == [1, 2, 3]
    with pytest.raises(PaginationError, match="did not advance"):
        list(iter_offset(lambda o: {"offset": o}, lambda p: p["offset"], connector="c", where="/l"))


def test_next_url_paging_and_loop() -> None:
    pages = {"/a": {"next": "/b"}, "/b": {"next": None}}
    assert len(list(iter_next_url(lambda u: pages[u], lambda p: p["next"], "/a", connector="c"))) == 2
    loop = {"/a": {"next": "/b"}, "/b": {"next": "/a"}}
    with pytest.raises(PaginationError, match="next link repeated"):
        list(iter_next_url(lambda u: loop[u], lambda p: p["next"], "/a", connector="c"))
