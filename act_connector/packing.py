"""How the remembered set (known.py) is written into the state: keys, cursors, and the text.

The SDK keeps nothing between syncs but the state, so the set lives there, small:

- An id that is a lower-case GUID (or an activity occurrence's GUID followed by MMddyyyy) packs
  into 20 bytes, and a "parent|child" key of two such ids into 40. A cursor packs into 8 bytes:
  an edit time in whole seconds as seconds since 1970, one with a fraction of a second (as
  real Act! data has) in .NET's 100-ns ticks since year 1, a digest or a position as it is.
  The records are sorted and cut into byte planes (every record's first byte, then every second
  byte, …), so that zlib squeezes what sorting made alike (leading id bytes, a parent's repeated
  id, the high bytes of edit times, the constant date of plain GUIDs), and the result is base64:
  about 23 bytes a record in the state (`make bench` measures it). A plane zlib cannot shrink
  (a GUID's random bytes: most of a record) is kept as it is ("raw", "raw_planes"): squeezing it
  gained nothing and took three quarters of the encoding, which a sync repeats at every
  checkpoint of a table whose set changed.
- Any other id or cursor (an integer id, an upper-case GUID, a text that is no timestamp) is kept
  as it is in JSON, zlib-compressed: correct for every table, only larger.

A state's set of another format (the first, of 4-byte cursors, which no connector deployed today
writes) is not read: its table builds its set again, as on a first reconciliation.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from datetime import datetime, timedelta, timezone

from act_connector.timestamps import format_utc, parse_timestamp

# A cursor as remembered: an int when it packs (see SECONDS_LIMIT), else the UTC text (or, for a
# value that is no timestamp at all, the text as sent); None when a record has none.
Cursor = int | str | None

# Of the state's "known" entry; a set of another format is not read (its table builds it again).
FORMAT = 2
ID_BYTES = 20  # of a packed id: 16 of GUID, 4 of the MMddyyyy an activity occurrence adds
PAIR_SEPARATOR = "|"  # of a "parent|child" key; GUIDs hold no "|": it splits back into its ids
KEY_SIZES = (ID_BYTES, 2 * ID_BYTES)  # a table's keys are ids or pairs of ids, never both
CURSOR_BYTES = 8  # big-endian, so that bytes order is numeric order
CURSOR_LIMIT = 2 ** (8 * CURSOR_BYTES)  # MAX_TICKS is below it
NO_DATE = b"\xff\xff\xff\xff"  # the date part of a plain GUID (no MMddyyyy reaches it)
# An int cursor below this is whole seconds since 1970 (or a digest or position, which fit too);
# at or above it, 100-ns ticks since 0001-01-01 (every instant from year 1 plus 7 minutes on).
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
# zlib's fastest level: about 1% larger than its default here, in 60% of the time, and the set is
# encoded again at every checkpoint that changed it.
ZLIB_LEVEL = 1
# A plane whose first PLANE_SAMPLE bytes zlib shrinks by less than a tenth is kept as it is.
PLANE_SAMPLE = 4096
INCOMPRESSIBLE = 0.9


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
    # puts it past year 9999 (which no datetime holds: remembered_moment could not give it back).
    return format_utc(moment)


def remembered_moment(cursor: Cursor) -> datetime | None:
    """The instant a remembered cursor stands for; None when it is no timestamp."""
    if isinstance(cursor, int):
        if cursor < SECONDS_LIMIT:
            return UNIX_EPOCH + timedelta(seconds=cursor)
        return TICKS_EPOCH + timedelta(microseconds=cursor // TICKS_PER_MICROSECOND)
    try:
        return parse_timestamp(cursor) if isinstance(cursor, str) else None
    except ValueError:
        return None


def digest(record: dict) -> int:
    """A record's content in 32 bits (whatever its keys' order): what tells an edit, for rows
    that have no edit time (tables read whole, line items, membership)."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return zlib.crc32(text.encode("utf-8"))


def pair_key(parent_id: str, child_id: str) -> str:
    """The single-string key of a parent's child (a link, a line item, a member)."""
    return f"{parent_id}{PAIR_SEPARATOR}{child_id}"


def split_pair(key: str) -> tuple[str, str]:
    """A "parent|child" key's parent and child ids."""
    parent, _, child = key.partition(PAIR_SEPARATOR)
    return parent, child


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


