"""The remembered set: the records a table has live in the destination, each with its edit time.

Act! has no feed of deleted records: a deletion shows only as an id that Act! no longer lists.
So the connector remembers, per incremental table, every id it has written and not since deleted,
with the cursor value (edit time) it was written with. Reconciliation lists Act!'s ids and edit
times and compares: an id remembered but not listed was deleted; an id listed with an edit time
that differs from the remembered one, at or below the saved cursor, was stamped in the past and
incremental paging could not see it. Link and line-item tables remember their "parent|child" keys
the same way, with a position or a digest of the row in place of the edit time.

The SDK keeps nothing between syncs but the state, so the set lives there, small:

- An id that is a lower-case GUID (or an activity occurrence's GUID followed by MMddyyyy) packs
  into 20 bytes, and a "parent|child" key of two such ids into 40. A cursor packs into 8 bytes:
  an edit time in whole seconds as seconds since 1970, one with a fraction of a second (as
  real Act! data has) in .NET's 100-ns ticks since year 1, a digest or a position as it is.
  The records are sorted and cut into byte planes (every record's first byte, then every second
  byte, …), so that zlib squeezes what sorting made alike (leading id bytes, a parent's repeated
  id, the high bytes of edit times, the constant date of plain GUIDs), and the result is base64:
  about 23 bytes a record in the state (`make bench` measures it).
- Any other id or cursor (an integer id, an upper-case GUID, a text that is no timestamp) is kept
  as it is in JSON, zlib-compressed: correct for every table, only larger.

In memory the packed records stay one sorted bytes object (28 or 48 bytes a record), found by a
search within a stretch of it; changes gather in a small dict and are folded in at each
checkpoint, when pairs are looked up (a parent's are a run of the records), or sooner when many.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta, timezone

from act_connector.timestamps import format_utc, parse_timestamp

# A cursor as remembered: an int when it packs (see SECONDS_LIMIT), else the UTC text (or, for a
# value that is no timestamp at all, the text as sent); None when a record has none.
Cursor = int | str | None

# Records remembered per table at most. The SDK sends the whole state at every checkpoint and the
# documented guide keeps a state under 10 MB: 250,000 records are about 6 MB, so one table at the
# limit fits with room for the others. A larger table falls back to deletions at re-syncs only.
KNOWN_LIMIT = 250_000
# Of the state's "known" entry. Format 1 (single ids, 4-byte cursors) is read and converted, so an
# upgrade re-writes nothing; another value is not read (the set is rebuilt).
FORMAT = 2
OLD_FORMAT = 1
ID_BYTES = 20  # of a packed id: 16 of GUID, 4 of the MMddyyyy an activity occurrence adds
PAIR_SEPARATOR = "|"  # of a "parent|child" key; GUIDs hold no "|"
KEY_SIZES = (ID_BYTES, 2 * ID_BYTES)  # a table's keys are ids or pairs of ids, never both
CURSOR_BYTES = 8  # big-endian, so that bytes order is numeric order
OLD_CURSOR_BYTES = 4
CURSOR_LIMIT = 2 ** (8 * CURSOR_BYTES)  # MAX_TICKS is below it
NO_DATE = b"\xff\xff\xff\xff"  # the date part of a plain GUID (no MMddyyyy reaches it)
# An int cursor below this is whole seconds since 1970 (or a digest or position, which fit too);
# at or above it, 100-ns ticks since 0001-01-01 (every instant from year 1 plus 7 minutes on).
# Whole seconds stay seconds, so that format 1's cursors keep their meaning.
SECONDS_LIMIT = 2**32
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TICKS_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
TICKS_PER_MICROSECOND = 10
MAX_TICKS = (
    (datetime.max.replace(tzinfo=timezone.utc) - TICKS_EPOCH)
    // timedelta(microseconds=1)
    * TICKS_PER_MICROSECOND
)
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
GUID_LENGTH = 36
DATE_DIGITS = 8  # MMddyyyy
SPARSE = 64  # records per stretch of the two-step search (see _Keys)
# Changes gathered before they are folded into the packed records: bounds the dict's memory
# (about 150 bytes an entry) while a large table is read from scratch.
FOLD_AT = 20_000
# zlib's fastest level: about 1% larger than its default here, in 60% of the time, and the set is
# encoded again at every checkpoint that changed it.
ZLIB_LEVEL = 1


class _NotKnown:
    def __repr__(self) -> str:
        return "NOT_KNOWN"


NOT_KNOWN = _NotKnown()  # what a lookup answers for an id that is not remembered
_DELETED = _NotKnown()  # a change that removes an id


def cursor_value(raw) -> Cursor:
    """The remembered form of a record's cursor field, as Act! sent it: one instant has one form,
    whatever its offset or number of fractional digits."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        moment = parse_timestamp(raw)
    except ValueError:
        return raw
    if moment.microsecond == 0:
        seconds = (moment - UNIX_EPOCH) // timedelta(seconds=1)
        if 0 <= seconds < SECONDS_LIMIT:
            return seconds
    ticks = (moment - TICKS_EPOCH) // timedelta(microseconds=1) * TICKS_PER_MICROSECOND
    if SECONDS_LIMIT <= ticks <= MAX_TICKS:
        return ticks
    # .NET's first instant with an offset that puts it before year 1, or its last with one that
    # puts it past year 9999 (which no datetime holds: cursor_moment could not give it back).
    return format_utc(moment)


