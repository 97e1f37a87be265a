from dataclasses import replace
from datetime import datetime, timezone

import pytest

from act_connector.errors import PagingError
from act_connector.paging import (
    FIRST_TOP,
    MIN_TOP,
    PAGE_BYTES,
    Position,
    ends_walk,
    first_top,
    learned_cap,
    literal,
    next_position,
    page_query,
    page_top,
    usable_rows,
)

UNTIL = "2026-01-01T00:00:00Z"
UNTIL_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_first_page_of_an_incremental_table(catalog):
    query = page_query(
        catalog.tables["contacts"], Position(cursor="1900-01-01T00:00:00Z"), UNTIL, 500
    )
    assert query == {
        "$filter": "edited ge 1900-01-01T00:00:00Z and edited le 2026-01-01T00:00:00Z",
        "$orderby": "edited asc,id asc",
        "$top": "500",
    }


def test_next_page_starts_strictly_after_the_last_row(catalog):
    position = Position(cursor="2025-03-15T09:00:00Z", id="O'Brien-1")
    query = page_query(catalog.tables["products"], position, UNTIL, 10)
    assert query["$filter"] == (
        "(editDate gt 2025-03-15T09:00:00Z or (editDate eq 2025-03-15T09:00:00Z and "
        "id gt 'O''Brien-1')) and editDate le 2026-01-01T00:00:00Z"
    )
    assert query["$orderby"] == "editDate asc,id asc"


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (12, "INT", "12"),
        ("12", "INT", "12"),  # an integer key a build sends as text stays an integer
        (" 12 ", "LONG", "12"),
        ("a'b", "STRING", "'a''b'"),
        (12, "STRING", "'12'"),
        (
            "6f1c0d3e-0000-4000-8000-000000000001",
            "STRING",
            "'6f1c0d3e-0000-4000-8000-000000000001'",
        ),
        (True, "BOOLEAN", "true"),
        (1.5, "DOUBLE", "1.5"),
        ("x9", "INT", "'x9'"),
    ],
)
def test_literals_follow_the_declared_type(value, kind, text):
    assert literal(value, kind) == text


def test_an_integer_key_sent_as_text_pages_as_an_integer(catalog):
    contacts = catalog.tables["contacts"]
    table = replace(contacts, columns={**contacts.columns, "id": "INT"})
    position = Position(cursor="2025-03-15T09:00:00Z", id="12")
    assert "id gt 12)" in page_query(table, position, UNTIL, 50)["$filter"]


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("2025-03-15T09:00:00.1234567+00:00", "2025-03-15T09:00:00.1234567+00:00"),
        ("2025-03-15T09:00:00.003Z", "2025-03-15T09:00:00.003Z"),
        ("2025-03-15T09:00:00", "2025-03-15T09:00:00Z"),  # no zone: a literal needs one
        ("2025-03-15 09:00:00.5-05:00", "2025-03-15T09:00:00.5-05:00"),
    ],
)
def test_the_cursor_goes_back_as_the_server_wrote_it(catalog, text, sent):
    query = page_query(catalog.tables["contacts"], Position(cursor=text, id="a"), UNTIL, 10)
    assert query["$filter"].startswith(f"(edited gt {sent} or (edited eq {sent} and id gt 'a'))")


def rows(*pairs):
    return [{"id": i, "edited": e} for i, e in pairs]


def test_position_moves_to_the_last_row_with_its_own_text(catalog):
    table = catalog.tables["contacts"]
    page = rows(("b", "2025-01-01T00:00:00+00:00"), ("a", "2025-01-02T00:00:00.1234567+01:00"))
    position, untracked = next_position(
        table, Position(cursor="2024-01-01T00:00:00Z"), page, UNTIL_TIME
    )
    assert position == Position(cursor="2025-01-02T00:00:00.1234567+01:00", id="a")
    assert untracked == 0


