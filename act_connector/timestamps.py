"""Timestamps as Act! sends them (ISO 8601, an offset, whole seconds) and as OData wants them."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_timestamp(text: str) -> datetime:
    """An aware datetime from ISO 8601 text; a value without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def format_utc(value: datetime) -> str:
    """UTC ISO 8601 with a Z, fractions only when present: also the OData literal form."""
    utc = value.astimezone(timezone.utc)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return utc.strftime(pattern)


def to_utc_text(text: str) -> str:
    """Act!'s timestamp text in UTC ISO 8601; the common '+00:00' form takes the fast path."""
    if text.endswith("+00:00") and len(text) == 25:
        return text[:19] + "Z"
    return format_utc(parse_timestamp(text))
