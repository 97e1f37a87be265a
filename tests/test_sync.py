import gc
import json
from datetime import datetime, timedelta, timezone

import pytest

import act_connector.sync
from act_connector.client import ActClient
from act_connector.config import validate_configuration
from act_connector.errors import CredentialsRefused, PagingError, TablesFailed
from act_connector.known import KnownSet
from act_connector.packing import cursor_value
from act_connector.state import SyncState
from act_connector.sync import run_sync
from act_connector.timestamps import format_utc, parse_timestamp
from emulator.server import ActEmulator
from tests.conftest import emulator_configuration, emulator_sync
from tests.helpers import (
    BASE_URL,
    DEFAULT_LINKS,
    DEFAULT_PER_PARENT,
    DEFAULT_TABLES,
    PASSWORD,
    TOKEN,
    RecordingOperations,
    as_in_a_new_process,
    bulk_import,
    configuration,
    contact,
    ids,
    query_of,
    sync,
)

# Within a day of the mocked server's clock: reconciliation is not due yet.
RECENTLY = "2025-10-01T06:00:00Z"


def test_a_table_read_from_scratch_is_truncated_once(catalog, act):
    """An empty state is a first sync or a Fivetran re-sync: rows Act! deleted show deleted."""
    act.get(f"{BASE_URL}/api/contacts", json=[])
    operations, _ = sync(catalog, tables="contacts")
    start = {
        "cursor": "1900-01-01T00:00:00Z",
        "known": KnownSet().to_state(),  # nothing is live: the set starts empty
        "reconciled": "2025-10-01T11:59:59Z",  # built as the rows land: no listing needed
    }
    assert operations.events == [
        ("truncate", "contacts"),
        ("checkpoint", {"version": 2, "tables": {"contacts": start}}),
    ]
    again, _ = sync(catalog, operations.checkpoints[-1], tables="contacts")
    assert again.events == []  # a table still without records is not truncated each sync


def test_a_sync_fixes_the_allocators_mmap_threshold_first(catalog, act, monkeypatch):
    """Before its large buffers (allocator.py): the sync's memory must not grow with its rows."""
    applied = []  # the requests made by then
    monkeypatch.setattr(
        act_connector.sync, "keep_large_buffers_mapped", lambda: applied.append(len(act.calls))
    )
    act.get(f"{BASE_URL}/api/contacts", json=[])
    sync(catalog, tables="contacts")
    assert applied == [0]


def test_a_table_read_from_scratch_also_reads_what_was_edited_meanwhile(catalog, act, capsys):
    """Read from scratch, the table was truncated: an edit made during the sync must land now."""
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1), contact(2)])
    later = {"Date": "Wed, 01 Oct 2025 12:00:05 GMT"}  # the server's clock has moved on
    act.get(f"{BASE_URL}/api/contacts", json=[], headers=later)
    act.get(
        f"{BASE_URL}/api/contacts", json=[contact(3, "2025-10-01T12:00:02+00:00")], headers=later
    )
    act.get(f"{BASE_URL}/api/contacts", json=[], headers=later)
    operations, _ = sync(catalog, tables="contacts", batch_size="2")
    assert [row["id"] for row in operations.rows("contacts")] == ["c001", "c002", "c003"]
    chase = query_of(act.calls[3])
    assert chase["$filter"] == (
        "(edited gt 2025-01-01T00:00:00+00:00 or (edited eq 2025-01-01T00:00:00+00:00 and "
        "id gt 'c002')) and edited le 2025-10-01T12:00:04Z"
    )
    saved = operations.checkpoints[-1]["tables"]["contacts"]
    assert (saved["cursor"], saved["id"]) == ("2025-10-01T12:00:02+00:00", "c003")
    assert saved["known"]["count"] == 3
    assert "Table 'contacts': 1 record(s) edited during the sync, read up to " in (
        capsys.readouterr().out
    )


def saved_state(cursor="2025-01-01T00:00:00Z", row_id="c9", known=(), reconciled=RECENTLY):
    """A state this version saves: position, the remembered set, when last reconciled."""
    remembered = KnownSet()
    for record_id, edited in known:
        remembered.put(record_id, cursor_value(edited))
    entry = {"cursor": cursor, "id": row_id, "known": remembered.to_state()}
    if reconciled:
        entry["reconciled"] = reconciled
    return {"version": 2, "tables": {"contacts": entry}}


