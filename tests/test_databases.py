"""Several Act! databases in one connection: each in its schema, with a state entry of its own."""

import copy
import json
import threading
import time

import pytest
import requests

import act_connector.sync
import connector
from act_connector.config import validate_configuration
from act_connector.databases import (
    DIGIT_PREFIX,
    connection_schema,
    databases_of,
    schema_name,
    sync_connection,
)
from act_connector.errors import ConfigurationError, DatabasesFailed
from act_connector.form import connect_to_act
from act_connector.metadata import for_this_server
from act_connector.sync import TABLE_WORKERS, run_sync
from emulator.databases import add_database, add_databases
from tests.conftest import emulator_configuration
from tests.helpers import RecordingOperations, as_in_a_new_process, configuration
from tools import doctor

# The tables these tests sync: few, so that each sync takes a second; contacts carry custom
# fields, and the custom table is chosen by its name.
TABLES = "contacts,companies,fields,entities,custom_projects"


class SchemaOperations(RecordingOperations):
    """Records what a sync emits as the SDK receives it, each write with its schema."""

    def upsert(self, table, data, *, schema=None):
        self.events.append(("upsert", table, data, schema))

    def delete(self, table, keys, *, schema=None):
        self.events.append(("delete", table, keys, schema))

    def truncate(self, table, *, schema=None):
        self.events.append(("truncate", table, schema))

    def live_in(self, schema, table) -> dict:
        """The live rows of `table` in `schema`, by id, after every event so far."""
        rows: dict = {}
        for event in self.events:
            if event[0] == "upsert" and event[1] == table and event[3] == schema:
                rows[event[2]["id"]] = event[2]
            elif event[0] == "delete" and event[1] == table and event[3] == schema:
                rows.pop(event[2]["id"], None)
            elif event[0] == "truncate" and event[1:] == (table, schema):
                rows.clear()
        return rows

    def writes(self) -> list[tuple]:
        return [event for event in self.events if event[0] in ("upsert", "delete", "truncate")]


@pytest.fixture
def server(emulator):
    """The emulator's own database (ActDemo), one with other custom fields and another custom
    table of the same name (Sales EU), and a copy of ActDemo's records (2024 Archive)."""
    add_database(emulator, "Sales EU", seed=23, sizes={"contacts": 70}, variant="regional")
    add_database(emulator, "2024 Archive", seed=11, sizes=SIZES)
    return emulator


SIZES = {"contacts": 230, "companies": 40, "opportunities": 60, "activities": 90, "products": 25}
THREE = "ActDemo, Sales EU, 2024 Archive"


def settings_for(server, catalog, **changes):
    changes = {"tables": TABLES, "lookback_minutes": "0", **changes}
    return validate_configuration(emulator_configuration(server, **changes), catalog)


def sync(server, catalog, state=None, **changes):
    operations = SchemaOperations()
    as_in_a_new_process()  # each sync its own run
    sync_connection(settings_for(server, catalog, **changes), catalog, state, operations)
    return operations


# -- configuration


def test_database_name_takes_several_names_separated_by_commas(catalog):
    settings = validate_configuration(configuration(database_name=" Sales EU ,ActDemo"), catalog)
    assert settings.database_names == ("Sales EU", "ActDemo")
    one = validate_configuration(configuration(database_name=" ActDemo "), catalog)
    assert (one.database_name, one.database_names) == ("ActDemo", ("ActDemo",))


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("ActDemo,,Sales", "database_name names an empty database"),
        ("ActDemo,", "database_name names an empty database"),
        ("ActDemo, Sales, ActDemo", "database_name names ActDemo more than once"),
        ("ActDemo, Ventes 東京", "database_name can hold only Latin-1 characters"),
    ],
)
def test_database_names_that_cannot_be_synced_are_refused(catalog, names, message):
    with pytest.raises(ConfigurationError, match=message):
        validate_configuration(configuration(database_name=names), catalog)


def test_a_schema_is_named_after_its_database():
    assert schema_name("ActDemo") == "actdemo"
    assert schema_name("Sales EU-2") == "sales_eu_2"
    assert schema_name("Société") == "soci_t_"
    assert schema_name("2024 Archive") == DIGIT_PREFIX + "2024_archive"


