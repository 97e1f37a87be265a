"""Syncing tables: the loop over the chosen tables, each table's sync run as its plan says.

A table's sync is made of walks, chosen before it starts (plan.py):
- incremental: from the saved position (cursor, id) up to the sync's upper bound;
- from scratch (its first sync, a Fivetran re-sync): the table's rows are first marked deleted
  (op.truncate), as Fivetran's own connectors do, and what Act! has is then upserted again, so
  that rows Act! no longer has stay deleted; the table then walks on once to the server's
  present, so that what was edited meanwhile is not left deleted;
- reconciliation (reconcile.py), when due: the table is compared with what Act! holds, to delete
  what Act! deleted and read what arrived stamped in the past.

pages.py walks the pages (fetching the next while one is written), emitter.py writes rows,
deletions and checkpoints and keeps the remembered set true, followers.py are the tables written
as a table's records are (links, line items), state.py is the state (and known.py the set
within it). A walk checkpoints once its rows are emitted, every batch_size rows (its own, or every
table's since the last checkpoint, which the SDK holds until one) and at its end.
Everything a sync's tables share (client, settings, state, upper bound) is one SyncContext.
A database's sync (DatabaseSync) starts, runs its tables on the workers it is given (its own, in
run_sync; those every database shares, in databases.py) and sums up.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from act_connector.allocator import keep_large_buffers_mapped
from act_connector.catalog import Catalog, TableSpec
from act_connector.client import ActClient, Page, RequestStats
from act_connector.config import Settings
from act_connector.context import SyncContext
from act_connector.discovery import first_page, sync_until
from act_connector.emitter import Emitter
from act_connector.errors import AUTHORIZATION, ActConnectorError, TablesFailed
from act_connector.followers import Follower
from act_connector.links import LinkTable
from act_connector.listing import Lister, parent_ids
from act_connector.logs import log
from act_connector.pages import Walk, anomaly_report, walk_pages
from act_connector.paging import Position, first_top, page_query
from act_connector.per_parent import PerParentTable
from act_connector.plan import TablePlan, plan_table, reconciliation_due, remembers
from act_connector.progress import Progress, table_subject
from act_connector.reconcile import Findings, Reconciliation
from act_connector.state import SyncState
from act_connector.timestamps import format_utc
from act_connector.whole import read_whole

# Tables synced at once. A slow server answers several requests at once, so tables side by side
# finish sooner; the SDK's operations are thread-safe (3.0) and its examples use 4 to 8 workers.
# Each table holds at most two pages in memory, so four keep the connector well within its 1 GB.
TABLE_WORKERS = 4
SECONDS_PER_HOUR = 3600


@dataclass
class TableResult:
    name: str
    path: str = ""  # none for a link table
    records: int = 0  # rows written
    deleted: int = 0
    pages: int = 0
    findings: Findings | None = None
    read: int = 0
    # The tables written as this one's records were (links, line items): what each wrote
    followers: list[TableResult] = field(default_factory=list)

    @classmethod
    def of(cls, name: str, emitter: Emitter, path: str = "") -> TableResult:
        """What the table's emitter read, wrote and deleted."""
        return cls(name, path, emitter.upserted, emitter.deleted, read=emitter.read)


@dataclass
class SyncSummary:
    tables: list[TableResult] = field(default_factory=list)
    failures: list[ActConnectorError] = field(default_factory=list)
    stats: RequestStats = field(default_factory=RequestStats)

    @property
    def records(self) -> int:
        """The rows written of the tables read on their own (not links or line items)."""
        return sum(result.records for result in self.tables)

    @property
    def every_table(self) -> list[TableResult]:
        """Every table's result, the tables written as another's records were included."""
        return [each for result in self.tables for each in (result, *result.followers)]

    @property
    def read(self) -> int:
        return sum(result.read for result in self.every_table)

    @property
    def written(self) -> int:
        """Every row written: what the SDK counts as upserts."""
        return sum(result.records for result in self.every_table)

    @property
    def deleted(self) -> int:
        """Every row deleted, in every table: what the SDK counts as deletes."""
        return sum(result.deleted for result in self.every_table)


