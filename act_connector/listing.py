"""Lists read by id: a table's ids and edit times (what reconciliation compares with the
remembered set, and the parents a membership read asks about), and lists read whole (a parent's
members or line items, the field definitions).

A listing walks the table keyset on its id ($orderby id, $filter id gt the last), asking only
for the id and the edit time ($select), the next page fetched while one is used (pages.py). A
server that refuses $select is asked for whole records instead, said once per sync (Lister).

A list read whole (read_list) pages the same way, and ends at a page shorter than its $top only
once that page is known not to be cut by a server's page cap (PageCap): Act! takes an OData
query on these lists too, and a build that caps its answers caps them as well, so one request
per list would silently lose what is past the cap (a group's 330 members under a cap of 100).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from act_connector.catalog import TableSpec
from act_connector.client import ActClient
from act_connector.config import MAX_BATCH_SIZE
from act_connector.discovery import first_page
from act_connector.errors import ActHttpError, PagingError
from act_connector.logs import log
from act_connector.pages import Pages
from act_connector.paging import literal

# Rows per listing request: a listed row is an id and a time (about 80 bytes of JSON), so the
# largest page a server is asked for anywhere: 100,000 records list in 10 requests (and the
# closing empty one). A server that sends fewer only costs more pages.
LISTING_TOP = MAX_BATCH_SIZE
# Records a page of a list read whole asks for: a parent's members are whole contacts (about 3 KB,
# 10 KB with hundreds of custom fields), and PARENT_WORKERS lists are read at once, so a page
# stays under 5 MB; most lists (line items, a group's members) fit in one.
LIST_TOP = 500
# Ids per request when late records are read again by id ("id eq '…' or …"): 25 GUIDs, or 25
# activity occurrence ids, keep the query string under the 2,048 characters IIS accepts by default.
IDS_PER_REQUEST = 25
BAD_REQUEST = 400


class Lister:
    """Lists tables' ids and edit times, for one sync; remembers what Act! refuses ($select, or
    `or` in a $filter), so that each is tried, and said, once."""

    def __init__(self, client: ActClient, whole_record_top: int):
        self._client = client
        self._whole_record_top = whole_record_top  # whole records are large: the batch size
        self._lock = threading.Lock()
        self.select_refused = False
        self.ids_per_request = IDS_PER_REQUEST

    def page(self, table: TableSpec, path: str, after, stop: threading.Event | None = None):
        """The listing's page after id `after` (None: the first); `stop` abandons it."""
        if not self.select_refused:
            query = listing_query(table, after, LISTING_TOP, select=True)
            try:
                return self._client.get_page(table.name, path, query, stop).rows
            except ActHttpError as error:
                if error.status != BAD_REQUEST:
                    raise
                refusal = error
        else:
            refusal = None
        query = listing_query(table, after, self._whole_record_top, select=False)
        rows = self._client.get_page(table.name, path, query, stop).rows
        if refusal is not None and self._refuse("select_refused", True):
            log.warning(
                f"Act! refused $select (HTTP 400: {refusal.server_message}); reconciliation "
                f"lists whole records instead, {self._whole_record_top:,} a request, which is "
                "slower"
            )
        return rows

    def refuse_or(self, refusal: ActHttpError) -> None:
        """Act! answered 400 to ids joined by `or`: late records are read one a request."""
        if self._refuse("ids_per_request", 1):
            log.warning(
                f"Act! refused a $filter of several ids joined by 'or' (HTTP 400: "
                f"{refusal.server_message}); late records are read again one a request"
            )

    def _refuse(self, name: str, value) -> bool:
        """Notes a refusal; True for the first thread to note it (which says so)."""
        with self._lock:
            if getattr(self, name) == value:
                return False
            setattr(self, name, value)
            return True


def id_listing(lister: Lister, table: TableSpec, path: str, consequence: str) -> Pages:
    """The pages of a table's ids and edit times, keyset on the id, the next fetched while one
    is used. A listed record without its id, or the same page twice (a server ignoring $filter),
    stops the listing: `consequence` says what that means for its user."""
    return Pages(
        lister.page(table, path, None),
        _IdFollow(table, consequence),
        lambda after, stop: lister.page(table, path, after, stop),
        f"act-{table.name}-list",
    )


