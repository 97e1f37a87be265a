"""The remembered set: its encoding in the state, and its comparison with a listing."""

import base64
import json
import random
import tracemalloc
import uuid
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from act_connector.known import FOLD_AT, NOT_KNOWN, KnownSet, _Keys
from act_connector.packing import (
    ID_BYTES,
    KEY_SIZES,
    SECONDS_LIMIT,
    cursor_value,
    pack_id,
    pack_key,
    remembered_moment,
    unpack_id,
    unpack_key,
)
from act_connector.timestamps import parse_timestamp

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
    "key", [f"{GUID}|{GUID.replace('6f', '7a')}", f"{GUID}01312026|{GUID}", f"{GUID}|{GUID}"]
)
def test_a_pair_of_ids_packs_both_ways(key):
    packed = pack_key(key)
    assert len(packed) == 2 * ID_BYTES
    assert unpack_key(packed) == key


@pytest.mark.parametrize(
    "key", [f"{GUID}|c001", f"c001|{GUID}", f"{GUID}|{GUID}|{GUID}", f"{GUID}|", f"|{GUID}", 7]
)
def test_a_pair_with_another_id_does_not_pack(key):
    assert pack_key(key) is None


@pytest.mark.parametrize(
    ("raw", "cursor"),
    [
        ("2025-07-26T18:46:00+00:00", 1753555560),
        ("2025-07-26T20:46:00+02:00", 1753555560),
        ("2025-07-26T18:46:00Z", 1753555560),
        # A fraction of a second: .NET ticks (100 ns) since year 1, whatever the offset or
        # the number of digits.
        ("2025-07-26T18:46:00.5Z", 638891523605000000),
        ("2025-07-26T20:46:00.5000000+02:00", 638891523605000000),
        ("2025-07-26T18:46:00.1234567Z", 638891523601234560),  # what Python keeps: microseconds
        ("1900-01-01T00:00:00Z", 599266080000000000),
        ("9999-12-31T00:00:00+00:00", 3155378112000000000),  # an open opportunity's close date
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),  # .NET's no-date: below SECONDS_LIMIT
        # Past year 9999 in UTC: no datetime holds it, so it stays text (as format_utc clamps it)
        ("9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.999999Z"),
        ("not a date", "not a date"),
        ("", None),
        (None, None),
    ],
)
def test_cursor_values(raw, cursor):
    assert cursor_value(raw) == cursor
    if cursor is not None and raw != "not a date" and "-05:00" not in raw:
        assert remembered_moment(cursor) == parse_timestamp(raw)
    if cursor is not None:
        assert remembered_moment(cursor) is not None or raw == "not a date"  # never an overflow


@given(st.datetimes(timezones=st.just(timezone.utc)), st.integers(-14 * 60, 14 * 60))
@settings(max_examples=300, deadline=None)
def test_an_instant_has_one_cursor_whatever_its_offset(moment, minutes):
    offset = timezone(timedelta(minutes=minutes))
    try:
        shown = moment.astimezone(offset).isoformat()
    except OverflowError:  # past year 9999 or before year 1 in that offset
        return
    cursor = cursor_value(shown)
    assert cursor == cursor_value(moment.isoformat())
    assert remembered_moment(cursor) == moment
    assert isinstance(cursor, int) or moment < datetime(1, 1, 1, 0, 8, tzinfo=timezone.utc)
    if isinstance(cursor, int) and cursor >= SECONDS_LIMIT:
        assert moment.microsecond or not 0 <= moment.timestamp() < SECONDS_LIMIT


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
        {"format": 3, "count": 0, "packed": ""},
        {"format": 1, "count": 1, "packed": "!!"},
        {"format": 1, "count": 2, "packed": "eJwDAAAAAAE="},  # empty, but claims 2
        {"format": 2, "count": 2, "packed": "eJwDAAAAAAE="},
        # 56 bytes: two records of 28, but of keys it does not pack
        {"format": 2, "count": 2, "key_bytes": 24, "packed": "eAFjYCAPAAAAOAAB"},
        {"format": 2, "count": 1, "key_bytes": 20, "packed": "eAFjYCAPAAAAOAAB"},  # 2 records
        # 56 bytes in two records, but a plane said to be kept as it is has none of its bytes
        {"format": 2, "count": 2, "key_bytes": 20, "packed": "eAFjYCAPAAAAOAAB",
         "raw_planes": [3]},
        # every plane squeezed, yet one said to be kept as it is: 58 bytes, no records of 28
        {"format": 2, "count": 2, "key_bytes": 20, "packed": "eAFjYCAPAAAAOAAB",
         "raw": "AAA=", "raw_planes": [0]},
        {"format": 2, "count": 2, "key_bytes": 20, "packed": "eAFjYCAPAAAAOAAB",
         "raw": "AAA=", "raw_planes": ["0"]},
    ],
)  # fmt: skip
def test_a_damaged_entry_is_refused(entry):
    with pytest.raises(ValueError):
        KnownSet.from_state(entry)


