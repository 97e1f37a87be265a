"""Every answer a stricter Act! server gives, one fault at a time, through the whole sync.

Each test runs the connector's sync (update()'s work, with the SDK's operations recorded and every
row encoded by the SDK's own encoder) against the emulator over real HTTP, with one of its fault
settings on, and compares every row with the emulator's truth.
"""

import pytest
import responses
from fivetran_connector_sdk_core.renaming import redshift_safe

from act_connector.config import validate_configuration
from act_connector.sync import run_sync
from emulator.server import ActEmulator
from tests.conftest import emulator_configuration, hand_on_pauses
from tests.e2e.harness import differences, emitted_rows
from tests.helpers import RecordingOperations, as_in_a_new_process, configuration

SMALL = {"contacts": 120, "companies": 20, "opportunities": 30, "activities": 40, "products": 10}


@pytest.fixture
def server():
    emulator = ActEmulator(seed=23, sizes=SMALL)
    emulator.start()
    yield emulator
    emulator.stop()


def sync(server, catalog, state=None, operations=None, **changes):
    settings = validate_configuration(emulator_configuration(server, **changes), catalog)
    operations = operations or RecordingOperations()
    as_in_a_new_process()  # reads the clock anew: a second's wait is then enough for the next
    summary = run_sync(settings, catalog, state, operations)
    return operations, summary


def assert_landed(server, operations, tables):
    for table in tables:
        problems = differences(server.store.truth(table), emitted_rows(operations, table))
        assert not problems, f"{table}: {problems}"


def warnings_of(operations) -> list[str]:
    return [event[1] for event in operations.events if event[0] == "warning"]


def test_a_429_on_authorize_first_and_on_renewal(server, catalog, monkeypatch):
    server.configure(authorize_throttle_every=2, token_ttl=0.3, delay=0.1)
    hand_on_pauses(monkeypatch, server.advance_clock)  # each wait passes on the server's clock
    operations, summary = sync(server, catalog, tables="contacts", batch_size="20")
    assert_landed(server, operations, ["contacts"])
    assert server.stats["authorize_requests"] >= 4  # throttled, then renewed and throttled again
    assert summary.stats.token_refreshes >= 2


@pytest.mark.parametrize("form", ["minus-zero", "zoneless", "doubled", "garbage", "none"])
def test_every_form_of_date_header(server, catalog, form):
    server.configure(date_header=form)
    operations, _ = sync(server, catalog, tables="contacts,activity_types")
    assert_landed(server, operations, ["contacts", "activity_types"])


def test_bodies_cut_off_mid_transfer_are_read_again(server, catalog, no_sleep):
    server.configure(cut_body_every=3)
    operations, summary = sync(server, catalog, batch_size="25")
    assert_landed(server, operations, ["contacts", "companies", "opportunities", "products"])
    assert summary.stats.retries >= 3


def test_gateway_errors_and_a_503_that_says_when(server, catalog, no_sleep):
    server.configure(error_every=3, error_status=503, retry_after=2)
    operations, summary = sync(server, catalog, tables="contacts", batch_size="25")
    assert_landed(server, operations, ["contacts"])
    # Every wait is the 503's Retry-After, as told (a page fetched ahead waits on its own).
    assert summary.stats.retries >= 2
    assert summary.stats.sleep_seconds == 2.0 * summary.stats.retries


def test_numbers_and_booleans_sent_as_text_land_typed(server, catalog):
    server.configure(typed_text_every=3)
    operations, _ = sync(server, catalog)  # the SDK's encoder would refuse "" in an INT column
    assert_landed(server, operations, ["contacts", "companies", "opportunities", "activities"])
    typed = [row for row in operations.rows("contacts") if isinstance(row["isFavorite"], bool)]
    assert len(typed) == len(operations.rows("contacts"))


def test_a_value_that_fits_no_type_is_counted_in_one_warning(server, catalog):
    record = next(iter(server.store.tables["contacts"].values()))
    record["amaScore"] = "n/a"
    server.store.forget_texts()
    operations, _ = sync(server, catalog, tables="contacts")
    assert [
        row.get("amaScore") for row in operations.rows("contacts") if row["id"] == record["id"]
    ] == [None]
    assert warnings_of(operations) == [
        "Table 'contacts': 1 value(s) did not fit their column's type and landed as null: "
        "amaScore (INT) 1. The rest of each row landed as sent."
    ]


