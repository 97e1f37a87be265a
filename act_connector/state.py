"""The sync's state: per table, where its walk stands, what it has live, when it was reconciled.

State is plain JSON, never a secret, sent whole at every checkpoint:

    {"version": 2, "tables": {
        "contacts": {"cursor": "2025-07-26T18:46:00+00:00", "id": "6f1c…",
                     "known": {"format": 2, "count": 504, "packed": "eAEBcAmP9g…"},
                     "reconciled": "2026-11-22T00:09:08Z"},
        "history": {"cursor": "…", "id": "…", "reconciled": "…", "too_large": true},
        "users": {"known": {"format": 2, "count": 5, "packed": "…"}}}}

An incremental table keeps the (cursor, id) of the last row emitted, the remembered set of what it
has live (known.py) and when it was last compared with Act!; "too_large" marks a table past the
set's limit. A table read whole, a link table and a per-parent table keep only their remembered
set, or "too_large". A table with neither is read from scratch.

Each table's entry is published by its own emitter (a link table's with its parent's), only once
the rows it accounts for are emitted; checkpoints send what is published, under a lock, so that
tables synced by several threads checkpoint one at a time and never claim another table's
unwritten page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from act_connector.catalog import Catalog, TableSpec
from act_connector.known import KnownSet
from act_connector.logs import log
from act_connector.paging import Position
from act_connector.timestamps import format_utc, parse_timestamp

STATE_VERSION = 2  # the entries added since (known, reconciled, too_large) are optional


@dataclass
class TableState:
    """One table's part of the state, as its emitter keeps it while the table syncs."""

    position: Position | None = None
    known: KnownSet | None = None  # None: not kept (reconciliation off, too large) or not built
    reconciled: datetime | None = None
    too_large: bool = False

    @property
    def nothing_remembered(self) -> bool:
        """Neither a remembered set nor past its limit: a table that remembers its rows (a
        follower, a table read whole) starts afresh."""
        return self.known is None and not self.too_large

    def to_state(self) -> dict:
        entry = self.position.to_state() if self.position else {}
        if self.known is not None:
            entry["known"] = self.known.to_state()
        if self.reconciled is not None:
            entry["reconciled"] = format_utc(self.reconciled)
        if self.too_large:
            entry["too_large"] = True
        return entry


