"""End to end: several Act! databases in one connection through the real `fivetran debug`, each
landing in a schema of its own (`tester_<schema>` in files/warehouse.db), every row compared."""

import time

import duckdb
import pytest

from emulator.databases import add_database
from tests.conftest import emulator_configuration
from tests.e2e.harness import differences, fivetran_debug, staged_project

pytestmark = pytest.mark.e2e

# The emulator fixture's own database, one with other custom fields and a custom table of the
# same name with other columns, and a copy of the first (an archive beside the live database),
# which holds the very same ids: what reaches one schema must not reach the other.
SCHEMAS = {"ActDemo": "actdemo", "Sales EU": "sales_eu", "2024 Archive": "db_2024_archive"}
ARCHIVE_SIZES = {
    "contacts": 230,
    "companies": 40,
    "opportunities": 60,
    "activities": 90,
    "products": 25,
}
# Incremental tables, tables read whole and the custom table: each kind of table, and few, so
# that each sync takes seconds.
TABLES = ("contacts", "companies", "activity_types", "fields", "entities", "custom_projects")


@pytest.fixture
def project(tmp_path):
    return staged_project(tmp_path / "connector")


@pytest.fixture
def server(emulator):
    add_database(emulator, "Sales EU", seed=23, sizes={"contacts": 70}, variant="regional")
    add_database(emulator, "2024 Archive", seed=11, sizes=ARCHIVE_SIZES)
    return emulator


def configured(server, names, **changes):
    return emulator_configuration(
        server, database_name=names, tables=",".join(TABLES), lookback_minutes="0", **changes
    )


def landed(project, schema: str, table: str) -> list[dict]:
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        cursor = connection.execute(f'SELECT * FROM "tester_{schema}"."{table}"')
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def assert_equal_to_truth(server, project, names):
    for name in names:
        for table in TABLES:
            truth = server.store_for(name).truth(table)
            problems = differences(truth, landed(project, SCHEMAS.get(name, "sales_us"), table))
            assert not problems, f"{name}.{table}: {problems}"


def last_written(project, names) -> dict:
    """When each table of each database was last written to: what a sync that writes nothing
    leaves as it was."""
    return {
        (name, table): max(
            row["_fivetran_synced"] for row in landed(project, SCHEMAS[name], table)
        )
        for name in names
        for table in TABLES
    }


def test_three_databases_land_in_three_schemas_and_a_change_reaches_only_its_own(server, project):
    names = ", ".join(SCHEMAS)
    first = fivetran_debug(project, configured(server, names, reconcile_interval_hours="0"))
    assert first.returncode == 0, first.output[-3000:]
    assert_equal_to_truth(server, project, SCHEMAS)
    columns = {s: set(landed(project, s, "custom_projects")[0]) for s in ("actdemo", "sales_eu")}
    assert {"budget", "due_date"} <= columns["actdemo"] - columns["sales_eu"]
    assert {"phase", "hours"} <= columns["sales_eu"] - columns["actdemo"]
    assert set(first.state) == {"version", "databases"}
    assert set(first.state["databases"]) == set(SCHEMAS)
    assert "Database 'Sales EU', table 'contacts': read 70, written 70, " in first.output

    others = ("Sales EU", "2024 Archive")
    before = last_written(project, others)
    edited = server.store.edit("contacts", 1)
    deleted = server.store.delete("contacts", 1)
    time.sleep(1.1)  # edits in the server's current second wait for the next sync, by design
    second = fivetran_debug(project, configured(server, names, reconcile_interval_hours="0"))
    assert second.returncode == 0, second.output[-3000:]
    assert_equal_to_truth(server, project, SCHEMAS)
    live = {row["id"]: row for row in landed(project, "actdemo", "contacts")}
    assert live[deleted[0]]["_fivetran_deleted"] is True
    archive = {row["id"]: row for row in landed(project, "db_2024_archive", "contacts")}
    assert archive[deleted[0]]["_fivetran_deleted"] is False  # the archive's copy stays
    assert archive[edited[0]]["_fivetran_synced"] < live[edited[0]]["_fivetran_synced"]
    assert last_written(project, others) == before  # nothing of theirs written again


def test_a_database_refused_fails_the_sync_and_one_added_later_starts_from_scratch(
    server, project
):
    run = fivetran_debug(project, configured(server, "ActDemo, Missing, Sales EU"))
    assert run.returncode != 0
    assert "1 of 3 database(s) failed; the others synced and their progress is saved" in run.output
    assert (
        "Database 'Missing': Act! refused the user name, password or database name" in run.output
    )
    assert set(run.state["databases"]) == {"ActDemo", "Sales EU"}  # their progress is saved
    assert all("contacts" in entry["tables"] for entry in run.state["databases"].values())
    assert_equal_to_truth(server, project, ("ActDemo", "Sales EU"))

    before = last_written(project, ("ActDemo", "Sales EU"))
    add_database(server, "Sales US", seed=31, sizes={"contacts": 50})
    added = fivetran_debug(project, configured(server, "ActDemo, Sales EU, Sales US"))
    assert added.returncode == 0, added.output[-3000:]
    assert "Database(s) Sales US: nothing synced before, synced from scratch" in added.output
    assert "(from scratch: rows Act! no longer has show as deleted)" in added.output
    assert_equal_to_truth(server, project, ("ActDemo", "Sales EU", "Sales US"))
    assert last_written(project, ("ActDemo", "Sales EU")) == before
    assert set(added.state["databases"]) == {"ActDemo", "Sales EU", "Sales US"}
