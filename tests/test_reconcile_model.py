"""Reconciliation against a model of Act!: any interleaving of edits, inserts and deletes (stamped
now or in the past, between syncs or between the pages of one), and of syncs that fail part-way,
ends with the destination equal to Act!, and a table that did not change emits nothing.

Act! is a dict of records served through the emulator's OData over `responses`, with a clock that
ticks a second per request; a sync that fails loses what it emitted after its last checkpoint, as
a killed `fivetran debug` does.
"""

import json
import random
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from act_connector.config import validate_configuration
from act_connector.errors import TablesFailed
from act_connector.sync import run_sync
from act_connector.timestamps import parse_timestamp
from emulator.odata import Query
from tests.helpers import BASE_URL, RecordingOperations, as_in_a_new_process, configuration

START = datetime(2025, 3, 1, tzinfo=timezone.utc)
PROPERTIES = {"id": None, "edited": None, "name": None}
DAY = 86400


def record_id(number: int) -> str:
    guid = str(uuid.UUID(int=random.Random(number).getrandbits(128), version=4))
    return guid + "01312026" if number % 3 == 0 else guid  # activity-style ids among GUIDs


class Act:
    """The source: records, a clock, and changes waiting for the n-th request of the next sync."""

    def __init__(self, count: int):
        self.clock = START
        self.records: dict[str, dict] = {}
        self.created = 0
        self.waiting: list[tuple[int, tuple]] = []
        self.requests = 0
        self.fail_at: int | None = None
        self.page_cap: int | None = None  # rows a page holds at most, whatever $top asks
        for age in range(count):
            self.create(age % 5 + 1)

    def stamp(self, days_ago: int | None) -> str:
        moment = self.clock - timedelta(days=days_ago or 0)
        return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def create(self, days_ago: int | None) -> None:
        self.created += 1
        new_id = record_id(self.created)
        self.records[new_id] = {"id": new_id, "edited": self.stamp(days_ago), "name": "new"}

    def pick(self, index: int) -> str | None:
        ids = sorted(self.records)
        return ids[index % len(ids)] if ids else None

    def change(self, action: tuple) -> None:
        kind, index, days_ago = action
        if kind == "create":
            self.create(days_ago)
            return
        chosen = self.pick(index)
        if chosen is None:
            return
        if kind == "delete":
            del self.records[chosen]
        else:
            self.records[chosen]["edited"] = self.stamp(days_ago)
            self.records[chosen]["name"] = f"edit {self.clock.timestamp():.0f}"

    # -- the Web API
    def answer(self, request):
        self.clock += timedelta(seconds=1)
        headers = {"Date": format_datetime(self.clock, usegmt=True)}
        if "/authorize" in request.url:
            return 200, headers, "token"
        self.requests += 1
        if self.requests == self.fail_at:
            return 403, headers, json.dumps({"message": "the sync dies here"})
        params = dict(parse_qsl(urlsplit(request.url).query))
        query = Query(params, PROPERTIES, "Contact")
        ordered = sorted(self.records.values(), key=query.sort_key)
        rows = query.run(ordered, [query.sort_key(r)[0] for r in ordered])[: self.page_cap]
        if query.select:
            rows = [{path[0]: row[path[0]] for path in query.select} for row in rows]
        body = json.dumps(rows)
        for due, action in [item for item in self.waiting if item[0] <= self.requests]:
            self.waiting.remove((due, action))
            self.change(action)
        return 200, headers, body


class Operations(RecordingOperations):
    """Records what a sync emits, and checks that no delete hits a record Act! still has."""

    def __init__(self, act: Act):
        super().__init__()
        self.act = act

    def delete(self, table: str, keys: dict) -> None:
        assert keys["id"] not in self.act.records, "deleted a record Act! still has"
        super().delete(table, keys)


def moment(value) -> datetime:
    """A timestamp as landed (a datetime) or as Act! sent it (text)."""
    return value if isinstance(value, datetime) else parse_timestamp(value)