def test_an_incremental_sync_makes_no_extra_request_for_edits_made_meanwhile(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[], headers={"Date": "Wed, 01 Oct 2025 12:00:05 GMT"})
    sync(catalog, saved_state(), tables="contacts")
    assert len(act.calls) == 2  # authorize, one empty page: edits made since wait for next sync


def test_a_table_that_fails_is_not_truncated(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", status=403, json={"message": "denied"})
    settings = validate_configuration(configuration(tables="contacts"), catalog)
    operations = RecordingOperations()
    with pytest.raises(TablesFailed):
        run_sync(settings, catalog, {}, operations)
    assert operations.events == []  # its rows stay as they were, none marked deleted


def test_a_quiet_sync_succeeds_and_keeps_the_state(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[])
    state = saved_state(known=[("c9", "2025-01-01T00:00:00Z")])
    operations, summary = sync(catalog, state, tables="contacts")
    assert operations.events == []
    assert summary.records == 0
    assert SyncState.load(state, catalog).to_dict() == state


def test_rows_are_emitted_then_checkpointed_page_by_page(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1), contact(2)])
    act.get(f"{BASE_URL}/api/contacts", json=[contact(3, "2025-02-01T00:00:00+00:00")])
    act.get(f"{BASE_URL}/api/contacts", json=[])
    operations, _ = sync(catalog, tables="contacts", batch_size="2")
    kinds = [
        (e[0], e[2]["id"])
        if e[0] == "upsert"
        else (e[0], e[1]) if e[0] == "truncate"
        else (e[0], e[1]["tables"]["contacts"].get("id"))
        for e in operations.events
    ]  # fmt: skip
    assert kinds == [
        ("truncate", "contacts"),  # read from scratch: rows not upserted again show deleted
        ("checkpoint", None),  # at the start date, so that the truncate is not repeated
        ("upsert", "c001"),
        ("upsert", "c002"),
        ("checkpoint", "c002"),
        ("upsert", "c003"),
        ("checkpoint", "c003"),
    ]
    assert operations.rows("contacts")[0]["businessAddress_city"] == "Zürich"
    assert operations.rows("contacts")[0]["edited"] == datetime(2025, 1, 1, tzinfo=timezone.utc)
    queries = [query_of(call) for call in act.calls[1:]]
    assert queries[0]["$filter"] == (
        "edited ge 1900-01-01T00:00:00Z and edited le 2025-10-01T11:59:59Z"
    )
    assert queries[1]["$filter"] == (  # the cursor goes back as the server wrote it
        "(edited gt 2025-01-01T00:00:00+00:00 or (edited eq 2025-01-01T00:00:00+00:00 and "
        "id gt 'c002')) and edited le 2025-10-01T11:59:59Z"
    )
    assert queries[2]["$filter"].startswith("(edited gt 2025-02-01T00:00:00+00:00 or")
    assert all(q["$top"] == "2" and q["$orderby"] == "edited asc,id asc" for q in queries)


def test_pages_smaller_than_batch_size_are_checkpointed_every_batch_size_rows(catalog, act):
    """A server that caps its pages below $top (or wide records) makes many small pages: each
    checkpoint sends the whole state, so one follows each batch_size rows and the walk's end."""
    for number in (1, 2, 3):
        act.get(f"{BASE_URL}/api/contacts", json=[contact(number)])
    act.get(f"{BASE_URL}/api/contacts", json=[])
    operations, _ = sync(catalog, tables="contacts", batch_size="2")
    kinds = [
        (e[0], e[2]["id"] if e[0] == "upsert" else e[1]["tables"]["contacts"].get("id"))
        for e in operations.events
        if e[0] != "truncate"
    ]
    assert kinds == [
        ("checkpoint", None),
        ("upsert", "c001"),
        ("upsert", "c002"),
        ("checkpoint", "c002"),
        ("upsert", "c003"),
        ("checkpoint", "c003"),
    ]