def cursor_moment(cursor: Cursor) -> datetime | None:
    """The instant a remembered cursor stands for; None when it is no timestamp."""
    if isinstance(cursor, int):
        if cursor < SECONDS_LIMIT:
            return UNIX_EPOCH + timedelta(seconds=cursor)
        return TICKS_EPOCH + timedelta(microseconds=cursor // TICKS_PER_MICROSECOND)
    try:
        return parse_timestamp(cursor) if isinstance(cursor, str) else None
    except ValueError:
        return None


def pack_id(record_id) -> bytes | None:
    """The 20-byte form of a GUID or GUID+MMddyyyy id; None for any other id."""
    if type(record_id) is not str or not GUID.fullmatch(record_id, 0, GUID_LENGTH):
        return None
    date = record_id[GUID_LENGTH:]
    if not date:
        suffix = NO_DATE
    elif len(date) == DATE_DIGITS and date.isascii() and date.isdigit():
        suffix = int(date).to_bytes(4, "big")
    else:
        return None
    return bytes.fromhex(record_id[:GUID_LENGTH].replace("-", "")) + suffix


def unpack_id(key: bytes) -> str:
    text = key[:16].hex()
    guid = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    date = key[16:ID_BYTES]
    return guid if date == NO_DATE else guid + f"{int.from_bytes(date, 'big'):0{DATE_DIGITS}d}"


def pack_key(record_id) -> bytes | None:
    """The packed form of an id (20 bytes) or of a "parent|child" key of two ids (40)."""
    if type(record_id) is not str:
        return None
    parent, separator, child = record_id.partition(PAIR_SEPARATOR)
    if not separator:
        return pack_id(record_id)
    parent_key, child_key = pack_id(parent), pack_id(child)
    return None if parent_key is None or child_key is None else parent_key + child_key


def _parent(key: str) -> str:
    return key.partition(PAIR_SEPARATOR)[0]


def unpack_key(key: bytes) -> str:
    if len(key) == ID_BYTES:
        return unpack_id(key)
    return unpack_id(key[:ID_BYTES]) + PAIR_SEPARATOR + unpack_id(key[ID_BYTES:])


class _Keys:
    """The keys of packed records as a sorted sequence, searched in two steps: first among every
    SPARSE-th key (a list, which bisect searches at C speed), then within that stretch."""

    def __init__(self, rows: bytes, width: int):
        self.rows, self.width, self.row = rows, width, width + CURSOR_BYTES
        self._sparse = [rows[at : at + width] for at in range(0, len(rows), SPARSE * self.row)]

    def __len__(self) -> int:
        return len(self.rows) // self.row

    def __getitem__(self, index: int) -> bytes:
        return self.rows[index * self.row : index * self.row + self.width]

    def cursor(self, index: int) -> int:
        start = index * self.row + self.width
        return int.from_bytes(self.rows[start : start + CURSOR_BYTES], "big")

    def position(self, key: bytes) -> int:
        """Where the key is, or would be inserted (bisect_left)."""
        stretch = bisect_right(self._sparse, key)
        low = max(0, (stretch - 1) * SPARSE)
        return bisect_left(self, key, low, min(len(self), stretch * SPARSE))

    def find(self, key: bytes | None) -> int | None:
        """The key's index, or None. Looked for as bytes in the one stretch that can hold it (a
        C-speed search, where bisecting would index it from Python); only a match at the
        start of a record is the key, not one across a cursor and the next key."""
        if key is None or len(key) != self.width:
            return None
        stretch = bisect_right(self._sparse, key) - 1
        if stretch < 0:
            return None
        start = stretch * SPARSE * self.row
        end = start + SPARSE * self.row
        at = self.rows.find(key, start, end)
        while at % self.row:  # -1 (not found) is no multiple of a row either
            if at == -1:
                return None
            at = self.rows.find(key, at + 1, end)
        return at // self.row


class KnownSet:
    """The ids a table has live in the destination, each with the cursor it was written with."""

    def __init__(
        self,
        rows: bytes = b"",
        other: dict | None = None,
        encoded: dict | None = None,
        width: int | None = None,
    ):
        # Bytes of a packed key (ID_BYTES, or twice that for pairs); set by the first key that
        # packs, and a key of the other size is kept as it is.
        self._width = width
        self._keys = _Keys(rows, width or ID_BYTES)  # packed records, sorted by key
        self._other: dict = other or {}  # id -> cursor, for what does not pack
        self._changes: dict = {}  # id -> cursor or _DELETED, not folded in yet
        self._encoded = encoded  # the state's form of the set as it is, while it is unchanged

    # -- reading and writing the state's form
    @classmethod
    def from_state(cls, entry) -> KnownSet:
        """The set from the state's "known" entry; ValueError when it cannot be trusted."""
        form = entry.get("format") if isinstance(entry, dict) else None
        if form not in (FORMAT, OLD_FORMAT):
            raise ValueError("not a remembered set of this connector's format")
        width = entry.get("key_bytes", ID_BYTES) if form == FORMAT else ID_BYTES
        cursor_bytes = CURSOR_BYTES if form == FORMAT else OLD_CURSOR_BYTES
        try:
            planes = zlib.decompress(base64.b64decode(entry.get("packed", ""), validate=True))
            other_text = entry.get("other")
            pairs = json.loads(zlib.decompress(base64.b64decode(other_text))) if other_text else []
        except (binascii.Error, zlib.error, TypeError, ValueError) as error:
            raise ValueError(f"unreadable ({error})") from None
        row = width + cursor_bytes if width in KEY_SIZES else 0
        count = len(planes) // row if row else 0
        if (planes and not row) or len(planes) != count * row:
            raise ValueError("its records are not of a size it packs")
        if count + len(pairs) != entry.get("count"):
            raise ValueError("its size does not match its count")
        rows = bytearray(len(planes))
        for byte in range(row):
            rows[byte::row] = planes[byte * count : (byte + 1) * count]
        if form == OLD_FORMAT:
            return cls._converted(bytes(rows), pairs)
        other = {record_id: cursor for record_id, cursor in pairs}
        return cls(bytes(rows), other, encoded=entry, width=width if count else None)

    @classmethod
    def _converted(cls, rows: bytes, pairs: list) -> KnownSet:
        """A format 1 set in this format: cursors widened, and what now packs (fractional edit
        times, pair keys) packed, each with the cursor `cursor_value` now gives its text."""
        old_row, padding = ID_BYTES + OLD_CURSOR_BYTES, bytes(CURSOR_BYTES - OLD_CURSOR_BYTES)
        wide = b"".join(
            rows[at : at + ID_BYTES] + padding + rows[at + ID_BYTES : at + old_row]
            for at in range(0, len(rows), old_row)
        )
        known = cls(wide, width=ID_BYTES if wide else None)
        for record_id, cursor in pairs:
            known.put(record_id, cursor_value(cursor) if isinstance(cursor, str) else cursor)
        known._fold()
        return known

    def to_state(self) -> dict:
        """The state's form: packed records in byte planes, the rest as JSON; cached."""
        self._fold()
        if self._encoded is None:
            rows = self._keys.rows
            entry = {"format": FORMAT, "count": len(self), "packed": _packed_text(self._keys)}
            if rows:
                entry["key_bytes"] = self._width
            if self._other:
                pairs = sorted(self._other.items(), key=lambda pair: str(pair[0]))
                text = json.dumps(pairs, separators=(",", ":")).encode("utf-8")
                entry["other"] = base64.b64encode(zlib.compress(text, ZLIB_LEVEL)).decode("ascii")
            self._encoded = entry
        return self._encoded

    # -- the set
    def __len__(self) -> int:
        self._fold()
        return len(self._keys) + len(self._other)

    def get(self, record_id) -> Cursor | _NotKnown:
        """The cursor an id was written with, or NOT_KNOWN."""
        if record_id in self._changes:
            cursor = self._changes[record_id]
            return NOT_KNOWN if cursor is _DELETED else cursor
        if record_id in self._other:
            return self._other[record_id]
        index = self._keys.find(pack_key(record_id))
        return NOT_KNOWN if index is None else self._keys.cursor(index)

    def put(self, record_id, cursor: Cursor) -> None:
        self._change(record_id, cursor)

    def discard(self, record_id) -> None:
        self._change(record_id, _DELETED)

    def census(self) -> Census:
        self._fold()
        return Census(self)

    def pairs_of(self, parent_ids: set[str]) -> list[str]:
        """The remembered "parent|child" keys of these parents: where they pack, one run of the
        sorted records each (their first 20 bytes are the parent's), found by bisection."""
        self._fold()
        found = [key for key, parent, _ in self._other_pairs() if parent in parent_ids]
        keys = self._keys
        if self._width != 2 * ID_BYTES:
            return found
        for parent in parent_ids:
            prefix = pack_id(parent)
            if prefix is None:
                continue
            index = keys.position(prefix)  # a prefix sorts before every key it starts
            while index < len(keys) and keys[index].startswith(prefix):
                found.append(unpack_key(keys[index]))
                index += 1
        return found

    def pairs_outside(self, parent_ids: set[str]) -> list[str]:
        """The remembered "parent|child" keys of parents not among these."""
        self._fold()
        found = [key for key, parent, _ in self._other_pairs() if parent not in parent_ids]
        if self._width != 2 * ID_BYTES:
            return found
        inside = {pack_id(parent) for parent in parent_ids}
        keys = self._keys
        outside = (keys[index] for index in range(len(keys)))
        return found + [unpack_key(key) for key in outside if key[:ID_BYTES] not in inside]

    def children_held(self, child_ids: set[str]) -> set[str]:
        """Those of these ids that some remembered "parent|child" key holds as its child: one
        pass over the set, however many are asked about."""
        self._fold()
        held = {child for _, _, child in self._other_pairs() if child in child_ids}
        packed = {key: child for child in child_ids if (key := pack_id(child)) is not None}
        if self._width != 2 * ID_BYTES or not packed:
            return held
        keys = self._keys
        for index in range(len(keys)):
            child = packed.get(keys[index][ID_BYTES:])
            if child is not None:
                held.add(child)
        return held

    def pairs_lost(self, now: dict[str, set[str]]) -> list[str]:
        """The remembered "parent|child" keys of these parents that are not among the keys each
        has now (`now`: parent id -> its keys as just read)."""
        return [key for key in self.pairs_of(set(now)) if key not in now[_parent(key)]]

    # -- internals
    def _other_pairs(self):
        """The keys kept as they are (they do not pack), each with its parent and child id;
        None for both where the key is no text."""
        for key in self._other:
            if isinstance(key, str):
                parent, _, child = key.partition(PAIR_SEPARATOR)
                yield key, parent, child
            else:
                yield key, None, None

    def _change(self, record_id, cursor) -> None:
        self._changes[record_id] = cursor
        if len(self._changes) >= FOLD_AT:
            self._fold()

    def _fold(self) -> None:
        """Folds the gathered changes in; the cached encoding goes only if something changed
        (a record read again as it was, a look-back's re-read, changes nothing)."""
        if not self._changes:
            return
        changed = False
        updates: dict[bytes, int | None] = {}  # packed key -> cursor, or None to remove
        for record_id, cursor in self._changes.items():
            key = pack_key(record_id)
            if key is not None and self._width is None:
                self._width = len(key)
            if key is not None and len(key) != self._width:
                key = None
            packs = key is not None and type(cursor) is int and 0 <= cursor < CURSOR_LIMIT
            if key is not None:
                updates[key] = cursor if packs else None
            if packs or cursor is _DELETED:
                changed |= self._other.pop(record_id, NOT_KNOWN) is not NOT_KNOWN
            else:
                changed |= self._other.get(record_id, NOT_KNOWN) != cursor
                self._other[record_id] = cursor
        self._changes.clear()
        if self._width is None:  # nothing packs yet
            if changed:
                self._encoded = None
            return
        keys = self._keys if self._keys.width == self._width else _Keys(b"", self._width)
        rows = _merged(keys, sorted(updates.items()))
        if changed or rows != self._keys.rows:
            self._keys, self._encoded = _Keys(rows, self._width), None


def _merged(keys: _Keys, updates: list[tuple[bytes, int | None]]) -> bytes:
    """The packed records with sorted updates applied (None removes a key)."""
    rows, row = memoryview(keys.rows), keys.row  # slices of a memoryview are no copies
    parts, at = [], 0
    for key, cursor in updates:
        index = keys.position(key)
        parts.append(rows[at * row : index * row])
        if cursor is not None:
            parts.append(key + cursor.to_bytes(CURSOR_BYTES, "big"))
        found = index < len(keys) and keys[index] == key
        at = index + 1 if found else index
    parts.append(rows[at * row :])
    return b"".join(parts)


def _packed_text(keys: _Keys) -> str:
    """The state's text of the packed records: byte planes, compressed, in base64. Made a plane
    at a time, and each form freed before the next is made, so that a large set costs twice
    its text at most, not five copies of itself (it is encoded at every checkpoint)."""
    rows, row = keys.rows, keys.row
    compressor, compressed = zlib.compressobj(ZLIB_LEVEL), bytearray()
    for byte in range(row):
        compressed += compressor.compress(rows[byte::row])
    compressed += compressor.flush()
    encoded = base64.b64encode(compressed)
    del compressed
    return encoded.decode("ascii")


class Census:
    """One comparison of a set with a listing: which remembered ids the listing showed.

    The set must not change while a census runs (its records are tallied by position).
    """

    def __init__(self, known: KnownSet):
        self._known = known
        self._seen = bytearray(len(known._keys))
        self._seen_other: set = set()
        self.repeats = 0  # ids listed more than once: the listing cannot be trusted

    def see(self, record_id) -> Cursor | _NotKnown:
        """Notes that the listing showed an id; the cursor it is remembered with, or NOT_KNOWN."""
        known = self._known
        index = known._keys.find(pack_key(record_id))
        if index is not None:
            self.repeats += self._seen[index]
            self._seen[index] = 1
            return known._keys.cursor(index)
        if record_id in known._other:
            self.repeats += record_id in self._seen_other
            self._seen_other.add(record_id)
            return known._other[record_id]
        return NOT_KNOWN

    def unseen(self) -> list:
        """The remembered ids the listing did not show."""
        keys, ids = self._known._keys, []
        index = self._seen.find(0)
        while index != -1:
            ids.append(unpack_key(keys[index]))
            index = self._seen.find(0, index + 1)
        ids += [record_id for record_id in self._known._other if record_id not in self._seen_other]
        return ids
