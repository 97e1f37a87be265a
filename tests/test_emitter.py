"""A table's emitter: what it writes, what it leaves unwritten, and what its set remembers."""

from act_connector.emitter import Emitter
from act_connector.known import KnownSet
from act_connector.packing import cursor_value
from act_connector.paging import Position
from act_connector.state import SyncState
from tests.helpers import RecordingOperations

CONTACTS = [
    {"id": f"0000000{n}-0000-4000-8000-000000000000", "edited": f"2025-01-0{n}T00:00:00+00:00"}
    for n in range(1, 4)
]


class CountingLookups(KnownSet):
    """A remembered set that counts the lookups made of it."""

    lookups = 0

    def get(self, record_id):
        CountingLookups.lookups += 1
        return super().get(record_id)


def contacts_emitter(catalog, operations, state=None) -> Emitter:
    return Emitter(
        catalog.tables["contacts"], state or SyncState.load(None, catalog), operations, True
    )


def test_a_table_read_from_scratch_asks_its_set_nothing_and_remembers_every_record(
    catalog, monkeypatch
):
    monkeypatch.setattr("act_connector.emitter.KnownSet", CountingLookups)
    monkeypatch.setattr(CountingLookups, "lookups", 0)  # counted from here, whatever ran before
    operations = RecordingOperations()
    emitter = contacts_emitter(catalog, operations)
    emitter.truncate()
    emitter.upsert(CONTACTS)
    emitter.upsert(CONTACTS[:1])  # read again in the same sync: written again, at no cost
    assert CountingLookups.lookups == 0
    assert [row["id"] for row in operations.rows("contacts")] == [
        *(contact["id"] for contact in CONTACTS),
        CONTACTS[0]["id"],
    ]
    known = emitter.known
    assert len(known) == len(CONTACTS)
    assert all(known.get(c["id"]) == cursor_value(c["edited"]) for c in CONTACTS)


def test_a_table_read_on_from_its_position_leaves_what_it_has_as_it_is_unwritten(catalog):
    first = RecordingOperations()
    state = SyncState.load(None, catalog)
    emitter = contacts_emitter(catalog, first, state)
    emitter.truncate()
    emitter.upsert(CONTACTS)
    emitter.checkpoint(Position(CONTACTS[-1]["edited"], CONTACTS[-1]["id"]))
    later = RecordingOperations()  # the next sync, from the state the first left
    again = contacts_emitter(catalog, later, SyncState.load(first.checkpoints[-1], catalog))
    edited = {**CONTACTS[1], "edited": "2025-02-01T00:00:00+00:00"}
    again.upsert([CONTACTS[0], edited, CONTACTS[2]])  # the look-back reads two again as they were
    assert [row["id"] for row in later.rows("contacts")] == [edited["id"]]
    assert (again.read, again.upserted, again.unchanged) == (3, 1, 2)
