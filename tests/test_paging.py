from datetime import datetime, timezone

import pytest

from act_connector.errors import PagingError
from act_connector.paging import Position, literal, next_position, page_query

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


def test_full_table_is_walked_by_id(catalog):
    table = catalog.tables["activity_types"]
    assert page_query(table, Position(), UNTIL, 50) == {"$orderby": "id asc", "$top": "50"}
    assert page_query(table, Position(id=12), UNTIL, 50)["$filter"] == "id gt 12"


@pytest.mark.parametrize(
    ("value", "text"), [(12, "12"), ("a'b", "'a''b'"), (True, "true"), (1.5, "1.5")]
)
def test_literals(value, text):
    assert literal(value) == text


def rows(*pairs):
    return [{"id": i, "edited": e} for i, e in pairs]


def test_position_moves_to_the_last_row(catalog):
    table = catalog.tables["contacts"]
    page = rows(("b", "2025-01-01T00:00:00+00:00"), ("a", "2025-01-02T00:00:00+01:00"))
    position = next_position(table, Position(cursor="2024-01-01T00:00:00Z"), page, UNTIL_TIME, 2)
    assert position == Position(cursor="2025-01-01T23:00:00Z", id="a")


@pytest.mark.parametrize(
    ("page", "top", "message"),
    [
        (
            rows(("a", "2025-01-01T00:00:00Z"), ("b", "2025-01-01T00:00:00Z")),
            1,
            r"asked for 1 rows and got 2; the server ignores \$top",
        ),
        (rows(("a", "2023-01-01T00:00:00Z")), 5, "outside the window asked for"),
        (rows(("a", "2025-02-01T00:00:00Z"), ("b", "2025-01-01T00:00:00Z")), 5, "out of order"),
    ],
)
def test_a_page_that_breaks_the_query_is_stopped(catalog, page, top, message):
    start = Position(cursor="2024-01-01T00:00:00Z")
    with pytest.raises(PagingError, match=message):
        next_position(catalog.tables["contacts"], start, page, UNTIL_TIME, top)


def test_the_same_page_twice_is_stopped(catalog):
    table = catalog.tables["contacts"]
    position = Position(cursor="2025-01-01T00:00:00Z", id="a")
    with pytest.raises(PagingError, match="the same page twice"):
        next_position(table, position, rows(("a", "2025-01-01T00:00:00Z")), UNTIL_TIME, 5)
    with pytest.raises(PagingError, match="the same page twice"):
        next_position(catalog.tables["activity_types"], Position(id=3), [{"id": 3}], UNTIL_TIME, 5)


def test_a_record_without_its_key_is_stopped(catalog):
    with pytest.raises(PagingError, match="without its key 'id'"):
        next_position(
            catalog.tables["activity_types"], Position(), [{"name": "Call"}], UNTIL_TIME, 5
        )
