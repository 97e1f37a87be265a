"""Walking a collection page by page: the next page is fetched while this one is written.

A walk's pages come from one query after another, each computed from the page before (keyset
paging: paging.py for the sync's walks, reconcile.py for listings). While the caller writes a
page, the request for the next one is already under way in a worker thread, which hides the
network behind the SDK's writing. If writing a page fails, the request in flight is abandoned,
not waited for: it may be sitting out a long throttle wait, and the error matters now (the
client's `stop` event ends its waits, so the worker does not linger).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from act_connector.catalog import TableSpec
from act_connector.client import ActClient, Page
from act_connector.errors import PagingError
from act_connector.paging import (
    Position,
    ends_walk,
    learned_cap,
    next_position,
    page_query,
    page_top,
    usable_rows,
)
from act_connector.timestamps import format_utc

# follow(page) -> (the page's rows to write, what to fetch next, where the walk stands after it)
Follow = Callable[[list], tuple[list[dict], Any, Any]]


class Pages:
    """The pages of one walk with the position after each, as a context manager:

        with Pages(first_rows, follow, fetch, name) as pages:
            for rows, after in pages:
                ...  # write rows; `after` is the position to checkpoint
                del rows  # written: not held while the next page is awaited

    The walk ends at the first empty page, or at a page after which `follow` asks for nothing.
    `follow` checks a page, keeps the rows that can be written and says what comes next (raising
    stops the walk before the page is written); `fetch(request, stop)` gets that next page, and
    gives up once `stop` is set.
    """

    def __init__(self, first: list, follow: Follow, fetch: Callable, name: str):
        self._first, self._follow, self._fetch, self._name = first, follow, fetch, name
        self._prefetch: ThreadPoolExecutor | None = None
        self._stop = threading.Event()

    def __enter__(self) -> Pages:
        self._prefetch = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        return self

    def __iter__(self) -> Iterator[tuple[list[dict], Any]]:
        page, self._first = self._first, []  # held here only: freed once it is written
        while page:
            rows, request, after = self._follow(page)
            if request is None:  # follow knows this page is the last
                yield rows, after
                return
            upcoming = self._prefetch.submit(self._fetch, request, self._stop)
            yield rows, after
            # Written: freed before the next page is awaited (the caller lets go of its rows
            # too), so that a walk waiting on a slow server holds one page, not two.
            del page, rows
            page = upcoming.result()

    def __exit__(self, kind, error, traceback) -> None:
        if error is None:
            self._prefetch.shutdown(wait=True)
        else:
            self._abandon()

    def _abandon(self) -> None:
        """Cancels the request in flight (it stops at its next wait) without waiting for it:
        the error propagates at once."""
        self._stop.set()
        self._prefetch.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class Walk:
    """One walk of a table's pages: after `start` up to `until`, its first page asked with $top
    `first_asked`, the pages after it with `top` at most (batch_size). With `last_end` (where
    the last sync's walk ended), a short page that ends there ends the walk (paging.ends_walk).
    """

    start: Position
    until: datetime
    first_asked: int
    top: int
    last_end: Position | None = None


class _Keyset:
    """follow() and fetch() for a sync's walk. follow: the rows that can land, the query of the
    next page (None after a page that ends the walk, see paging.ends_walk) and the position
    after this one; counts what the server sent that paging had to work around. The next page's
    $top is paging.page_top of this one's answer: fetch notes each answer's size, and a page is
    always followed after it is fetched and before the next is asked for."""

    def __init__(
        self, client: ActClient, table: TableSpec, path: str, walk: Walk, first: Page, anomalies
    ):
        self._client, self._table, self._path = client, table, path
        self._position, self._until, self._top = walk.start, walk.until, walk.top
        self._until_text = format_utc(walk.until)
        self._last_end = walk.last_end
        self._anomalies: Counter = anomalies
        self._asked = walk.first_asked  # the $top of the page being followed: the walk's first
        self._answer_bytes = first.size  # its answer's size
        # The rows and $top of the page before, which was not the last.
        self._served: int | None = None
        self._served_asked = self._asked

    def fetch(self, query: dict[str, str], stop: threading.Event) -> list:
        page = self._client.get_page(self._table.name, self._path, query, stop)
        self._answer_bytes = page.size
        return page.take_rows()

    def __call__(self, page: list) -> tuple[list[dict], dict[str, str], Position]:
        table, anomalies, asked = self._table, self._anomalies, self._asked
        if len(page) > asked:
            anomalies["oversized"] += 1
        rows, malformed = usable_rows(table, page)
        anomalies["malformed"] += malformed
        if not rows:
            raise PagingError(table.name, "a page held no record that can land.")
        cap = learned_cap(self._position.cap, self._served, len(page), self._served_asked)
        self._served, self._served_asked = len(page), asked
        position = replace(self._position, cap=cap)
        self._position, untracked = next_position(table, position, rows, self._until)
        anomalies["untracked"] += untracked
        if ends_walk(self._position, len(page), asked, self._last_end):
            return rows, None, self._position
        self._asked = page_top(self._top, len(page), self._answer_bytes)
        self._position = replace(self._position, top=self._asked)
        query = page_query(table, self._position, self._until_text, self._asked)
        return rows, query, self._position


def walk_pages(
    client: ActClient, table: TableSpec, path: str, walk: Walk, first: Page, anomalies: Counter
) -> Pages:
    """The pages of a walk of a table at `path`, starting with `first` (its records are taken
    from it); what paging had to work around is counted in `anomalies`."""
    keyset = _Keyset(client, table, path, walk, first, anomalies)
    return Pages(first.take_rows(), keyset, keyset.fetch, f"act-{table.name}")


def anomaly_report(table: TableSpec, anomalies: Counter, top: int) -> str | None:
    """One warning for what the server sent that paging had to work around."""
    parts = []
    if anomalies["malformed"]:
        parts.append(
            f"{anomalies['malformed']} row(s) were not records with an '{table.primary_key}' "
            "and were skipped"
        )
    if anomalies["untracked"]:
        parts.append(
            f"{anomalies['untracked']} record(s) came without a readable {table.cursor}; they "
            "landed, and paging went past them by their position"
        )
    if anomalies["oversized"]:
        parts.append(
            f"{anomalies['oversized']} page(s) held more records than their $top asked for (at "
            f"most {top}; the server ignores $top); they were used as they came"
        )
    return f"Table '{table.name}': " + "; ".join(parts) + "." if parts else None
