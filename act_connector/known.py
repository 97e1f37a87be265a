"""The remembered set: the records a table has live in the destination, each with its edit time.

Act! has no feed of deleted records: a deletion shows only as an id that Act! no longer lists.
So the connector remembers, per incremental table, every id it has written and not since deleted,
with the cursor value (edit time) it was written with. Reconciliation lists Act!'s ids and edit
times and compares: an id remembered but not listed was deleted; an id listed with an edit time
that differs from the remembered one, at or below the saved cursor, was stamped in the past and
incremental paging could not see it.

The SDK keeps nothing between syncs but the state, so the set lives there, small:

- An id that is a lower-case GUID (or an activity occurrence's GUID followed by MMddyyyy) packs
  into 20 bytes, and a whole-second edit time into 4 (seconds since 1970, up to 2106). The records
  are sorted and cut into byte planes (every record's first byte, then every second byte, …), so
  that zlib squeezes what sorting made alike (leading id bytes, the high bytes of edit times, the
  constant date of plain GUIDs), and the result is base64: about 23 bytes a record in the state
  (`make bench` measures it).
- Any other id or edit time (an integer id, an upper-case GUID, a fraction of a second) is kept
  as it is in JSON, zlib-compressed: correct for every table, only larger.

In memory the packed records stay one sorted bytes object (24 bytes a record), found by binary
search; changes gather in a small dict and are folded in at each checkpoint, or sooner when many.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from bisect import bisect_left, bisect_right
from datetime import datetime, timezone

from act_connector.timestamps import format_utc, parse_timestamp

# A cursor as remembered: whole UTC seconds since 1970 when they fit 4 bytes, else the UTC text
# (or, for a value that is no timestamp at all, the text as sent); None when a record has none.
Cursor = int | str | None

# Records remembered per table at most. The SDK sends the whole state at every checkpoint and the
# documented guide keeps a state under 10 MB: 250,000 records are about 6 MB, so one table at the
# limit fits with room for the others. A larger table falls back to deletions at re-syncs only.
KNOWN_LIMIT = 250_000
FORMAT = 1  # of the state's "known" entry; another value is not read (the set is rebuilt)
KEY = 20  # bytes of a packed id: 16 of GUID, 4 of the MMddyyyy an activity occurrence adds
ROW = KEY + 4  # and 4 of cursor, big-endian, so that bytes order is numeric order
NO_DATE = b"\xff\xff\xff\xff"  # the date part of a plain GUID (no MMddyyyy reaches it)
MAX_SECONDS = 2**32  # 4 bytes of seconds since 1970 reach 2106
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
    """The remembered form of a record's cursor field, as Act! sent it."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        moment = parse_timestamp(raw)
    except ValueError:
        return raw
    try:
        seconds = moment.timestamp()
    except (OverflowError, ValueError):  # .NET's no-date sentinels with an offset
        seconds = -1.0
    if seconds.is_integer() and 0 <= seconds < MAX_SECONDS:
        return int(seconds)
    return format_utc(moment)


def cursor_moment(cursor: Cursor) -> datetime | None:
    """The instant a remembered cursor stands for; None when it is no timestamp."""
    if isinstance(cursor, int):
        return datetime.fromtimestamp(cursor, timezone.utc)
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
    date = key[16:KEY]
    return guid if date == NO_DATE else guid + f"{int.from_bytes(date, 'big'):0{DATE_DIGITS}d}"


class _Keys:
    """The keys of packed records as a sorted sequence, searched in two steps: first among every
    SPARSE-th key (a list, which bisect searches at C speed), then within that stretch."""

    def __init__(self, rows: bytes):
        self._rows = rows
        self._sparse = [rows[at : at + KEY] for at in range(0, len(rows), SPARSE * ROW)]

    def __len__(self) -> int:
        return len(self._rows) // ROW

    def __getitem__(self, index: int) -> bytes:
        return self._rows[index * ROW : index * ROW + KEY]

    def position(self, key: bytes) -> int:
        """Where the key is, or would be inserted (bisect_left)."""
        stretch = bisect_right(self._sparse, key)
        low = max(0, (stretch - 1) * SPARSE)
        return bisect_left(self, key, low, min(len(self), stretch * SPARSE))

    def find(self, key: bytes | None) -> int | None:
        """The key's index, or None. Looked for as bytes in the one stretch that can hold it (a
        C-speed search, where bisecting would index it from Python); only a match at the
        start of a record is the key, not one across a cursor and the next key."""
        if key is None:
            return None
        stretch = bisect_right(self._sparse, key) - 1
        if stretch < 0:
            return None
        start = stretch * SPARSE * ROW
        end = start + SPARSE * ROW
        at = self._rows.find(key, start, end)
        while at % ROW:  # -1 (not found) is no multiple of ROW either
            if at == -1:
                return None
            at = self._rows.find(key, at + 1, end)
        return at // ROW