def test_a_page_written_is_freed_before_the_next_is_written(catalog, act):
    """Memory stays flat: nothing keeps a page's records once they are written, the first page
    of a walk included (tables walk side by side, each with a page fetched ahead)."""
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1), contact(2)])
    act.get(f"{BASE_URL}/api/contacts", json=[contact(3, "2025-02-01T00:00:00+00:00")])
    act.get(f"{BASE_URL}/api/contacts", json=[])
    alive_then: list[list] = []

    class Watching(RecordingOperations):
        def upsert(self, table, data):
            if data["id"] == "c003":  # the second page: are the first page's records alive?
                gc.collect()
                alive_then.append([
                    o for o in gc.get_objects()
                    if isinstance(o, dict) and o.get("id") in ("c001", "c002")
                    and "businessAddress" in o
                ])  # fmt: skip
            super().upsert(table, data)

    settings = validate_configuration(configuration(tables="contacts", batch_size="2"), catalog)
    run_sync(settings, catalog, None, Watching())
    assert alive_then == [[]]


def test_a_short_page_is_not_taken_for_the_end(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1)])  # the server caps pages below $top
    act.get(f"{BASE_URL}/api/contacts", json=[contact(2)])
    act.get(f"{BASE_URL}/api/contacts", json=[])
    operations, _ = sync(catalog, tables="contacts", batch_size="100")
    assert [row["id"] for row in operations.rows("contacts")] == ["c001", "c002"]


def test_a_sync_resumes_after_the_saved_position(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[])
    state = {"version": 2, "tables": {"contacts": {"cursor": "2025-03-15T09:00:00Z", "id": "c5"}}}
    sync(catalog, state, tables="contacts", lookback_minutes="0")
    assert query_of(act.calls[1])["$filter"].startswith(
        "(edited gt 2025-03-15T09:00:00Z or (edited eq 2025-03-15T09:00:00Z and id gt 'c5'))"
    )


def test_by_default_each_sync_rereads_ten_minutes_before_the_last_record(catalog, act):
    """Edits stamped a little before they become visible are not left below the cursor."""
    act.get(f"{BASE_URL}/api/contacts", json=[])
    state = {"version": 2, "tables": {"contacts": {"cursor": "2025-03-15T09:00:00Z", "id": "c5"}}}
    sync(catalog, state, tables="contacts")
    assert query_of(act.calls[1])["$filter"].startswith("edited ge 2025-03-15T08:50:00Z and")


def test_the_look_back_window_rereads_recent_records(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[])
    state = {"tables": {"contacts": {"cursor": "2025-03-15T09:00:00Z", "id": "c5"}}}
    sync(catalog, state, tables="contacts", lookback_minutes="30")
    assert query_of(act.calls[1])["$filter"].startswith("edited ge 2025-03-15T08:30:00Z and")


def test_the_briefs_state_layout_is_carried_over(catalog, act):
    act.get(f"{BASE_URL}/api/contacts", json=[])
    state = {
        "table_cursors": {"contacts": "2024-05-01T00:00:00Z"},
        "table_batch_tracking": {"contacts": {"skip": 50, "batch_count": 5}},
    }
    sync(catalog, state, tables="contacts", lookback_minutes="0")
    assert query_of(act.calls[1])["$filter"].startswith("edited ge 2024-05-01T00:00:00Z and")


@pytest.mark.parametrize(
    "state",
    [
        None,
        [],
        {"tables": "nope"},
        {"tables": {"contacts": {"cursor": "yesterday"}}},
        {"tables": {"contacts": None, "unknown_table": {"cursor": "x"}}},
        {"table_cursors": {"contacts": 5}},
    ],
)
def test_an_unreadable_state_never_crashes_a_sync(catalog, act, state, capsys):
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1)])
    act.get(f"{BASE_URL}/api/contacts", json=[])
    operations, _ = sync(catalog, state, tables="contacts")
    assert [row["id"] for row in operations.rows("contacts")] == ["c001"]
    assert query_of(act.calls[1])["$filter"].startswith("edited ge 1900-01-01T00:00:00Z")