def unpack_key(key: bytes) -> str:
    if len(key) == ID_BYTES:
        return unpack_id(key)
    return pair_key(unpack_id(key[:ID_BYTES]), unpack_id(key[ID_BYTES:]))


def encode(rows: bytes, width: int | None, other: dict) -> dict:
    """The state's "known" entry for sorted packed records (keys of `width` bytes, each with
    its cursor) and the records that do not pack."""
    row = (width or ID_BYTES) + CURSOR_BYTES
    entry = {"format": FORMAT, "count": len(rows) // row + len(other)}
    entry["packed"], raw, raw_planes = _packed_texts(rows, row)
    if raw_planes:
        entry["raw"], entry["raw_planes"] = raw, raw_planes
    if rows:
        entry["key_bytes"] = width
    if other:
        pairs = sorted(other.items(), key=lambda pair: str(pair[0]))
        text = json.dumps(pairs, separators=(",", ":")).encode("utf-8")
        entry["other"] = base64.b64encode(zlib.compress(text, ZLIB_LEVEL)).decode("ascii")
    return entry


def decode(entry) -> tuple[bytes, dict, int | None]:
    """The packed records, the records that do not pack and the packed keys' width (None when
    none packs) of a "known" entry; ValueError when it cannot be trusted."""
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        raise ValueError("not a remembered set of this connector's format")
    width = entry.get("key_bytes", ID_BYTES)
    try:
        planes = zlib.decompress(base64.b64decode(entry.get("packed", ""), validate=True))
        raw = base64.b64decode(entry.get("raw", ""), validate=True)
        other_text = entry.get("other")
        pairs = json.loads(zlib.decompress(base64.b64decode(other_text))) if other_text else []
    except (binascii.Error, zlib.error, TypeError, ValueError) as error:
        raise ValueError(f"unreadable ({error})") from None
    row = width + CURSOR_BYTES if width in KEY_SIZES else 0
    size = len(planes) + len(raw)
    count = size // row if row else 0
    raw_planes = entry.get("raw_planes", [])
    if (size and not row) or size != count * row:
        raise ValueError("its records are not of a size it packs")
    if not _plane_numbers(raw_planes, row) or len(raw) != len(raw_planes) * count:
        raise ValueError("its planes kept as they are do not add up")
    if count + len(pairs) != entry.get("count"):
        raise ValueError("its size does not match its count")
    rows, kept, squeezed = bytearray(size), 0, 0
    raw_set = set(raw_planes)
    for byte in range(row):
        if byte in raw_set:
            rows[byte::row] = raw[kept * count : (kept + 1) * count]
            kept += 1
        else:
            rows[byte::row] = planes[squeezed * count : (squeezed + 1) * count]
            squeezed += 1
    other = {record_id: cursor for record_id, cursor in pairs}
    return bytes(rows), other, width if count else None


def _plane_numbers(numbers, row: int) -> bool:
    """Whether `numbers` names planes of a record of `row` bytes, in order, once each."""
    if not isinstance(numbers, list) or not all(type(n) is int for n in numbers):
        return False
    return numbers == sorted(set(numbers)) and all(0 <= n < max(row, 1) for n in numbers)


def _packed_texts(rows: bytes, row: int) -> tuple[str, str, list[int]]:
    """The state's texts of the packed records: their byte planes that zlib shrinks, compressed,
    in base64; those it does not (INCOMPRESSIBLE), as they are, in base64; and which planes
    those are. Made a plane at a time, each form freed before the next is made, so that a large
    set costs twice its text at most, not five copies of itself (it is encoded at every
    checkpoint)."""
    compressor, compressed = zlib.compressobj(ZLIB_LEVEL), bytearray()
    raw, raw_planes = bytearray(), []
    for byte in range(row):
        plane = rows[byte::row]
        sample = plane[:PLANE_SAMPLE]
        if sample and len(zlib.compress(sample, ZLIB_LEVEL)) >= INCOMPRESSIBLE * len(sample):
            raw += plane
            raw_planes.append(byte)
        else:
            compressed += compressor.compress(plane)
        del plane
    compressed += compressor.flush()
    return _text(compressed), _text(raw), raw_planes


def _text(data: bytearray) -> str:
    """Base64 text of `data`, which it empties: no more than two forms of it live at once."""
    encoded = base64.b64encode(data)
    data.clear()
    return encoded.decode("ascii")
