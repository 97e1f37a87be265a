"""Several Act! databases in one connection, each landing in a schema of its own.

database_name names one database, or several separated by commas (config.py). With one, a sync is
run_sync as it always was: the tables land in the connection's own schema and the state is one
database's. With several, every database is synced with the same settings and credentials:

- its rows go to a schema named after it (schema_name), through SchemaOperations, which adds
  `schema=` to every write (the SDK and `fivetran debug` put that schema after the connection's
  own: `<destination schema>_<schema>`);
- its custom fields and custom tables are its own (metadata.for_this_server, per database, in
  schema() and in update()), so one custom table name may have other columns in another database;
- its state is exactly one database's state, kept under its name in the connection's state
  (ConnectionState): {"version": 2, "databases": {"Sales EU": {"version": 2, "tables": …}}}. A
  database added later has no entry and starts from scratch; the entry of one removed is dropped;
- its tables run on the table workers every database shares, so that never more than
  TABLE_WORKERS tables are read at once from the server, whatever the number of databases;
- one that fails (refused by Act!, missing, a table of its own failing) does not stop the
  others: they sync and checkpoint, and the sync then fails naming each failed database.
"""

from __future__ import annotations

import itertools
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from act_connector.allocator import keep_large_buffers_mapped
from act_connector.catalog import Catalog
from act_connector.config import Settings
from act_connector.errors import ActConnectorError, ConfigurationError, DatabasesFailed
from act_connector.logs import log
from act_connector.metadata import for_this_server
from act_connector.state import STATE_VERSION
from act_connector.sync import TABLE_WORKERS, DatabaseSync, run_sync

# What a schema name holds: lower-case letters, digits and underscores (what every destination
# takes unquoted; Fivetran's own naming turns anything else into "_" the same way).
NOT_IN_SCHEMA_NAME = re.compile(r"[^a-z0-9_]")
# Put before a schema name that would start with a digit, which most warehouses refuse unquoted.
DIGIT_PREFIX = "db_"
DATABASES_KEY = "databases"  # the connection's state: one entry per database, under its name


def schema_name(database: str) -> str:
    """The schema a database lands in: its name in lower case, each character but a-z, 0-9 and
    _ made _, and DIGIT_PREFIX before it if it starts with a digit ('2024 Archive' lands in
    db_2024_archive)."""
    name = NOT_IN_SCHEMA_NAME.sub("_", database.lower())
    return DIGIT_PREFIX + name if name[:1].isdigit() else name


@dataclass(frozen=True)
class Database:
    """One database of the connection: its name, the schema it lands in (None: the
    connection's own, with a single database) and the settings that sync it alone."""

    name: str
    schema: str | None
    settings: Settings


def databases_of(settings: Settings) -> list[Database]:
    """The connection's databases; two that would land in one schema are refused, both named,
    before any request."""
    names = settings.database_names
    if len(names) == 1:
        return [Database(names[0], None, settings)]
    by_schema: dict[str, list[str]] = {}
    for name in names:
        by_schema.setdefault(schema_name(name), []).append(name)
    clashes = [
        f"{' and '.join(repr(n) for n in same)} would both land in schema '{schema}'"
        for schema, same in by_schema.items()
        if len(same) > 1
    ]
    if clashes:
        raise ConfigurationError(
            f"database_name: {'; '.join(clashes)} (a schema is named after its database: lower "
            "case, each character but a-z, 0-9 and _ made _). Sync one of them in a connection "
            "of its own."
        )
    return [
        Database(name, schema_name(name), replace(settings, database_name=name)) for name in names
    ]


class ConnectionState:
    """The state of a connection that syncs several databases: each database's last published
    state (exactly one database's state) under its name, checkpointed whole."""

    def __init__(self, databases: dict[str, dict]):
        self._lock = threading.Lock()
        self._published = databases

    @classmethod
    def load(cls, state: dict | None, names: tuple[str, ...]) -> tuple[ConnectionState, bool]:
        """The entries of the databases named; and whether the state held anything else (a
        database no longer named, a single database's tables), which is forgotten."""
        state = state if isinstance(state, dict) else {}
        entries = state.get(DATABASES_KEY)
        entries = entries if isinstance(entries, dict) else {}
        kept = {name: entries[name] for name in names if isinstance(entries.get(name), dict)}
        new = [name for name in names if name not in kept]
        if new and kept:
            log.info(f"Database(s) {', '.join(new)}: nothing synced before, synced from scratch")
        removed = sorted(set(entries) - set(names))
        if removed:
            log.warning(
                f"Database(s) {', '.join(removed)} no longer in database_name: what the state "
                "kept of them is forgotten (their schemas stay as they are; named again, they "
                "are synced from scratch)"
            )
        if state.get("tables"):
            log.warning(
                "The state of the single database synced before is forgotten: with several "
                "databases each lands in a schema of its own, synced there from scratch"
            )
        return cls(kept), bool(removed or state.get("tables"))

    def of(self, name: str) -> dict:
        """The database's state as run_sync takes it (empty: from scratch)."""
        with self._lock:
            return self._published.get(name, {})

    def checkpoint(self, name: str, state: dict, operations) -> None:
        """Checkpoints the database's state with every other database's last published."""
        with self._lock:
            self._published[name] = state
            operations.checkpoint(self._as_dict())  # (within the checkpointing table's turn)

    def forget_the_rest(self, operations) -> None:
        """Checkpoints the connection's state as loaded: what it no longer names is gone."""
        with self._lock, log.turn():
            operations.checkpoint(self._as_dict())

    def to_dict(self) -> dict:
        with self._lock:
            return self._as_dict()

    def _as_dict(self) -> dict:
        published = self._published
        return {
            "version": STATE_VERSION,
            DATABASES_KEY: {name: published[name] for name in sorted(published)},
        }


