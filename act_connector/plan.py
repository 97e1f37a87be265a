"""What a table's sync will do, decided before anything runs: a pure function of its state, the
settings and the sync's upper bound.

An incremental table is walked from where its state stands (less the look-back window) up to the
sync's upper bound; with no position (its first sync, a Fivetran re-sync, or a follower table
that has nothing remembered, which needs every parent record written), it is read from scratch:
its rows are marked deleted first, the walk starts at default_start_date, walks on once to the
server's present at its end, and every follower starts afresh with it. Reconciliation follows
the walk when its interval has passed (never after a read from scratch, which is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from act_connector.catalog import TableSpec
from act_connector.config import Settings
from act_connector.paging import Position, first_top
from act_connector.state import TableState
from act_connector.timestamps import format_utc, parse_timestamp

# A reconciliation may come this share of its interval early: a daily sync that starts a few
# minutes earlier than yesterday's still reconciles, instead of putting it off by a whole day.
RECONCILE_EARLY = 0.1


@dataclass(frozen=True)
class TablePlan:
    """One incremental table's sync."""

    from_scratch: bool  # rows marked deleted first, a walk on to the present at the end
    start: Position  # where the walk starts
    first_top: int  # the $top of the walk's first page
    # Where the last sync's walk ended: a short page that ends there ends this walk
    # (paging.ends_walk). None: the page after a short one is always asked for.
    last_end: Position | None
    reconcile: bool  # compared with Act! after the walk

    @property
    def followers_afresh(self) -> bool:
        """The followers start with nothing live: what they kept may be of parents gone."""
        return self.from_scratch


def plan_table(
    state: TableState, settings: Settings, until: datetime, follower_new: bool = False
) -> TablePlan:
    """The plan of an incremental table with this state; `follower_new`: one of its followers
    has nothing remembered, so every parent record must be written again."""
    saved = None if follower_new else state.position
    from_scratch = saved is None
    interval = settings.reconcile_interval
    due = reconciliation_due(state, interval, until)
    # The page after a short one is asked for when reconciliation will not come to find what a
    # cap cut off (see paging.py): with it due, or off.
    ask_after = from_scratch or interval is None or due
    start = start_position(saved, settings)
    return TablePlan(
        from_scratch=from_scratch,
        start=start,
        first_top=first_top(settings.batch_size, from_scratch, start.top),
        last_end=None if ask_after else saved,
        reconcile=due and not from_scratch,
    )


def remembers(table: TableSpec, settings: Settings) -> bool:
    """Whether the table keeps its remembered set: a table read whole always does (it writes
    only what changed), an incremental one when reconciliation is on."""
    return table.read == "whole" or settings.reconcile_interval is not None


def start_position(saved: Position | None, settings: Settings) -> Position:
    """Where a walk starts: default_start_date, or the saved position less the look-back."""
    if saved is None:
        return Position(cursor=settings.default_start_date)
    if settings.lookback:
        moved = parse_timestamp(saved.cursor) - settings.lookback
        return Position(cursor=format_utc(moved), cap=saved.cap, top=saved.top)
    return saved


def reconciliation_due(state: TableState, interval: timedelta | None, now: datetime) -> bool:
    """Due once the interval has passed; at once for a table whose set is yet to be built."""
    if interval is None:
        return False
    if state.known is None and not state.too_large:
        return True
    if state.reconciled is None:
        return True
    return now - state.reconciled >= interval * (1 - RECONCILE_EARLY)