class SyncState:
    """Every table's state, read tolerantly from any earlier state and checkpointed whole."""

    def __init__(self, tables: dict[str, TableState]):
        self._lock = threading.Lock()
        self._batch = threading.local()  # names: the tables published within `together`
        self._tables = tables
        self._published = {name: table.to_state() for name, table in tables.items()}
        self._left_behind: dict[str, list[str]] = {}  # see leave_behind
        self._waiting = 0  # rows written since the last checkpoint, every table's (see waiting)

    @classmethod
    def load(cls, state: dict | None, catalog: Catalog) -> SyncState:
        state = state if isinstance(state, dict) else {}
        tables: dict[str, TableState] = {}
        entries = state.get("tables")
        for name, entry in (entries if isinstance(entries, dict) else {}).items():
            if name in catalog.tables and isinstance(entry, dict):
                table = _table_state(catalog.tables[name], entry)
                if table:
                    tables[name] = table
        # The brief's earlier layout: {"table_cursors": {"contacts": "2024-…Z"}}.
        legacy = state.get("table_cursors")
        for name, cursor in (legacy if isinstance(legacy, dict) else {}).items():
            if name in catalog.tables and name not in tables and catalog.tables[name].cursor:
                position = _position(catalog.tables[name], cursor, None)
                if position:
                    tables[name] = TableState(position)
        return cls(tables)

    @property
    def positions(self) -> dict[str, Position]:
        """Where each table's walk stands (tables read from scratch next have none)."""
        with self._lock:
            return {name: t.position for name, t in self._tables.items() if t.position}

    def leave_behind(self, followers: dict[str, list[str]]) -> None:
        """Tables left out of this sync, by the parent that feeds them: the first checkpoint
        that changes the parent's state drops theirs, so that they are new when chosen again.
        A parent that does not move keeps them as they are."""
        with self._lock:
            self._left_behind = {parent: list(names) for parent, names in followers.items()}

    def table(self, name: str) -> TableState:
        """The table's live state, which only its emitter changes."""
        with self._lock:
            return self._tables.setdefault(name, TableState())

    def waiting(self, written: int) -> int:
        """Notes rows a table wrote; the rows every table wrote since the last checkpoint, which
        the SDK holds until one: a table's walk checkpoints when they reach batch_size, as well
        as every batch_size rows of its own."""
        with self._lock:
            self._waiting += written
            return self._waiting

    def set_aside(self, names: list[str]) -> None:
        """Tables done syncing: their remembered sets keep only the state's form that later
        checkpoints send, not their packed records as well (known.py)."""
        with self._lock:
            sets = [table.known for name in names if (table := self._tables.get(name))]
        for known in sets:
            if known is not None:
                known.set_aside()

    def publish(self, name: str, operations) -> None:
        """Checkpoints the table's state as it now is, with every other table's last published;
        within `together`, at its end."""
        batch = getattr(self._batch, "names", None)
        if batch is None:
            self._checkpoint([name], operations)
        elif name not in batch:
            batch.append(name)

    @contextmanager
    def together(self, operations) -> Iterator[None]:
        """What this thread publishes within (a table and the tables its rows feed) goes out as
        one checkpoint at the end; nothing if it fails. Nested, the outermost one sends."""
        if getattr(self._batch, "names", None) is not None:
            yield
            return
        self._batch.names = []
        try:
            yield
            names = self._batch.names
        finally:
            self._batch.names = None
        self._checkpoint(names, operations)

    def _checkpoint(self, names: list[str], operations) -> None:
        """One checkpoint with the tables' entries as they now are. One that would change
        nothing is not sent: each sends the whole state, and the SDK commits every table's
        waiting rows with it."""
        entries = {name: self._tables[name].to_state() for name in names}  # outside the lock
        with self._lock:
            if all(self._published.get(name, {}) == entry for name, entry in entries.items()):
                return
            for name, entry in entries.items():
                if entry:
                    self._published[name] = entry
                else:
                    self._published.pop(name, None)
                for follower in self._left_behind.pop(name, ()):
                    self._tables.pop(follower, None)
                    self._published.pop(follower, None)
            with log.turn():
                operations.checkpoint(self._as_dict())
            self._waiting = 0

    def to_dict(self) -> dict:
        with self._lock:
            return self._as_dict()

    def _as_dict(self) -> dict:
        published = self._published
        return {
            "version": STATE_VERSION,
            "tables": {name: published[name] for name in sorted(published) if published[name]},
        }


def _table_state(table: TableSpec, entry: dict) -> TableState | None:
    """A table's saved state; None (read from scratch) when its position cannot be trusted."""
    position = _position(table, entry.get("cursor"), entry.get("id"), entry.get("skip"))
    if position is not None:  # what a walk learned of the table's pages
        learned = {name: entry[name] for name in ("cap", "top") if _count(entry.get(name))}
        position = replace(position, **learned)
    remembers = "known" in entry or entry.get("too_large") is True
    if position is None and not (table.read != "keyset" and remembers):
        # (a table read whole, a link or per-parent table keeps only its remembered set, or
        # that it is past the set's limit: either way it is no new table)
        return None
    known = None
    if "known" in entry:
        try:
            known = KnownSet.from_state(entry["known"])
        except ValueError as error:
            log.warning(
                f"Table '{table.name}': the remembered records in the state are unusable "
                f"({error}); the next reconciliation remembers them again, deleting nothing"
            )
    try:
        reconciled = parse_timestamp(entry["reconciled"])
    except (KeyError, TypeError, ValueError, AttributeError):
        reconciled = None
    return TableState(position, known, reconciled, entry.get("too_large") is True)


def _position(table: TableSpec, cursor, row_id, skip=None) -> Position | None:
    """A stored position, or None (with a warning) when it cannot be trusted; None for a table
    that is not walked from a position."""
    if not table.incremental:
        return None
    try:
        parse_timestamp(cursor)  # kept as it is: the server's own text selects exactly
    except (TypeError, ValueError, AttributeError):
        log.warning(
            f"Table '{table.name}': the saved cursor {cursor!r} is not a timestamp; "
            "syncing the table again from default_start_date"
        )
        return None
    return Position(
        cursor=cursor,
        id=row_id if isinstance(row_id, (str, int)) else None,
        skip=skip if _count(skip) else 0,
    )


def _count(value) -> bool:
    """Whether a saved value is a count above zero (JSON's true is no count)."""
    return type(value) is int and value > 0
