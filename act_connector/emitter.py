"""Writing one table: its upserts, deletions and checkpoints, and its remembered set kept true.

Every row this connector writes or deletes goes through a table's Emitter, which notes it in the
table's remembered set (known.py) as it goes, so that the set always says what the destination
has live and a reconciliation sees only what paging could not. A checkpoint publishes the table's
position and set together, after the rows they account for: it never claims an unwritten row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from act_connector.catalog import TableSpec
from act_connector.flatten import Flattener
from act_connector.known import KNOWN_LIMIT, KnownSet
from act_connector.logs import log
from act_connector.packing import Cursor, cursor_value
from act_connector.paging import Position
from act_connector.state import SyncState

if TYPE_CHECKING:  # followers.py makes a follower's own emitter from this module
    from act_connector.followers import Follower

# A row to write with what it is remembered by: its remembered key, the value that tells an
# edit (a digest, a link's position) and the row.
Remembered = tuple[str, Cursor, dict]


class Emitter:
    """One table's writer for one sync. `remember`: keep the table's remembered set;
    `followers`: the tables written as this one's records are (followers.py), fed every record
    written and id deleted, and checkpointed with it."""

    def __init__(
        self,
        table: TableSpec,
        sync_state: SyncState,
        operations,
        remember: bool,
        followers: Sequence[Follower] = (),
    ):
        self.table = table
        self.state = sync_state.table(table.name)
        self._sync_state = sync_state
        self._operations = operations
        self._flattener = Flattener(table.columns, table.omit, tuple(table.references))
        self._remember = remember
        # Truncated in this sync: nothing from before is live, so a record read again was
        # written in this sync, and writing it again counts no further Monthly Active Row.
        self._truncated = False
        self._warned_too_large = False
        self.read = 0  # rows read (or made from what was read: links), written or not
        self.upserted = 0
        self.deleted = 0
        self.followers = tuple(followers)
        if not remember:
            self.state.known, self.state.too_large = None, False
        elif self.state.too_large:
            self.warn_too_large()

    @property
    def known(self) -> KnownSet | None:
        return self.state.known

    @property
    def unchanged(self) -> int:
        """Rows read that the destination already had as they are (the look-back read them
        again, a parent written again kept its links): not written."""
        return self.read - self.upserted

    def counts_line(self, subject: str, how: str) -> str:
        """The log line of what the sync did to the table, and `how` it was read."""
        return (
            f"{subject}: read {self.read}, written {self.upserted}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}; {how}"
        )

    def truncate(self) -> None:
        """Marks every row of the table deleted (it is read from scratch): nothing is live."""
        with log.turn():
            self._operations.truncate(self.table.name)
        self.state.known = KnownSet() if self._remember else None
        self.state.too_large = False
        self._truncated = True

    def upsert(self, records: list[dict]) -> None:
        """Writes an incremental table's records, except those the destination already has as
        they are: a record the set remembers with the very edit time it has now (read again by
        the look-back) is unchanged, and writing it again would only count toward the month's
        rows. A table truncated in this sync (read from scratch) writes every record without
        asking: a lookup per record that could only find one this sync wrote."""
        key, cursor, known = self.table.primary_key, self.table.cursor, self.state.known
        self.read += len(records)
        if known is None:
            self._write(records)
            return
        asks, changed = not self._truncated, []
        for record in records:
            value = cursor_value(record.get(cursor))
            if asks and value is not None and known.get(record[key]) == value:
                continue
            known.put(record[key], value)
            changed.append(record)
        self._write(changed)

    def changed(self, entries: list[Remembered]) -> list[Remembered]:
        """The rows the set does not remember with the value they have now (all of them past
        the set's limit)."""
        self.read += len(entries)
        known = self.state.known
        if known is None:
            return entries
        return [entry for entry in entries if known.get(entry[0]) != entry[1]]

    def write_remembered(self, entries: list[Remembered]) -> None:
        """Writes the rows and remembers each key with its value (past the set's limit, only
        writes): for rows that have no edit time (tables read whole, links, line items)."""
        self._write([row for _, _, row in entries])
        known = self.state.known
        if known is not None:
            for key, value, _ in entries:
                known.put(key, value)

    def _write(self, records: list[dict]) -> None:
        name = self.table.name
        for record in records:
            self._operations.upsert(name, self._flattener.row(record))
        self.upserted += len(records)
        for follower in self.followers:  # the records written, and only those
            follower.emitted(records, self.table.primary_key)

    def delete(self, record_ids: list) -> None:
        """Forgets the ids and deletes their rows."""
        self.forget(record_ids)
        self.delete_rows(record_ids)

    def forget(self, keys: list) -> None:
        """Takes keys out of the remembered set (their rows are the caller's to delete)."""
        known = self.state.known
        if known is not None:
            for key in keys:
                known.discard(key)

    def delete_rows(self, record_ids: list) -> None:
        """Deletes rows whose remembered keys are forgotten already, or differ from the rows'
        own (a line item is remembered as "opportunity|item", its row is the item's)."""
        name, key = self.table.name, self.table.primary_key
        for record_id in record_ids:
            self._operations.delete(name, {key: record_id})
        self.deleted += len(record_ids)
        for follower in self.followers:
            follower.deleted(record_ids)

    def adopt(self, known: KnownSet) -> None:
        """Takes a set built from a listing (nothing emitted): what Act! holds is what is live."""
        self.state.known, self.state.too_large = known, False

    def give_up_remembering(self) -> None:
        """The table is past the set's limit: deletions show at re-syncs only."""
        self.state.known, self.state.too_large = None, True
        self.warn_too_large()

    def checkpoint(
        self, position: Position | None = None, reconciled: datetime | None = None
    ) -> None:
        """Publishes the table's state (its position moved to `position` if given)."""
        if position is not None:
            self.state.position = position
        if reconciled is not None:
            self.state.reconciled = reconciled
        if self.state.known is not None and len(self.state.known) > KNOWN_LIMIT:
            self.give_up_remembering()
        self._publish()

    def _publish(self) -> None:
        """One checkpoint of the table and of the tables its rows feed, once those have written
        what its rows owe them: it never claims an unwritten row."""
        for follower in self.followers:
            follower.settle()
        with self._sync_state.together(self._operations):
            self._sync_state.publish(self.table.name, self._operations)
            for follower in self.followers:
                follower.checkpoint()

    def warn_too_large(self) -> None:
        """Said once per sync for a table past the set's limit."""
        if not self._warned_too_large:
            self._warned_too_large = True
            message = (
                f"Table '{self.table.name}' holds more than {KNOWN_LIMIT:,} records, more than "
                "the connector remembers between syncs: records deleted in Act! stay live in "
                "the destination until a re-sync, and records stamped in the past are not read."
            )
            log.report(self._operations, message)  # the SDK logs it too

    def unfit_report(self) -> str | None:
        """The warning for values that did not fit their column's type, if any did."""
        return self._flattener.report(self.table.name)