def test_two_databases_that_would_share_a_schema_are_refused_before_any_request(catalog):
    # act.test does not resolve: any request would fail otherwise
    settings = validate_configuration(configuration(database_name="Sales EU, sales-eu"), catalog)
    with pytest.raises(ConfigurationError) as refused:
        connector.schema(configuration(database_name="Sales EU, sales-eu"))
    assert str(refused.value).startswith(
        "database_name: 'Sales EU' and 'sales-eu' would both land in schema 'sales_eu'"
    )
    with pytest.raises(ConfigurationError, match="'Sales EU' and 'sales-eu'"):
        databases_of(settings)


# -- one database: as before


def test_one_database_lands_and_keeps_its_state_as_before(server, catalog):
    # The sync before several databases: the tables synced by run_sync, as update() called it.
    before = RecordingOperations()
    as_in_a_new_process()
    run_sync(*for_this_server(settings_for(server, catalog), catalog), None, before)
    first = sync(server, catalog)
    written = [(*e, None) for e in before.events if e[0] in ("upsert", "delete", "truncate")]
    assert sorted(map(repr, first.writes())) == sorted(map(repr, written))
    state, earlier = first.checkpoints[-1], before.checkpoints[-1]
    assert set(state) == {"version", "tables"}
    assert {name: set(entry) for name, entry in state["tables"].items()} == {
        name: set(entry) for name, entry in earlier["tables"].items()
    }
    # A connection upgraded from the version before: its state is read as it is and nothing is
    # written again.
    second = sync(server, catalog, copy.deepcopy(before.checkpoints[-1]))
    assert second.writes() == []
    assert "Database '" not in str(second.events)


# -- several databases


def test_each_database_lands_in_its_schema_with_its_own_custom_fields_and_table(
    server, catalog, capsys
):
    operations = sync(server, catalog, database_name=THREE)
    for name, schema in (
        ("ActDemo", "actdemo"),
        ("Sales EU", "sales_eu"),
        ("2024 Archive", "db_2024_archive"),
    ):
        store = server.store_for(name)
        for table in ("contacts", "custom_projects"):
            landed = operations.live_in(schema, table)
            assert sorted(landed) == sorted(r["id"] for r in store.truth(table)), (name, table)
    assert {"customFields_region"} <= set(
        next(iter(operations.live_in("sales_eu", "contacts").values()))
    )
    projects = {
        s: next(iter(operations.live_in(s, "custom_projects").values()))
        for s in ("actdemo", "sales_eu")
    }
    assert "budget" in projects["actdemo"] and "phase" not in projects["actdemo"]
    assert "phase" in projects["sales_eu"] and "budget" not in projects["sales_eu"]
    state = operations.checkpoints[-1]
    assert set(state) == {"version", "databases"}
    assert set(state["databases"]) == {"ActDemo", "Sales EU", "2024 Archive"}
    for entry in state["databases"].values():  # each exactly one database's state
        assert set(entry) == {"version", "tables"} and "contacts" in entry["tables"]
    out = capsys.readouterr().out
    assert "Database 'Sales EU': Syncing 5 table(s)" in out
    assert "Database 'Sales EU', table 'contacts': read 70, written 70, unchanged 0, " in out
    assert "Database '2024 Archive': Sync finished in " in out
    assert "Databases synced: 3 of 3" in out


def test_schema_declares_each_databases_tables_in_its_schema(server, catalog):
    settings = settings_for(server, catalog, database_name=THREE)
    entries = {(e["schema"], e["table"]): e for e in connection_schema(settings, catalog)}
    assert {schema for schema, _ in entries} == {"actdemo", "sales_eu", "db_2024_archive"}
    assert "customFields_region" in entries["sales_eu", "contacts"]["columns"]
    assert "customFields_region" not in entries["actdemo", "contacts"]["columns"]
    assert "customFields_user4" in entries["actdemo", "contacts"]["columns"]
    one = connection_schema(settings_for(server, catalog), catalog)
    assert all("schema" not in entry for entry in one)


def test_schema_declares_a_database_act_refuses_with_its_standard_tables(server, catalog, capsys):
    settings = settings_for(server, catalog, database_name="ActDemo, Missing")
    entries = connection_schema(settings, catalog)
    assert [e["table"] for e in entries if e["schema"] == "missing"] == [
        "contacts", "companies", "fields", "entities"
    ]  # fmt: skip
    assert "customFields_user4" not in entries[-4]["columns"]
    assert "Database 'Missing': Act! refused the user name" in capsys.readouterr().out


