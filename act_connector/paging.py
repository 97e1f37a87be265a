"""Keyset paging over OData: why no row is lost and none is read forever.

Offset paging ($skip) over `edited ge cursor` loses rows when records change during a sync: an
edited record leaves its place, the rest shift up, and a row slides past the page boundary unseen.
Here every page starts *after the last row read*, ordered by (cursor, id):

    (edited gt C or (edited eq C and id gt 'I')) and edited le UNTIL    $orderby=edited asc,id asc

so a record that moves cannot shift the others; a page-size cap below $top only means more pages;
thousands of records sharing one second are walked through by id. UNTIL is the server's clock when
the sync began (minus a second that may still be filling): what is edited during the sync is left
for the next one, which starts after the last row this one read. A table ends at the first empty
page, and at a short one only as below; a page longer than $top asked for (a server that ignores
$top) is in order and used as it is.

A page shorter than $top is no end in itself: a server may cap its pages below $top, and start
to do so at any time. One short page does end a walk: one whose last row is exactly the row the
last sync's walk ended at, and that is shorter than the server's cap too. A quiet sync's
look-back page is such a page, so a quiet sync asks each table once. A server that caps shows
it by a short page followed by more; the walk learns that cap (kept with the position) and never
takes a page that long for the end, so a walk resumed after a failure or with changes after that
row reads on. What is left is a server that starts to cap at a size that cuts a page exactly at
that row, before any walk has seen it cap: so the walk asks for the page after it anyway
whenever the table's reconciliation is due (daily by default) or reconciliation is off, and
learns the cap then. Such a change is late by a day at most, and once.
A record without a readable cursor cannot place the walk: it is kept, counted, and the next page
skips past it ($skip) from the last record that could.

A page asks for batch_size records, or fewer when the table's records are wide: a real Act!
contact has hundreds of custom fields, and a walk holds two pages at once (one written, the next
fetched), four tables at a time, so each page's answer is kept near PAGE_BYTES (page_top). The
position keeps that $top, so a walk started or resumed from it asks its first page for as many.
A walk from scratch asks for FIRST_TOP at most in its first page, whose records' size is not
known yet; an incremental walk from a position no walk sized (an older state) asks for
batch_size, as the look-back window it reads first is usually short. Every rule above compares
a page with the $top it was asked with.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from act_connector.catalog import TableSpec
from act_connector.errors import PagingError
from act_connector.timestamps import ISO_8601, format_utc, parse_timestamp

# An answer's size a walk's pages aim at: parsed, a page takes two to three times its answer in
# memory, and up to eight pages are held at once (two for each of four tables), so this keeps them
# near 50 MB. The benchmark's contacts (about 3 KB each) fill it with about 650; more would only
# save requests, which cost a local server milliseconds and a slow one (150 ms) a few seconds a
# table, against a sync that takes minutes to write.
PAGE_BYTES = 2 * 1024 * 1024
# The fewest records a page asks for, however wide: a table's walk stays a few requests long.
MIN_TOP = 100
# The most a walk's first page asks for: as many of the widest contacts seen live (about 10 KB,
# with 249 custom fields) as fit in PAGE_BYTES. The pages after it are sized by its answer.
FIRST_TOP = 200


@dataclass(frozen=True)
class Position:
    """Where a table's walk stands: the (cursor, id) of the last row read.

    With an id, the next page starts strictly after it; without one (a first sync, a look-back, an
    older state) it starts at the cursor itself, inclusive.
    """

    cursor: str | None = None  # the server's own timestamp text (or UTC ISO 8601 of our own)
    id: str | int | None = None
    # Records read after (cursor, id) whose own cursor could not be read (null on the wire): the
    # next page skips them, as it cannot start after them by their stamp.
    skip: int = 0
    # The most rows the server was seen to serve a page of this table, short of $top, with more
    # after it: a page that long is no end (ends_walk). 0 until a walk sees a server cap.
    cap: int = field(default=0, compare=False)
    # The $top the walk's pages were sized to (page_top) when it stood here: a walk resumed or
    # started from here asks its first page for that many. 0 until a walk has sized its pages.
    top: int = field(default=0, compare=False)

    def to_state(self) -> dict:
        fields = ("cursor", self.cursor), ("id", self.id), ("skip", self.skip), ("cap", self.cap)
        return {key: value for key, value in (*fields, ("top", self.top)) if value}


INTEGER_KINDS = frozenset({"SHORT", "INT", "LONG"})
NUMBER_KINDS = frozenset({"FLOAT", "DOUBLE", "DECIMAL"})


def literal(value, kind: str = "STRING") -> str:
    """An OData literal for a value of a column of the declared `kind`.

    Numbers bare, text quoted with '' doubling any quote inside. A strict server answers 400 to a
    quoted number or an unquoted GUID, so the declared type decides, not the JSON value's type.
    """
    if kind in INTEGER_KINDS and not isinstance(value, bool):
        try:
            return str(int(str(value).strip()))
        except ValueError:
            pass  # not a whole number after all: a quoted string at least selects nothing wrong
    if kind in NUMBER_KINDS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    if kind == "BOOLEAN" and isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def cursor_literal(text: str) -> str:
    """The server's timestamp text as an OData literal: as it is, with a Z added when it has no
    zone (an unquoted date literal needs one)."""
    match = ISO_8601.fullmatch(text.strip())
    if match is None or match.group("time") is None:
        return format_utc(parse_timestamp(text))
    if match.group("offset"):
        return match.group(0).replace(" ", "T", 1)
    return match.group(0).replace(" ", "T", 1) + "Z"


def page_query(table: TableSpec, position: Position, until: str, top: int) -> dict[str, str]:
    """The OData parameters of the page after `position`."""
    key = table.primary_key
    key_kind = table.columns.get(key, "STRING")
    cursor = table.cursor
    at = cursor_literal(position.cursor)
    if position.id is None:
        after = f"{cursor} ge {at}"
    else:
        after_id = f"{key} gt {literal(position.id, key_kind)}"
        after = f"({cursor} gt {at} or ({cursor} eq {at} and {after_id}))"
    query = {
        "$filter": f"{after} and {cursor} le {until}",
        "$orderby": f"{cursor} asc,{key} asc",
        "$top": str(top),
    }
    if position.skip:
        query["$skip"] = str(position.skip)
    return query


def ends_walk(after: Position, served: int, top: int, last_end: Position | None) -> bool:
    """Whether a page of `served` rows, asked with $top `top`, after which the walk stands at
    `after` is its last: a page shorter than its $top and than the server's cap that ends
    exactly where the last sync's walk did (see above)."""
    return last_end is not None and served < min(after.cap or top, top) and after == last_end


