"""Tables served under each parent record: an opportunity's line items, a group's members.

Act! serves these only per parent (/api/opportunities/{id}/products,
/api/groups/{id}/associated-contacts): a request per parent, PARENT_WORKERS at a time. Each is
declared in fields.json with "read": "per_parent" and a "per_parent" entry:
- "when": "written": read for every parent record this sync writes (all of them on a first sync),
  as the parent's walk writes them, since a line item's change moves its opportunity's edit time.
  The parent's checkpoint waits for its records' children: it never claims a page whose line
  items are not written.
- "when": "scheduled": membership moves no edit time (and dynamic groups change by rule), so
  every parent is read again once `membership_interval_hours` has passed.
A row is the served record with the parent's id added, or, with a "related_column", a link row
(key "parent id|record id", both ids). The table's remembered set keys each row by
"parent id|record id" with a digest of the row, so only new or changed rows are written. A row
its parent no longer serves is deleted as soon as the parent's children are read, and a parent's
rows as soon as it is deleted, like a link table's: at every checkpoint the destination has what
the parents read so far have, so that a sync that fails after one leaves nothing stale behind.
A membership read, which reads every parent Act! has, then deletes the rows of parents it did
not list (deleted groups). A row that is the record itself stays while another parent holds it
(Act! is not known to move a line item, but if it did, the row would follow the record).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from urllib.parse import quote

from act_connector.catalog import TableSpec
from act_connector.client import ActClient, Page
from act_connector.context import SyncContext
from act_connector.discovery import first_page
from act_connector.errors import ActHttpError
from act_connector.followers import Follower
from act_connector.known import KnownSet
from act_connector.listing import PageCap, list_query, read_list
from act_connector.packing import digest, pair_key, split_pair
from act_connector.paging import usable_rows

# Requests for children at once, per table: a first sync of 10,000 opportunities is 10,000
# requests, a quarter of the time four at a time; the SDK's examples use 4 to 8 workers, and a
# server serving a few requests at once gains nothing from more.
PARENT_WORKERS = 4
NOT_FOUND = 404  # the parent was deleted since it was listed: it has no children left
ID = "id"  # of a served record (a line item, a member contact): what its list is paged on
# Parents asked for at once by a membership read, one such batch ahead of those written: bounds
# the answers held in memory (a company's members are whole contact records: 25 companies of ten
# are about 2 MB parsed), while still keeping PARENT_WORKERS busy for several rounds.
PARENTS_PER_READ = 25
# Parents written between two checkpoints of a membership read: each checkpoint sends the whole
# state, every table's remembered set (megabytes in a large database), so not one a batch; this
# many is what a failure makes the next read ask for again.
PARENTS_PER_CHECKPOINT = 500


class PerParentTable(Follower):
    """One per-parent table for one sync: asks for parents' children, writes what changed. A
    follower of its parent's emitter (line items), or read on its own schedule (membership,
    read_every_parent)."""

    def __init__(self, spec: TableSpec, context: SyncContext, afresh: bool):
        super().__init__(spec, context, afresh)
        self._client = context.client
        self._workers = ThreadPoolExecutor(PARENT_WORKERS, thread_name_prefix=f"act-{spec.name}")
        self._pending: list[tuple[str, Future]] = []
        self._stop = threading.Event()  # set when the sync gives up: queued requests are dropped
        self._cap = PageCap(spec.name)  # what this sync's lists showed of a page cap
        self.parents = 0

    # -- as a follower of the parent's emitter (when "written")
    def emitted(self, records: list[dict], parent_key: str) -> None:
        self.read([str(record[parent_key]) for record in records])

    def deleted(self, parent_ids: list) -> None:
        self.settle()  # a parent deleted after its children were asked for: theirs is stale
        known = self.emitter.known
        if known is not None:
            self._drop(known, known.pairs_of({str(parent_id) for parent_id in parent_ids}))

    # -- reading
    def read(self, parent_ids: list[str]) -> None:
        """Asks for the parents' children; `settle` writes them, in the parents' order."""
        for parent_id in parent_ids:
            self._pending.append((parent_id, self._workers.submit(self._children, parent_id)))

    def settle(self, leave: int = 0) -> None:
        """Writes the children asked for so far (waiting for them) and what changed in them;
        all but the last `leave` parents asked for, which stay in flight."""
        cut = max(0, len(self._pending) - leave)
        pending, self._pending = self._pending[:cut], self._pending[cut:]
        try:
            now = {parent: self._land(parent, future.result()) for parent, future in pending}
        except BaseException:
            self.close()
            raise
        known = self.emitter.known
        if now and known is not None:  # a parent read twice keeps what it had last
            self._drop(known, known.pairs_lost(now))

    def close(self) -> None:
        """Drops what is still asked for (the sync failed) and ends the workers."""
        self._stop.set()
        self._workers.shutdown(wait=True, cancel_futures=True)

    def _children(self, parent_id: str) -> list:
        path = children_path(self.spec, parent_id)
        try:
            return read_list(self._client, self.spec.name, path, ID, self._cap, self._stop)
        except ActHttpError as error:
            if error.status == NOT_FOUND:
                return []
            raise

    def _land(self, parent_id: str, served: list) -> set[str]:
        """Writes what changed of a parent's children; the keys it has now."""
        self.parents += 1
        records, _ = usable_rows(self.spec, served)
        rows = [self._row(parent_id, record) for record in records]
        entries = [(remembered, digest(row), row) for row, remembered in rows]
        self.emitter.write_remembered(self.emitter.changed(entries))
        if self.emitter.known is None:  # past the remembered set's limit
            return set()
        return {remembered for _, remembered in rows}

    def _drop(self, known: KnownSet, stale: list[str]) -> None:
        """Deletes rows their parents no longer have (remembered keys "parent id|record id"),
        and forgets them. A row that is the record itself stays while another parent holds it."""
        if self.spec.per_parent.related_column:  # a member's row is keyed as remembered
            self.emitter.delete(stale)
            return
        self.emitter.forget(stale)
        records = {split_pair(remembered)[1] for remembered in stale}
        if records:
            self.emitter.delete_rows(sorted(records - known.children_held(records)))

    def _row(self, parent_id: str, record: dict) -> tuple[dict, str]:
        """The row for a served record, and the key it is remembered by."""
        per_parent, record_id = self.spec.per_parent, str(record[ID])
        remembered = pair_key(parent_id, record_id)
        related, parent_column = per_parent.related_column, per_parent.parent_column
        if related:
            row = {"id": remembered, parent_column: parent_id, related: record_id}
        else:
            row = {**record, parent_column: parent_id}
        return row, remembered

    def read_every_parent(self, parents: Iterator[list[str]]) -> None:
        """Reads the children of every parent Act! has (a membership read), then deletes the
        rows of any parent not among them. The parents are asked for a batch ahead of those
        written, so the workers never wait for the writer and no more than two batches of
        answers are held; what is written is checkpointed every PARENTS_PER_CHECKPOINT
        parents."""
        checkpointed, listed = self.parents, set()
        for chunk in parents:
            listed.update(chunk)
            for start in range(0, len(chunk), PARENTS_PER_READ):
                batch = chunk[start : start + PARENTS_PER_READ]
                self.read(batch)
                self.settle(leave=len(batch))
                if self.parents - checkpointed >= PARENTS_PER_CHECKPOINT:
                    self.checkpoint()
                    checkpointed = self.parents
        self.settle()
        known = self.emitter.known
        if known is not None:
            self._drop(known, known.pairs_outside(listed))

    def finish(self, reconciled: datetime | None = None) -> None:
        """Writes what is still asked for and checkpoints (noting, for a membership read, when
        it was made)."""
        self.settle()
        self.close()
        self.emitter.checkpoint(reconciled=reconciled)

    def finish_line(self, parent: str) -> str:
        return self.emitter.counts_line(
            self.subject, f"from {self.parents} {parent} at /api/{self.spec.paths[0]}"
        )


def children_path(spec: TableSpec, parent_id: str) -> str:
    return spec.paths[0].replace("{id}", quote(parent_id, safe=""))


def probe_children(client: ActClient, spec: TableSpec, parent: TableSpec) -> Page | None:
    """The children of the parent's first record (what the setup test and the doctor read);
    None when the parent table has no record to ask about."""
    page, _ = first_page(client, parent, {"$top": "1"})
    records, _ = usable_rows(parent, page.rows)
    if not records:
        return None
    path = children_path(spec, str(records[0][parent.primary_key]))
    return client.get_page(spec.name, path, list_query(ID))