def test_an_edit_and_a_deletion_reach_only_their_databases_schema(server, catalog):
    first = sync(server, catalog, database_name=THREE, reconcile_interval_hours="0")
    live = server.store
    edited = live.edit("contacts", 1)
    deleted = live.delete("contacts", ids=[min(set(live.tables["contacts"]) - set(edited))])
    time.sleep(1.1)  # edits in the server's current second wait for the next sync
    second = sync(server, catalog, first.checkpoints[-1], database_name=THREE,
                  reconcile_interval_hours="0")  # fmt: skip
    writes = second.writes()
    assert {(e[0], e[1], e[2]["id"], e[3]) for e in writes if e[1] == "contacts"} == {
        ("upsert", "contacts", edited[0], "actdemo"),
        ("delete", "contacts", deleted[0], "actdemo"),
    }


def test_a_database_refused_fails_the_sync_naming_it_and_the_others_are_saved(
    server, catalog, capsys
):
    names = "ActDemo, Missing, Sales EU"
    operations = SchemaOperations()
    settings = settings_for(server, catalog, database_name=names)
    with pytest.raises(DatabasesFailed) as failed:
        sync_connection(settings, catalog, None, operations)
    message = str(failed.value)
    assert message.startswith("1 of 3 database(s) failed; the others synced")
    assert "Database 'Missing': Act! refused the user name, password or database name" in message
    assert set(operations.checkpoints[-1]["databases"]) == {"ActDemo", "Sales EU"}
    assert "Databases synced: 2 of 3" in capsys.readouterr().out
    # Its earlier state is kept when it fails again
    state = {"version": 2, "databases": {**operations.checkpoints[-1]["databases"],
                                         "Missing": {"version": 2, "tables": {}}}}  # fmt: skip
    again = SchemaOperations()
    as_in_a_new_process()
    with pytest.raises(DatabasesFailed):
        sync_connection(settings, catalog, state, again)
    assert again.checkpoints == [] or "Missing" in again.checkpoints[-1]["databases"]


def test_a_database_added_starts_from_scratch_and_one_removed_is_forgotten(
    server, catalog, capsys
):
    first = sync(server, catalog, database_name="ActDemo, Sales EU")
    capsys.readouterr()
    second = sync(server, catalog, first.checkpoints[-1], database_name="ActDemo, 2024 Archive")
    out = capsys.readouterr().out
    assert "Database(s) Sales EU no longer in database_name: what the state kept" in out
    assert "Database(s) 2024 Archive: nothing synced before, synced from scratch" in out
    assert set(second.checkpoints[0]["databases"]) == {"ActDemo"}  # forgotten at once
    assert {e[-1] for e in second.writes()} == {"db_2024_archive"}  # ActDemo: nothing again
    assert set(second.checkpoints[-1]["databases"]) == {"ActDemo", "2024 Archive"}


def test_from_one_database_to_several_and_back_each_lands_anew_where_it_now_goes(
    server, catalog, capsys
):
    one = sync(server, catalog)
    capsys.readouterr()
    several = sync(server, catalog, one.checkpoints[-1], database_name="ActDemo, Sales EU")
    out = capsys.readouterr().out
    assert "The state of the single database synced before is forgotten" in out
    assert several.checkpoints[0] == {"version": 2, "databases": {}}
    truncated = {event[1:] for event in several.writes() if event[0] == "truncate"}
    assert ("contacts", "actdemo") in truncated  # from scratch, in its own schema
    back = sync(server, catalog, several.checkpoints[-1])
    assert "The state of databases ActDemo, Sales EU is forgotten" in capsys.readouterr().out
    assert ("truncate", "contacts", None) in back.writes()
    assert set(back.checkpoints[-1]) == {"version", "tables"}


def test_a_followers_lines_name_its_database(server, catalog, capsys):
    sync(server, catalog, database_name=THREE, tables="opportunities,opportunity_contacts")
    out = capsys.readouterr().out
    assert "Database 'Sales EU', table 'opportunity_contacts': " in out
    assert ", deleted 0; from the contacts of the opportunities written" in out