def test_seven_digit_stamps_shared_by_more_records_than_a_page(server, catalog):
    server.configure(fraction_digits=7)
    tied = server.store.edit("contacts", 45, at="2025-11-03T10:15:20.1234567+00:00")
    operations, _ = sync(server, catalog, tables="contacts", batch_size="10")
    assert_landed(server, operations, ["contacts"])
    assert {row["id"] for row in operations.rows("contacts")} >= set(tied)
    assert len(operations.rows("contacts")) == len(server.store.truth("contacts"))  # once each


def test_an_integer_key_sent_as_text_pages_as_an_integer(server, catalog):
    server.configure(ids_as_text=True)
    operations, _ = sync(server, catalog, tables="activity_types", batch_size="5")
    assert_landed(server, operations, ["activity_types"])
    # Act!'s own eight, then custom ones numbered from 1000 as on live servers
    expected = [*range(1, 9), *range(1000, 1004)]
    assert sorted(row["id"] for row in operations.rows("activity_types")) == expected


def test_records_without_a_cursor_land_and_are_reported(server, catalog):
    server.configure(null_cursor_every=5)
    operations, _ = sync(server, catalog, tables="contacts", batch_size="15")
    assert_landed(server, operations, ["contacts"])
    (warning,) = warnings_of(operations)
    assert warning.startswith("Table 'contacts': ")
    assert "record(s) came without a readable edited; they landed" in warning


@responses.activate
def test_rows_that_are_not_records_are_skipped_and_reported(catalog):
    base = "http://act.test/act.web.api"
    responses.get(f"{base}/authorize", body="token", content_type="text/html")
    page = [{"id": "a", "edited": "2025-01-01T00:00:00Z"}, "oops", None]
    responses.get(f"{base}/api/contacts", json=page)
    responses.get(f"{base}/api/contacts", json=[])
    settings = validate_configuration(configuration(tables="contacts"), catalog)
    operations = RecordingOperations()
    run_sync(settings, catalog, None, operations)
    assert [row["id"] for row in operations.rows("contacts")] == ["a"]
    assert "2 row(s) were not records with an 'id' and were skipped" in warnings_of(operations)[0]


def test_a_server_that_ignores_top_on_some_pages(server, catalog):
    server.configure(ignore_top_every=2)
    operations, _ = sync(server, catalog, tables="contacts", batch_size="10")
    assert_landed(server, operations, ["contacts"])
    assert (
        "page(s) held more records than their $top asked for (at most 10;"
        in warnings_of(operations)[0]
    )


def churn_with_lagging_stamps(server, catalog, lookback: str):
    """A first sync while users edit, some saves stamped 45 s before they show; then a second."""
    server.configure(churn_edits=1, lagging_edits=2, lag_seconds=45)
    operations, _ = sync(
        server, catalog, tables="contacts", batch_size="10", lookback_minutes=lookback
    )
    server.configure(churn_edits=0, lagging_edits=0)
    server.advance_clock(1.1)  # edits in the server's current second wait for the next sync
    state = operations.checkpoints[-1]
    sync(
        server,
        catalog,
        state,
        operations,
        tables="contacts",
        batch_size="10",
        lookback_minutes=lookback,
    )
    return operations


def test_edits_stamped_in_the_past_are_caught_by_the_default_look_back(server, catalog):
    operations = churn_with_lagging_stamps(server, catalog, lookback="")
    assert_landed(server, operations, ["contacts"])


def test_without_a_look_back_such_edits_are_lost(server, catalog):
    """The fault is real: the same run with no look-back leaves records stale."""
    operations = churn_with_lagging_stamps(server, catalog, lookback="0")
    assert differences(server.store.truth("contacts"), emitted_rows(operations, "contacts"))


@pytest.mark.parametrize(
    ("setting", "table", "column", "seen"),
    [
        ({"status_as_code": False}, "opportunities", "status", {"Open", "Won", "Lost"}),
        ({"status_as_code": True}, "opportunities", "status", {"0", "1", "2"}),
        ({"record_owner": True}, "contacts", "recordOwner", None),
        ({"lean_activities": True}, "activities", "duration", {None}),
    ],
)
def test_what_live_servers_send_beyond_the_vendors_definition(
    server, catalog, setting, table, column, seen
):
    """Statuses as codes or as names, a contact's recordOwner, activities of a build that sends
    fewer fields: each lands as the emulator serves it, typed as declared."""
    server.configure(**setting)
    operations, _ = sync(server, catalog, tables=table)
    assert_landed(server, operations, [table])
    landed = {row.get(redshift_safe(column)) for row in emitted_rows(operations, table)}
    if seen is None:  # a value in every row
        assert None not in landed and landed
    else:
        assert seen <= {None if value is None else str(value) for value in landed}
