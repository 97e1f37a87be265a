"""End to end: the real `fivetran debug` against the emulator over HTTP, every row compared."""

import copy
import json
import os
import re
import signal
from collections import Counter
from datetime import timedelta

import duckdb
import pytest

from act_connector.catalog import load_catalog
from act_connector.timestamps import format_utc, parse_timestamp
from bench.figures import counted
from tests.conftest import emulator_configuration
from tests.e2e.harness import (
    PROJECT,
    differences,
    fivetran_debug,
    staged_project,
    start_fivetran_debug,
    wait_for,
    warehouse_rows,
)
from tests.helpers import DEFAULT_LINKS, DEFAULT_PER_PARENT, DEFAULT_TABLES, bulk_import

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
    """The records the table's line says the sync wrote."""
    return int(re.search(rf"Table '{re.escape(table)}': read \d+, written (\d+), ", run.output)[1])


def test_full_sync_then_an_incremental_one_with_exactly_the_edits(emulator, project):
    # No look-back: the counts below are exactly the edits (a look-back reads the last again).
    configuration = emulator_configuration(emulator, batch_size="60", lookback_minutes="0")
    first = fivetran_debug(project, configuration)
    assert_synced(emulator, first)
    assert "SYNC SUCCEEDED" in first.output
    # A table read whole keeps its remembered rows; the custom table (synced when the tables
    # setting is empty) keeps its position.
    synced = set(DEFAULT_TABLES)
    custom = {"custom_projects"} | {
        f"custom_projects_{kind}" for kind in ("contacts", "companies", "groups", "opportunities")
    }
    assert set(first.state["tables"]) == synced | custom | set(DEFAULT_LINKS + DEFAULT_PER_PARENT)
    whole = [name for name in DEFAULT_TABLES if load_catalog().tables[name].read == "whole"]
    assert len(whole) == 9
    assert all(list(first.state["tables"][table]) == ["known"] for table in whole)

    edited = emulator.store.edit("contacts", 7)
    created = emulator.store.create("contacts", 3)
    emulator.store.edit("products", 2)
    deleted_type = emulator.store.delete("activity_types", 1)
    emulator.advance_clock(1.1)  # edits in the server's current second wait for the next sync
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second)
    assert records_logged(second, "contacts") == len(edited) + len(created)
    assert records_logged(second, "products") == 2
    assert records_logged(second, "companies") == 0
    types = {row["id"]: row["_fivetran_deleted"] for row in second.rows("activity_types")}
    assert types[deleted_type[0]] is True  # a table read whole shows deletions
    assert records_logged(second, "activity_types") == 0  # and writes only what changed


def test_a_value_cleared_in_act_lands_null_and_the_rest_of_the_row_stays(emulator, project):
    """The connector leaves a null out of the row it sends: the upsert must still land it null
    over the value the destination had, and keep the columns the row carries."""
    configuration = emulator_configuration(emulator, tables="contacts", lookback_minutes="0")
    assert fivetran_debug(project, configuration).returncode == 0
    chosen = next(
        record for record in emulator.store.truth("contacts")
        if record.get("jobTitle") and record["businessAddress"].get("city")
    )  # fmt: skip
    address = {**chosen["businessAddress"], "city": None}
    emulator.store.edit(
        "contacts", ids=[chosen["id"]], values={"jobTitle": None, "businessAddress": address}
    )
    emulator.advance_clock(1.1)
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run, ("contacts",))
    row = next(row for row in run.rows("contacts") if row["id"] == chosen["id"])
    assert row["job_title"] is None and row["business_address_city"] is None
    assert row["last_name"] == chosen["lastName"] and row["job_title"] != chosen["jobTitle"]


def test_the_optional_tables_groups_notes_history_and_recurring_series(emulator, project):
    optional = ("groups", "notes", "history", "recurring_activities")
    configuration = emulator_configuration(
        emulator, tables=",".join(optional), batch_size="40", lookback_minutes="0"
    )
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run, optional)
    assert all(
        records_logged(run, table) == len(emulator.store.truth(table)) for table in optional
    )
    assert set(run.state["tables"]) == set(optional)

    emulator.store.edit("notes", 3)
    emulator.store.create("history", 2)
    emulator.advance_clock(1.1)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second, optional)
    assert [records_logged(second, table) for table in optional] == [0, 3, 2, 0]


