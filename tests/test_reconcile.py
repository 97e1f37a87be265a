"""Reconciliation: deletions and records stamped in the past, caught without a re-sync."""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import responses

from act_connector.client import ODATA_SAFE
from act_connector.config import validate_configuration
from act_connector.errors import TablesFailed
from act_connector.known import KnownSet
from act_connector.listing import IDS_PER_REQUEST
from act_connector.reconcile import reread_query
from act_connector.sync import run_sync
from act_connector.timestamps import format_utc, parse_timestamp
from emulator.server import ActEmulator
from tests.conftest import emulator_configuration
from tests.helpers import BASE_URL, RecordingOperations, as_in_a_new_process, configuration

TABLES = ("contacts", "companies", "activities")  # activities: GUID+MMddyyyy ids among GUIDs
# Reconciliation on every sync, and no look-back (which writes its window again each sync): what
# a sync writes is then what reconciliation found.
EVERY_SYNC = {"reconcile_interval_hours": "0", "lookback_minutes": "0"}


class Destination:
    """What the destination holds after the events a sync emitted (live rows by id)."""

    def __init__(self):
        self.live: dict[str, dict[str, dict]] = {}

    def apply(self, operations: RecordingOperations) -> None:
        for event in operations.events:
            kind, table = event[0], event[1] if len(event) > 1 else None
            rows = self.live.setdefault(table, {}) if isinstance(table, str) else None
            if kind == "upsert":
                rows[event[2]["id"]] = event[2]
            elif kind == "delete":
                rows.pop(event[2]["id"], None)
            elif kind == "truncate":
                rows.clear()

    def differences(self, emulator, table: str) -> list[str]:
        truth = {record["id"]: record for record in emulator.store.truth(table)}
        live = self.live.get(table, {})
        problems = [f"missing {i}" for i in truth.keys() - live.keys()]
        problems += [f"not in Act! {i}" for i in live.keys() - truth.keys()]
        field = "edited" if table != "products" else "editDate"
        problems += [
            f"stale {i}"
            for i in truth.keys() & live.keys()
            if moment(live[i][field]) != moment(truth[i][field])
        ]
        return problems


def moment(value) -> datetime:
    """A timestamp as landed (a datetime) or as Act! sent it (text)."""
    return value if isinstance(value, datetime) else parse_timestamp(value)


class Syncs:
    """Syncs against the emulator, one after another, each from the state the last one left."""

    def __init__(self, emulator, catalog, **changes):
        self.emulator, self.catalog = emulator, catalog
        self.changes = {"tables": ",".join(TABLES), "lookback_minutes": "0", **changes}
        self.state: dict | None = None
        self.destination = Destination()

    def run(self, **changes) -> RecordingOperations:
        configuration = emulator_configuration(self.emulator, **{**self.changes, **changes})
        settings = validate_configuration(configuration, self.catalog)
        operations = RecordingOperations()
        as_in_a_new_process()  # reads the clock anew: wait_for_the_next_second counts on it
        try:
            run_sync(settings, self.catalog, self.state, operations)
        finally:
            self.state = operations.checkpoints[-1] if operations.checkpoints else self.state
            self.destination.apply(operations)
        return operations

    def cursor(self, table: str) -> datetime:
        return parse_timestamp(self.state["tables"][table]["cursor"])

    def before_cursor(self, table: str, days: float) -> float:
        """`ago` (seconds before now) for a stamp `days` before the table's saved cursor."""
        now = datetime.fromtimestamp(self.emulator.server_now(), timezone.utc)
        return (now - self.cursor(table)).total_seconds() + days * 86400


def wait_for_the_next_second(emulator):
    emulator.advance_clock(1.1)  # edits in the server's current second wait for the next sync


def upserted_ids(operations, table):
    return sorted(row["id"] for row in operations.rows(table))


def test_deletions_and_records_stamped_in_the_past_are_caught(emulator, catalog, capsys):
    syncs = Syncs(emulator, catalog, **EVERY_SYNC)
    syncs.run()
    store = emulator.store
    deleted = {table: store.delete(table, 4) for table in TABLES}
    late = {  # (edited first: a record just created is not among those edited)
        table: store.edit(table, 2, ago=syncs.before_cursor(table, 2))  # stamped in the past
        + store.create(table, 3, ago=syncs.before_cursor(table, 5))  # created days ago
        for table in TABLES
    }
    wait_for_the_next_second(emulator)
    operations = syncs.run()
    for table in TABLES:
        assert sorted(operations.deleted(table)) == sorted(deleted[table]), table
        assert upserted_ids(operations, table) == sorted(late[table]), table
        assert not syncs.destination.differences(emulator, table), table
    log = capsys.readouterr().out
    listed = len(emulator.store.truth("contacts"))
    assert f"Table 'contacts': reconciled with Act!'s {listed} record(s): 4 deleted, 5 late, " in (
        log
    )
    assert "unchanged; 3 request(s), " in log  # the listing, its closing empty page, one re-read


