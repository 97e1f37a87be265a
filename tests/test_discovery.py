"""Finding a table's path (discovery.py): each Act! build serves activities and their types at a
path of its own, and a table no path answers for fails clearly."""

from __future__ import annotations

import pytest

from act_connector.errors import ActHttpError, TablesFailed
from tests.conftest import emulator_sync
from tests.helpers import (
    BASE_URL,
    ids,
    sync,
)


def test_the_activity_path_of_an_older_build_is_found(catalog, act, capsys):
    act.get(f"{BASE_URL}/api/tasks", status=404, json={"message": "No HTTP resource was found"})
    act.get(f"{BASE_URL}/api/activities", json=[])
    sync(catalog, tables="activities")
    out = capsys.readouterr().out
    assert "/api/tasks is not on this server (HTTP 404)" in out
    assert "Table 'activities' from /api/activities" in out


def test_no_activity_path_at_all_fails_clearly(catalog, act):
    for path in ("task-types", "activitytypes", "activity-types"):
        act.get(f"{BASE_URL}/api/{path}", status=404)
    with pytest.raises(TablesFailed) as raised:
        sync(catalog, tables="activity_types")
    assert "none of /api/task-types, /api/activitytypes, /api/activity-types exists" in str(
        raised.value
    )
    assert "Table 'activity_types'" in str(raised.value)
    [failure] = raised.value.failures
    assert isinstance(failure, ActHttpError) and failure.status == 404


@pytest.mark.parametrize(
    ("build", "paths"),
    [("legacy", ("activities", "activitytypes")), ("seed", ("activities", "activity-types"))],
)
def test_each_builds_activity_paths(emulator, catalog, build, paths, capsys):
    emulator.configure(build=build, envelope="odata")
    operations = emulator_sync(emulator, catalog, tables="activities,activity_types")
    assert sorted(ids(operations.rows("activities"))) == sorted(
        ids(emulator.store.truth("activities"))
    )
    assert len(operations.rows("activity_types")) == len(emulator.store.truth("activity_types"))
    out = capsys.readouterr().out
    assert all(f"from /api/{path}" in out for path in paths)