def test_a_resync_from_scratch_marks_what_act_deleted(emulator, project):
    configuration = emulator_configuration(emulator, tables="contacts,companies")
    assert fivetran_debug(project, configuration).returncode == 0
    deleted = emulator.store.delete("contacts", 4)
    edited = emulator.store.edit("contacts", 2)
    emulator.advance_clock(1.1)  # edits in the server's current second wait for the next sync
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
    emulator.advance_clock(1.1)
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
    whole = rf"Table 'activity_types': read \d+, [^\n]*; read whole from /api/{type_path}, "
    assert re.search(whole, run.output)


def test_a_table_that_fails_holds_back_no_other_and_syncs_once_fixed(emulator, project):
    emulator.configure(forbidden_tables="opportunities")
    configuration = emulator_configuration(emulator, batch_size="50", lookback_minutes="0")
    run = fivetran_debug(project, configuration)
    assert run.returncode != 0  # a partial sync is never reported as a success
    assert "SYNC SUCCEEDED" not in run.output
    # The default tables, the custom table and its 4 link tables: all but one synced.
    chosen = len(DEFAULT_TABLES) + len(DEFAULT_PER_PARENT) + len(DEFAULT_LINKS) + 5
    assert f"1 of {chosen} table(s) failed; the others synced" in run.output
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


def test_a_quiet_sync_asks_once_per_table_and_authorizes_once(emulator, project):
    """`fivetran debug` runs schema() and update() in one process: update() uses schema()'s token,
    and the fields and entities tables land the definitions schema() read. With nothing changed,
    every table that makes requests makes one, and nothing is written."""
    configuration = emulator_configuration(emulator)  # every default table and the custom one
    first = fivetran_debug(project, configuration)
    before = copy.deepcopy(emulator.stats)
    quiet = fivetran_debug(project, configuration)
    assert_synced(emulator, quiet)
    asked = counted(before, emulator.stats)
    requesting = set(DEFAULT_TABLES) | {"custom_projects"}
    # The field definitions are a list read page by page: a first page shorter than its $top
    # is followed by one more, which tells the list's end from a server's page cap.
    assert asked["answers_by_table"] == {**dict.fromkeys(sorted(requesting), 1), "fields": 2}
    assert asked["requests"] == 1 + len(requesting) + 1
    assert asked["authorizations"] == 1
    for table in ("fields", "entities"):
        reused = f"; read whole from /api/metadata/{table} (as read for the definitions), "
        assert re.search(rf"Table '{table}': read \d+, [^\n]*{re.escape(reused)}", quiet.output)
    assert all(records_logged(quiet, table) == 0 for table in requesting)
    [entity] = first.rows("entities")
    assert entity["name"] == "projects" and entity["landed_table"] == "custom_projects"


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
    emulator.advance_clock(2.5)
    second = fivetran_debug(project, configuration, timeout=240)
    assert_synced(emulator, second)
    assert "SYNC SUCCEEDED" in second.output
    seen = ("HTTP 429", "HTTP 503", "ChunkedEncodingError", "came without a readable edited")
    for fault in seen:
        assert fault in first.output, fault
    assert emulator.stats["faults"] > 10


def example_queries() -> list[str]:
    """docs/tables.md's example queries, as a reader would copy them."""
    document = (PROJECT / "docs" / "tables.md").read_text(encoding="utf-8")
    section = document.split("## Example queries", 1)[1].split("\n# ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```sql\n")[1:]]