class SchemaOperations:
    """The SDK's operations as one database's sync sees them: every write goes to its schema,
    a checkpoint sends the connection's whole state, and a warning names the database."""

    def __init__(self, operations, database: Database, connection: ConnectionState):
        self._operations, self._connection = operations, connection
        self._name, self._schema = database.name, database.schema

    def upsert(self, table: str, data: dict) -> None:
        self._operations.upsert(table, data, schema=self._schema)

    def update(self, table: str, modified: dict) -> None:
        self._operations.update(table, modified, schema=self._schema)

    def delete(self, table: str, keys: dict) -> None:
        self._operations.delete(table, keys, schema=self._schema)

    def truncate(self, table: str) -> None:
        self._operations.truncate(table, schema=self._schema)

    def checkpoint(self, state: dict) -> None:
        self._connection.checkpoint(self._name, state, self._operations)

    def warning(self, message: str) -> None:
        self._operations.warning(f"Database '{self._name}': {message}")


def connection_schema(settings: Settings, catalog: Catalog) -> list[dict]:
    """schema()'s answer: each database's tables (its custom tables and fields its own), in its
    schema. A database Act! does not answer for is declared with the chosen standard tables,
    untyped custom fields, and a warning: update() then fails it, and only it."""
    databases = databases_of(settings)
    if len(databases) == 1:
        settings, catalog = for_this_server(settings, catalog)
        return catalog.schema(settings.tables)
    entries = []
    for database in databases:
        try:
            chosen, typed = for_this_server(database.settings, catalog)
        except ActConnectorError as error:
            log.warning(
                f"Database '{database.name}': {error} Its standard tables are declared without "
                "its custom fields and custom tables."
            )
            chosen = replace(
                database.settings,
                tables=tuple(t for t in database.settings.tables if t in catalog.tables),
            )
            typed = catalog
        entries += [{**entry, "schema": database.schema} for entry in typed.schema(chosen.tables)]
    return entries


def sync_connection(settings: Settings, catalog: Catalog, state: dict | None, operations) -> None:
    """update()'s sync: one database as run_sync always synced it, or several side by side."""
    databases = databases_of(settings)
    if len(databases) == 1:
        if isinstance(state, dict) and state.get(DATABASES_KEY):
            log.warning(
                f"The state of databases {', '.join(sorted(state[DATABASES_KEY]))} is "
                "forgotten: with a single database it lands in the connection's own schema, "
                "synced there from scratch"
            )
        run_sync(*for_this_server(settings, catalog), state, operations)
        return
    connection, changed = ConnectionState.load(state, settings.database_names)
    if changed:
        connection.forget_the_rest(operations)
    sync_databases(databases, catalog, connection, operations)


def sync_databases(
    databases: list[Database], catalog: Catalog, connection: ConnectionState, operations
) -> None:
    """Starts each database in turn (its definitions, a token, the server's clock: a few
    requests), then runs every started database's tables on the same TABLE_WORKERS workers and
    sums up. A failed database is named at the end, with its error, once the others are saved."""
    keep_large_buffers_mapped()  # before the sync's large buffers (allocator.py)
    failures: dict[str, ActConnectorError] = {}
    started = []
    for database in databases:
        try:
            started.append(_start(database, catalog, connection, operations))
        except ActConnectorError as error:
            failures[database.name] = _failed(database.name, error)
    failures |= _run_tables(started)
    records = {}
    for sync, _ in started:
        sync.close()
        if sync.database not in failures:
            try:
                records[sync.database] = sync.finish().records
            except ActConnectorError as error:  # some of its tables failed
                failures[sync.database] = error
    failed = {db.name: failures[db.name] for db in databases if db.name in failures}
    log.info(
        f"Databases synced: {len(records)} of {len(databases)}, records "
        f"({', '.join(f'{name} {count}' for name, count in records.items()) or 'none'})"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    if failed:
        raise DatabasesFailed(failed, len(databases))


def _run_tables(started: list[tuple[DatabaseSync, list]]) -> dict[str, ActConnectorError]:
    """Runs the started databases' tables on TABLE_WORKERS workers, a table of each database in
    turn, so that they move on side by side; returns the databases that failed as a whole."""
    failures = {}
    with ThreadPoolExecutor(TABLE_WORKERS, thread_name_prefix="act-table") as workers:
        futures: list[list[Future]] = [[] for _ in started]
        for turn in itertools.zip_longest(*(tables for _, tables in started)):
            for queued, table in zip(futures, turn, strict=True):
                if table is not None:
                    queued.append(workers.submit(table))
        for (sync, _), queued in zip(started, futures, strict=True):
            try:
                sync.collect(queued)
            except ActConnectorError as error:
                failures[sync.database] = _failed(sync.database, error)
    return failures


def _failed(name: str, error: ActConnectorError) -> ActConnectorError:
    log.error(f"Database '{name}': {error} Syncing the other databases.")
    return error


def _start(
    database: Database, catalog: Catalog, connection: ConnectionState, operations
) -> tuple[DatabaseSync, list]:
    """A database's sync, started, and its tables' syncs to run."""
    settings, typed = for_this_server(database.settings, catalog)
    sync = DatabaseSync(
        settings,
        typed,
        connection.of(database.name),
        SchemaOperations(operations, database, connection),
        database.name,
    )
    try:
        return sync, sync.start()
    except ActConnectorError:
        sync.close()
        raise
