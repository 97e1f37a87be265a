"""Checkpoints: a table and its link tables publish as one, and an unchanged state is not sent."""

from concurrent.futures import ThreadPoolExecutor

from act_connector import emitter as emitter_module
from act_connector.config import validate_configuration
from act_connector.emitter import Emitter
from act_connector.links import LinkTable
from act_connector.paging import Position
from act_connector.state import SyncState
from act_connector.sync import DatabaseSync, TableSync
from tests.conftest import emulator_configuration
from tests.helpers import RecordingOperations, as_in_a_new_process, follower

OPPORTUNITY = {"id": "o1", "edited": "2025-01-01T00:00:00+00:00", "contacts": [{"id": "c1"}]}


def opportunities_with_links(catalog, operations):
    state = SyncState.load(None, catalog)
    link = follower(LinkTable, catalog.tables["opportunity_contacts"], state, operations)
    opportunities = catalog.tables["opportunities"]
    emitter = Emitter(opportunities, state, operations, remember=True, followers=[link])
    emitter.truncate()
    link.start()
    return emitter


def test_a_page_and_the_links_its_records_hold_are_one_checkpoint(catalog):
    operations = RecordingOperations()
    emitter = opportunities_with_links(catalog, operations)
    emitter.upsert([OPPORTUNITY])
    emitter.checkpoint(Position(OPPORTUNITY["edited"], "o1"))
    [state] = operations.checkpoints
    assert state["tables"]["opportunities"]["id"] == "o1"
    assert state["tables"]["opportunity_contacts"]["known"]["count"] == 1


def test_a_checkpoint_that_changes_nothing_is_not_sent(catalog):
    operations = RecordingOperations()
    emitter = opportunities_with_links(catalog, operations)
    emitter.upsert([OPPORTUNITY])
    position = Position(OPPORTUNITY["edited"], "o1")
    emitter.checkpoint(position)
    emitter.checkpoint(position)
    emitter.upsert([OPPORTUNITY])  # read again as it was: nothing written, nothing changed
    emitter.checkpoint(position)
    assert len(operations.checkpoints) == 1
    emitter.delete(["o1"])
    emitter.checkpoint()
    assert len(operations.checkpoints) == 2
    assert operations.checkpoints[-1]["tables"]["opportunities"]["known"]["count"] == 0


def test_publishing_together_sends_one_checkpoint_at_the_end_and_none_on_failure(catalog):
    operations = RecordingOperations()
    state = SyncState.load(None, catalog)
    state.table("contacts").position = Position("2025-01-01T00:00:00Z", "c1")
    state.table("companies").position = Position("2025-01-01T00:00:00Z", "k1")
    try:
        with state.together(operations):
            state.publish("contacts", operations)
            raise RuntimeError("a follower failed")
    except RuntimeError:
        pass
    assert operations.checkpoints == []
    with state.together(operations):
        state.publish("contacts", operations)
        with state.together(operations):  # a follower's own checkpoint, nested
            state.publish("companies", operations)
        assert operations.checkpoints == []
    [checkpoint] = operations.checkpoints
    assert set(checkpoint["tables"]) == {"contacts", "companies"}


def test_a_parent_written_twice_in_a_sync_keeps_only_the_links_it_has_last(catalog):
    """Read from scratch, then edited while the sync ran and read again by the walk to the
    present: a contact it lost in between is a link it no longer has."""
    operations = RecordingOperations()
    emitter = opportunities_with_links(catalog, operations)
    guid = "6f1c0e52-8d7a-4c1e-9b1a-{:012d}".format
    first = {**OPPORTUNITY, "id": guid(1), "contacts": [{"id": guid(2)}, {"id": guid(3)}]}
    emitter.upsert([first])
    edited = {**first, "edited": "2025-01-02T00:00:00+00:00", "contacts": [{"id": guid(2)}]}
    emitter.upsert([edited])
    [link] = emitter.followers
    link.finish()
    live = {}
    for event in operations.events:
        if event[:2] == ("upsert", "opportunity_contacts"):
            live[event[2]["id"]] = event[2]
        elif event[:2] == ("delete", "opportunity_contacts"):
            live.pop(event[2]["id"])
    assert sorted(live) == [f"{guid(1)}|{guid(2)}"]
    assert link.emitter.deleted == 1