def test_a_quiet_reconciliation_emits_nothing(emulator, catalog, capsys):
    syncs = Syncs(emulator, catalog, **EVERY_SYNC)
    syncs.run()
    operations = syncs.run()
    assert [event for event in operations.events if event[0] in ("upsert", "delete")] == []
    listed = len(emulator.store.truth("contacts"))
    assert (
        f"Table 'contacts': reconciled with Act!'s {listed} record(s): 0 deleted, 0 late, "
        f"{listed} unchanged; 2 request(s)"
    ) in capsys.readouterr().out


def test_the_first_sync_remembers_what_it_wrote_without_listing(emulator, catalog, capsys):
    syncs = Syncs(emulator, catalog, **EVERY_SYNC)
    syncs.run()
    for table in TABLES:
        entry = syncs.state["tables"][table]
        known = KnownSet.from_state(entry["known"])
        truth = emulator.store.truth(table)
        assert len(known) == len(truth)
        assert all(known.get(record["id"]) is not None for record in truth)
    log = capsys.readouterr().out
    assert "reconciled with Act!" not in log and "remembered the" not in log  # no listing


def test_reconciliation_waits_for_its_interval(emulator, catalog):
    syncs = Syncs(emulator, catalog, reconcile_interval_hours="24")
    syncs.run()
    store = emulator.store
    deleted = store.delete("contacts", 3)
    before = emulator.stats["data_requests"]
    quiet = syncs.run()
    assert emulator.stats["data_requests"] - before == len(TABLES)  # one empty page each
    assert quiet.deleted("contacts") == []
    # A day later (less the tenth of the interval it may come early) it is due.
    day_ago = format_utc(datetime.now(timezone.utc) - timedelta(hours=21, minutes=40))
    for entry in syncs.state["tables"].values():
        entry["reconciled"] = day_ago
    due = syncs.run()
    assert sorted(due.deleted("contacts")) == sorted(deleted)


def make_reconciliation_due(syncs: Syncs) -> None:
    """As a day later (less the tenth of the interval it may come early)."""
    day_ago = format_utc(datetime.now(timezone.utc) - timedelta(hours=21, minutes=40))
    for entry in syncs.state["tables"].values():
        entry["reconciled"] = day_ago


def in_look_back(emulator, syncs: Syncs, table: str, minutes: int) -> int:
    """How many records a quiet sync's look-back page holds."""
    start = syncs.cursor(table) - timedelta(minutes=minutes)
    cursor = syncs.catalog.tables[table].cursor
    return sum(
        record[cursor] is not None and parse_timestamp(record[cursor]) >= start
        for record in emulator.store.truth(table)
    )


def test_a_quiet_sync_asks_each_table_once_and_the_page_after_when_due(emulator, catalog):
    syncs = Syncs(emulator, catalog, reconcile_interval_hours="24", lookback_minutes="10")
    syncs.run()
    assert all(in_look_back(emulator, syncs, table, 10) >= 1 for table in TABLES)
    before = emulator.stats["data_requests"]
    quiet = syncs.run()
    # The look-back page ends where the last walk did, and it is short: nothing is after it.
    assert emulator.stats["data_requests"] - before == len(TABLES)
    assert [event for event in quiet.events if event[0] in ("upsert", "delete")] == []
    make_reconciliation_due(syncs)
    before = emulator.stats["data_requests"]
    syncs.run()
    walks = emulator.stats["data_requests"] - before - 2 * len(TABLES)  # the listings
    assert walks == 2 * len(TABLES)  # the look-back page and the empty page after it


def test_a_capped_page_that_hides_new_records_is_looked_past_when_due(emulator, catalog):
    syncs = Syncs(emulator, catalog, tables="contacts", reconcile_interval_hours="24")
    syncs.run(lookback_minutes="10")
    # The server starts capping its pages at exactly the look-back's rows: its page ends where
    # the last walk did, and hides what is after it (the one case paging.py describes).
    emulator.configure(page_cap=in_look_back(emulator, syncs, "contacts", 10))
    created = emulator.store.create("contacts", 2)
    wait_for_the_next_second(emulator)
    syncs.run(lookback_minutes="10")
    assert not set(created) & syncs.destination.live["contacts"].keys()  # a day late at most
    make_reconciliation_due(syncs)
    syncs.run(lookback_minutes="10")
    assert not syncs.destination.differences(emulator, "contacts")