def test_a_build_that_lists_no_custom_tables_syncs_on_without_them(catalog, act):
    """/api/metadata/entities refused (an edition without custom tables, a user without the
    right): the entities table is left as it was with a warning, and the sync succeeds."""
    act.get(f"{BASE_URL}/api/metadata/entities", status=404, json={"message": "Not found."})
    act.get(f"{BASE_URL}/api/users", json=[{"id": "u1"}])
    listed = KnownSet()
    listed.put("Projects", 1)
    state = {"version": 2, "tables": {"entities": {"known": listed.to_state()}}}
    operations, summary = sync(catalog, state, tables="entities,users")
    assert [event[:2] for event in operations.events if event[0] in ("truncate", "upsert")] == [
        ("truncate", "users"), ("upsert", "users")
    ]  # fmt: skip
    [warning] = operations.warnings
    assert warning.startswith("Table 'entities': Act! answered HTTP 404")
    assert warning.endswith("The table is left as it was; the sync goes on.")
    assert operations.checkpoints[-1]["tables"]["entities"] == state["tables"]["entities"]
    assert not summary.failures


def test_a_failing_table_does_not_hold_back_the_others(catalog, act, capsys):
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1), contact(2)])
    act.get(f"{BASE_URL}/api/contacts", json=[])
    act.get(
        f"{BASE_URL}/api/opportunities",
        status=403,
        json={"message": "Access to opportunities is denied for this user."},
    )
    act.get(f"{BASE_URL}/api/Products", json=[{"id": "p1", "editDate": "2025-02-01T00:00:00Z"}])
    act.get(f"{BASE_URL}/api/Products", json=[])
    settings = validate_configuration(
        configuration(tables="contacts,opportunities,products", batch_size="2"), catalog
    )
    operations = RecordingOperations()
    with pytest.raises(TablesFailed) as raised:
        run_sync(settings, catalog, {}, operations)
    message = str(raised.value)
    assert message.startswith("1 of 3 table(s) failed; the others synced")
    assert (
        "Table 'opportunities': Act! answered HTTP 403 for http://act.test/act.web.api/api/"
        "opportunities?" in message
    )
    assert "Access to opportunities is denied for this user." in message
    # the tables after the failed one synced too, and their progress is checkpointed
    assert [row["id"] for row in operations.rows("contacts")] == ["c001", "c002"]
    assert [row["id"] for row in operations.rows("products")] == ["p1"]
    assert set(operations.checkpoints[-1]["tables"]) == {"contacts", "products"}
    log = capsys.readouterr().out
    assert "Syncing the other tables; this one fails the sync." in log
    (summary,) = [line for line in log.splitlines() if "Sync finished in " in line]
    assert "2 table(s), read 3, written 3, deleted 0; " in summary
    assert summary.endswith(
        'token renewals; failed: opportunities", "message_origin": "connector_sdk"}'
    )


def test_no_secret_reaches_logs_errors_or_state(catalog, act, capsys):
    act.get(f"{BASE_URL}/api/contacts", json=[contact(1)])
    act.get(f"{BASE_URL}/api/contacts", status=401)
    act.get(f"{BASE_URL}/authorize", body=TOKEN, content_type="text/html")
    act.get(f"{BASE_URL}/api/contacts", status=401)
    settings = validate_configuration(configuration(tables="contacts"), catalog)
    operations = RecordingOperations()
    with pytest.raises(CredentialsRefused) as raised:
        run_sync(settings, catalog, {}, operations)
    seen = capsys.readouterr().out + str(raised.value) + json.dumps(operations.checkpoints)
    assert "Table 'contacts'" in seen
    for secret in (PASSWORD, TOKEN):
        assert secret not in seen


# -- against the emulator, over real HTTP


def pages_asked(monkeypatch) -> list[tuple[str, dict]]:
    """Every page asked for from here on: its table and query."""
    asked = []
    get_page = ActClient.get_page

    def noting(client, table, path, params, stop=None):
        asked.append((table, dict(params)))
        return get_page(client, table, path, params, stop)

    monkeypatch.setattr(ActClient, "get_page", noting)
    return asked


def walk_tops(asked: list[tuple[str, dict]], table: str = "contacts") -> list[int]:
    """The $top of each page of the table's walks (ordered by edit time, where listings and
    re-reads are by id)."""
    return [
        int(query["$top"])
        for name, query in asked
        if name == table and query.get("$orderby", "").startswith("edited")
    ]


