"""End to end: reconciliation through the real `fivetran debug`, every row compared with Act!."""

import json
import os
import re
import signal
from datetime import datetime, timezone

import pytest

from act_connector.timestamps import parse_timestamp
from tests.conftest import emulator_configuration
from tests.e2e.harness import (
    differences,
    fivetran_debug,
    staged_project,
    start_fivetran_debug,
    wait_for,
    warehouse_rows,
)

pytestmark = pytest.mark.e2e

TABLES = ("contacts", "companies", "activities", "products")
# Pages of contacts answered before the kill: past its walk (a page or two), within its listing
# (23 pages)
PAGES_INTO_THE_LISTING = 8


@pytest.fixture
def project(tmp_path):
    return staged_project(tmp_path / "connector")


def configure(emulator, **changes) -> dict:
    # No look-back: it writes its window again each sync, and a quiet sync is to write nothing.
    every_sync = {
        "tables": ",".join(TABLES),
        "reconcile_interval_hours": "0",
        "lookback_minutes": "0",
    }
    return emulator_configuration(emulator, **{**every_sync, **changes})


def assert_synced(emulator, run):
    assert run.returncode == 0, run.output[-3000:]
    for table in TABLES:
        problems = differences(emulator.store.truth(table), run.rows(table))
        assert not problems, f"{table}: {problems}"


def flagged_deleted(rows) -> set:
    return {row["id"] for row in rows if row["_fivetran_deleted"]}


def days_before_cursor(state: dict, table: str, days: float) -> float:
    """`ago` (seconds before now) for a stamp `days` before the table's saved cursor."""
    cursor = parse_timestamp(state["tables"][table]["cursor"])
    return (datetime.now(timezone.utc) - cursor).total_seconds() + days * 86400


def change_act(emulator, state: dict) -> tuple[dict, dict]:
    """Deletes in every table; creates and edits stamped days before the saved cursor."""
    store = emulator.store
    deleted = {table: set(store.delete(table, 3)) for table in TABLES}
    late = {
        table: set(store.create(table, 2, ago=days_before_cursor(state, table, 4)))
        | set(store.edit(table, 2, ago=days_before_cursor(state, table, 1)))
        for table in TABLES
    }
    return deleted, late


def test_reconciliation_catches_deletions_and_records_stamped_in_the_past(emulator, project):
    configuration = configure(emulator)
    first = fivetran_debug(project, configuration)
    assert_synced(emulator, first)
    deleted, late = change_act(emulator, first.state)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second)  # every live row as Act! has it, late ones included
    for table in TABLES:
        rows = second.rows(table)
        assert flagged_deleted(rows) == deleted[table], table
        assert late[table] <= {row["id"] for row in rows if not row["_fivetran_deleted"]}
        assert f"Table '{table}': reconciled with Act!'s" in second.output
        assert "3 deleted, 4 late, " in second.output.split(f"Table '{table}': reconciled")[1]


def test_a_quiet_reconciliation_writes_nothing(emulator, project):
    configuration = configure(emulator)
    first = fivetran_debug(project, configuration)
    assert first.returncode == 0, first.output[-3000:]
    before = {table: first.rows(table) for table in TABLES}
    second = fivetran_debug(project, configuration)
    assert second.returncode == 0, second.output[-3000:]
    for table in TABLES:
        # Not a row touched: each keeps the _fivetran_synced of the first sync.
        assert second.rows(table) == before[table], table
        assert "0 deleted, 0 late, " in second.output.split(f"Table '{table}': reconciled")[1]
    finished = r"Sync finished in [\d.]+s: \d+ table\(s\), read \d+, written \d+, deleted 0; "
    assert re.search(finished, second.output)


def test_a_sync_killed_during_reconciliation_then_one_more_converges(emulator, project, tmp_path):
    configuration = configure(emulator)
    first = fivetran_debug(project, configuration)
    assert first.returncode == 0, first.output[-3000:]
    deleted, _ = change_act(emulator, first.state)
    emulator.configure(page_cap=10, delay=0.2)  # the listing of contacts: 23 slow pages
    log = tmp_path / "killed.log"
    answered = emulator.stats["answers_by_table"].get("contacts", 0)
    process = start_fivetran_debug(project, configuration, log)

    def listing_contacts():
        """the walk of contacts (a page or two: nothing is stamped after the cursor) ended: its
        listing is under way (the table's line comes only once it ends)"""
        pages = emulator.stats["answers_by_table"].get("contacts", 0) - answered
        return pages >= PAGES_INTO_THE_LISTING and "Table 'contacts': read" not in log.read_text(
            encoding="utf-8"
        )

    wait_for(listing_contacts, timeout=120)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    rows = warehouse_rows(project, "contacts")
    assert flagged_deleted(rows) == set()  # a listing that never ended deleted nothing
    saved = json.loads((project / "files" / "state.json").read_text())["tables"]["contacts"]
    assert saved["reconciled"] == first.state["tables"]["contacts"]["reconciled"]
    emulator.configure(delay=0)  # still capped: the next listing takes pages again
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run)
    for table in TABLES:
        assert flagged_deleted(run.rows(table)) == deleted[table], table


def test_reconciliation_where_act_refuses_select(emulator, project):
    configuration = configure(emulator, batch_size="50")
    first = fivetran_debug(project, configuration)
    assert first.returncode == 0, first.output[-3000:]
    emulator.configure(select_supported=False)
    deleted, _ = change_act(emulator, first.state)
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run)
    for table in TABLES:
        assert flagged_deleted(run.rows(table)) == deleted[table], table
    assert run.output.count("Act! refused $select (HTTP 400: ") == 1


def test_reconciliation_waits_for_its_interval(emulator, project):
    configuration = configure(emulator, reconcile_interval_hours="24")
    first = fivetran_debug(project, configuration)
    assert first.returncode == 0, first.output[-3000:]
    emulator.store.delete("contacts", 3)
    requests = emulator.stats["data_requests"]
    emulator.advance_clock(1.1)
    second = fivetran_debug(project, configuration)
    assert second.returncode == 0, second.output[-3000:]
    # One empty page each, and Act!'s field definitions (a page, and the one after it that
    # tells its end from a page cap) and custom entities, once a sync.
    assert emulator.stats["data_requests"] - requests == len(TABLES) + 3
    assert "reconciled with Act!" not in second.output
    assert flagged_deleted(second.rows("contacts")) == set()