def test_a_page_longer_than_top_is_used_as_it_came(catalog):
    page = rows(*[(f"r{i}", "2025-01-01T00:00:00Z") for i in range(50)])
    position, _ = next_position(
        catalog.tables["contacts"], Position(cursor="2024-01-01T00:00:00Z"), page, UNTIL_TIME
    )
    assert position.id == "r49"


def test_records_without_a_readable_cursor_are_counted_and_passed_over(catalog):
    page = rows(("a", "2025-01-01T00:00:00Z"), ("b", None), ("c", ""), ("d", "soon"))
    position, untracked = next_position(
        catalog.tables["contacts"], Position(cursor="2024-01-01T00:00:00Z"), page, UNTIL_TIME
    )
    assert (position, untracked) == (Position("2025-01-01T00:00:00Z", "a", skip=3), 3)
    assert page_query(catalog.tables["contacts"], position, UNTIL, 10)["$skip"] == "3"


def test_a_page_with_no_readable_cursor_is_skipped_past(catalog):
    table = catalog.tables["contacts"]
    start = Position("2024-01-01T00:00:00Z", "z", skip=1)
    position, untracked = next_position(table, start, rows(("b", None), ("c", None)), UNTIL_TIME)
    assert (position, untracked) == (Position("2024-01-01T00:00:00Z", "z", skip=3), 2)
    after, _ = next_position(table, position, rows(("d", "2025-01-01T00:00:00Z")), UNTIL_TIME)
    assert after == Position("2025-01-01T00:00:00Z", "d")
    assert "$skip" not in page_query(table, after, UNTIL, 10)


def test_rows_that_are_not_records_with_a_key_are_set_aside(catalog):
    page = [{"id": "a"}, "oops", None, 7, {"name": "no key"}, {"id": None}, {"id": "b"}]
    assert usable_rows(catalog.tables["contacts"], page) == ([{"id": "a"}, {"id": "b"}], 5)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (rows(("a", "2023-01-01T00:00:00Z")), "outside the window asked for"),
        (rows(("a", "2025-02-01T00:00:00Z"), ("b", "2025-01-01T00:00:00Z")), "out of order"),
    ],
)
def test_a_page_that_breaks_the_query_is_stopped(catalog, page, message):
    start = Position(cursor="2024-01-01T00:00:00Z")
    with pytest.raises(PagingError, match=message):
        next_position(catalog.tables["contacts"], start, page, UNTIL_TIME)


def test_the_same_page_twice_is_stopped(catalog):
    table = catalog.tables["contacts"]
    position = Position(cursor="2025-01-01T00:00:00Z", id="a")
    with pytest.raises(PagingError, match="the same page twice"):
        next_position(table, position, rows(("a", "2025-01-01T00:00:00Z")), UNTIL_TIME)


@pytest.mark.parametrize(
    ("cap", "previous", "served", "learned"),
    [
        (0, None, 30, 0),  # a walk's first page shows nothing
        (0, 30, 30, 0),  # full pages: no cap
        (0, 10, 10, 10),  # a short page with more after it: the server caps at 10
        (10, 10, 4, 10),  # the last, shorter page keeps it
        (10, 10, 12, 0),  # a page longer than the cap: it was no cap (records came late)
        (10, 30, 30, 0),  # and full pages again
        (10, 8, 8, 8),  # a lower cap
    ],
)
def test_a_short_page_with_more_after_it_shows_the_servers_cap(cap, previous, served, learned):
    assert learned_cap(cap, previous, served, top=30) == learned