def test_every_record_arrives_once_under_a_page_cap_and_large_ties(emulator, catalog):
    emulator.configure(page_cap=7)
    operations = emulator_sync(emulator, catalog, batch_size="20")
    for table in DEFAULT_TABLES:
        truth = ids(emulator.store.truth(table))
        got = ids(operations.rows(table))
        assert sorted(got) == sorted(truth), table
        assert len(got) == len(set(got)), f"{table} duplicated rows"
    ties = bulk_import(emulator.store.truth("contacts"))
    assert len(ties) > 30  # a tie group many pages long


def test_wide_records_are_read_in_smaller_pages_and_every_one_arrives_once(
    emulator, catalog, monkeypatch
):
    """Pages hold about PAGE_BYTES of answer whatever batch_size asks (a real contact has
    hundreds of custom fields), here under a server cap too: every record lands once. The first
    page, whose records' size is not known yet, asks for FIRST_TOP."""
    monkeypatch.setattr("act_connector.paging.PAGE_BYTES", 20_000)
    monkeypatch.setattr("act_connector.paging.MIN_TOP", 3)
    monkeypatch.setattr("act_connector.paging.FIRST_TOP", 5)
    asked = pages_asked(monkeypatch)
    emulator.configure(page_cap=9)
    operations = emulator_sync(emulator, catalog, tables="contacts", batch_size="40")
    got = ids(operations.rows("contacts"))
    assert sorted(got) == sorted(ids(emulator.store.truth("contacts")))
    assert len(got) == len(set(got))
    tops = walk_tops(asked)
    assert tops[0] == 5 and 3 <= max(tops[1:]) < 9  # fewer than the cap: wide records


def test_a_walk_resumed_from_a_checkpoint_asks_for_pages_of_the_size_it_had_learned(
    emulator, catalog, monkeypatch
):
    """A first sync of wide records that stops part way resumes at its last checkpoint: its first
    page asks for as many records as the pages before the stop held, not for batch_size (of
    records that may be tens of KB each)."""
    monkeypatch.setattr("act_connector.paging.PAGE_BYTES", 20_000)
    monkeypatch.setattr("act_connector.paging.MIN_TOP", 3)
    first = emulator_sync(emulator, catalog, tables="contacts", batch_size="40")
    stopped = next(
        state
        for state in first.checkpoints
        if state["tables"].get("contacts", {}).get("id") is not None
    )
    learned = stopped["tables"]["contacts"]["top"]
    assert 3 <= learned < 40
    asked = pages_asked(monkeypatch)
    resumed = emulator_sync(emulator, catalog, stopped, tables="contacts", batch_size="40")
    assert walk_tops(asked)[0] == learned
    got = ids(first.rows("contacts"))
    assert set(got) == set(ids(emulator.store.truth("contacts")))
    assert resumed.rows("contacts")  # the rows after the checkpoint, read again


def test_records_changing_during_the_sync_lose_nothing(emulator, catalog):
    before = {r["id"]: r for r in emulator.store.truth("contacts")}
    emulator.configure(churn_edits=3, churn_creates=2)
    operations = emulator_sync(emulator, catalog, tables="contacts", batch_size="10")
    emulator.configure(churn_edits=0, churn_creates=0)
    after = {r["id"]: r for r in emulator.store.truth("contacts")}
    unchanged = [i for i, r in after.items() if before.get(i) == r]
    assert len(unchanged) < len(after) - 40  # plenty moved while the sync paged
    got = {row["id"] for row in operations.rows("contacts")}
    assert set(unchanged) <= got
    # What was edited in the server's current second is left for a later sync by design (UNTIL is
    # the server's clock less a second): let the clock move past the last edit.
    emulator.advance_clock(2)
    second = emulator_sync(
        emulator, catalog, operations.checkpoints[-1], tables="contacts", batch_size="10"
    )
    got |= {row["id"] for row in second.rows("contacts")}
    assert got == set(after)
    latest = {row["id"]: row for row in operations.rows("contacts") + second.rows("contacts")}
    assert all(latest[i].get("jobTitle") == r["jobTitle"] for i, r in after.items())


def test_throttling_and_server_errors_are_ridden_out(emulator, catalog, no_sleep):
    emulator.configure(throttle_every=3, error_every=5, rate_limit_headers=True)
    operations = emulator_sync(emulator, catalog, tables="contacts", batch_size="40")
    assert sorted(ids(operations.rows("contacts"))) == sorted(
        ids(emulator.store.truth("contacts"))
    )
    assert emulator.stats["faults"] >= 2
    assert no_sleep  # it waited as told


