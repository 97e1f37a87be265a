"""Walking a collection page by page: the next page is fetched while this one is written.

A walk's pages come from one query after another, each computed from the page before (keyset
paging: paging.py for the sync's walks, reconcile.py for listings). While the caller writes a
page, the request for the next one is already under way in a worker thread, which hides the
network behind the SDK's writing. If writing a page fails, the request in flight is abandoned,
not waited for: it may be sitting out a long throttle wait, and the error matters now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from act_connector.catalog import TableSpec
from act_connector.client import ActClient
from act_connector.paging import Position, next_position, page_query
from act_connector.timestamps import format_utc

# follow(page) -> (what to fetch next, where the walk stands after this page)
Follow = Callable[[list[dict]], tuple[Any, Any]]


class Pages:
    """The pages of one walk with the position after each, as a context manager:

        with Pages(first_rows, follow, fetch, name) as pages:
            for rows, after in pages:
                ...  # write rows; `after` is the position to checkpoint

    The walk ends at the first empty page. `follow` checks a page and says what comes next
    (raising stops the walk before the page is written); `fetch` gets that next page.
    """

    def __init__(self, first: list[dict], follow: Follow, fetch: Callable, name: str):
        self._first, self._follow, self._fetch, self._name = first, follow, fetch, name
        self._prefetch: ThreadPoolExecutor | None = None

    def __enter__(self) -> Pages:
        self._prefetch = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        return self

    def __iter__(self) -> Iterator[tuple[list[dict], Any]]:
        rows = self._first
        while rows:
            request, after = self._follow(rows)
            upcoming = self._prefetch.submit(self._fetch, request)
            yield rows, after
            rows = upcoming.result()

    def __exit__(self, kind, error, traceback) -> None:
        if error is None:
            self._prefetch.shutdown(wait=True)
        else:
            self._abandon()

    def _abandon(self) -> None:
        """Leaves the request in flight to finish on its own; the error propagates at once.

        The one place to signal the client's cancellation of that request, once it has one.
        """
        self._prefetch.shutdown(wait=False, cancel_futures=True)


class _Keyset:
    """follow() for a sync's walk: the position after each page, and the query of the next."""

    def __init__(self, table: TableSpec, position: Position, until: datetime, top: int):
        self._table, self._position, self._until, self._top = table, position, until, top
        self._until_text = format_utc(until)

    def __call__(self, rows: list[dict]) -> tuple[dict[str, str], Position]:
        self._position = next_position(self._table, self._position, rows, self._until, self._top)
        return page_query(self._table, self._position, self._until_text, self._top), self._position


def walk_pages(
    client: ActClient,
    table: TableSpec,
    path: str,
    position: Position,
    first: list[dict],
    until: datetime,
    top: int,
) -> Pages:
    """The pages of a table after `position` up to `until`, starting with `first`."""
    return Pages(
        first,
        _Keyset(table, position, until, top),
        lambda query: client.get_rows(table.name, path, query),
        f"act-{table.name}",
    )