def test_a_link_table_past_the_remembered_sets_limit_writes_every_link(catalog, monkeypatch):
    """More links than the set keeps (a large database's activity contacts): the table stops
    remembering, says so, and goes on writing its links; it used to fail every sync."""
    monkeypatch.setattr(emitter_module, "KNOWN_LIMIT", 2)
    operations = RecordingOperations()
    emitter = opportunities_with_links(catalog, operations)
    guid = "6f1c0e52-8d7a-4c1e-9b1a-{:012d}".format
    for number, contacts in ((1, [2, 3, 4]), (5, [2])):
        edited = f"2025-01-0{number}T00:00:00+00:00"
        contacts = [{"id": guid(contact)} for contact in contacts]
        emitter.upsert(
            [{**OPPORTUNITY, "id": guid(number), "edited": edited, "contacts": contacts}]
        )
        emitter.checkpoint(Position(edited, guid(number)))
    [link] = emitter.followers
    assert link.emitter.known is None
    assert len(operations.rows("opportunity_contacts")) == 4
    assert any("opportunity_contacts" in warning for warning in operations.warnings)
    state = SyncState.load(operations.checkpoints[-1], catalog)
    assert state.table("opportunity_contacts").too_large


def test_what_a_walk_learned_of_its_pages_is_kept_and_only_counts_are_read_back(catalog):
    """A server's cap and the $top a walk sized its pages to survive the state's round trip; a
    saved value that is no count above zero (true, text, a negative) is not taken for one."""
    saved = Position("2025-01-01T00:00:00Z", "c1", cap=9, top=650)
    state = SyncState.load({"tables": {"contacts": saved.to_state()}}, catalog)
    [position] = state.positions.values()
    assert (position.cap, position.top) == (9, 650)
    for wrong in (True, "650", -1, 0, 6.5):
        entry = {"cursor": saved.cursor, "id": "c1", "cap": wrong, "top": wrong}
        position = SyncState.load({"tables": {"contacts": entry}}, catalog).positions["contacts"]
        assert (position.cap, position.top) == (0, 0), wrong


def test_tables_done_syncing_keep_only_the_text_of_their_sets(emulator, catalog):
    """A first sync's remembered sets are freed as each table finishes (its followers' too):
    what later checkpoints send is their text, kept as it was last checkpointed."""
    tables = ("contacts", "opportunities", "opportunity_contacts", "opportunity_products")
    settings = validate_configuration(
        emulator_configuration(emulator, tables=",".join(tables)), catalog
    )
    operations = RecordingOperations()
    as_in_a_new_process()
    sync = DatabaseSync(settings, catalog, None, operations)
    with ThreadPoolExecutor(2) as workers:
        sync.collect([workers.submit(table) for table in sync.start()])
    sync.close()
    last = operations.checkpoints[-1]["tables"]
    for name in tables:
        known = sync.state.table(name).known
        assert known._packed is None, name
        assert known.to_state() == last[name]["known"]
        assert last[name]["known"]["count"] > 0


def test_a_walk_checkpoints_once_every_tables_waiting_rows_reach_batch_size(
    emulator, catalog, monkeypatch
):
    """The SDK holds every table's rows until a checkpoint: a walk checkpoints once the rows
    the tables wrote since the last one reach batch_size, not only its own."""
    settings = validate_configuration(
        emulator_configuration(emulator, tables="contacts", batch_size="1000"), catalog
    )
    operations = RecordingOperations()
    as_in_a_new_process()
    sync = DatabaseSync(settings, catalog, None, operations)
    truncate = TableSync._truncate

    def truncated(table_sync, position):
        truncate(table_sync, position)
        sync.state.waiting(999)  # another table's rows, written since that checkpoint

    monkeypatch.setattr(TableSync, "_truncate", truncated)
    (contacts,) = sync.start()
    contacts()
    sync.close()
    positions = [c["tables"]["contacts"].get("id") for c in operations.checkpoints]
    # the truncate's, the first page's (200 of 230 contacts: 999 + 200 rows wait), the walk's end
    assert len(positions) == 3 and positions[0] is None and None not in positions[1:]
    assert sync.state.waiting(0) == 0  # counted again from the last checkpoint
