"""A table's plan (plan.py), as data: what each state, setting and moment makes a sync do."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from act_connector.config import validate_configuration
from act_connector.known import KnownSet
from act_connector.paging import FIRST_TOP, Position
from act_connector.plan import TablePlan, plan_table
from act_connector.state import TableState
from tests.helpers import configuration

UNTIL = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
SAVED = Position("2026-12-06T12:00:00Z", "c9", cap=500, top=650)
LOOKED_BACK = Position("2026-12-06T11:50:00Z", cap=500, top=650)  # the default ten minutes


def settings(catalog, **changes):
    return validate_configuration(configuration(**changes), catalog)


def state(position=SAVED, reconciled_hours_ago: float | None = 1, known=True, too_large=False):
    reconciled = None
    if reconciled_hours_ago is not None:
        reconciled = UNTIL - timedelta(hours=reconciled_hours_ago)
    return TableState(position, KnownSet() if known else None, reconciled, too_large)


FROM_SCRATCH = TablePlan(
    from_scratch=True,
    start=Position("1900-01-01T00:00:00Z"),
    first_top=FIRST_TOP,
    last_end=None,
    reconcile=False,  # a read from scratch is one
)
# Reconciled an hour ago: the next is a day away; a short page ending where the last walk did
# ends this one.
QUIET = TablePlan(
    from_scratch=False,
    start=LOOKED_BACK,
    first_top=650,  # the size its pages were learned to be
    last_end=SAVED,
    reconcile=False,
)
DUE = replace(QUIET, last_end=None, reconcile=True)  # the page after a short one is asked for


@pytest.mark.parametrize(
    ("table_state", "changes", "follower_new", "plan"),
    [
        pytest.param(TableState(), {}, False, FROM_SCRATCH, id="first sync"),
        pytest.param(state(), {}, True, FROM_SCRATCH, id="a follower with nothing remembered"),
        pytest.param(state(), {}, False, QUIET, id="reconciled an hour ago"),
        pytest.param(state(reconciled_hours_ago=23), {}, False, DUE, id="interval passed"),
        pytest.param(
            state(reconciled_hours_ago=21.7), {}, False, DUE, id="a tenth of the interval early"
        ),
        pytest.param(
            state(reconciled_hours_ago=21.5), {}, False, QUIET, id="more than a tenth early"
        ),
        pytest.param(state(reconciled_hours_ago=None), {}, False, DUE, id="never reconciled"),
        pytest.param(state(known=False), {}, False, DUE, id="set yet to be built"),
        pytest.param(
            state(known=False, too_large=True), {}, False, QUIET, id="past the set's limit"
        ),
        pytest.param(
            state(),
            {"reconcile_interval_hours": "off"},
            False,
            replace(QUIET, last_end=None),
            id="reconciliation off: nothing comes to find what a cap cut off",
        ),
        pytest.param(
            state(),
            {"lookback_minutes": "0"},
            False,
            replace(QUIET, start=SAVED),
            id="no look-back",
        ),
        pytest.param(
            state(position=replace(SAVED, top=0)),
            {"batch_size": "300"},
            False,
            replace(
                QUIET,
                start=replace(LOOKED_BACK, top=0),
                first_top=300,
                last_end=replace(SAVED, top=0),
            ),
            id="a position no walk sized asks for batch_size",
        ),
    ],
)
def test_the_plan_of_each_state(catalog, table_state, changes, follower_new, plan):
    planned = plan_table(table_state, settings(catalog, **changes), UNTIL, follower_new)
    assert planned == plan
    assert planned.followers_afresh is (plan is FROM_SCRATCH)  # only a read from scratch