class KnownSet:
    """The ids a table has live in the destination, each with the cursor it was written with."""

    def __init__(self, rows: bytes = b"", other: dict | None = None, encoded: dict | None = None):
        self._rows = rows  # packed records, sorted by key
        self._keys = _Keys(rows)
        self._other: dict = other or {}  # id -> cursor, for what does not pack
        self._changes: dict = {}  # id -> cursor or _DELETED, not folded in yet
        self._encoded = encoded  # the state's form of the set as it is, while it is unchanged

    # -- reading and writing the state's form
    @classmethod
    def from_state(cls, entry) -> KnownSet:
        """The set from the state's "known" entry; ValueError when it cannot be trusted."""
        if not isinstance(entry, dict) or entry.get("format") != FORMAT:
            raise ValueError("not a remembered set of this connector's format")
        try:
            planes = zlib.decompress(base64.b64decode(entry.get("packed", ""), validate=True))
            other_text = entry.get("other")
            pairs = json.loads(zlib.decompress(base64.b64decode(other_text))) if other_text else []
        except (binascii.Error, zlib.error, TypeError, ValueError) as error:
            raise ValueError(f"unreadable ({error})") from None
        count = len(planes) // ROW
        if len(planes) % ROW or count + len(pairs) != entry.get("count"):
            raise ValueError("its size does not match its count")
        rows = bytearray(len(planes))
        for byte in range(ROW):
            rows[byte::ROW] = planes[byte * count : (byte + 1) * count]
        other = {record_id: cursor for record_id, cursor in pairs}
        return cls(bytes(rows), other, encoded=entry)

    def to_state(self) -> dict:
        """The state's form: packed records in byte planes, the rest as JSON; cached."""
        self._fold()
        if self._encoded is None:
            planes = b"".join(self._rows[byte::ROW] for byte in range(ROW))
            entry = {
                "format": FORMAT,
                "count": len(self),
                "packed": base64.b64encode(zlib.compress(planes, ZLIB_LEVEL)).decode("ascii"),
            }
            if self._other:
                pairs = sorted(self._other.items(), key=lambda pair: str(pair[0]))
                text = json.dumps(pairs, separators=(",", ":")).encode("utf-8")
                entry["other"] = base64.b64encode(zlib.compress(text, ZLIB_LEVEL)).decode("ascii")
            self._encoded = entry
        return self._encoded

    # -- the set
    def __len__(self) -> int:
        self._fold()
        return len(self._rows) // ROW + len(self._other)

    def get(self, record_id) -> Cursor | _NotKnown:
        """The cursor an id was written with, or NOT_KNOWN."""
        if record_id in self._changes:
            cursor = self._changes[record_id]
            return NOT_KNOWN if cursor is _DELETED else cursor
        if record_id in self._other:
            return self._other[record_id]
        index = self._index(pack_id(record_id))
        return NOT_KNOWN if index is None else self._cursor_at(index)

    def put(self, record_id, cursor: Cursor) -> None:
        self._change(record_id, cursor)

    def discard(self, record_id) -> None:
        self._change(record_id, _DELETED)

    def census(self) -> Census:
        self._fold()
        return Census(self)

    # -- internals
    def _change(self, record_id, cursor) -> None:
        self._changes[record_id] = cursor
        if len(self._changes) >= FOLD_AT:
            self._fold()

    def _index(self, key: bytes | None) -> int | None:
        return self._keys.find(key)

    def _cursor_at(self, index: int) -> int:
        start = index * ROW + KEY
        return int.from_bytes(self._rows[start : start + 4], "big")

    def _fold(self) -> None:
        """Folds the gathered changes in; the cached encoding goes only if something changed
        (a record read again as it was, a look-back's re-read, changes nothing)."""
        if not self._changes:
            return
        changed = False
        updates: dict[bytes, int | None] = {}  # packed key -> cursor, or None to remove
        for record_id, cursor in self._changes.items():
            key = pack_id(record_id)
            packs = key is not None and type(cursor) is int
            if key is not None:
                updates[key] = cursor if packs else None
            if packs or cursor is _DELETED:
                changed |= self._other.pop(record_id, NOT_KNOWN) is not NOT_KNOWN
            else:
                changed |= self._other.get(record_id, NOT_KNOWN) != cursor
                self._other[record_id] = cursor
        self._changes.clear()
        rows = _merged(self._keys, sorted(updates.items()))
        if changed or rows != self._rows:
            self._rows, self._keys, self._encoded = rows, _Keys(rows), None


def _merged(keys: _Keys, updates: list[tuple[bytes, int | None]]) -> bytes:
    """The packed records with sorted updates applied (None removes a key)."""
    rows = keys._rows
    parts, at = [], 0
    for key, cursor in updates:
        index = keys.position(key)
        parts.append(rows[at * ROW : index * ROW])
        if cursor is not None:
            parts.append(key + cursor.to_bytes(4, "big"))
        found = index < len(keys) and keys[index] == key
        at = index + 1 if found else index
    parts.append(rows[at * ROW :])
    return b"".join(parts)


class Census:
    """One comparison of a set with a listing: which remembered ids the listing showed.

    The set must not change while a census runs (its records are tallied by position).
    """

    def __init__(self, known: KnownSet):
        self._known = known
        self._seen = bytearray(len(known._rows) // ROW)
        self._seen_other: set = set()
        self.repeats = 0  # ids listed more than once: the listing cannot be trusted

    def see(self, record_id) -> Cursor | _NotKnown:
        """Notes that the listing showed an id; the cursor it is remembered with, or NOT_KNOWN."""
        known = self._known
        index = known._index(pack_id(record_id))
        if index is not None:
            self.repeats += self._seen[index]
            self._seen[index] = 1
            return known._cursor_at(index)
        if record_id in known._other:
            self.repeats += record_id in self._seen_other
            self._seen_other.add(record_id)
            return known._other[record_id]
        return NOT_KNOWN

    def unseen(self) -> list:
        """The remembered ids the listing did not show."""
        rows, ids = self._known._rows, []
        index = self._seen.find(0)
        while index != -1:
            ids.append(unpack_id(rows[index * ROW : index * ROW + KEY]))
            index = self._seen.find(0, index + 1)
        ids += [record_id for record_id in self._known._other if record_id not in self._seen_other]
        return ids