def test_a_walk_resumed_after_a_failure_reads_on_past_a_capped_page(emulator, catalog):
    # A server that caps its pages at 10 (of the 30 asked for) and fails the 5th page: the first
    # sync ends after 4 pages. The next one, not due for reconciliation, looks back past every
    # record, so its 4th page of 10 ends exactly where the failed walk stopped; that page is
    # short of $top, but no shorter than the server's cap, which the first walk learned.
    syncs = Syncs(
        emulator, catalog, tables="contacts", batch_size="30", lookback_minutes="1000000"
    )
    emulator.configure(page_cap=10, error_every=5, error_status=403)
    with pytest.raises(TablesFailed):
        syncs.run(reconcile_interval_hours="24")
    assert syncs.state["tables"]["contacts"]["cap"] == 10
    assert len(syncs.destination.live["contacts"]) == 40
    emulator.configure(error_every=0)
    syncs.run(reconcile_interval_hours="24")
    assert not syncs.destination.differences(emulator, "contacts")


def test_off_keeps_no_set_and_never_lists(emulator, catalog):
    syncs = Syncs(emulator, catalog, reconcile_interval_hours="off")
    syncs.run()
    assert not any("known" in entry for entry in syncs.state["tables"].values())
    emulator.store.delete("contacts", 3)
    before = emulator.stats["data_requests"]
    operations = syncs.run()
    assert emulator.stats["data_requests"] - before == len(TABLES)
    assert operations.deleted("contacts") == []


def test_a_state_without_the_set_builds_it_and_deletes_nothing(emulator, catalog, capsys):
    syncs = Syncs(emulator, catalog, **EVERY_SYNC)
    syncs.run(reconcile_interval_hours="off")  # as the version before this one: no set
    emulator.store.delete("contacts", 3)
    operations = syncs.run()
    assert [event for event in operations.events if event[0] in ("upsert", "delete")] == []
    known = KnownSet.from_state(syncs.state["tables"]["contacts"]["known"])
    assert len(known) == len(emulator.store.truth("contacts"))
    assert "Table 'contacts': remembered the 227 record(s) Act! lists" in capsys.readouterr().out
    deleted = emulator.store.delete("contacts", 2)  # from now on, deletions are caught
    assert sorted(syncs.run().deleted("contacts")) == sorted(deleted)


def test_a_build_that_refuses_select_lists_whole_records(emulator, catalog, capsys):
    syncs = Syncs(emulator, catalog, batch_size="50", **EVERY_SYNC)
    syncs.run()
    emulator.configure(select_supported=False)
    deleted = {table: emulator.store.delete(table, 2) for table in TABLES}
    operations = syncs.run()
    for table in TABLES:
        assert sorted(operations.deleted(table)) == sorted(deleted[table])
        assert not syncs.destination.differences(emulator, table), table
    log = capsys.readouterr().out
    assert log.count("Act! refused $select (HTTP 400: ") == 1  # said once, not per table
    assert "reconciliation lists whole records instead, 50 a request" in log


def test_edits_and_inserts_racing_the_listing_are_neither_lost_nor_deleted(emulator, catalog):
    syncs = Syncs(emulator, catalog, batch_size="30", tables="contacts", **EVERY_SYNC)
    syncs.run()
    emulator.configure(page_cap=20, churn_edits=3, churn_creates=2)  # during every page
    racing = syncs.run()
    emulator.configure(churn_edits=0, churn_creates=0)
    assert racing.deleted("contacts") == []  # nothing was deleted in Act!
    wait_for_the_next_second(emulator)
    syncs.run()
    assert not syncs.destination.differences(emulator, "contacts")