def test_the_example_queries_answer_as_the_emulators_records_say(emulator, project):
    tables = "opportunities,opportunity_stages,users,history,history_types,contacts,"
    tables += "opportunity_contacts,opportunity_products,products,groups,group_contacts"
    assert fivetran_debug(project, emulator_configuration(emulator, tables=tables)).returncode == 0
    store = emulator.store
    users = {u["id"]: u["displayName"] for u in store.truth("users")}
    stages = {s["id"]: s for s in store.truth("opportunity_stages")}
    pipeline = Counter()
    for o in store.truth("opportunities"):
        if o["statusName"] == "Open":
            stage = stages[o["stage"]["id"]]
            key = (stage["process"]["name"], stage["number"], stage["name"])
            pipeline[(*key, users[o["recordManagerID"]])] += 1
    types = {t["id"]: t for t in store.truth("history_types")}
    history = Counter()
    for h in store.truth("history"):
        kind = types[h["historyTypeID"]]
        history[(kind["activityTypeName"], kind["name"], users[h["recordManagerID"]])] += 1
    contacts = {c["id"]: c["fullName"] for c in store.truth("contacts")}
    on_deals = sorted(
        (o["name"], position, contacts[c["id"]])
        for o in store.truth("opportunities")
        if o["statusName"] == "Open"
        for position, c in enumerate(o["contacts"])
    )
    won = {o["id"] for o in store.truth("opportunities") if o["statusName"] == "Won"}
    products = {p["id"]: p["name"] for p in store.truth("products")}
    revenue = Counter()
    for item in store.truth("opportunity_products"):
        if item["opportunityID"] in won:
            revenue[products[item["productID"]]] += item["total"]
    members = Counter(
        link["groupID"]
        for link in store.truth("group_contacts")
        if link["contactID"] in store.tables["contacts"]
    )
    first, on_deal, by_product_query, per_group_query, second = example_queries()
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        connection.execute("SET search_path = 'tester'")
        by_stage = connection.execute(first).fetchall()
        by_type = connection.execute(second).fetchall()
        by_deal = connection.execute(on_deal).fetchall()
        by_product = connection.execute(by_product_query).fetchall()
        per_group = connection.execute(per_group_query).fetchall()
    assert [row[:3] for row in by_deal] == on_deals and on_deals
    # The five products that brought in the most (the query's LIMIT), their revenue rounded.
    best = sorted(revenue.items(), key=lambda item: (-round(item[1], 2), item[0]))[:5]
    assert [(row[0], float(row[2])) for row in by_product] == [
        (name, round(total, 2)) for name, total in best
    ] and len(revenue) > 5
    assert [row[2] for row in by_product] == sorted((row[2] for row in by_product), reverse=True)
    groups = store.truth("groups")
    assert {row[0]: row[2] for row in per_group} == {g["id"]: members[g["id"]] for g in groups}
    assert sum(members.values()) > 10
    assert {row[:4]: row[4] for row in by_stage} == dict(pipeline) and len(pipeline) > 3
    assert [row[:4] for row in by_stage] == sorted(row[:4] for row in by_stage)
    assert {row[:3]: row[3] for row in by_type} == dict(history) and len(history) > 3


def column_types(project, table: str) -> dict[str, str]:
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'tester' AND table_name = ?",
            [table],
        ).fetchall()
    return dict(rows)


def test_custom_fields_land_typed_as_acts_field_definitions_say(emulator, project):
    tables = ("contacts", "companies", "fields")
    run = fivetran_debug(project, emulator_configuration(emulator, tables=",".join(tables)))
    assert_synced(emulator, run, ("contacts", "companies"))
    contacts, companies = column_types(project, "contacts"), column_types(project, "companies")
    assert contacts["custom_fields_last_review"] == "TIMESTAMP WITH TIME ZONE"
    assert contacts["custom_fields_newsletter"] == "BOOLEAN"
    assert contacts["custom_fields_annual_value"] == "DECIMAL(19,4)"
    assert contacts["custom_fields_user_1"] == "VARCHAR"
    assert companies["custom_fields_seats"] == "DOUBLE"
    fields = {row["id"]: row for row in run.rows("fields")}
    truth = emulator.store.truth("fields")
    assert set(fields) == {field["id"] for field in truth}
    review = next(row for row in fields.values() if row["name"] == "last_review")
    assert (review["display_name"], review["type"], review["is_custom"]) == (
        "Last Review", "Date", True
    )  # fmt: skip
    assert review["landed_column"] == "customFields_last_review"
    assert "could not be read" not in run.output


def test_custom_tables_land_and_sync_incrementally(emulator, project):
    configuration = emulator_configuration(emulator, lookback_minutes="0")
    first = fivetran_debug(project, configuration)  # no tables setting: custom tables too
    assert_synced(emulator, first, ("custom_projects",))
    assert "custom_projects" in first.state["tables"]
    emulator.store.edit("custom_projects", 2)
    emulator.advance_clock(1.1)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second, ("custom_projects",))
    assert records_logged(second, "custom_projects") == 2
    only = emulator_configuration(emulator, tables="contacts")
    assert "Table 'custom_projects'" not in fivetran_debug(project, only).output


def test_custom_fields_are_inferred_with_one_warning_when_act_hides_their_definitions(
    emulator, project
):
    emulator.configure(forbidden_tables="fields")
    run = fivetran_debug(project, emulator_configuration(emulator, tables="contacts"))
    assert_synced(emulator, run, ("contacts",))
    assert run.output.count("definitions at /api/metadata/fields could not be read") == 1
    # Inferred from the values: a currency as DOUBLE, not the DECIMAL(19,4) Act! defines.
    assert column_types(project, "contacts")["custom_fields_annual_value"] == "DOUBLE"