def first_top(batch_size: int, from_scratch: bool = True, sized: int = 0) -> int:
    """The $top of a walk's first page: `sized` (the position's top) where a walk sized its
    pages, else FIRST_TOP at most from scratch and batch_size after an older state's position
    (see the module's docstring); never more than batch_size."""
    if sized:
        return min(batch_size, sized)
    return min(batch_size, FIRST_TOP) if from_scratch else batch_size


def page_top(batch_size: int, served: int, answer_bytes: int) -> int:
    """The $top of the next page: batch_size, or as many records of the size the last page's
    averaged as fit in PAGE_BYTES (MIN_TOP at least)."""
    if served <= 0 or answer_bytes <= 0:
        return batch_size
    fitting = PAGE_BYTES * served // answer_bytes
    return max(min(batch_size, MIN_TOP), min(batch_size, fitting))


def learned_cap(cap: int, previous: int | None, served: int, top: int) -> int:
    """The server's cap once a page of `served` rows followed one of `previous` rows: a short
    page with no longer one after it shows the cap; a page longer than the cap shows there is
    none (the shorter page was short because records came late, not because of a cap)."""
    if cap and served > cap:
        cap = 0
    if previous is not None and previous < top and served <= previous:
        cap = min(cap or previous, previous)
    return cap


def usable_rows(table: TableSpec, rows: list) -> tuple[list[dict], int]:
    """The records of a page that can land (JSON objects with their key), and how many cannot."""
    key = table.primary_key
    usable = [row for row in rows if isinstance(row, dict) and row.get(key) is not None]
    return usable, len(rows) - len(usable)


def cursor_moment(table: TableSpec, row: dict):
    """The row's cursor as a datetime, or None when it has none that can be read."""
    value = row.get(table.cursor)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def next_position(
    table: TableSpec, position: Position, rows: list[dict], until: datetime
) -> tuple[Position, int]:
    """The position after a non-empty page, and how many of its rows had no readable cursor.

    The page is first shown to respect the query: a server that ignores $filter or $orderby, or
    sends the same page again, would make keyset paging loop or skip rows, so such a page stops
    the table with a message instead.
    """
    previous = parse_timestamp(position.cursor)
    last, untracked, after_last = None, 0, position.skip
    for row in rows:
        moment = cursor_moment(table, row)
        if moment is None:
            untracked += 1
            after_last += 1
            continue
        after_last = 0
        if moment < previous or moment > until:
            raise PagingError(
                table.name,
                f"record {row.get(table.primary_key)!r} has "
                f"{table.cursor}={row.get(table.cursor)!r}, outside the window asked for "
                f"({position.cursor} to {format_utc(until)}) or out of order; the server "
                "ignores $filter or $orderby, so paging cannot be trusted.",
            )
        previous, last = moment, row
    if last is None:  # nothing on this page to start after: skip past it instead
        return replace(position, skip=after_last), untracked
    new = replace(position, cursor=last[table.cursor], id=last[table.primary_key], skip=after_last)
    if new == position:
        raise PagingError(
            table.name,
            f"the server sent the same page twice (last record "
            f"{new.id!r} at {new.cursor}); paging would never end.",
        )
    return new, untracked
