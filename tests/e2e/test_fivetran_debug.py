"""End to end: the real `fivetran debug` against the emulator over HTTP, every row compared."""

import json
import os
import signal
import time
from datetime import timedelta

import pytest

from act_connector.timestamps import format_utc, parse_timestamp
from tests.conftest import emulator_configuration
from tests.e2e.harness import (
    differences,
    fivetran_debug,
    staged_project,
    start_fivetran_debug,
    wait_for,
    warehouse_rows,
)
from tests.helpers import DEFAULT_TABLES, bulk_import

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path):
    return staged_project(tmp_path / "connector")


def assert_synced(emulator, run, tables=DEFAULT_TABLES):
    assert run.returncode == 0, run.output[-3000:]
    for table in tables:
        problems = differences(emulator.store.truth(table), run.rows(table))
        assert not problems, f"{table}: {problems}"


def first_page_checkpointed(project, table):
    def checkpointed():
        """a checkpoint part-way through the table, after its first page"""
        try:
            state = json.loads((project / "files" / "state.json").read_text())
            return "id" in state["tables"][table]
        except (OSError, ValueError, KeyError):
            return False

    return checkpointed


def records_logged(run, table) -> int:
    marker = f"Table '{table}': "
    line = next(
        line for line in run.output.splitlines() if marker in line and " records in " in line
    )
    return int(line.split(marker)[1].split()[0])


def test_full_sync_then_an_incremental_one_with_exactly_the_edits(emulator, project):
    configuration = emulator_configuration(emulator, batch_size="60")
    first = fivetran_debug(project, configuration)
    assert_synced(emulator, first)
    assert "SYNC SUCCEEDED" in first.output
    assert set(first.state["tables"]) == set(DEFAULT_TABLES) - {
        "activity_types"
    }  # a full table's pass ended

    edited = emulator.store.edit("contacts", 7)
    created = emulator.store.create("contacts", 3)
    emulator.store.edit("products", 2)
    deleted_type = emulator.store.delete("activity_types", 1)
    time.sleep(1.1)  # edits in the server's current second wait for the next sync, by design
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second)
    assert records_logged(second, "contacts") == len(edited) + len(created)
    assert records_logged(second, "products") == 2
    assert records_logged(second, "companies") == 0
    types = {row["id"]: row["_fivetran_deleted"] for row in second.rows("activity_types")}
    assert types[deleted_type[0]] is True  # a full-sync table shows deletions


def test_the_optional_tables_groups_notes_and_history(emulator, project):
    optional = ("groups", "notes", "history")
    configuration = emulator_configuration(emulator, tables=",".join(optional), batch_size="40")
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run, optional)
    assert all(
        records_logged(run, table) == len(emulator.store.truth(table)) for table in optional
    )
    assert set(run.state["tables"]) == set(optional)

    emulator.store.edit("notes", 3)
    emulator.store.create("history", 2)
    time.sleep(1.1)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second, optional)
    assert [records_logged(second, table) for table in optional] == [0, 3, 2]


def test_a_resync_from_scratch_marks_what_act_deleted(emulator, project):
    configuration = emulator_configuration(emulator, tables="contacts,companies")
    assert fivetran_debug(project, configuration).returncode == 0
    deleted = emulator.store.delete("contacts", 4)
    edited = emulator.store.edit("contacts", 2)
    time.sleep(1.1)  # edits in the server's current second wait for the next sync, by design
    (project / "files" / "state.json").unlink()  # Fivetran's re-sync empties the state
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run, ("contacts", "companies"))
    flags = {row["id"]: row["_fivetran_deleted"] for row in run.rows("contacts")}
    assert {row_id for row_id, gone in flags.items() if gone} == set(deleted)
    assert not any(flags[row_id] for row_id in edited)
    assert "(from scratch: rows Act! no longer has show as deleted)" in run.output


