"""Tables read whole (whole.py): reference data at a path that takes no query, in one request;
only what changed is written, and a row Act! no longer lists shows deleted."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from act_connector.config import validate_configuration
from act_connector.errors import TablesFailed
from act_connector.sync import run_sync
from tests.conftest import emulator_sync
from tests.helpers import (
    BASE_URL,
    RecordingOperations,
    configuration,
    ids,
    query_of,
    sync,
)


def test_a_row_that_repeats_a_key_lands_once_and_is_said(catalog, act):
    """Two rows of one key would take turns in the destination, each sync writing one again."""
    users = [{"id": "u1", "role": "a"}, {"id": "u1", "role": "b"}, {"id": "u2", "role": "c"}]
    act.get(f"{BASE_URL}/api/users", json=users)
    operations, _ = sync(catalog, tables="users")
    assert {row["id"]: row["role"] for row in operations.rows("users")} == {"u1": "b", "u2": "c"}
    assert operations.warnings == [
        "Table 'users': 1 row(s) repeated another's 'id'; the last of each landed."
    ]
    again, _ = sync(catalog, operations.checkpoints[-1], tables="users")
    assert [event for event in again.events if event[0] in ("upsert", "delete")] == []


def test_activity_types_are_read_whole_as_the_vendor_defines_them(catalog, act):
    """GET /api/task-types takes no query ("Gets all task types"). A state an older version left
    mid-pass ({"id": 7}) reads them from scratch once; from then on only changes land."""
    types = [{"id": 1, "name": "Call"}, {"id": 2, "name": "Meeting"}]
    act.get(f"{BASE_URL}/api/task-types", json=types)
    older = {"version": 2, "tables": {"activity_types": {"id": 7}}}
    operations, _ = sync(catalog, older, tables="activity_types", batch_size="1")
    calls = [call for call in act.calls if "/api/task-types" in call.request.url]
    assert len(calls) == 1 and query_of(calls[0]) == {}
    assert [event[:2] for event in operations.events if event[0] != "checkpoint"] == [
        ("truncate", "activity_types"), ("upsert", "activity_types"), ("upsert", "activity_types")
    ]  # fmt: skip
    assert list(operations.checkpoints[-1]["tables"]["activity_types"]) == ["known"]
    again, _ = sync(catalog, operations.checkpoints[-1], tables="activity_types")
    assert [event for event in again.events if event[0] != "checkpoint"] == []


def test_a_reference_table_is_read_whole_in_one_request_without_a_query(catalog, act):
    users = [{"id": "u1", "displayName": "Zoë", "lastLogOnDate": "2025-01-01T00:00:00Z"}]
    act.get(f"{BASE_URL}/api/users", json=users)
    operations, summary = sync(catalog, tables="users")
    calls = [call for call in act.calls if "/api/users" in call.request.url]
    assert len(calls) == 1 and urlsplit(calls[0].request.url).query == ""
    assert [event[0] for event in operations.events] == ["truncate", "upsert", "checkpoint"]
    assert operations.rows("users")[0]["lastLogOnDate"] == datetime(
        2025, 1, 1, tzinfo=timezone.utc
    )
    # No position, only the remembered ids, each with its row's digest.
    assert list(operations.checkpoints[-1]["tables"]["users"]) == ["known"]
    assert summary.tables[0].records == 1


def test_a_reference_table_that_fails_keeps_its_rows(catalog, act):
    act.get(f"{BASE_URL}/api/users", status=403, json={"message": "No permission."})
    act.get(f"{BASE_URL}/api/contacts", json=[])
    operations = RecordingOperations()
    settings = validate_configuration(configuration(tables="users,contacts"), catalog)
    with pytest.raises(TablesFailed, match="users"):
        run_sync(settings, catalog, None, operations)
    assert ("truncate", "users") not in operations.events
    assert ("truncate", "contacts") in operations.events


@pytest.mark.parametrize("build", ["current", "legacy"])
def test_reference_tables_land_whole_and_removals_show_deleted(emulator, catalog, build):
    emulator.configure(build=build)
    tables = (
        "users,opportunity_processes,opportunity_stages,history_types,activity_types,"
        "activity_priorities,teams"
    )
    first = emulator_sync(emulator, catalog, tables=tables)
    for table in tables.split(","):
        assert sorted(ids(first.rows(table))) == sorted(ids(emulator.store.truth(table)))
    # Act!'s priorities as it serves them; each team with its roster of users, whole, as JSON
    assert first.rows("activity_priorities") == emulator.store.truth("activity_priorities")
    teams = {team["id"]: team for team in emulator.store.truth("teams")}
    assert {row["id"]: row for row in first.rows("teams")} == teams
    assert all(team["roster"] for team in teams.values())
    stage = first.rows("opportunity_stages")[0]
    assert isinstance(stage["probability"], int) and stage["process_id"]
    removed = emulator.store.delete("users", 1)
    edited = emulator.store.edit("users", 1)
    state = first.checkpoints[-1]
    second = emulator_sync(emulator, catalog, state, tables=tables)
    # Only what changed is written: the edited user, and the removed one deleted.
    assert [event[:2] for event in second.events if event[0] != "checkpoint"] == [
        ("upsert", "users"), ("delete", "users")
    ]  # fmt: skip
    assert ids(second.rows("users")) == edited
    assert ("delete", "users", {"id": removed[0]}) in second.events
    third = emulator_sync(emulator, catalog, second.checkpoints[-1], tables=tables)
    assert [event for event in third.events if event[0] != "checkpoint"] == []  # a quiet sync
