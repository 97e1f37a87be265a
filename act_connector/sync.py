"""Syncing tables: the generic loop every table goes through, and the state that lets it resume.

State (plain JSON, no secrets):

    {"version": 2, "tables": {"contacts": {"cursor": "2025-07-26T18:46:00Z", "id": "6f1c…"},
                              "activity_types": {"id": 12}}}

An incremental table keeps the (cursor, id) of the last row emitted; the next sync, or the same one
resumed after a crash, starts after it. A full-sync table keeps a position only while a pass is
under way. A table with no position (its first sync, after a Fivetran re-sync, or a full table's
new pass) is read from scratch: its rows are first marked deleted (op.truncate) and what exists
is upserted again, so rows deleted in Act! show as deleted. Each page is checkpointed once its
rows are emitted, so the state never runs ahead of the rows.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from fivetran_connector_sdk import Logging as log

from act_connector.catalog import Catalog, TableSpec
from act_connector.client import ActClient, RequestStats
from act_connector.config import Settings
from act_connector.discovery import first_page, sync_until
from act_connector.errors import ActConnectorError, PagingError, TablesFailed
from act_connector.flatten import Flattener
from act_connector.paging import Position, next_position, page_query, usable_rows
from act_connector.progress import Progress, time_shares
from act_connector.timestamps import format_utc, parse_timestamp
from act_connector.whole import read_whole

STATE_VERSION = 2


@dataclass
class TableResult:
    name: str
    path: str
    records: int = 0
    pages: int = 0
    seconds: float = 0.0


@dataclass
class SyncSummary:
    tables: list[TableResult] = field(default_factory=list)
    failures: list[ActConnectorError] = field(default_factory=list)
    stats: RequestStats = field(default_factory=RequestStats)

    @property
    def records(self) -> int:
        return sum(result.records for result in self.tables)


class SyncState:
    """The per-table positions, read tolerantly from any earlier state and written back whole."""

    def __init__(self, positions: dict[str, Position]):
        self.positions = positions

    @classmethod
    def load(cls, state: dict | None, catalog: Catalog) -> SyncState:
        state = state if isinstance(state, dict) else {}
        positions: dict[str, Position] = {}
        tables = state.get("tables")
        for name, entry in (tables if isinstance(tables, dict) else {}).items():
            if name in catalog.tables and isinstance(entry, dict):
                position = _position(
                    catalog.tables[name], entry.get("cursor"), entry.get("id"), entry.get("skip")
                )
                if position:
                    positions[name] = position
        # The brief's earlier layout: {"table_cursors": {"contacts": "2024-…Z"}}.
        legacy = state.get("table_cursors")
        for name, cursor in (legacy if isinstance(legacy, dict) else {}).items():
            if name in catalog.tables and name not in positions and catalog.tables[name].cursor:
                position = _position(catalog.tables[name], cursor, None)
                if position:
                    positions[name] = position
        return cls(positions)

    def to_dict(self) -> dict:
        return {
            "version": STATE_VERSION,
            "tables": {name: pos.to_state() for name, pos in sorted(self.positions.items())},
        }


def _position(table: TableSpec, cursor, row_id, skip=None) -> Position | None:
    """A stored position, or None (with a warning) when it cannot be trusted."""
    if table.incremental:
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
            skip=skip if isinstance(skip, int) and skip > 0 else 0,
        )
    return Position(id=row_id) if isinstance(row_id, (str, int)) else None


def start_position(table: TableSpec, saved: Position | None, settings: Settings) -> Position:
    if not table.incremental:
        return saved or Position()
    if saved is None:
        return Position(cursor=settings.default_start_date)
    if settings.lookback:
        moved = parse_timestamp(saved.cursor) - settings.lookback
        return Position(cursor=format_utc(moved))
    return saved


def run_sync(settings: Settings, catalog: Catalog, state: dict | None, operations) -> SyncSummary:
    """Syncs every chosen table; `operations` is the SDK's Operations (or a stand-in).

    A table that fails on its own (a missing path, a 403, a server that breaks paging) does not
    hold the others back: they sync and checkpoint, and the sync then fails naming each failed
    table, so that nobody mistakes a partial sync for a complete one.
    """
    sync_state = SyncState.load(state, catalog)
    client = ActClient(settings)
    summary = SyncSummary()
    started = time.monotonic()
    try:
        client.authorize()
        until = sync_until(client)
        log.info(
            f"Syncing {len(settings.tables)} table(s) from {settings.base_url}, records edited "
            f"up to {format_utc(until)}: {', '.join(settings.tables)}"
        )
        for name in settings.tables:
            try:
                result = sync_table(
                    client, catalog.tables[name], settings, sync_state, until, operations
                )
            except ActConnectorError as error:
                if not error.table_scoped:
                    raise
                log.error(f"{error} Syncing the other tables; this one fails the sync.")
                summary.failures.append(error)
            else:
                summary.tables.append(result)
    finally:
        client.close()
    stats = summary.stats = client.stats
    per_table = ", ".join(f"{r.name} {r.records}" for r in summary.tables)
    elapsed = time.monotonic() - started
    shares = time_shares({r.name: r.seconds for r in summary.tables}, elapsed)
    failed = (
        f"; failed: {', '.join(e.table for e in summary.failures)}" if summary.failures else ""
    )
    log.info(
        f"Sync finished in {elapsed:.1f}s: {summary.records} records ({per_table}){failed}; "
        f"share of the time: {shares}; {stats.requests} requests, {stats.retries} retries, "
        f"{stats.throttled} throttled, {stats.sleep_seconds:.1f}s paused"
    )
    if summary.failures:
        raise TablesFailed(summary.failures, len(settings.tables))
    return summary


def sync_table(
    client: ActClient,
    table: TableSpec,
    settings: Settings,
    sync_state: SyncState,
    until: datetime,
    operations,
) -> TableResult:
    if table.read == "whole":
        path, records, seconds = read_whole(client, table, operations)
        operations.checkpoint(sync_state.to_dict())
        return TableResult(table.name, path, records, 1, seconds)
    started = time.monotonic()
    position = start_position(table, sync_state.positions.get(table.name), settings)
    progress = Progress(table.name, position.cursor, until)
    until_text = format_utc(until)
    top = settings.batch_size
    flattener = Flattener(table.columns)

    from_scratch = table.name not in sync_state.positions
    page, path = first_page(client, table, page_query(table, position, until_text, top))
    rows = page.rows
    result = TableResult(table.name, path)
    if from_scratch:
        # Its first sync, a Fivetran re-sync (which empties the state) or a full table's new
        # pass. As Fivetran's own connectors do, every row is first marked deleted, and what Act!
        # still has is upserted again: what it no longer has stays deleted. Only now that the
        # table has answered, so that a table that fails keeps its rows as they were.
        operations.truncate(table.name)
        if table.incremental:  # saved at once: a table with no records yet is truncated once
            sync_state.positions[table.name] = position
            operations.checkpoint(sync_state.to_dict())
    scratch_note = (
        " (from scratch: rows Act! no longer has show as deleted)" if from_scratch else ""
    )
    if table.incremental:
        log.info(
            f"Table '{table.name}' from /api/{path}: {table.cursor} from {position.cursor}"
            f"{' after id ' + repr(position.id) if position.id is not None else ''} "
            f"to {until_text}{scratch_note}"
        )
    else:
        log.info(f"Table '{table.name}' from /api/{path}: full sync{scratch_note}")

    anomalies = Counter()

    def walk(position: Position, rows: list, until: datetime) -> Position:
        """Emits page after page up to `until`, checkpointing each; returns where it stopped."""
        until_text = format_utc(until)
        with ThreadPoolExecutor(1, thread_name_prefix=f"act-{table.name}") as prefetch:
            while rows:
                if len(rows) > top:
                    anomalies["oversized"] += 1
                rows, malformed = usable_rows(table, rows)
                anomalies["malformed"] += malformed
                if not rows:
                    raise PagingError(table.name, "a page held no record that can land.")
                position, untracked = next_position(table, position, rows, until)
                anomalies["untracked"] += untracked
                # The next page's query is known now: fetch it while this page is being written.
                upcoming = prefetch.submit(
                    client.get_rows, table.name, path, page_query(table, position, until_text, top)
                )
                for record in rows:
                    operations.upsert(table.name, flattener.row(record))
                result.records += len(rows)
                result.pages += 1
                sync_state.positions[table.name] = position
                operations.checkpoint(sync_state.to_dict())
                log.debug(f"Table '{table.name}': page {result.pages}, {result.records} records")
                progress.page(result.records, position.cursor)
                rows = upcoming.result()
        return position

    position = walk(position, rows, until)
    if from_scratch and table.incremental:
        # Records edited while the table was read moved past `until`; read from scratch, they
        # were just marked deleted. Walk on once to the server's present (less the same second),
        # so that they land now rather than show as deleted until the next sync.
        present = sync_until(client)
        if present > until:
            read = result.records
            query = page_query(table, position, format_utc(present), top)
            walk(position, client.get_rows(table.name, path, query), present)
            log.info(
                f"Table '{table.name}': {result.records - read} record(s) edited during the "
                f"sync, read up to {format_utc(present)}"
            )

    if not table.incremental:
        # The pass is complete: the next sync starts a new one (and marks deletions again).
        sync_state.positions.pop(table.name, None)
        operations.checkpoint(sync_state.to_dict())
    for message in filter(
        None, [flattener.report(table.name), anomaly_report(table, anomalies, top)]
    ):
        operations.warning(message)
    result.seconds = time.monotonic() - started
    log.info(
        f"Table '{table.name}': {result.records} records in {result.pages} page(s), "
        f"{result.seconds:.1f}s"
    )
    return result


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
            f"{anomalies['oversized']} page(s) held more than the {top} records asked for (the "
            "server ignores $top); they were used as they came"
        )
    return f"Table '{table.name}': " + "; ".join(parts) + "." if parts else None