def run_sync(settings: Settings, catalog: Catalog, state: dict | None, operations) -> SyncSummary:
    """Syncs every chosen table; `operations` is the SDK's Operations (or a stand-in).

    A table that fails on its own (a missing path, a 403, a server that breaks paging) does not
    hold the others back: they sync and checkpoint, and the sync then fails naming each failed
    table, so that nobody mistakes a partial sync for a complete one.
    """
    keep_large_buffers_mapped()  # before the sync's large buffers (allocator.py)
    sync = DatabaseSync(settings, catalog, state, operations)
    try:
        with ThreadPoolExecutor(TABLE_WORKERS, thread_name_prefix="act-table") as workers:
            sync.collect([workers.submit(table) for table in sync.start()])
    finally:
        sync.close()
    return sync.finish()


class DatabaseSync:
    """One database's sync: its state, its client and its tables, whose syncs run on workers
    it is given (its own, or the ones every database of a connection shares). `database`: the
    database's name, for log lines, when a connection syncs several."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        state: dict | None,
        operations,
        database: str | None = None,
    ):
        self.settings, self.catalog, self.operations = settings, catalog, operations
        self.database = database
        self.state = SyncState.load(state, catalog)
        self.state.leave_behind(left_behind(settings, catalog))
        self.client = ActClient(settings)
        self.summary = SyncSummary()
        self.started = time.monotonic()

    def start(self) -> list[Callable[[], TableResult]]:
        """Authorizes and reads the server's clock (the sync's upper bound); returns the syncs
        of the tables that are not written as their parent is read, in the tables' order."""
        settings, catalog = self.settings, self.catalog
        self.client.authorize()
        until = sync_until(self.client)
        log.info(
            f"{self._heading()}Syncing {len(settings.tables)} table(s) from "
            f"{settings.base_url}, records edited up to {format_utc(until)}: "
            f"{', '.join(settings.tables)}"
        )
        lister = Lister(self.client, settings.batch_size)
        context = SyncContext(
            self.client, settings, self.state, until, self.operations, lister, self.database
        )
        return [
            table_sync(context, catalog, name).run
            for name in settings.tables
            if not catalog.tables[name].follows  # written as its parent is read
        ]

    def collect(self, futures: list[Future]) -> None:
        """Each table's result, in the order of the tables setting. An error of one table's own
        is noted and the others go on; any other (refused credentials, an unreachable server)
        cancels this sync's tables not yet started and, once those under way have stopped, is
        raised."""
        stopped: ActConnectorError | None = None
        for future in futures:
            try:
                self.summary.tables.append(future.result())
            except CancelledError:
                continue
            except ActConnectorError as error:
                if error.table_scoped:
                    log.error(
                        f"{self._heading()}{error} Syncing the other tables; this one fails "
                        "the sync."
                    )
                    self.summary.failures.append(error)
                elif stopped is None:
                    stopped = error
                    for waiting in futures:
                        waiting.cancel()
        if stopped is not None:
            raise stopped

    def close(self) -> None:
        self.client.close()

    def finish(self) -> SyncSummary:
        """Logs the summary line; a failed table fails the sync, once the others are saved."""
        summary = self.summary
        summary.stats = self.client.stats
        seconds = time.monotonic() - self.started
        for line in _cost_lines(summary.stats, self._subject):
            log.info(line)
        log.info(self._heading() + _summary_line(summary, seconds))
        if summary.failures:
            raise TablesFailed(summary.failures, len(self.settings.tables))
        return summary

    def _heading(self) -> str:
        return f"Database '{self.database}': " if self.database else ""

    def _subject(self, table: str) -> str:
        return table_subject(table, self.database)


def table_sync(context: SyncContext, catalog: Catalog, name: str) -> TableSync | MembershipSync:
    """The sync of a table that is not written as its parent is read."""
    spec = catalog.tables[name]
    if spec.per_parent:  # membership, read on its own schedule
        return MembershipSync(context, spec, catalog.tables[spec.per_parent.parent])
    return TableSync(context, spec, followers_of(context.settings, catalog, name))


