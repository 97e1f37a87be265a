"""The page iterator: the next page is fetched while one is written, and abandoned on error."""

import time

import pytest

from act_connector.pages import Pages


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
