"""Progress of a long table walk, in lines a person watching the log can read.

A first sync of a large database runs for a long time, and pages are logged at DEBUG only: at
INFO, nothing would tell progress from a hang. A Progress logs one INFO line per table at most
every 30 seconds (none at all for a walk that ends sooner): the records so far, how many a
second, the cursor reached and the share of the sync's time window behind it.

The share is an estimate, and the line says so: records are seldom spread evenly over time. The
window runs from the starting cursor to the sync's upper bound, except that it starts where the
first page ended when that is later: a first sync from the default start date (1900) would
otherwise count a century without records as done.
"""

from __future__ import annotations

import time
from datetime import datetime

from act_connector.logs import log
from act_connector.timestamps import format_utc, parse_timestamp

# At most one line per table this often: a person sees the sync move, and a sync that runs for
# hours still logs only a few hundred lines.
PROGRESS_INTERVAL_SECONDS = 30.0


def table_subject(table: str, database: str | None = None) -> str:
    """How a log line names a table: with its database when a connection syncs several."""
    return f"Database '{database}', table '{table}'" if database else f"Table '{table}'"


class Progress:
    """Watches one table's walk; `page()` is called after every page emitted. `database`: the
    table's, named in each line when a connection syncs several."""

    def __init__(
        self,
        table: str,
        start_cursor: str,
        until: datetime,
        clock=time.monotonic,
        database: str | None = None,
    ):
        self.table = table
        self.database = database
        self._window_start = parse_timestamp(start_cursor)
        self._until = until
        self._clock = clock
        self._interval = PROGRESS_INTERVAL_SECONDS  # read now, so that a test may shorten it
        self._started = self._last_line = clock()
        self._first_page = True

    def page(self, records: int, cursor: str) -> None:
        """After a page: `records` emitted so far, `cursor` the last one's."""
        reached = parse_timestamp(cursor)
        if self._first_page:
            self._window_start = max(self._window_start, reached)
        self._first_page = False
        now = self._clock()
        if now - self._last_line < self._interval:
            return
        self._last_line = now
        window = (self._window_start, self._until)
        subject = table_subject(self.table, self.database)
        log.info(progress_line(subject, records, now - self._started, reached, window))


def progress_line(
    subject: str,
    records: int,
    seconds: float,
    reached: datetime,
    window: tuple[datetime, datetime],
) -> str:
    """The line a person reads of a table (`subject`, table_subject's): records, their rate,
    and how far in time."""
    rate = records / seconds if seconds > 0 else 0.0
    line = (
        f"{subject}: {records:,} records so far ({rate:,.0f} a second), up to "
        f"{format_utc(reached)}"
    )
    share = window_share(window[0], reached, window[1])
    if share is None:
        return line
    return (
        f"{line}: about {share:.0%} of the time from {format_utc(window[0])} to "
        f"{format_utc(window[1])} (an estimate: records are seldom spread evenly over time)"
    )


def window_share(start: datetime, reached: datetime, until: datetime) -> float | None:
    """How much of the time from `start` to `until` lies before `reached`, from 0 to 1."""
    span = (until - start).total_seconds()
    if span <= 0:
        return None
    return min(1.0, max(0.0, (reached - start).total_seconds() / span))