def followers_of(settings: Settings, catalog: Catalog, parent: str) -> tuple[TableSpec, ...]:
    """The chosen tables written as the parent's records are: link tables, line items."""
    return tuple(
        catalog.tables[name] for name in settings.tables if catalog.tables[name].follows == parent
    )


def left_behind(settings: Settings, catalog: Catalog) -> dict[str, list[str]]:
    """The tables written as a parent's records are that are left out while the parent syncs,
    by parent: once the parent moves on without them, what they kept is no longer theirs to
    resume from; chosen again, they start afresh (and their parent is read from scratch)."""
    chosen, behind = set(settings.tables), {}
    for name, spec in catalog.tables.items():
        if spec.follows in chosen and name not in chosen:
            behind.setdefault(spec.follows, []).append(name)
    return behind


def _summary_line(summary: SyncSummary, seconds: float) -> str:
    """The sync's last line: its totals, every table's rows included (each table's are in its
    own line, and what its requests cost, when they cost more, in one of _cost_lines)."""
    stats = summary.stats
    failed = ", ".join(error.table for error in summary.failures)
    return (
        f"Sync finished in {seconds:.1f}s: {len(summary.every_table)} table(s), "
        f"read {summary.read}, written {summary.written}, deleted {summary.deleted}; "
        f"{stats.requests} requests, {stats.retries} retries, "
        f"{stats.throttled} throttled, {stats.sleep_seconds:.1f}s paused, "
        f"{stats.token_refreshes} token renewals" + (f"; failed: {failed}" if failed else "")
    )


def _cost_lines(stats: RequestStats, subject: Callable[[str], str]) -> list[str]:
    """A line for each table (or authorization) whose requests cost more than themselves (a
    retry, a renewal, a wait): '40 requests, 3 retries, 1 throttled, 4.5s waited'."""
    return [
        f"{'Authorization' if name == AUTHORIZATION else subject(name)}: {cost.requests} "
        f"requests, {cost.words()}"
        for name, cost in sorted(stats.tables.items())
        if cost.costly
    ]