def test_reference_tables_write_only_what_changed_and_show_removals(emulator, project):
    tables = ("users", "opportunity_processes", "opportunity_stages", "history_types")
    configuration = emulator_configuration(emulator, tables=",".join(tables))
    assert_synced(emulator, fivetran_debug(project, configuration), tables)
    edited = emulator.store.edit("users", 1)
    removed = emulator.store.delete("opportunity_stages", 1)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second, tables)
    logged = [records_logged(second, table) for table in tables]
    assert logged == [1, 0, 0, 0]  # the edited user only
    users = {row["id"]: row for row in second.rows("users")}
    assert users[edited[0]]["role"].startswith("Edited")
    stages = {row["id"]: row["_fivetran_deleted"] for row in second.rows("opportunity_stages")}
    assert [stage for stage, gone in stages.items() if gone] == removed


def link_truth(emulator, parent: str, array: str, parent_column: str, related_column: str):
    """A link table's rows as the emulator's records say they should land."""
    return [
        {
            "id": f"{record['id']}|{related['id']}",
            parent_column: record["id"],
            related_column: related["id"],
            "position": position,
        }
        for record in emulator.store.truth(parent)
        for position, related in enumerate(record[array])
    ]


def test_link_tables_land_and_a_lost_link_shows_deleted(emulator, project):
    tables = "opportunities,opportunity_contacts,activities,activity_groups"
    configuration = emulator_configuration(emulator, tables=tables, lookback_minutes="0")
    first = fivetran_debug(project, configuration)
    assert_synced(emulator, first, ("opportunities", "activities"))
    expected = link_truth(emulator, "opportunities", "contacts", "opportunity_id", "contact_id")
    assert not differences(expected, first.rows("opportunity_contacts")) and expected
    groups = link_truth(emulator, "activities", "groups", "activity_id", "group_id")
    assert not differences(groups, first.rows("activity_groups")) and groups

    record = next(r for r in emulator.store.tables["opportunities"].values() if r["contacts"])
    lost = f"{record['id']}|{record['contacts'][-1]['id']}"
    record["contacts"] = record["contacts"][:-1]
    emulator.store.edit("opportunities", ids=[record["id"]])
    emulator.advance_clock(1.1)
    second = fivetran_debug(project, configuration)
    expected = link_truth(emulator, "opportunities", "contacts", "opportunity_id", "contact_id")
    assert not differences(expected, second.rows("opportunity_contacts"))
    flags = {row["id"]: row["_fivetran_deleted"] for row in second.rows("opportunity_contacts")}
    assert [link for link, gone in flags.items() if gone] == [lost]
    counts = r"Table 'opportunity_contacts': read \d+, written 0, unchanged \d+, deleted 1; "
    assert re.search(counts, second.output)


def line_item_truth(emulator) -> list[dict]:
    """opportunity_products as the emulator's line items say it should land."""
    items = emulator.store.truth("opportunity_products")
    return [{**item, "opportunity_id": item["opportunityID"]} for item in items]


def membership_truth(emulator, table: str) -> list[dict]:
    """group_contacts or company_contacts as the emulator's groups and companies say."""
    store = emulator.store
    if table == "group_contacts":
        pairs = [(link["groupID"], link["contactID"]) for link in store.truth("group_contacts")]
        parent_column = "group_id"
    else:
        pairs = [(c["companyID"], c["id"]) for c in store.truth("contacts")]
        parent_column = "company_id"
    parents = {"group_contacts": "groups", "company_contacts": "companies"}[table]
    return [
        {"id": f"{parent}|{contact}", parent_column: parent, "contact_id": contact}
        for parent, contact in pairs
        if parent in store.tables[parents] and contact in store.tables["contacts"]
    ]


def deleted_ids(run, table: str) -> list:
    return sorted(row["id"] for row in run.rows(table) if row["_fivetran_deleted"])


