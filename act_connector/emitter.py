"""Writing one table: its upserts, deletions and checkpoints, and its remembered set kept true.

Every row this connector writes or deletes goes through a table's Emitter, which notes it in the
table's remembered set (known.py) as it goes, so that the set always says what the destination
has live and a reconciliation sees only what paging could not. A checkpoint publishes the table's
position and set together, after the rows they account for: it never claims an unwritten row.
"""

from __future__ import annotations

from datetime import datetime

from act_connector.catalog import TableSpec
from act_connector.flatten import Flattener
from act_connector.known import KNOWN_LIMIT, KnownSet
from act_connector.packing import cursor_value
from act_connector.paging import Position
from act_connector.state import SyncState


class Emitter:
    """One table's writer for one sync. `remember`: keep the table's remembered set."""

    def __init__(self, table: TableSpec, sync_state: SyncState, operations, remember: bool):
        self.table = table
        self.state = sync_state.table(table.name)
        self._sync_state = sync_state
        self._operations = operations
        self._flattener = Flattener(table.columns)
        self._remember = remember
        self._warned_too_large = False
        self.upserted = 0
        self.deleted = 0
        self.unchanged = 0  # read again (the look-back window) but written as they are now
        # Link tables fed this table's rows as they are written (links.py), and checkpointed
        # with it.
        self.followers: list = []
        if not remember:
            self.state.known, self.state.too_large = None, False
        elif self.state.too_large:
            self.warn_too_large()

    @property
    def known(self) -> KnownSet | None:
        return self.state.known

    def truncate(self) -> None:
        """Marks every row of the table deleted (it is read from scratch): nothing is live."""
        self._operations.truncate(self.table.name)
        self.state.known = KnownSet() if self._remember else None
        self.state.too_large = False

    def upsert(self, records: list[dict]) -> None:
        """Writes the records, except those the destination already has as they are: a record
        the set remembers with the very edit time it has now (read again by the look-back) is
        unchanged, and writing it again would only count toward the month's rows."""
        key, cursor, known = self.table.primary_key, self.table.cursor, self.state.known
        if known is None:
            self.write(records)
            return
        changed = []
        for record in records:
            value = cursor_value(record.get(cursor))
            if value is not None and known.get(record[key]) == value:
                self.unchanged += 1
                continue
            known.put(record[key], value)
            changed.append(record)
        self.write(changed)

    def write(self, records: list[dict]) -> None:
        """Writes the records as they are (the caller keeps the remembered set)."""
        name = self.table.name
        for record in records:
            self._operations.upsert(name, self._flattener.row(record))
        self.upserted += len(records)
        for follower in self.followers:  # the records written, and only those
            follower.emitted(records, self.table.primary_key)

    def delete(self, record_ids: list) -> None:
        known = self.state.known
        if known is not None:
            for record_id in record_ids:
                known.discard(record_id)
        self.remove(record_ids)

    def remove(self, record_ids: list) -> None:
        """Deletes the rows (the caller keeps the remembered set)."""
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
            self._operations.warning(message)  # the SDK logs it too

    def unfit_report(self) -> str | None:
        """The warning for values that did not fit their column's type, if any did."""
        return self._flattener.report(self.table.name)