class TableSync:
    """One table's sync: finds its path, runs its plan (plan.py), and reports what it did."""

    def __init__(self, context: SyncContext, table: TableSpec, followers=()):
        self.context, self.table = context, table
        self.client, self.settings = context.client, context.settings
        self.plan = None if table.read == "whole" else self._plan(followers)
        afresh = self.plan is not None and self.plan.followers_afresh
        self.followers: tuple[Follower, ...] = tuple(
            (LinkTable if spec.links else PerParentTable)(spec, context, afresh)
            for spec in followers
        )
        self.emitter = Emitter(
            table,
            context.state,
            context.operations,
            remembers(table, self.settings),
            self.followers,
        )
        self.anomalies: Counter = Counter()  # what paging had to work around, in every walk
        self.result: TableResult | None = None
        self.progress: Progress | None = None
        self.path = ""

    def _plan(self, followers: tuple[TableSpec, ...]) -> TablePlan:
        state = self.context.state
        follower_new = any(state.table(spec.name).nothing_remembered for spec in followers)
        return plan_table(
            state.table(self.table.name), self.settings, self.context.until, follower_new
        )

    def run(self) -> TableResult:
        try:
            result = self._run()
        finally:
            for follower in self.followers:
                follower.close()
        # Done: its sets are asked nothing more, and later checkpoints send only their text.
        self.context.state.set_aside([self.table.name, *(f.spec.name for f in self.followers)])
        return result

    def _run(self) -> TableResult:
        started = time.monotonic()
        if self.table.read == "whole":
            return self._read_whole(started)
        table, plan, until = self.table, self.plan, self.context.until
        self.progress = Progress(
            table.name, plan.start.cursor, until, database=self.context.database
        )
        query = page_query(table, plan.start, format_utc(until), plan.first_top)
        page, self.path = first_page(self.client, table, query)
        self.result = TableResult(table.name, self.path)
        for follower in self.followers:
            follower.start()
        if plan.from_scratch:
            self._truncate(plan.start)
        self._log_start(plan)
        walk = Walk(plan.start, until, plan.first_top, self.settings.batch_size, plan.last_end)
        position = self.walk(walk, page)
        if plan.from_scratch:
            self._walk_to_present(position)
        if plan.reconcile:
            self._reconcile()
        self._finish_followers()
        top = self.settings.batch_size
        for message in (self.emitter.unfit_report(), anomaly_report(table, self.anomalies, top)):
            if message:
                log.report(self.context.operations, message)
        return self._finished(started, f"{self.result.pages} page(s)")  # its path said at start

    def _finished(self, started: float, how: str) -> TableResult:
        """The table's result, and its line: what it read, wrote and deleted, and `how`."""
        seconds, walked = time.monotonic() - started, self.result
        result = TableResult.of(self.table.name, self.emitter, self.path)
        result.pages, result.findings = walked.pages, walked.findings
        result.followers = [
            TableResult.of(follower.spec.name, follower.emitter) for follower in self.followers
        ]
        self.result = result
        subject = self.context.subject(self.table.name)
        log.info(self.emitter.counts_line(subject, f"{how}, {seconds:.1f}s"))
        return result

    def _finish_followers(self) -> None:
        """Has its records' followers finish (a per-parent table writes what is still asked for)
        and says what each read, wrote and deleted."""
        for follower in self.followers:
            follower.finish()
            log.info(follower.finish_line(self.table.name))

    def _read_whole(self, started: float) -> TableResult:
        """A table read whole (whole.py): one request, no position; its rows remembered by
        digest."""
        self.path, warnings = read_whole(self.client, self.table, self.emitter)
        for message in warnings:
            log.report(self.context.operations, message)
        self.result = TableResult(self.table.name, self.path, pages=1)
        return self._finished(started, f"read whole from {self.path}")

    def walk(self, walk: Walk, first: Page) -> Position:
        """Emits page after page of the walk from `first`; returns where it stopped.

        A checkpoint follows each batch_size rows read, and the walk's last page. Not each page:
        pages may be smaller (wide records, a server's cap), and every checkpoint sends the whole
        state, every table's remembered set (megabytes in a large database), which the SDK copies
        several times over; a failure makes the next sync read at most batch_size rows again.
        A checkpoint also follows a page once the rows every table wrote since the last one (its
        links', other tables') reach batch_size: the SDK holds them all until a checkpoint, and
        writes them in one go, so that four tables and their links would otherwise hold several
        times the rows a sync of one table does.
        """
        top, position = walk.top, walk.start
        with walk_pages(self.client, self.table, self.path, walk, first, self.anomalies) as pages:
            unsaved = 0  # rows read since the last checkpoint
            written = self._written()
            for rows, position in pages:
                self.emitter.upsert(rows)
                unsaved += len(rows)
                # (and the rows every table wrote since a checkpoint, which the SDK holds)
                now = self._written()
                waiting = self.context.state.waiting(now - written)
                written = now
                if unsaved >= top or waiting >= top:
                    self.emitter.checkpoint(position)
                    unsaved = 0
                self.result.pages += 1
                log.debug(
                    f"{self.context.subject(self.table.name)}: page {self.result.pages}, "
                    f"{self.emitter.upserted} records"
                )
                self.progress.page(self.emitter.upserted, position.cursor)
                del rows  # written: not held while the next page is awaited (pages.py)
            if unsaved:
                self.emitter.checkpoint(position)
        return position

    def _written(self) -> int:
        """Rows this table and the tables its records feed have written or deleted."""
        emitters = (self.emitter, *(follower.emitter for follower in self.followers))
        return sum(emitter.upserted + emitter.deleted for emitter in emitters)

    def _truncate(self, position: Position) -> None:
        """Read from scratch: every row is first marked deleted, and what Act! still has is
        upserted again. Only now that the table has answered, so that a table that fails keeps
        its rows as they were; the start is saved at once, so that it happens once."""
        self.emitter.truncate()
        # The rows this read emits are what is live: the set is built as they are written.
        self.emitter.checkpoint(position, reconciled=self.context.until)

    def _walk_to_present(self, position: Position) -> None:
        """Records edited while the table was read moved past `until`; read from scratch, they
        were just marked deleted. Walk on once to the server's present (less the same second),
        so that they land now rather than show as deleted until the next sync."""
        present = sync_until(self.client)
        if present <= self.context.until:
            return
        read = self.emitter.upserted
        top = first_top(self.settings.batch_size, sized=position.top)
        query = page_query(self.table, position, format_utc(present), top)
        first = self.client.get_page(self.table.name, self.path, query)
        self.walk(Walk(position, present, top, self.settings.batch_size), first)
        log.info(
            f"{self.context.subject(self.table.name)}: {self.emitter.upserted - read} record(s) "
            "edited during "
            f"the sync, read up to {format_utc(present)}"
        )

    def _reconcile(self) -> None:
        reconciliation = Reconciliation(self.context, self.table, self.path, self.emitter)
        findings = reconciliation.run(self.emitter.state.position.cursor)
        self.result.findings = findings
        log.info(_findings_line(self.context.subject(self.table.name), findings))

    def _log_start(self, plan: TablePlan) -> None:
        table, start = self.table, plan.start
        scratch_note = (
            " (from scratch: rows Act! no longer has show as deleted)" if plan.from_scratch else ""
        )
        after = f" after id {start.id!r}" if start.id is not None else ""
        log.info(
            f"{self.context.subject(table.name)} from /api/{self.path}: {table.cursor} from "
            f"{start.cursor}{after} to {format_utc(self.context.until)}{scratch_note}"
        )


