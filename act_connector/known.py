"""The remembered set: the records a table has live in the destination, each with its edit time.

Act! has no feed of deleted records: a deletion shows only as an id that Act! no longer lists.
So the connector remembers, per incremental table, every id it has written and not since deleted,
with the cursor value (edit time) it was written with. Reconciliation lists Act!'s ids and edit
times and compares: an id remembered but not listed was deleted; an id listed with an edit time
that differs from the remembered one, at or below the saved cursor, was stamped in the past and
incremental paging could not see it. Link and line-item tables remember their "parent|child" keys
the same way, with a position or a digest of the row in place of the edit time.

In memory the packed records (packing.py) stay one sorted bytes object (28 or 48 bytes a
record), found by a search within a stretch of it; changes gather in a small dict and are folded
in at each checkpoint, when pairs are looked up (a parent's are a run of the records), or sooner
when many. The set is written into the state, and read from it, by packing.py.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from act_connector.packing import (
    CURSOR_BYTES,
    CURSOR_LIMIT,
    ID_BYTES,
    Cursor,
    decode,
    encode,
    pack_id,
    pack_key,
    split_pair,
    unpack_key,
)

# Records remembered per table at most. The SDK sends the whole state at every checkpoint and the
# documented guide keeps a state under 10 MB: 250,000 records are about 6 MB, so one table at the
# limit fits with room for the others. A larger table falls back to deletions at re-syncs only.
KNOWN_LIMIT = 250_000
SPARSE = 64  # records per stretch of the two-step search (see _Keys)
# Changes gathered before they are folded into the packed records: bounds the dict's memory
# (about 150 bytes an entry) while a large table is read from scratch.
FOLD_AT = 20_000


class _NotKnown:
    def __repr__(self) -> str:
        return "NOT_KNOWN"


NOT_KNOWN = _NotKnown()  # what a lookup answers for an id that is not remembered
_DELETED = _NotKnown()  # a change that removes an id


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
        # Packed records, sorted by key; None once set aside (read again from _encoded).
        self._packed: _Keys | None = _Keys(rows, width or ID_BYTES)
        self._other: dict = other or {}  # id -> cursor, for what does not pack
        self._changes: dict = {}  # id -> cursor or _DELETED, not folded in yet
        self._encoded = encoded  # the state's form of the set as it is, while it is unchanged

    # -- reading and writing the state's form
    @classmethod
    def from_state(cls, entry) -> KnownSet:
        """The set from the state's "known" entry; ValueError when it cannot be trusted."""
        rows, other, width = decode(entry)
        return cls(rows, other, encoded=entry, width=width)

    def to_state(self) -> dict:
        """The state's form (packing.encode); cached while the set is unchanged."""
        self._fold()
        if self._encoded is None:
            self._encoded = encode(self._keys.rows, self._width, self._other)
        return self._encoded

    def set_aside(self) -> None:
        """Frees the packed records, keeping only the state's form of the set: for a table done
        syncing, whose set later checkpoints only send (a first sync's link tables hold
        megabytes). Asked again, the set reads itself back from that form."""
        self.to_state()
        self._packed = None

    @property
    def _keys(self) -> _Keys:
        keys = self._packed
        if keys is None:  # set aside: read back from the state's form, which is unchanged
            rows, _, width = decode(self._encoded)
            keys = self._packed = _Keys(rows, width or ID_BYTES)
        return keys

    @_keys.setter
    def _keys(self, keys: _Keys) -> None:
        self._packed = keys

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
        keys = self._keys
        index = keys.find(pack_key(record_id))
        return NOT_KNOWN if index is None else keys.cursor(index)

    def put(self, record_id, cursor: Cursor) -> None:
        self._change(record_id, cursor)

    def discard(self, record_id) -> None:
        self._change(record_id, _DELETED)

    def census(self) -> Census:
        self._fold()
        return Census(self._keys, self._other)

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
        return [key for key in self.pairs_of(set(now)) if key not in now[split_pair(key)[0]]]

    # -- internals
    def _other_pairs(self):
        """The keys kept as they are (they do not pack), each with its parent and child id;
        None for both where the key is no text."""
        for key in self._other:
            if isinstance(key, str):
                yield key, *split_pair(key)
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


class Census:
    """One comparison of a set with a listing: which remembered ids the listing showed.

    The set must not change while a census runs (its records are tallied by position): it is
    made of the set's packed records and the rest as they are (KnownSet.census).
    """

    def __init__(self, keys: _Keys, other: dict):
        self._keys, self._other = keys, other
        self._seen = bytearray(len(keys))
        self._seen_other: set = set()
        self.repeats = 0  # ids listed more than once: the listing cannot be trusted

    def see(self, record_id) -> Cursor | _NotKnown:
        """Notes that the listing showed an id; the cursor it is remembered with, or NOT_KNOWN."""
        index = self._keys.find(pack_key(record_id))
        if index is not None:
            self.repeats += self._seen[index]
            self._seen[index] = 1
            return self._keys.cursor(index)
        if record_id in self._other:
            self.repeats += record_id in self._seen_other
            self._seen_other.add(record_id)
            return self._other[record_id]
        return NOT_KNOWN

    def unseen(self) -> list:
        """The remembered ids the listing did not show."""
        keys, ids = self._keys, []
        index = self._seen.find(0)
        while index != -1:
            ids.append(unpack_key(keys[index]))
            index = self._seen.find(0, index + 1)
        ids += [record_id for record_id in self._other if record_id not in self._seen_other]
        return ids