class Destination:
    def __init__(self, **settings):
        self.live: dict[str, dict] = {}
        self.state: dict | None = None
        self.settings = {
            "tables": "contacts",
            "batch_size": "2",
            "reconcile_interval_hours": "0",
            "lookback_minutes": "0",  # its window written again would hide what a sync emits
            **settings,
        }

    def sync(self, act: Act, catalog, fail_at: int | None = None) -> Operations:
        act.requests, act.fail_at = 0, fail_at
        settings = validate_configuration(configuration(**self.settings), catalog)
        operations = Operations(act)
        as_in_a_new_process()  # the model's clock moves as it answers: read it, not estimated
        try:
            run_sync(settings, catalog, self.state, operations)
        except TablesFailed:
            assert fail_at is not None
        events = operations.events
        if fail_at is not None:  # killed: what came after the last checkpoint is lost
            checkpoints = [at for at, event in enumerate(events) if event[0] == "checkpoint"]
            events = events[: checkpoints[-1] + 1] if checkpoints else []
        for event in events:
            if event[0] == "upsert":
                self.live[event[2]["id"]] = event[2]
            elif event[0] == "delete":
                self.live.pop(event[2]["id"], None)
            elif event[0] == "truncate":
                self.live.clear()
            elif event[0] == "checkpoint":
                self.state = event[1]
        return operations

    def agrees_with(self, act: Act) -> bool:
        landed = {i: (row["name"], moment(row["edited"])) for i, row in self.live.items()}
        truth = {
            i: (record["name"], parse_timestamp(record["edited"]))
            for i, record in act.records.items()
        }
        return landed == truth


days_ago = st.one_of(st.none(), st.integers(1, 12))  # None: stamped now; else in the past
change = st.tuples(st.sampled_from(["create", "edit", "delete"]), st.integers(0, 50), days_ago)
step = st.one_of(
    st.tuples(st.just("now"), change),  # between syncs
    st.tuples(st.integers(1, 8), change),  # after the n-th request of the next sync
    st.tuples(st.just("sync"), st.one_of(st.none(), st.integers(1, 8))),  # failing at request n
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.integers(0, 7), st.lists(step, max_size=12))
def test_any_interleaving_converges_and_a_quiet_table_emits_nothing(catalog, count, steps):
    act, destination = Act(count), Destination()
    with served(act):
        destination.sync(act, catalog)
        converges(act, destination, catalog, steps)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.integers(0, 7),
    st.lists(step, max_size=12),
    st.sampled_from([None, 1, 2]),
    st.sampled_from([None, 120]),
)
def test_with_a_look_back_and_daily_reconciliation_it_converges_once_due(
    catalog, count, steps, page_cap, page_bytes
):
    """Walks that may end at a short page (paging.ends_walk), from a server that may cap its
    pages, with pages that may ask for fewer records as records grow wider (paging.page_top):
    once the reconciliation is due, everything has landed."""
    act = Act(count)
    destination = Destination(reconcile_interval_hours="24", lookback_minutes="1")
    with served(act), narrow_pages(page_bytes):
        destination.sync(act, catalog)
        act.page_cap = page_cap
        for entry in (destination.state or {}).get("tables", {}).values():
            entry["reconciled"] = (act.clock - timedelta(hours=1)).isoformat()  # not due
        converges(act, destination, catalog, steps, due=True)


@contextmanager
def narrow_pages(page_bytes: int | None):
    """Pages aim at `page_bytes` of answer (a record of the model is about 90 bytes), down to
    one record; as they are when None."""
    if page_bytes is None:
        yield
        return
    with (
        mock.patch("act_connector.paging.PAGE_BYTES", page_bytes),
        mock.patch("act_connector.paging.MIN_TOP", 1),
    ):
        yield


@contextmanager
def served(act: Act):
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as mocked,
        mock.patch("act_connector.listing.LISTING_TOP", 3),  # listings of several pages
        mock.patch("act_connector.listing.IDS_PER_REQUEST", 2),
        mock.patch("act_connector.sync.log"),  # the SDK's logging, thousands of lines, muted
        mock.patch("act_connector.listing.log"),
    ):
        mocked.add_callback(responses.GET, f"{BASE_URL}/authorize", callback=act.answer)
        mocked.add_callback(responses.GET, f"{BASE_URL}/api/contacts", callback=act.answer)
        yield


def converges(act: Act, destination: Destination, catalog, steps: list, due=False) -> None:
    """Runs the steps, then syncs (its reconciliation made due first, if `due`): the destination
    must then equal Act!, and a quiet sync after it emit nothing."""
    for when, what in steps:
        if when == "now":
            act.change(what)
        elif when == "sync":
            destination.sync(act, catalog, fail_at=what)
        else:
            act.waiting.append((when, what))
        act.clock += timedelta(seconds=2)
    for _, action in act.waiting:  # changes waiting for requests that never came
        act.change(action)
    act.waiting.clear()
    act.clock += timedelta(seconds=2)
    if due and destination.state:
        for entry in destination.state.get("tables", {}).values():
            entry["reconciled"] = (act.clock - timedelta(days=1)).isoformat()
    destination.sync(act, catalog)
    assert destination.agrees_with(act)
    quiet = destination.sync(act, catalog)
    assert [event for event in quiet.events if event[0] in ("upsert", "delete")] == []
    assert destination.agrees_with(act)
