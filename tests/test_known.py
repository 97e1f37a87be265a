"""The remembered set: its encoding in the state, and its comparison with a listing."""

import json
import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from act_connector.known import (
    FOLD_AT,
    KEY,
    NOT_KNOWN,
    KnownSet,
    _Keys,
    cursor_moment,
    cursor_value,
    pack_id,
    unpack_id,
)

GUID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def round_trip(known: KnownSet) -> KnownSet:
    """Through the state as the SDK keeps it: JSON text."""
    return KnownSet.from_state(json.loads(json.dumps(known.to_state())))


@pytest.mark.parametrize(
    "record_id",
    [GUID, GUID + "01312026", GUID + "12012025", "00000000-0000-0000-0000-000000000000"],
)
def test_guids_and_activity_occurrence_ids_pack_both_ways(record_id):
    key = pack_id(record_id)
    assert len(key) == 20
    assert unpack_id(key) == record_id


@pytest.mark.parametrize(
    "record_id",
    [GUID.upper(), GUID + "0131202", GUID + "2026-1-1", GUID[:-1], 12, "c001", GUID + "٠١٣١٢٠٢٦"],
)
def test_other_ids_do_not_pack(record_id):
    assert pack_id(record_id) is None


@pytest.mark.parametrize(
    ("raw", "cursor"),
    [
        ("2025-07-26T18:46:00+00:00", 1753555560),
        ("2025-07-26T20:46:00+02:00", 1753555560),
        ("2025-07-26T18:46:00Z", 1753555560),
        ("2025-07-26T18:46:00.5Z", "2025-07-26T18:46:00.500000Z"),
        ("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z"),
        ("not a date", "not a date"),
        ("", None),
        (None, None),
    ],
)
def test_cursor_values(raw, cursor):
    assert cursor_value(raw) == cursor
    if cursor is not None and raw != "not a date":
        assert cursor_moment(cursor) is not None


def test_every_kind_of_id_and_cursor_survives_the_state():
    known = KnownSet()
    entries = {
        GUID: 1753555560,
        GUID.replace("6f", "7a") + "01312026": 1700000000,
        GUID.upper(): 1753555561,
        17: "2025-07-26T18:46:00.500000Z",
        "17": None,
        "c001": "not a date",
    }
    for record_id, cursor in entries.items():
        known.put(record_id, cursor)
    again = round_trip(known)
    assert len(again) == len(entries)
    assert {record_id: again.get(record_id) for record_id in entries} == entries
    assert again.get("c002") is NOT_KNOWN


def test_an_unchanged_set_is_not_encoded_again():
    known = KnownSet()
    known.put(GUID, 5)
    entry = known.to_state()
    known.put(GUID, 5)  # the same record read again (a look-back, a resumed page)
    assert known.to_state() is entry
    loaded = KnownSet.from_state(entry)
    assert loaded.to_state() is entry  # a quiet sync sends back what it was given
    loaded.put(GUID, 6)
    assert loaded.to_state()["count"] == 1 and loaded.to_state() is not entry


@pytest.mark.parametrize(
    "entry",
    [
        None,
        "x",
        {"format": 2, "count": 0, "packed": ""},
        {"format": 1, "count": 1, "packed": "!!"},
        {"format": 1, "count": 2, "packed": "eJwDAAAAAAE="},  # empty, but claims 2
    ],
)
def test_a_damaged_entry_is_refused(entry):
    with pytest.raises(ValueError):
        KnownSet.from_state(entry)


def test_bytes_per_record_of_guids():
    rng = random.Random(3)
    known = KnownSet()
    for _ in range(20_000):
        known.put(guid(rng), 1704067200 + rng.randrange(600 * 86400))
    size = len(json.dumps(known.to_state()))
    assert 20 < size / 20_000 < 25  # the README states about 22 to 24


def test_a_census_finds_what_the_listing_left_out():
    rng = random.Random(5)
    ids = [guid(rng) for _ in range(50)] + [7, "odd-id"]
    known = KnownSet()
    for record_id in ids:
        known.put(record_id, 100)
    census = known.census()
    for record_id in ids[::2]:
        assert census.see(record_id) == 100
    assert census.see("never-seen") is NOT_KNOWN
    assert sorted(map(str, census.unseen())) == sorted(map(str, ids[1::2]))
    assert census.repeats == 0
    census.see(ids[0])
    assert census.repeats == 1


ids_strategy = st.one_of(
    st.uuids().map(str),
    st.tuples(st.uuids(), st.dates()).map(lambda p: str(p[0]) + p[1].strftime("%m%d%Y")),
    st.integers(0, 50),
    st.text(max_size=5),
)
cursors_strategy = st.one_of(
    st.integers(0, 2**32 - 1), st.none(), st.sampled_from(["2025-01-01T00:00:00.5Z", "odd"])
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["put", "discard", "save"]), ids_strategy, cursors_strategy),
        max_size=60,
    )
)
def test_the_set_behaves_as_a_dict_through_any_changes_and_saves(steps):
    model: dict = {}
    known = KnownSet()
    for action, record_id, cursor in steps:
        if action == "put":
            known.put(record_id, cursor)
            model[record_id] = cursor
        elif action == "discard":
            known.discard(record_id)
            model.pop(record_id, None)
        else:
            known = round_trip(known)
        assert len(known) == len(model)
    assert {record_id: known.get(record_id) for record_id in model} == model
    assert sorted(map(repr, known.census().unseen())) == sorted(map(repr, model))


def test_many_changes_are_folded_as_they_come():
    rng = random.Random(9)
    known = KnownSet()
    ids = [guid(rng) for _ in range(FOLD_AT + 10)]
    for record_id in ids:
        known.put(record_id, 1)
    assert len(known._changes) < FOLD_AT  # memory stays bounded while a table is read
    for record_id in ids[:100]:
        known.discard(record_id)
    assert len(round_trip(known)) == FOLD_AT - 90


# Keys and cursors of two byte values: a key's bytes then also appear across a cursor and the
# next key, where the search must not take them for the key.
TWO_BYTES = st.sampled_from([0, 1])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(TWO_BYTES, min_size=KEY, max_size=KEY).map(bytes), max_size=300),
    st.lists(TWO_BYTES, min_size=4, max_size=4).map(bytes),
)
def test_a_key_is_found_where_bisecting_finds_it(keys, cursor):
    rows = b"".join(key + cursor for key in sorted(set(keys)))
    packed = _Keys(rows)
    windows = {rows[at : at + KEY] for at in range(len(rows) - KEY + 1)}
    for probe in windows | set(keys) | {bytes(KEY), b"\x02" * KEY}:
        index = packed.position(probe)
        expected = index if index < len(packed) and packed[index] == probe else None
        assert packed.find(probe) == expected