def test_several_databases_share_the_table_workers(server, catalog, monkeypatch):
    running, most, lock = [0], [0], threading.Lock()
    run = act_connector.sync.TableSync.run

    def counted(self):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return run(self)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(act_connector.sync.TableSync, "run", counted)
    sync(server, catalog, database_name=THREE, tables="contacts,companies,opportunities")
    assert most[0] == TABLE_WORKERS  # nine tables, never more than four at once


# -- the setup test and the doctor


def test_the_setup_test_tests_and_names_each_database(server, capsys):
    names = "ActDemo, Missing, Sales EU"
    result = connect_to_act(emulator_configuration(server, database_name=names, tables=TABLES))
    assert not result.success
    assert result.failure.startswith(
        "Database 'Missing': Act! refused the user name, password or database name"
    )
    assert "ActDemo" not in result.failure and "Sales EU" not in result.failure
    out = capsys.readouterr().out
    assert "Database 'ActDemo': Connected to Act! at " in out
    assert "Database 'Sales EU': Connected to Act! at " in out
    assert connect_to_act(emulator_configuration(server, database_name=THREE)).success


def test_the_doctor_reports_each_database(server, tmp_path, capsys):
    path = tmp_path / "configuration.json"
    names = "ActDemo, Missing"
    path.write_text(json.dumps(emulator_configuration(server, database_name=names)))
    assert doctor.main(["--configuration", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"act_url", "username", "databases", "syncable", "secrets"}
    assert report["syncable"] is False
    assert report["databases"]["ActDemo"]["syncable"] is True
    assert report["databases"]["ActDemo"]["database_name"] == "ActDemo"
    assert report["databases"]["ActDemo"]["tables"]["contacts"]["readable"] is True
    missing = report["databases"]["Missing"]
    assert missing["authorized"] is False
    assert missing["problems"][0].startswith("Act! refused the user name, password or database")
    assert doctor.main(["--configuration", str(path)]) == 1
    text = capsys.readouterr().out
    assert "Act! server doctor: " in text and "database 'ActDemo', user 'John Hollo'" in text
    assert "database 'Missing', user 'John Hollo'" in text
    assert " ".join(text.split()).endswith(
        "Verdict on the 2 databases: Missing cannot be synced with this configuration (see each "
        "above); the others sync, and the sync fails naming these."
    )


def test_the_doctor_refuses_two_databases_that_would_share_a_schema(tmp_path, capsys):
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(configuration(database_name="Sales EU, sales-eu")))
    assert doctor.main(["--configuration", str(path)]) == doctor.EXIT_UNUSABLE_INPUT
    assert "'Sales EU' and 'sales-eu' would both land in schema" in capsys.readouterr().err


def test_the_doctor_explains_each_databases_state(server, catalog, tmp_path, capsys):
    state = sync(server, catalog, database_name="ActDemo, Sales EU").checkpoints[-1]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    capsys.readouterr()
    assert doctor.main(["--state", str(path)]) == doctor.EXIT_SYNCABLE
    out = capsys.readouterr().out
    assert out.startswith("Database 'ActDemo' (its entry under 'databases'):\nState version 2")
    assert "\n\nDatabase 'Sales EU' (its entry under 'databases'):\nState version 2" in out
    assert out.count("\ncontacts: the next sync reads records whose edited is after ") == 2


def test_the_emulator_serves_each_database_by_its_name(emulator):
    add_databases(emulator, ["Sales EU=regional", "Archive"], seed=11, sizes={"contacts": 30})
    with pytest.raises(ValueError, match="unknown variant 'odd': one of standard, regional"):
        add_databases(emulator, ["Other=odd"], seed=11, sizes={})

    def contacts(database: str) -> int | list:
        """The contacts a client of `database` reads, or the status /authorize answers."""
        url, basic = emulator.base_url, ("John Hollo", "Pa55w0rd!")
        headers = {"Act-Database-Name": database}
        token = requests.get(f"{url}/authorize", auth=basic, headers=headers, timeout=10)
        if token.status_code != 200:
            return token.status_code
        headers["Authorization"] = f"Bearer {token.text}"
        return requests.get(f"{url}/api/contacts", headers=headers, timeout=10).json()

    assert len(contacts("ActDemo")) == 230
    regional = contacts("Sales EU")
    assert len(regional) == 30 and all("region" in c["customFields"] for c in regional)
    assert [c["id"] for c in contacts("Archive")] != [c["id"] for c in regional]
    assert contacts("Nowhere") == 401  # a bare 401, as for a wrong password