class MembershipSync:
    """A membership table's sync: every parent's members read again once the interval passed."""

    def __init__(self, context: SyncContext, table: TableSpec, parent: TableSpec):
        self.context, self.table, self.parent = context, table, parent

    def run(self) -> TableResult:
        context, table = self.context, self.table
        state, interval = context.state.table(table.name), context.settings.membership_interval
        if not reconciliation_due(state, interval, context.until):
            log.info(
                f"{context.subject(table.name)}: not read; members last read at "
                f"{format_utc(state.reconciled)}, read again from "
                f"{format_utc(state.reconciled + interval)} (every {hours(interval)})"
            )
            return TableResult(table.name, table.paths[0])
        members = PerParentTable(table, context, afresh=state.nothing_remembered)
        try:
            parents = parent_ids(context.client, context.lister, self.parent)
            first = next(parents, [])  # Act! has answered: a new table may start afresh
            members.start()
            members.read_every_parent(itertools.chain([first], parents))
            members.finish(reconciled=context.until)
        finally:
            members.close()
        context.state.set_aside([table.name])
        log.info(members.finish_line(self.parent.name))
        return TableResult.of(table.name, members.emitter, table.paths[0])


def hours(interval: timedelta) -> str:
    """An interval as a setting of whole hours gives it: '24 hours'."""
    count = round(interval.total_seconds() / SECONDS_PER_HOUR)
    return f"{count} hour" + ("" if count == 1 else "s")


def _findings_line(subject: str, findings: Findings) -> str:
    cost = f"{findings.requests} request(s), {findings.seconds:.1f}s"
    if findings.too_large:
        return f"{subject}: not reconciled, past the limit of remembered records; {cost}"
    if findings.built:
        return (
            f"{subject}: remembered the {findings.listed} record(s) Act! lists, to compare "
            f"with from the next reconciliation on (none were remembered; nothing deleted); "
            f"{cost}"
        )
    newer = (
        f", {findings.newer} changed since this sync began (the next sync reads them)"
        if findings.newer
        else ""
    )
    return (
        f"{subject}: reconciled with Act!'s {findings.listed} record(s): "
        f"{findings.deleted} deleted, {findings.late} late, {findings.unchanged} unchanged"
        f"{newer}; {cost}"
    )