def test_an_incomplete_listing_deletes_nothing(catalog):
    known = KnownSet()
    for record_id in ("c001", "c002", "c003"):
        known.put(record_id, 1735689600)
    state = {"tables": {"contacts": {"cursor": "2025-01-01T00:00:00Z", "id": "c003"}}}
    state["tables"]["contacts"]["known"] = known.to_state()
    with responses.RequestsMock() as act:
        act.get(
            f"{BASE_URL}/authorize",
            body="token",
            headers={"Date": "Wed, 01 Oct 2025 12:00:00 GMT"},
        )
        act.get(f"{BASE_URL}/api/contacts", json=[])  # the walk: nothing new
        act.get(
            f"{BASE_URL}/api/contacts", json=[{"id": "c001", "edited": "2025-01-01T00:00:00Z"}]
        )
        act.get(f"{BASE_URL}/api/contacts", status=403, json={"message": "denied"})
        settings = validate_configuration(configuration(tables="contacts", **EVERY_SYNC), catalog)
        operations = RecordingOperations()
        with pytest.raises(TablesFailed):
            run_sync(settings, catalog, state, operations)
        listing = parse_qs(urlsplit(act.calls[2].request.url).query)
    assert operations.events == []  # c002 and c003 were not listed, but the listing never ended
    assert listing["$select"] == ["id,edited"] and listing["$top"] == ["10000"]
    assert listing["$orderby"] == ["id asc"] and "$filter" not in listing


def test_past_the_limit_a_table_falls_back_with_one_warning_per_sync(
    emulator, catalog, monkeypatch
):
    monkeypatch.setattr("act_connector.emitter.KNOWN_LIMIT", 100)
    monkeypatch.setattr("act_connector.reconcile.KNOWN_LIMIT", 100)
    syncs = Syncs(emulator, catalog, tables="contacts,companies", **EVERY_SYNC)
    for _ in range(2):
        operations = syncs.run()
        warnings = [event[1] for event in operations.events if event[0] == "warning"]
        assert warnings == [
            "Table 'contacts' holds more than 100 records, more than the connector remembers "
            "between syncs: records deleted in Act! stay live in the destination until a "
            "re-sync, and records stamped in the past are not read."
        ]
        contacts = syncs.state["tables"]["contacts"]
        assert contacts["too_large"] is True and "known" not in contacts
        assert "known" in syncs.state["tables"]["companies"]  # 40 records: under the limit


def test_reading_late_records_again_by_id_keeps_each_url_short(catalog):
    activities = catalog.tables["activities"]
    longest = [f"{i:08x}-aaaa-4bbb-8ccc-dddddddddddd01312026" for i in range(IDS_PER_REQUEST)]
    query = reread_query(activities, longest, after=longest[-2])
    assert len(urlencode(query, quote_via=quote, safe=ODATA_SAFE)) < 2048  # IIS's default limit


def test_a_server_refusing_or_has_late_records_read_one_a_request(catalog, capsys):
    """Ids joined by `or` answer 400 on such a server: each late record is then read alone."""
    stamp = "2025-01-01T00:00:00+00:00"
    late = [{"id": f"c00{i}", "edited": stamp} for i in range(1, 4)]
    state = {"tables": {"contacts": {"cursor": "2025-06-01T00:00:00Z", "id": "c009"}}}
    state["tables"]["contacts"]["known"] = KnownSet().to_state()

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        filter_text = query.get("$filter", [""])[0]
        if query["$orderby"] == ["edited asc,id asc"]:
            return 200, {}, "[]"  # the walk (its keyset clause is taken here): nothing new
        if " or " in filter_text:
            return 400, {}, '{"message": "The binary operator \'Or\' is not supported."}'
        if "$select" in query:  # the listing: three records, then the closing empty page
            return 200, {}, "[]" if "gt" in filter_text else str(late).replace("'", '"')
        wanted = filter_text.split("'")[1]  # one late record by id
        return 200, {}, str([r for r in late if r["id"] == wanted]).replace("'", '"')

    with responses.RequestsMock() as act:
        act.get(f"{BASE_URL}/authorize", body="token")
        act.add_callback(responses.GET, f"{BASE_URL}/api/contacts", callback=answer)
        settings = validate_configuration(configuration(tables="contacts", **EVERY_SYNC), catalog)
        operations = RecordingOperations()
        run_sync(settings, catalog, state, operations)
    assert upserted_ids(operations, "contacts") == ["c001", "c002", "c003"]
    log = capsys.readouterr().out
    assert log.count("Act! refused a $filter of several ids joined by 'or' (HTTP 400: ") == 1


def test_a_listing_takes_a_request_per_10000_records(catalog, capsys):
    server = ActEmulator(seed=4, sizes={"contacts": 20_500})
    server.start()
    try:
        syncs = Syncs(server, catalog, tables="contacts", batch_size="10000", **EVERY_SYNC)
        syncs.run()
        capsys.readouterr()
        syncs.run()
    finally:
        server.stop()
    # Pages of 10,000, 10,000 and 500, then the closing empty page: 4 requests for 20,500.
    assert "0 deleted, 0 late, 20500 unchanged; 4 request(s)" in capsys.readouterr().out