def test_a_server_sending_the_same_page_forever_is_stopped(catalog, act):
    page = [contact(1), contact(2)]
    act.get(f"{BASE_URL}/api/contacts", json=page)  # the same answer to every request
    with pytest.raises(TablesFailed, match="the same page twice") as raised:
        sync(catalog, tables="contacts", batch_size="2")
    assert isinstance(raised.value.failures[0], PagingError)
    assert len(act.calls) == 3  # authorize, the page, the same page again: then it stops


def test_thousands_of_records_in_one_second_under_a_small_cap(catalog):
    server = ActEmulator(seed=4, sizes={"contacts": 6000})
    server.start()
    try:
        ties = bulk_import(server.store.truth("contacts"))
        assert len(ties) > 1000
        server.configure(page_cap=100)
        operations = emulator_sync(server, catalog, tables="contacts", batch_size="250")
    finally:
        server.stop()
    got = ids(operations.rows("contacts"))
    assert len(got) == len(set(got)) == 6000


def test_documents_land_with_their_files_description(emulator, catalog):
    run = emulator_sync(emulator, catalog, tables="documents", lookback_minutes="0")
    truth = emulator.store.truth("documents")
    assert truth and sorted(ids(run.rows("documents"))) == ids(truth)
    landed = {row["id"]: row for row in run.rows("documents")}
    for document in truth:  # a history item's, with its attachment's description flattened
        row = landed[document["id"]]
        assert row["attachment_fileSize"] == document["attachment"]["fileSize"] > 0
        assert row["attachment_displayName"] == document["attachment"]["displayName"]
        assert row.get("details") == document["details"]
    history = {item["id"]: item for item in emulator.store.truth("history")}
    assert all(history[document["id"]]["attachment"] for document in truth)


def test_the_look_back_reads_again_but_writes_only_what_changed(emulator, catalog, capsys):
    recent = emulator.store.edit("contacts", 6)
    emulator.advance_clock(1.1)  # edits in the server's current second wait for the next sync
    first = emulator_sync(emulator, catalog, tables="contacts")
    edited = emulator.store.edit("contacts", 2)
    emulator.advance_clock(1.1)
    capsys.readouterr()
    second = emulator_sync(emulator, catalog, first.checkpoints[-1], tables="contacts")
    assert sorted(row["id"] for row in second.rows("contacts")) == sorted(edited)
    unchanged = len(set(recent) - set(edited))  # within the 10 minutes, read again as they were
    log = capsys.readouterr().out
    assert (
        f"Table 'contacts': read {2 + unchanged}, written 2, unchanged {unchanged}, deleted 0; "
        "1 page(s), "
    ) in log


def test_tables_sync_side_by_side_and_each_checkpoint_is_true(emulator, catalog):
    """A slow server answers several requests at once: tables are read side by side, and every
    table's rows and position land as if it had been synced alone."""
    emulator.configure(request_seconds=0.1)
    operations = emulator_sync(emulator, catalog, batch_size="25")
    assert emulator.stats["concurrent_peak"] >= 2
    for table in DEFAULT_TABLES:
        rows = {row["id"] for row in operations.rows(table)}
        assert rows == {record["id"] for record in emulator.store.truth(table)}, table
    final = operations.checkpoints[-1]["tables"]
    # Every table keeps its position or remembered set; the link tables, their links.
    assert set(final) == set(DEFAULT_TABLES) | set(DEFAULT_LINKS) | set(DEFAULT_PER_PARENT)
    items = {}  # each opportunity's line items
    for item in emulator.store.truth("opportunity_products"):
        items.setdefault(item["opportunityID"], set()).add(("opportunity_products", item["id"]))
    upserted: set[tuple] = set()
    opportunities: list = []  # in the order written
    for event in operations.events:  # no checkpoint claims a row not yet emitted, in any table
        if event[0] == "upsert":
            upserted.add((event[1], event[2]["id"]))
            if event[1] == "opportunities":
                opportunities.append(event[2]["id"])
        elif event[0] == "checkpoint":
            for table, entry in event[1]["tables"].items():
                assert "id" not in entry or (table, entry["id"]) in upserted, (table, entry)
            claimed = event[1]["tables"].get("opportunities", {}).get("id")
            if claimed:  # nor an opportunity whose line items are not
                for record_id in opportunities[: opportunities.index(claimed) + 1]:
                    assert items.get(record_id, set()) <= upserted, record_id
    assert any(items.values()) and operations.rows("opportunity_products")


