"""Timestamps as Act! sends them (ISO 8601, an offset, whole seconds) and as OData wants them."""

from __future__ import annotations

import re
from datetime import datetime, timezone

# ISO 8601 as Act!, .NET and people write it: a date, optionally a time (seconds and a fraction of
# any length optional), optionally Z or an offset with or without its colon.
ISO_8601 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)


def parse_timestamp(text: str) -> datetime:
    """An aware datetime from ISO 8601 text; a value without an offset is taken as UTC.

    Python 3.10's fromisoformat takes no Z, no offset without a colon and only 3 or 6 fractional
    digits (.NET sends 7), so the text is first rewritten into the form every version reads.
    """
    try:
        # The fast path: Act!'s usual form (an offset with its colon, 0, 3 or 6 fractional
        # digits) on every version, and on 3.11+ nearly all of ISO 8601.
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is not None and not (text[:1].isspace() or text[-1:].isspace()):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    match = ISO_8601.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp: {text!r}")
    date, time_of_day, fraction, offset = match.group("date", "time", "fraction", "offset")
    normal = f"{date}T{time_of_day or '00:00'}"
    if fraction:
        normal += "." + fraction[:6].ljust(6, "0")
    if offset and offset not in "Zz":
        hours, minutes = offset[:3], offset[3:].lstrip(":") or "00"
        normal += f"{hours}:{minutes}"
    value = datetime.fromisoformat(normal)  # still raises on 2024-13-01 or 25:00
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC, as the SDK's UTC_DATETIME columns take it."""
    if value.tzinfo is timezone.utc:
        return value
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:
        # .NET's "no date" sentinels with an offset (0001-01-01T00:00:00+01:00, or 9999-12-31
        # late in the day west of UTC) fall outside what a datetime holds in UTC: keep them as
        # the nearest instant that exists, as the sentinels they are.
        bound = datetime.min if value.year == datetime.min.year else datetime.max
        return bound.replace(tzinfo=timezone.utc)


def format_utc(value: datetime) -> str:
    """UTC ISO 8601 with a Z, fractions only when present: also the OData literal form."""
    # isoformat() writes microseconds only when there are some, and pads years below 1000
    # (strftime's %Y does not on Linux).
    return in_utc(value).replace(tzinfo=None).isoformat() + "Z"
