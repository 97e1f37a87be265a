"""The page iterator: the next page is fetched while one is written, and abandoned on error."""

import gc
import time
import weakref
from collections import Counter
from datetime import datetime, timezone

import pytest

from act_connector.client import Page
from act_connector.pages import Pages, Walk, walk_pages
from act_connector.paging import Position


def numbered(count):
    """fetch() and follow() of a walk over pages 1..count (then an empty page)."""
    fetched = []

    def fetch(number, stop):
        fetched.append(number)
        return [{"page": number}] if number <= count else []

    def follow(rows):
        number = rows[-1]["page"] + 1
        return rows, number, number - 1

    return fetch, follow, fetched


def test_each_page_comes_with_the_position_after_it_and_the_next_is_already_asked_for():
    fetch, follow, fetched = numbered(3)
    seen = []
    with Pages([{"page": 1}], follow, fetch, "test") as pages:
        for rows, after in pages:
            time.sleep(0.05)  # writing: the next page's request is under way meanwhile
            seen.append((rows[0]["page"], after, list(fetched)))
    assert [(page, after) for page, after, _ in seen] == [(1, 1), (2, 2), (3, 3)]
    assert [asked for _, _, asked in seen] == [[2], [2, 3], [2, 3, 4]]


def test_an_error_while_writing_a_page_does_not_wait_for_the_request_in_flight():
    released = []

    def slow_fetch(_, stop):
        stop.wait(10)  # a request sitting out a long throttle wait, until told to stop
        released.append(stop.is_set())
        return []

    started = time.monotonic()
    pages = Pages([{"page": 1}], lambda rows: (rows, 2, 1), slow_fetch, "test")
    with pytest.raises(RuntimeError, match="the writer failed"), pages:
        for _ in pages:
            raise RuntimeError("the writer failed")
    assert time.monotonic() - started < 2
    time.sleep(0.1)
    assert released == [True]  # the request in flight was told to stop


def test_a_page_that_follow_refuses_is_not_written():
    fetch, _, fetched = numbered(3)

    def refuse(rows):
        raise ValueError("the server ignores $filter")

    written = []
    with pytest.raises(ValueError), Pages([{"page": 1}], refuse, fetch, "test") as pages:
        for rows, _ in pages:
            written.append(rows)
    assert written == [] and fetched == []


class WidePages:
    """A stand-in client serving one page after another, each answer 1,000 bytes a record."""

    def __init__(self, pages: list[list[dict]]):
        self.pages, self.asked = pages, []

    def get_page(self, table, path, params, stop=None):
        self.asked.append(int(params["$top"]))
        rows = self.pages.pop(0)
        return Page(rows, "array", {}, 0.0, 1000 * len(rows))


def test_a_full_page_of_a_smaller_top_is_taken_for_no_server_cap(catalog, monkeypatch):
    """Wide records ask for fewer: a page as long as its own $top is full, not capped."""
    monkeypatch.setattr("act_connector.paging.PAGE_BYTES", 1000)
    monkeypatch.setattr("act_connector.paging.MIN_TOP", 1)
    records = [{"id": f"c{n}", "edited": f"2025-01-0{n}T00:00:00Z"} for n in range(1, 8)]
    client = WidePages([records[4:5], records[5:6], records[6:7], []])
    first = Page(records[:4], "array", {}, 0.0, 4000)
    start = Position(cursor="2024-01-01T00:00:00Z")
    until = datetime(2026, 1, 1, tzinfo=timezone.utc)
    walk = Walk(start, until, first_asked=4, top=4)
    with walk_pages(
        client, catalog.tables["contacts"], "contacts", walk, first, Counter()
    ) as pages:
        walked = [(len(rows), after) for rows, after in pages]
    assert [count for count, _ in walked] == [4, 1, 1, 1] and client.asked == [1, 1, 1, 1]
    assert walked[-1][1] == Position("2025-01-07T00:00:00Z", "c7") and walked[-1][1].cap == 0


class Row(dict):
    """A record that can be watched (weakref) for whether anything still holds it."""


def test_a_written_page_is_not_held_while_the_next_is_awaited():
    """A walk waiting on a slow server holds the page on its way, not the one it wrote too:
    four tables' walks at once would otherwise hold twice the pages."""
    first = [Row(page=1)]
    made = {1: weakref.ref(first[0])}
    held = []  # while each page was awaited, after the one before was written

    def fetch(number, stop):
        time.sleep(0.2)  # a slow server: the page before is written meanwhile
        gc.collect()
        held.append(made[number - 1]() is not None)
        if number > 3:
            return []
        row = Row(page=number)
        made[number] = weakref.ref(row)
        return [row]

    def follow(rows):
        return rows, rows[-1]["page"] + 1, rows[-1]["page"]

    written = []
    with Pages(first, follow, fetch, "test") as pages:
        del first
        for rows, _ in pages:
            written.append(rows[0]["page"])
            del rows  # as a walk does once its page is written
    assert written == [1, 2, 3]
    assert held == [False, False, False]