def test_a_resync_reads_what_is_edited_while_it_runs(emulator, project):
    """Read from scratch, a table is truncated first: what users edit meanwhile must land too."""
    configuration = emulator_configuration(emulator, tables="contacts", batch_size="10")
    assert fivetran_debug(project, configuration).returncode == 0
    (project / "files" / "state.json").unlink()  # Fivetran's re-sync empties the state
    emulator.configure(delay=0.25)  # 23 pages: the re-sync runs for seconds after the edits
    process = start_fivetran_debug(project, configuration)
    wait_for(first_page_checkpointed(project, "contacts"), timeout=120)
    edited = emulator.store.edit("contacts", 5)
    assert process.wait(timeout=180) == 0
    rows = warehouse_rows(project, "contacts")
    assert not differences(emulator.store.truth("contacts"), rows)
    assert not any(row["_fivetran_deleted"] for row in rows if row["id"] in edited)


def test_a_page_size_cap_and_large_timestamp_ties(emulator, project):
    emulator.configure(page_cap=9, envelope="odata")
    ties = bulk_import(emulator.store.truth("contacts"))
    assert len(ties) > 3 * 9
    run = fivetran_debug(project, emulator_configuration(emulator, batch_size="25"))
    assert_synced(emulator, run)


def test_edits_and_inserts_during_the_sync_then_a_second_sync(emulator, project):
    before = {r["id"]: r for r in emulator.store.truth("contacts")}
    emulator.configure(churn_edits=2, churn_creates=1)
    configuration = emulator_configuration(emulator, batch_size="15", tables="contacts")
    first = fivetran_debug(project, configuration)
    emulator.configure(churn_edits=0, churn_creates=0)
    assert first.returncode == 0, first.output[-3000:]
    unchanged = [r for r in emulator.store.truth("contacts") if before.get(r["id"]) == r]
    assert len(unchanged) < len(before) - 20
    landed = {row["id"]: row for row in first.rows("contacts")}
    assert not differences(unchanged, [landed[r["id"]] for r in unchanged if r["id"] in landed])
    assert {r["id"] for r in unchanged} <= set(landed)
    time.sleep(1.1)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second, ("contacts",))


def test_a_sync_killed_mid_table_is_finished_by_the_next(emulator, project):
    emulator.configure(delay=0.15)
    configuration = emulator_configuration(emulator, batch_size="20", tables="contacts,companies")
    process = start_fivetran_debug(project, configuration)
    wait_for(first_page_checkpointed(project, "contacts"), timeout=120)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = json.loads((project / "files" / "state.json").read_text())["tables"]["contacts"]
    emulator.configure(delay=0)
    run = fivetran_debug(project, configuration)
    resumed_from = parse_timestamp(saved["cursor"]) - timedelta(minutes=10)  # the look-back
    assert f"edited from {format_utc(resumed_from)} to" in run.output  # resumed, not restarted
    assert_synced(emulator, run, ("contacts", "companies"))


def test_throttling_and_server_errors(emulator, project):
    emulator.configure(throttle_every=4, retry_after=0.2, error_every=7, rate_limit_headers=True)
    run = fivetran_debug(
        project, emulator_configuration(emulator, batch_size="40", rate_limit_pause="0")
    )
    assert_synced(emulator, run)
    assert "HTTP 429: Too many requests. from http://127.0.0.1:" in run.output
    assert (
        "HTTP 500: An error has occurred.: Transaction (Process ID 61) was deadlocked"
        in run.output
    )
    emulator.configure(throttle_every=0, error_every=2, error_status=503, error_html=True)
    (project / "files" / "state.json").unlink()  # a full pass: two requests, one of them fails
    run = fivetran_debug(
        project, emulator_configuration(emulator, batch_size="100", tables="products")
    )
    assert_synced(emulator, run, ("products",))
    assert "HTTP 503: Service Unavailable" in run.output


@pytest.mark.parametrize(
    ("build", "activity_path", "type_path"),
    [("legacy", "activities", "activitytypes"), ("seed", "activities", "activity-types")],
)
def test_other_builds_activity_paths(emulator, project, build, activity_path, type_path):
    emulator.configure(build=build)
    run = fivetran_debug(
        project, emulator_configuration(emulator, tables="activities,activity_types")
    )
    assert_synced(emulator, run, ("activities", "activity_types"))
    assert f"Table 'activities' from /api/{activity_path}" in run.output
    assert f"Table 'activity_types' from /api/{type_path}: full sync" in run.output


