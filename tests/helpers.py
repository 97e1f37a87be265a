"""What the tests share: a stand-in for the SDK's Operations and a ready configuration."""

from __future__ import annotations

import copy
from urllib.parse import parse_qs, urlsplit

from fivetran_connector_sdk_cli.type_coercion import encode_row_data
from fivetran_connector_sdk_core.model import DataType

from act_connector import client, metadata
from act_connector.catalog import TableSpec, custom_table_specs, load_catalog
from act_connector.config import validate_configuration
from act_connector.context import SyncContext
from act_connector.followers import Follower
from act_connector.state import SyncState
from act_connector.sync import run_sync
from emulator.data import IMPORT_SECOND, stamp

PASSWORD = "S3cret-pässword"

BASE_CONFIGURATION = {
    "protocol": "http",
    "hostname": "act.test",
    "api_path": "/act.web.api",
    "username": "John Hollo",
    "password": PASSWORD,
    "database_name": "ActDemo",
}
BASE_URL = "http://act.test/act.web.api"
CATALOG = load_catalog()


def _default_tables(*reads: str) -> tuple[str, ...]:
    """The tables read in one of these ways that are synced when the configuration chooses none,
    in fields.json's order."""
    return tuple(
        name for name, spec in CATALOG.tables.items() if spec.default and spec.read in reads
    )


# The tables synced when the configuration chooses none: those read on their own, those read per
# parent record, and the link tables (of the default tables' embedded arrays).
DEFAULT_TABLES = _default_tables("keyset", "whole")
DEFAULT_PER_PARENT = _default_tables("per_parent")
DEFAULT_LINKS = _default_tables("links")


def configuration(**changes: str) -> dict:
    return {**BASE_CONFIGURATION, **changes}


def as_in_a_new_process() -> None:
    """Forgets what a process keeps from schema() to update() (Act!'s definitions and the token),
    as a sync in a process of its own starts: for tests of several syncs, each its own run."""
    metadata._read.clear()
    client._tokens.clear()


def sdk_column_types() -> dict[str, dict]:
    """Each table's declared columns as the SDK's encoder takes them."""
    return {
        name: {column: DataType[kind] for column, kind in table.columns.items()}
        for name, table in CATALOG.tables.items()
    }


class RecordingOperations:
    """Records what a sync emits, in order, as the SDK's Operations would receive it.

    Every row goes through the SDK's own encoder with the declared column types, as in
    `fivetran debug`: a value that does not fit its column fails the test as it fails a sync.
    """

    column_types = sdk_column_types()

    def __init__(self):
        self.events: list[tuple] = []

    def upsert(self, table: str, data: dict) -> None:
        encode_row_data(self.column_types.get(table, {}), data)
        self.events.append(("upsert", table, data))

    def delete(self, table: str, keys: dict) -> None:
        self.events.append(("delete", table, keys))

    def truncate(self, table: str) -> None:
        self.events.append(("truncate", table))

    def checkpoint(self, state: dict) -> None:
        self.events.append(("checkpoint", copy.deepcopy(state)))

    def warning(self, message: str) -> None:
        self.events.append(("warning", message))

    @property
    def warnings(self) -> list[str]:
        return [event[1] for event in self.events if event[0] == "warning"]

    def rows(self, table: str) -> list[dict]:
        return [event[2] for event in self.events if event[0] == "upsert" and event[1] == table]

    def deleted(self, table: str) -> list:
        return [event[2]["id"] for event in self.events if event[:2] == ("delete", table)]

    def live(self, table: str) -> dict:
        """The destination's live rows of `table`, by id, after every event so far (a truncate
        leaves live only what is written after it)."""
        rows: dict = {}
        for event in self.events:
            if event[0] == "upsert" and event[1] == table:
                rows[event[2]["id"]] = event[2]
            elif event[:2] == ("delete", table):
                rows.pop(event[2]["id"], None)
            elif event[:2] == ("truncate", table):
                rows.clear()
        return rows

    @property
    def checkpoints(self) -> list[dict]:
        return [event[1] for event in self.events if event[0] == "checkpoint"]


def bulk_import(records: list[dict]) -> list[dict]:
    """The records of the emulator's bulk import: all edited in one and the same second."""
    return [record for record in records if record["edited"] == stamp(IMPORT_SECOND)]


def mock_definitions(mock, fields: list | None = None, entities: list | None = None) -> None:
    """Act!'s field definitions and custom entities, as `responses` serves them."""
    mock.get(f"{BASE_URL}/api/metadata/fields", json=fields or [])
    mock.get(f"{BASE_URL}/api/metadata/entities", json=entities or [])


# Settings that make another account: none of them may share a token or definitions.
ANOTHER_ACCOUNT = [
    {"hostname": "other.test"},
    {"database_name": "OtherDb"},
    {"username": "Jane Doe"},
    {"password": "An0ther-secret"},
]


def follower(kind: type[Follower], spec: TableSpec, state: SyncState, operations, client=None):
    """A follower table made as a sync makes it, outside a sync: afresh when it has nothing
    remembered; `client` answers a per-parent table's requests."""
    context = SyncContext(client, None, state, None, operations, None)
    return kind(spec, context, state.table(spec.name).nothing_remembered)


TOKEN = "tok.en.value"  # what the mocked Act! (the `act` fixture) issues at /authorize


def query_of(call) -> dict:
    """A mocked request's query, one value a key."""
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def sync(catalog, state=None, **changes):
    """A sync (update()'s work, operations recorded) against the mocked Act! of `responses`."""
    settings = validate_configuration(configuration(**changes), catalog)
    operations = RecordingOperations()
    as_in_a_new_process()  # each sync its own run: it reads the server's clock at /authorize
    summary = run_sync(settings, catalog, state, operations)
    return operations, summary


def contact(i, edited="2025-01-01T00:00:00+00:00"):
    return {"id": f"c{i:03d}", "edited": edited, "businessAddress": {"city": "Zürich"}}


def ids(rows):
    return [row["id"] for row in rows]


def every_table(catalog) -> dict[str, TableSpec]:
    """The catalogue's tables and those of a custom table (the emulator's `projects`)."""
    return {**catalog.tables, **custom_table_specs("custom_projects", "projects")}
