"""Keyset paging over OData: why no row is lost and none is read forever.

Offset paging ($skip) over `edited ge cursor` loses rows when records change during a sync: an
edited record leaves its place, the rest shift up, and a row slides past the page boundary unseen.
Here every page starts *after the last row read*, ordered by (cursor, id):

    (edited gt C or (edited eq C and id gt 'I')) and edited le UNTIL    $orderby=edited asc,id asc

so a record that moves cannot shift the others; a page-size cap below $top only means more pages;
thousands of records sharing one second are walked through by id. UNTIL is the server's clock when
the sync began (minus a second that may still be filling): what is edited during the sync is left
for the next one, which starts after the last row this one read. Tables without a cursor are
walked by id alone. A table ends at the first empty page, never at a short one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from act_connector.catalog import TableSpec
from act_connector.errors import PagingError
from act_connector.timestamps import format_utc, parse_timestamp


@dataclass(frozen=True)
class Position:
    """Where a table's walk stands: the (cursor, id) of the last row read.

    With an id, the next page starts strictly after it; without one (a first sync, a look-back, an
    older state) it starts at the cursor itself, inclusive.
    """

    cursor: str | None = None  # UTC ISO 8601 text
    id: str | int | None = None

    def to_state(self) -> dict:
        return {
            key: value
            for key, value in (("cursor", self.cursor), ("id", self.id))
            if value is not None
        }


def literal(value) -> str:
    """An OData literal: numbers bare, text quoted with '' doubling any quote inside."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def page_query(table: TableSpec, position: Position, until: str, top: int) -> dict[str, str]:
    """The OData parameters of the page after `position`."""
    key = table.primary_key
    if not table.incremental:
        query = {"$orderby": f"{key} asc", "$top": str(top)}
        if position.id is not None:
            query["$filter"] = f"{key} gt {literal(position.id)}"
        return query
    cursor = table.cursor
    if position.id is None:
        after = f"{cursor} ge {position.cursor}"
    else:
        after = (
            f"({cursor} gt {position.cursor} or "
            f"({cursor} eq {position.cursor} and {key} gt {literal(position.id)}))"
        )
    return {
        "$filter": f"{after} and {cursor} le {until}",
        "$orderby": f"{cursor} asc,{key} asc",
        "$top": str(top),
    }


def next_position(
    table: TableSpec, position: Position, rows: list[dict], until: datetime, top: int
) -> Position:
    """The position after a non-empty page, once the page is shown to respect the query.

    A server that ignores $top, $filter or $orderby would make keyset paging loop or skip rows,
    so such a page stops the sync with a message instead.
    """
    if len(rows) > top:
        raise PagingError(
            table.name,
            f"asked for {top} rows and got {len(rows)}; the server "
            "ignores $top, so paging cannot be trusted.",
        )
    last = rows[-1]
    new_id = last.get(table.primary_key)
    if new_id is None:
        raise PagingError(table.name, f"a record arrived without its key '{table.primary_key}'.")
    if not table.incremental:
        if new_id == position.id:
            raise PagingError(
                table.name,
                f"the server sent the same page twice (last id "
                f"{new_id!r}); it ignores $filter, so paging would never end.",
            )
        return Position(id=new_id)
    lower = parse_timestamp(position.cursor)
    previous = lower
    for row in rows:
        value = row.get(table.cursor)
        moment = parse_timestamp(value) if isinstance(value, str) and value else None
        if moment is None or moment < previous or moment > until:
            raise PagingError(
                table.name,
                f"record {row.get(table.primary_key)!r} has "
                f"{table.cursor}={value!r}, outside the window asked for "
                f"({position.cursor} to {format_utc(until)}) or out of order; the server "
                "ignores $filter or $orderby, so paging cannot be trusted.",
            )
        previous = moment
    new_cursor = format_utc(previous)
    if new_cursor == position.cursor and new_id == position.id:
        raise PagingError(
            table.name,
            f"the server sent the same page twice (last record "
            f"{new_id!r} at {new_cursor}); paging would never end.",
        )
    return Position(cursor=new_cursor, id=new_id)
