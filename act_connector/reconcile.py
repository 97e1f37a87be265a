"""Reconciliation: a table compared with what Act! holds, for what paging cannot see.

Incremental paging reads records edited after the saved cursor. It cannot see a record deleted in
Act! (there is no feed of deletions), nor one that reaches the database stamped at or below the
cursor (database synchronization brings records edited offline with their original edit times; a
desktop whose clock runs behind stamps edits in the past). So, when due, each incremental table
is listed whole, id and edit time only ($select=id,edited, keyset on the id, pages of 10,000), and
compared with the table's remembered set (known.py):

- an id remembered but absent from the complete listing was deleted: op.delete;
- an id listed with an edit time other than the remembered one (or not remembered at all), at or
  below the saved cursor and not before default_start_date, arrived late: it is read again by id
  and upserted;
- everything else is left alone: a table where nothing was deleted or stamped late emits nothing.

Races: the listing walks by id, so a record edited meanwhile keeps its place; its new edit time is
above the cursor and the next sync's paging reads it. A record created meanwhile is listed or not;
either way paging reads it later. A record deleted after its id was listed stays until the next
reconciliation. Nothing is deleted unless the listing completed: a failure or a kill deletes
nothing, and the next sync lists again. A table without a remembered set (a state from before,
or one past the limit) has it built from the listing, deleting nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from act_connector.catalog import TableSpec
from act_connector.context import SyncContext
from act_connector.emitter import Emitter
from act_connector.errors import ActHttpError, PagingError
from act_connector.known import KNOWN_LIMIT, Census, KnownSet
from act_connector.listing import BAD_REQUEST, id_listing
from act_connector.packing import cursor_value, remembered_moment
from act_connector.pages import Pages
from act_connector.paging import literal
from act_connector.timestamps import parse_timestamp


@dataclass
class Findings:
    """What one reconciliation found, and what it cost."""

    listed: int = 0
    deleted: int = 0
    late: int = 0
    unchanged: int = 0
    newer: int = 0  # changed after this sync's walk: the next sync's paging reads them
    requests: int = 0
    seconds: float = 0.0
    built: bool = False  # no set was kept: the listing only built it
    too_large: bool = False  # the listing passed the set's limit and stopped


def reread_query(table: TableSpec, ids: list, after) -> dict[str, str]:
    """Whole records of the given ids, in id order after `after` (a server may cap a page)."""
    key = table.primary_key
    kind = table.columns.get(key, "STRING")
    wanted = " or ".join(f"{key} eq {literal(record_id, kind)}" for record_id in ids)
    after_clause = f" and {key} gt {literal(after, kind)}" if after is not None else ""
    return {
        "$filter": f"({wanted}){after_clause}",
        "$orderby": f"{key} asc",
        "$top": str(len(ids)),
    }


class Reconciliation:
    """One table's reconciliation: list, compare, then re-read the late and delete the gone."""

    def __init__(self, context: SyncContext, table: TableSpec, path: str, emitter: Emitter):
        self._client, self._lister = context.client, context.lister
        self._table, self._path, self._emitter = table, path, emitter
        self._now = context.until  # noted as the time of this reconciliation
        # default_start_date: older records are not synced at all
        self._start = parse_timestamp(context.settings.default_start_date)
        self._checkpoint_every = context.settings.batch_size
        self._bound: datetime | None = None

    def run(self, cursor: str) -> Findings:
        """Reconciles records stamped up to `cursor` (the saved position's); the sync's upper
        bound is noted as the time of this reconciliation."""
        started, requests = time.monotonic(), self._client.stats.by_table[self._table.name]
        self._bound = parse_timestamp(cursor)
        known = self._emitter.known
        findings = Findings(built=known is None)
        if known is None:
            self._build(findings)
        else:
            compared = self._compare(known.census(), findings)
            if compared is not None:
                late, absent = compared
                self._reread(late, findings)
                self._emitter.delete(absent)
                findings.deleted = len(absent)
        self._emitter.checkpoint(reconciled=self._now)  # a table past the limit: tried again then
        findings.requests = self._client.stats.by_table[self._table.name] - requests
        findings.seconds = time.monotonic() - started
        return findings

    # -- listing
    def _listing(self) -> Pages:
        consequence = "so the table cannot be compared with Act!; nothing was deleted"
        return id_listing(self._lister, self._table, self._path, consequence)

    def _over_limit(self, findings: Findings) -> bool:
        if findings.listed <= KNOWN_LIMIT:
            return False
        findings.too_large = True
        self._emitter.give_up_remembering()
        return True

    def _build(self, findings: Findings) -> None:
        """No set was kept: what Act! lists is what is live (nothing emitted)."""
        known = KnownSet()
        key, cursor = self._table.primary_key, self._table.cursor
        with self._listing() as pages:
            for rows, _ in pages:
                findings.listed += len(rows)
                if self._over_limit(findings):
                    return
                for row in rows:
                    known.put(row[key], cursor_value(row.get(cursor)))
        self._emitter.adopt(known)

    def _compare(self, census: Census, findings: Findings) -> tuple[list, list] | None:
        """The late ids and the absent ones, once the whole table is listed; None if it is past
        the limit (nothing is then deleted)."""
        key, cursor_field = self._table.primary_key, self._table.cursor
        late = []
        with self._listing() as pages:
            for rows, _ in pages:
                findings.listed += len(rows)
                if self._over_limit(findings):
                    return None
                for row in rows:
                    cursor = cursor_value(row.get(cursor_field))
                    remembered = census.see(row[key])
                    if remembered == cursor:
                        findings.unchanged += 1
                    elif self._late(cursor):
                        late.append(row[key])
                    else:
                        findings.newer += 1
                if census.repeats:
                    raise PagingError(
                        self._table.name,
                        "the server listed a record twice; it ignores $orderby or $filter, so "
                        "the table cannot be compared with Act!.",
                    )
        return late, census.unseen()

    def _late(self, cursor) -> bool:
        """Stamped where paging will not look: at or below the saved cursor (or not a time)."""
        moment = remembered_moment(cursor)
        return moment is None or self._start <= moment <= self._bound

    # -- re-reading late records
    def _reread(self, late: list, findings: Findings) -> None:
        """Reads the late records again by id and upserts them, checkpointing as a walk does."""
        ordered, at, since_checkpoint = sorted(late, key=str), 0, 0
        while at < len(ordered):
            size = self._lister.ids_per_request
            try:
                for rows in self._reread_chunk(ordered[at : at + size]):
                    self._emitter.upsert(rows)
                    findings.late += len(rows)
                    since_checkpoint += len(rows)
            except ActHttpError as error:
                if error.status != BAD_REQUEST or size == 1:
                    raise
                self._lister.refuse_or(error)
                continue  # the same ids again, one a request
            at += size
            if since_checkpoint >= self._checkpoint_every:
                self._emitter.checkpoint()
                since_checkpoint = 0

    def _reread_chunk(self, ids: list):
        """The records of `ids` Act! still has, page by page (a deleted one is simply absent)."""
        key, wanted, after = self._table.primary_key, set(ids), None
        while wanted:
            query = reread_query(self._table, ids, after)
            rows = self._client.get_rows(self._table.name, self._path, query)
            if not rows:
                return
            last = rows[-1].get(key)
            if last is None or last == after:
                raise PagingError(
                    self._table.name,
                    "the server sent the same records again when asked for late records by id.",
                )
            found = [row for row in rows if row.get(key) in wanted]
            wanted.difference_update(row[key] for row in found)
            yield found
            after = last