def test_line_items_and_members_land_and_what_is_removed_shows_deleted(emulator, project):
    tables = "opportunities,opportunity_products,group_contacts,company_contacts"
    configuration = emulator_configuration(emulator, tables=tables, lookback_minutes="0")
    first = fivetran_debug(project, configuration)
    assert first.returncode == 0, first.output[-3000:]
    assert not differences(line_item_truth(emulator), first.rows("opportunity_products"))
    assert column_types(project, "opportunity_products")["quantity"] == "DOUBLE"
    for table in ("group_contacts", "company_contacts"):
        expected = membership_truth(emulator, table)
        assert expected and not differences(expected, first.rows(table)), table

    store = emulator.store
    removed_item = store.delete("opportunity_products", 1)
    edited_item = store.edit("opportunity_products", 1)
    added_item = store.create("opportunity_products", 1)
    left_group = store.delete("group_contacts", 1)
    emulator.advance_clock(1.1)
    second = fivetran_debug(project, configuration)
    assert second.returncode == 0, second.output[-3000:]
    assert not differences(line_item_truth(emulator), second.rows("opportunity_products"))
    assert deleted_ids(second, "opportunity_products") == removed_item
    written = {row["id"] for row in second.rows("opportunity_products")}
    assert set(edited_item + added_item) <= written
    # Only the changed line items of the opportunities written again land again.
    counts = r"Table 'opportunity_products': read \d+, written 2, unchanged \d+, deleted 1; "
    assert re.search(counts, second.output)
    # Membership is read again only once its interval has passed: nothing changed yet.
    assert "Table 'group_contacts': not read; members last read at" in second.output
    assert deleted_ids(second, "group_contacts") == []

    every_sync = {**configuration, "membership_interval_hours": "0"}
    third = fivetran_debug(project, every_sync)
    assert third.returncode == 0, third.output[-3000:]
    assert not differences(
        membership_truth(emulator, "group_contacts"), third.rows("group_contacts")
    )
    assert deleted_ids(third, "group_contacts") == left_group
    for table, deleted in (("group_contacts", 1), ("company_contacts", 0)):
        counts = rf"Table '{table}': read \d+, written 0, unchanged \d+, deleted {deleted}; "
        assert re.search(counts, third.output), table


def subgroup_truth(emulator) -> list[dict]:
    """group_subgroups as the emulator's groups say: a row per group under another."""
    groups = emulator.store.tables["groups"]
    return [
        {"id": f"{group['parentID']}|{group['id']}", "group_id": group["parentID"],
         "subgroup_id": group["id"]}
        for group in emulator.store.truth("groups")
        if group["parentID"] in groups
    ]  # fmt: skip


def test_subgroups_land_as_act_lists_them(emulator, project):
    emulator.configure(page_cap=1)  # a group's subgroups come a page of one at a time
    configuration = emulator_configuration(emulator, tables="groups,group_subgroups")
    run = fivetran_debug(project, configuration)
    assert_synced(emulator, run, ("groups",))
    expected = subgroup_truth(emulator)
    assert max(Counter(row["group_id"] for row in expected).values()) > 1  # more than a page
    assert expected and not differences(expected, run.rows("group_subgroups"))


def test_documents_land_and_an_edited_one_lands_again(emulator, project):
    configuration = emulator_configuration(
        emulator, tables="documents", batch_size="20", lookback_minutes="0"
    )
    first = fivetran_debug(project, configuration)
    assert_synced(emulator, first, ("documents",))
    assert records_logged(first, "documents") == len(emulator.store.truth("documents")) > 20
    edited = emulator.store.edit("documents", 2)
    emulator.advance_clock(1.1)
    second = fivetran_debug(project, configuration)
    assert_synced(emulator, second, ("documents",))
    assert records_logged(second, "documents") == len(edited)


def test_contact_campaigns_land_as_each_contacts_list_says(emulator, project):
    configuration = emulator_configuration(emulator, tables="contact_campaigns")
    run = fivetran_debug(project, configuration)
    assert run.returncode == 0, run.output[-3000:]
    contacts = emulator.store.tables["contacts"]
    expected = [
        {**sent, "contact_id": sent["contacts"][0]}
        for sent in emulator.store.truth("contact_campaigns")
        if sent["contacts"][0] in contacts
    ]
    assert expected and not differences(expected, run.rows("contact_campaigns"))


def test_secondary_contacts_land_as_each_contacts_list_says(emulator, project):
    configuration = emulator_configuration(emulator, tables="secondary_contacts")
    run = fivetran_debug(project, configuration)
    assert run.returncode == 0, run.output[-3000:]
    store = emulator.store
    secondary = {record["id"]: record for record in store.truth("secondary_contacts")}
    expected = [
        {**secondary[link["secondaryID"]], "primary_contact_id": link["contactID"]}
        for link in store.truth("contact_secondaries")
        if link["contactID"] in store.tables["contacts"]
    ]
    assert expected and not differences(expected, run.rows("secondary_contacts"))