def test_a_table_that_fails_holds_back_no_other_and_syncs_once_fixed(emulator, project):
    emulator.configure(forbidden_tables="opportunities")
    configuration = emulator_configuration(emulator, batch_size="50")
    run = fivetran_debug(project, configuration)
    assert run.returncode != 0  # a partial sync is never reported as a success
    assert "SYNC SUCCEEDED" not in run.output
    assert "1 of 6 table(s) failed; the others synced" in run.output
    assert (
        "Table 'opportunities': Act! answered HTTP 403 for http://127.0.0.1:" in run.output
        and "The user does not have permission to read Opportunities.Opportunity." in run.output
    )
    others = [table for table in DEFAULT_TABLES if table != "opportunities"]
    for table in others:  # every other table landed in full, and its progress is saved
        assert not differences(emulator.store.truth(table), run.rows(table)), table
    assert "opportunities" not in run.state["tables"]

    emulator.configure(forbidden_tables="")
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second)
    assert records_logged(second, "opportunities") == len(emulator.store.truth("opportunities"))
    assert records_logged(second, "contacts") == 0


def test_wrong_credentials_fail_fast_with_a_clear_message(emulator, project):
    secret = "Wr0ng-but-secret!"
    run = fivetran_debug(project, emulator_configuration(emulator, password=secret))
    assert run.returncode != 0
    assert "Act! refused the user name, password or database name (HTTP 401" in run.output
    assert secret not in run.output
    assert secret not in json.dumps(run.state)
    reports = list((project / "crash-reports").glob("*"))  # the SDK's report of the failure
    assert reports
    assert not any(secret in report.read_text(encoding="utf-8") for report in reports)
    assert emulator.stats["requests"] == 1  # one refused authorization, no retry loop


def test_a_token_expiring_mid_sync_is_renewed(emulator, project):
    emulator.configure(token_ttl=0.4, delay=0.15)
    run = fivetran_debug(
        project, emulator_configuration(emulator, batch_size="20", tables="contacts")
    )
    assert_synced(emulator, run, ("contacts",))
    assert "the Act! token expired; authorizing again" in run.output
    assert emulator.stats["authorizations"] >= 2


def test_every_fault_of_a_stricter_server_at_once(emulator, project):
    """All that a real server (or a proxy before it) may do, at once: every row lands, current,
    exactly once."""
    emulator.configure(
        authorize_throttle_every=3,
        date_header="doubled",
        clock_offset_seconds=-120,
        cut_body_every=11,
        error_every=13,
        error_status=503,
        throttle_every=9,
        retry_after=0.2,
        rate_limit_headers=True,
        typed_text_every=4,
        ids_as_text=True,
        null_cursor_every=9,
        ignore_top_every=6,
        fraction_digits=7,
        envelope="odata",
        token_ttl=6,
        churn_edits=1,
        lagging_edits=1,
        lag_seconds=10,
    )
    emulator.store.edit("contacts", 45, at="2025-11-03T10:15:20.1234567+00:00")  # ties > a page
    configuration = emulator_configuration(emulator, batch_size="40", rate_limit_pause="0")
    first = fivetran_debug(project, configuration, timeout=240)
    assert first.returncode == 0, first.output[-3000:]
    emulator.configure(churn_edits=0, lagging_edits=0)
    # Edits in the server's current second wait for the next sync, by design; with a proxy's Date
    # a second behind IIS's, the earlier bounds the sync, so that is the last two seconds.
    time.sleep(2.5)
    second = fivetran_debug(project, configuration, timeout=240)
    assert_synced(emulator, second)
    assert "SYNC SUCCEEDED" in second.output
    seen = ("HTTP 429", "HTTP 503", "ChunkedEncodingError", "came without a readable edited")
    for fault in seen:
        assert fault in first.output, fault
    assert emulator.stats["faults"] > 10