def test_the_random_bytes_of_guids_are_kept_as_they_are_not_squeezed():
    """A GUID's random bytes do not compress: squeezing them took three quarters of the time
    to encode a set, at every checkpoint, for no smaller text."""
    rng = random.Random(5)
    known, records = KnownSet(), {}
    for _ in range(20_000):
        records[guid(rng)] = 1704067200 + rng.randrange(600 * 86400)
    for record_id, cursor in records.items():
        known.put(record_id, cursor)
    entry = known.to_state()
    assert len(entry["raw_planes"]) >= 12  # of a GUID's 16 bytes (the version's is not random)
    # Squeezed: the first byte (sorted), the date a plain GUID lacks, a cursor's high bytes.
    assert not set(entry["raw_planes"]) & {0, 16, 17, 18, 19, 20, 21, 22}
    squeezed = zlib.compress(base64.b64decode(entry["raw"]), 1)
    assert len(squeezed) > 0.95 * len(base64.b64decode(entry["raw"]))  # nothing to gain
    loaded = round_trip(known)
    assert len(loaded) == len(records)
    assert all(loaded.get(record_id) == cursor for record_id, cursor in records.items())


def test_bytes_per_record_of_guids():
    rng = random.Random(3)
    known = KnownSet()
    for _ in range(20_000):
        known.put(guid(rng), 1704067200 + rng.randrange(600 * 86400))
    size = len(json.dumps(known.to_state()))
    assert 20 < size / 20_000 < 25  # the README states about 22 to 24


def fractional(rng: random.Random) -> str:
    """An edit time as real Act! data has it: a fraction of a second, an offset."""
    moment = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5)))
    return (moment + timedelta(microseconds=rng.randrange(600 * 86400 * 10**6))).isoformat()


def test_fractional_edit_times_and_pair_keys_pack():
    rng = random.Random(4)
    records, links = KnownSet(), KnownSet()
    activities = [guid(rng) + f"{rng.randrange(1, 13):02d}012026" for _ in range(5_000)]
    for activity in activities:
        records.put(activity, cursor_value(fractional(rng)))
        for position in range(rng.randrange(1, 4)):
            links.put(f"{activity}|{guid(rng)}", position)
    for known, width in ((records, ID_BYTES), (links, 2 * ID_BYTES)):
        entry = known.to_state()
        assert entry["key_bytes"] == width and "other" not in entry
        assert not known._other  # every record packed: no JSON fallback
        assert len(known._keys.rows) == len(known) * (width + 8)
    assert len(json.dumps(records.to_state())) / len(records) < 32
    assert len(json.dumps(links.to_state())) / len(links) < 40  # about 60 as JSON
    again = round_trip(links)
    assert sorted(again.census().unseen()) == sorted(links.census().unseen())


def format_1(packed: dict[str, int], other: list) -> dict:
    """A set as the previous version wrote it: 20-byte ids with 4-byte cursors, byte planes."""
    rows = b"".join(
        pack_id(key) + cursor.to_bytes(4, "big")
        for key, cursor in sorted(packed.items(), key=lambda item: pack_id(item[0]))
    )
    planes = b"".join(rows[byte::24] for byte in range(24))
    entry = {"format": 1, "count": len(packed) + len(other)}
    entry["packed"] = base64.b64encode(zlib.compress(planes)).decode("ascii")
    if other:
        text = json.dumps(other).encode("utf-8")
        entry["other"] = base64.b64encode(zlib.compress(text)).decode("ascii")
    return entry