class _IdFollow:
    """follow() for a listing: a page's rows, the id to list after, and the same as position."""

    def __init__(self, table: TableSpec, consequence: str):
        self._table, self._consequence = table, consequence
        self._last = None  # the listing's last id so far

    def __call__(self, rows: list[dict]):
        key, name = self._table.primary_key, self._table.name
        if not all(isinstance(row, dict) and row.get(key) is not None for row in rows):
            # Its id unknown, a listed record could not be told from an absent one.
            raise PagingError(
                name, f"a listed record arrived without '{key}', {self._consequence}."
            )
        last = rows[-1][key]
        if last == self._last:
            raise PagingError(
                name,
                f"the server listed the same page twice (last id {last!r}); it ignores "
                f"$filter, {self._consequence}.",
            )
        self._last = last
        return rows, last, last


class PageCap:
    """What one table's lists have shown of the server's page cap, within one sync, shared by
    the threads reading them. A page shorter than its $top ends its list when it is shorter than
    a cap: than the cap learned, or, none learned yet, than the longest page served so far
    (the cap, if any, is at least that). Any other short page may be the cap: the page after it
    is asked for, and if it holds more, the cap is learned (and said once)."""

    def __init__(self, table: str):
        self._table = table
        self._lock = threading.Lock()
        self._longest = 0  # the longest page served: a cap is at least this
        self.cap = 0  # learned: a short page followed by more

    def ends(self, served: int, asked: int) -> bool | None:
        """True: a page of `served` records (of `asked`) ends its list; False: ask on; None:
        it may be the cap, ask on and tell `learn` what came."""
        with self._lock:
            longest, self._longest = self._longest, max(self._longest, served)
            if served >= asked:
                return False
            if self.cap:
                return served < self.cap
            return True if served < longest else None

    def learn(self, served: int, after: int) -> None:
        """A page of `served` records that `ends` could not judge was followed by `after`."""
        if not after:
            return
        with self._lock:
            learned, self.cap = self.cap != served, served
        if learned:
            log.info(
                f"Table '{self._table}': Act! serves at most {served} records a page here; "
                "its lists are read page by page"
            )


def read_list(
    client: ActClient,
    name: str,
    path: str,
    key: str,
    cap: PageCap,
    stop: threading.Event | None = None,
) -> list:
    """Every record of a list Act! serves under one path (a parent's members or line items,
    the field definitions), page by page keyset on `key`, until a page the cap rule ends. A
    page of records already read means the server ignores the query here: it sent the whole
    list at once (nothing to learn of a cap from it). A record without `key` leaves nothing to
    page on: the list is then what came so far."""
    rows: list = []
    seen: set = set()
    after, unjudged = None, None
    while True:
        page = client.get_page(name, path, list_query(key, after), stop).rows
        keys = [row.get(key) if isinstance(row, dict) else None for row in page]
        if None in keys:  # nothing to page on: the list is what came (what lacks a key is
            return rows + page  # left out where it lands)
        if after is not None and page and seen.issuperset(keys):
            return rows  # the same records again: $filter is ignored, the list was whole
        if unjudged is not None:
            cap.learn(unjudged, len(page))
        rows += page
        seen.update(keys)
        verdict = cap.ends(len(page), LIST_TOP) if page else True
        if verdict:
            return rows
        after, unjudged = keys[-1], len(page) if verdict is None else None


def list_query(key: str, after=None, top: int = LIST_TOP, kind: str = "STRING") -> dict[str, str]:
    """A page keyset on `key` (of the declared `kind`), after `after`: a record edited while
    the list is read keeps its place."""
    query = {"$orderby": f"{key} asc", "$top": str(top)}
    if after is not None:
        query["$filter"] = f"{key} gt {literal(after, kind)}"
    return query


def listing_query(table: TableSpec, after, top: int, select: bool) -> dict[str, str]:
    """A page of a table's listing: its ids (and, with `select`, edit times only)."""
    key = table.primary_key
    query = list_query(key, after, top, table.columns.get(key, "STRING"))
    if select:
        query["$select"] = f"{key},{table.cursor}"
    return query


def parent_ids(client: ActClient, lister: Lister, parent: TableSpec) -> Iterator[list[str]]:
    """Every id of the parent table, a listing page at a time (ids and edit times only)."""
    _, path = first_page(client, parent, {"$top": "1"})  # the path this build serves it at
    key = parent.primary_key
    with id_listing(lister, parent, path, "so its members cannot all be read") as pages:
        for rows, _ in pages:
            yield [str(row[key]) for row in rows]