def test_a_page_as_long_as_the_cap_is_no_end_even_where_the_last_walk_ended():
    end = Position(cursor="2025-01-01T00:00:00Z", id="c9")
    capped = Position(cursor="2025-01-01T00:00:00Z", id="c9", cap=10)
    assert ends_walk(end, 10, 30, end)  # short of $top, and no cap seen
    assert not ends_walk(capped, 10, 30, end)  # as long as the cap: more may follow
    assert ends_walk(capped, 9, 30, end)
    assert not ends_walk(end, 30, 30, end)  # a full page
    assert not ends_walk(end, 10, 30, None)  # not armed (due, off, from scratch)
    assert not ends_walk(replace(end, id="c8"), 10, 30, end)  # elsewhere
    assert not ends_walk(capped, 8, 8, end)  # a full page of a smaller $top (wide records)


@pytest.mark.parametrize(
    ("batch_size", "served", "answer_bytes", "top"),
    [
        (2000, 0, 0, 2000),  # nothing read yet: batch_size
        (2000, 2000, PAGE_BYTES // 2, 2000),  # records that fit: batch_size
        (2000, 2000, 4 * PAGE_BYTES, 500),  # four times too wide: a quarter as many
        (2000, 10, 10 * PAGE_BYTES, MIN_TOP),  # however wide, MIN_TOP at least
        (50, 50, 100 * PAGE_BYTES, 50),  # and never more than batch_size
    ],
)
def test_a_page_of_wide_records_asks_for_fewer(batch_size, served, answer_bytes, top):
    assert page_top(batch_size, served, answer_bytes) == top


def test_a_walks_first_page_asks_for_few_records_until_their_size_is_known():
    assert first_top(2000) == FIRST_TOP
    assert first_top(FIRST_TOP // 2) == FIRST_TOP // 2  # never more than batch_size
    # An incremental walk's first page is the look-back window: a quiet sync reads it at once.
    assert first_top(2000, from_scratch=False) == 2000
    # A position a walk sized its pages at: that size, whether from scratch or not.
    assert first_top(2000, from_scratch=False, sized=650) == 650
    assert first_top(2000, sized=650) == 650
    assert first_top(500, sized=650) == 500  # never more than batch_size


# Found by a mutation check: each of these fails on a mutant the tests above let live.
@pytest.mark.parametrize("served", [10, 4])
def test_a_cap_learned_by_an_earlier_walk_outlives_the_resumed_walks_first_page(served):
    assert learned_cap(10, None, served, top=30) == 10
    assert learned_cap(10, 30, served, top=30) == 10


def test_an_answer_of_unknown_size_keeps_batch_size():
    assert page_top(2000, 10, 0) == 2000  # Page.size is 0 when not measured


def test_a_row_edited_exactly_at_until_is_in_the_window(catalog):
    page = [{"id": "a", "edited": UNTIL}]
    start = Position(cursor="2024-01-01T00:00:00Z")
    position, _ = next_position(catalog.tables["contacts"], start, page, UNTIL_TIME)
    assert position == Position(UNTIL, "a")


def test_a_row_edited_after_until_stops_the_table(catalog):
    page = [{"id": "a", "edited": "2026-01-01T00:00:01Z"}]
    start = Position(cursor="2024-01-01T00:00:00Z")
    with pytest.raises(PagingError, match="outside the window asked for"):
        next_position(catalog.tables["contacts"], start, page, UNTIL_TIME)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("2025-03-15", "2025-03-15T00:00:00Z"),
        ("2025-03-15T09", "2025-03-15T09:00:00Z"),
        ("2025-03-15 09:00:00", "2025-03-15T09:00:00Z"),
    ],
)
def test_a_cursor_of_another_form_goes_back_as_a_valid_literal(catalog, text, sent):
    query = page_query(catalog.tables["contacts"], Position(cursor=text, id="a"), UNTIL, 10)
    assert query["$filter"].startswith(f"(edited gt {sent} or (edited eq {sent} and id gt 'a'))")


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [(True, "STRING", "'True'"), ("yes", "BOOLEAN", "'yes'"), (False, "BOOLEAN", "false")],
)
def test_only_a_boolean_of_a_boolean_column_is_bare(value, kind, text):
    assert literal(value, kind) == text