def test_a_set_of_the_first_format_is_not_read_as_if_it_were_this_one():
    """No deployed connector writes format 1 any longer: its table builds its set again (the
    state's loader warns and reconciles afresh) rather than misreading 4-byte cursors."""
    entry = format_1({GUID: 1753555560}, [["c001", "2025-07-26T18:46:00.500000Z"]])
    with pytest.raises(ValueError, match="not a remembered set of this connector's format"):
        KnownSet.from_state(json.loads(json.dumps(entry)))


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
    st.tuples(st.uuids(), st.uuids()).map(lambda p: f"{p[0]}|{p[1]}"),
    st.tuples(st.uuids(), st.dates()).map(lambda p: str(p[0]) + p[1].strftime("%m%d%Y")),
    st.integers(0, 50),
    st.text(max_size=5),
)
cursors_strategy = st.one_of(
    st.integers(0, 2**32 - 1),
    st.integers(2**32, 2**64 - 1),
    st.integers(2**64, 2**65),  # does not pack: kept as it is
    st.none(),
    st.sampled_from(["2025-01-01T00:00:00.5Z", "odd"]),
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


def peak_while(action) -> tuple[int, object]:
    """The most memory (traced) `action` had allocated at once beyond what was live before it,
    and what it returned."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = action()
        return tracemalloc.get_traced_memory()[1] - before, result
    finally:
        tracemalloc.stop()


def test_a_large_set_is_changed_and_encoded_without_copies_of_itself():
    """Every checkpoint folds a page's changes in and encodes the set: transient copies of a set
    of 200,000 records were megabytes each, and grew the sync's memory with the table."""
    rng = random.Random(11)
    known = KnownSet()
    for _ in range(100_000):
        known.put(guid(rng), 1704067200 + rng.randrange(600 * 86400))
    known.to_state()
    rows = len(known._keys.rows)
    for _ in range(1_000):  # a page's new records
        known.put(guid(rng), 1704067200)
    folding, _ = peak_while(known._fold)
    assert folding < 1.5 * rows  # the merged records, not copies of their runs besides
    encoding, entry = peak_while(known.to_state)
    text = len(entry["packed"]) + len(entry["raw"])
    assert encoding < 2.7 * text  # the encoding, then its text
    assert len(round_trip(known)) == 101_000


# Keys and cursors of two byte values: a key's bytes then also appear across a cursor and the
# next key, where the search must not take them for the key.
TWO_BYTES = st.sampled_from([0, 1])


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(KEY_SIZES).flatmap(
        lambda width: st.lists(
            st.lists(TWO_BYTES, min_size=width, max_size=width).map(bytes), max_size=300
        )
    ),
    st.lists(TWO_BYTES, min_size=8, max_size=8).map(bytes),
)
def test_a_key_is_found_where_bisecting_finds_it(keys, cursor):
    width = len(keys[0]) if keys else ID_BYTES
    rows = b"".join(key + cursor for key in sorted(set(keys)))
    packed = _Keys(rows, width)
    windows = {rows[at : at + width] for at in range(len(rows) - width + 1)}
    for probe in windows | set(keys) | {bytes(width), b"\x02" * width}:
        index = packed.position(probe)
        expected = index if index < len(packed) and packed[index] == probe else None
        assert packed.find(probe) == expected


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 300), st.integers(1, 4))
def test_a_parents_pairs_are_found_among_many(rng, count, chosen):
    """Packed, the pairs of a parent are one run of sorted records; ones that do not pack are
    found too; neighbouring parents (one byte apart) and the changes not yet folded count."""
    parents = [guid(rng) for _ in range(count // 10 + 2)]
    parents.append(parents[0][:-1] + ("0" if parents[0][-1] != "0" else "1"))  # a neighbour
    known = KnownSet()
    pairs = [f"{rng.choice(parents)}|{guid(rng)}" for _ in range(count)]
    pairs.append(f"{parents[0]}|not-a-guid")
    for position, pair in enumerate(pairs):
        known.put(pair, position)
    known = round_trip(known)
    known.put(f"{parents[1]}|{guid(rng)}", 1)  # not folded in yet
    known.discard(pairs[0])
    wanted = set(rng.sample(parents, min(chosen, len(parents))))
    live = (set(pairs) - {pairs[0]}) | {key for key in known._changes if known.get(key) == 1}
    expected = sorted(pair for pair in live if pair.split("|")[0] in wanted)
    assert sorted(known.pairs_of(wanted)) == expected


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 200), st.integers(0, 4))
def test_pairs_are_found_by_their_child_and_outside_a_set_of_parents(rng, count, chosen):
    """The children some pair holds, wherever it stands in the packed records (not an id that
    is only a parent), and the pairs of parents not among a set; what does not pack and the
    changes not yet folded count too."""
    parents = [guid(rng) for _ in range(count // 10 + 2)]
    children = [guid(rng) for _ in range(count // 3 + 2)] + [parents[0]]
    known = KnownSet()
    pairs = {f"{rng.choice(parents)}|{rng.choice(children)}" for _ in range(count)}
    pairs |= {f"{parents[1]}|not-a-guid", f"{parents[0]}|{parents[1]}"}
    for position, pair in enumerate(sorted(pairs)):
        known.put(pair, position)
    known = round_trip(known)
    added = f"{parents[-1]}|{children[0]}"
    known.put(added, 1)  # not folded in yet
    removed = sorted(pairs)[0]
    known.discard(removed)
    live = (pairs | {added}) - {removed}
    asked = set(rng.sample(children, min(chosen * 3, len(children))))
    asked |= {"not-a-guid", parents[1], parents[-1], "7"}
    expected = {child for child in asked if any(pair.split("|")[1] == child for pair in live)}
    assert known.children_held(asked) == expected
    inside = set(rng.sample(parents, min(chosen, len(parents))))
    expected = sorted(pair for pair in live if pair.split("|")[0] not in inside)
    assert sorted(known.pairs_outside(inside)) == expected


# Found by a mutation check: each of these fails on a mutant the tests above let live.
def test_every_record_of_a_set_larger_than_one_stretch_is_found():
    rng = random.Random(12)
    ids = [guid(rng) for _ in range(1_000)]
    known = KnownSet()
    for number, record_id in enumerate(ids):
        known.put(record_id, 1_700_000_000 + number)
    known = round_trip(known)
    assert [known.get(record_id) for record_id in ids] == [1_700_000_000 + n for n in range(1_000)]
    census = known.census()
    assert [census.see(record_id) for record_id in ids] == [known.get(i) for i in ids]
    assert census.unseen() == [] and census.repeats == 0


@pytest.mark.parametrize("record_id", [7, "c001", GUID.upper()])
def test_an_id_kept_as_it_is_can_be_discarded(record_id):
    known = KnownSet()
    known.put(record_id, "not a date")
    known.to_state()
    known.discard(record_id)
    assert known.get(record_id) is NOT_KNOWN and len(known) == 0
    assert len(round_trip(known)) == 0


def test_a_record_whose_cursor_comes_to_pack_is_known_by_its_new_cursor():
    known = KnownSet()
    known.put(GUID, None)
    assert len(known) == 1  # folded in, unpacked
    known.put(GUID, 1_753_555_560)
    assert known.get(GUID) == 1_753_555_560 and len(known) == 1
    assert round_trip(known).get(GUID) == 1_753_555_560


def test_pairs_of_a_parent_whose_id_does_not_pack_are_found():
    known, child = KnownSet(), GUID.replace("6f", "7a")
    known.put(f"{GUID}|{child}", 1)
    known.put(f"c001|{child}", 2)
    expected = sorted([f"c001|{child}", f"{GUID}|{child}"])
    assert sorted(known.pairs_of({"c001", GUID})) == expected


def test_an_id_that_does_not_pack_listed_twice_is_a_repeat():
    known = KnownSet()
    for record_id in (7, "c001", GUID):
        known.put(record_id, 100)
    census = known.census()
    for record_id in (7, "c001", GUID, 7):
        census.see(record_id)
    assert census.repeats == 1


@pytest.mark.parametrize(
    "raw", ["2106-02-07T06:28:16Z", "2106-02-07T06:28:15Z", "9999-12-31T23:59:59.9999999Z"]
)
def test_edit_times_at_the_limits_pack_and_mean_what_they_said(raw):
    cursor = cursor_value(raw)
    assert isinstance(cursor, int) and remembered_moment(cursor) == parse_timestamp(raw)


@pytest.mark.parametrize("count", [0, 56])
def test_records_of_a_key_size_it_does_not_pack_are_refused(count):
    entry = {"format": 2, "count": count, "key_bytes": 24, "packed": "eAFjYCAPAAAAOAAB"}
    with pytest.raises(ValueError):
        KnownSet.from_state(entry)


def test_a_set_set_aside_keeps_only_its_state_form_and_reads_itself_back():
    """A table done syncing frees its packed records (later checkpoints only send its text);
    asked again, the set is as it was."""
    rng = random.Random(7)
    links = KnownSet()
    parents = [guid(rng) for _ in range(300)]
    for parent in parents:
        for position in range(3):
            links.put(f"{parent}|{guid(rng)}", position)
    entry = links.to_state()
    lost = sorted(links.pairs_of({parents[0]}))
    links.set_aside()
    assert links._packed is None  # the packed records are freed
    assert links.to_state() is entry  # what checkpoints send, unchanged and not encoded again
    assert links._packed is None
    assert sorted(links.pairs_of({parents[0]})) == lost  # read back from its text
    assert len(links) == 900 and links.get(lost[0]) == 0
    links.discard(lost[0])
    assert links.to_state()["count"] == 899