def test_a_quiet_sync_reads_a_look_back_window_longer_than_a_first_page_at_once(
    emulator, catalog, monkeypatch
):
    """A bulk import (many records stamped within minutes) fills the look-back window: an
    incremental walk's first page asks for batch_size, not the few a walk from scratch starts
    with, so that a quiet sync stays one request a table."""
    monkeypatch.setattr("act_connector.paging.FIRST_TOP", 5)
    emulator.store.edit("contacts", 12, at="2025-11-03T10:15:20+00:00")
    emulator.store.edit("contacts", 12, at="2025-11-03T10:18:40+00:00")  # the last edits
    first = emulator_sync(emulator, catalog, tables="contacts", batch_size="40")
    asked = pages_asked(monkeypatch)
    quiet = emulator_sync(emulator, catalog, first.checkpoints[-1], tables="contacts",
                          batch_size="40")  # fmt: skip
    assert quiet.rows("contacts") == [] and [query["$top"] for _, query in asked] == ["40"]


# -- what the log says a sync did
SHORT_LINE = 200  # characters: a sync's last line reads at a glance


def test_the_summary_counts_every_row_written_and_deleted_as_the_sdk_does(
    emulator, catalog, capfd
):
    """Deletions in tables read whole, link tables, line items and membership count too: the
    summary's totals are the SDK's upserts and deletes. The log is captured as printed to the
    process's output, where the tables' threads write side by side: each line whole."""
    tables = ",".join([*DEFAULT_TABLES, *DEFAULT_LINKS, *DEFAULT_PER_PARENT])
    changes = {"tables": tables, "reconcile_interval_hours": "0", "membership_interval_hours": "0"}
    first = emulator_sync(emulator, catalog, **changes)
    emulator.store.delete("users", 1)
    gone = next(r for r in emulator.store.tables["opportunities"].values() if r["contacts"])
    emulator.store.delete("opportunities", ids=[gone["id"]])
    emulator.store.delete("contacts", 1)
    emulator.store.delete("groups", 1)
    capfd.readouterr()
    settings = validate_configuration(emulator_configuration(emulator, **changes), catalog)
    operations = RecordingOperations()
    as_in_a_new_process()
    summary = run_sync(settings, catalog, first.checkpoints[-1], operations)
    deletes = [event[1] for event in operations.events if event[0] == "delete"]
    upserts = [event[1] for event in operations.events if event[0] == "upsert"]
    assert {"users", "opportunities", "opportunity_contacts", "contacts"} <= set(deletes)
    assert (summary.written, summary.deleted) == (len(upserts), len(deletes))
    lines = [json.loads(line)["message"] for line in capfd.readouterr().out.splitlines()]
    (last,) = [line for line in lines if line.startswith("Sync finished in ")]
    assert f", written {len(upserts)}, deleted {len(deletes)}; " in last
    assert len(last) < SHORT_LINE
    for table in set(deletes):  # each table's own line says what it deleted
        (line,) = [line for line in lines if line.startswith(f"Table '{table}': read ")]
        assert f", deleted {deletes.count(table)}; " in line


def test_membership_not_due_says_when_it_is_read_again_in_hours(emulator, catalog, capsys):
    first = emulator_sync(emulator, catalog, tables="groups,group_contacts")
    reconciled = first.checkpoints[-1]["tables"]["group_contacts"]["reconciled"]
    capsys.readouterr()
    emulator_sync(emulator, catalog, first.checkpoints[-1], tables="groups,group_contacts")
    lines = [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines()]
    again = format_utc(parse_timestamp(reconciled) + timedelta(hours=24))
    assert (
        f"Table 'group_contacts': not read; members last read at {reconciled}, read again from "
        f"{again} (every 24 hours)"
    ) in lines


def test_an_interval_of_one_hour_is_one_hour():
    assert act_connector.sync.hours(timedelta(hours=1)) == "1 hour"
