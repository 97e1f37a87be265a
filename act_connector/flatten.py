"""Turning an Act! record into a row.

Nested objects become columns joined by "_" (businessAddress.city -> businessAddress_city, and
customFields the same way); arrays stay whole and land as JSON; timestamps become UTC ISO 8601.
Nothing is dropped: a value that should be a timestamp and is not is counted and reported.
"""

from __future__ import annotations

from collections import Counter

from act_connector.timestamps import to_utc_text

SEPARATOR = "_"


class Flattener:
    """Flattens the records of one table and counts timestamps it could not read."""

    def __init__(self, datetime_columns: tuple[str, ...]):
        self._datetime_columns = datetime_columns
        self.unreadable: Counter[str] = Counter()

    def row(self, record: dict) -> dict:
        out: dict = {}
        for key, value in record.items():
            if isinstance(value, dict):
                _flatten_into(out, key + SEPARATOR, value)
            else:
                out[key] = value
        for column in self._datetime_columns:
            value = out.get(column)
            if isinstance(value, str):
                out[column] = self._timestamp(column, value)
        return out

    def _timestamp(self, column: str, value: str) -> str | None:
        if not value.strip():
            return None  # Act! sends "" for an unset date on some fields
        try:
            return to_utc_text(value)
        except ValueError:
            self.unreadable[column] += 1
            return None


def _flatten_into(out: dict, prefix: str, nested: dict) -> None:
    for key, value in nested.items():
        if isinstance(value, dict):
            _flatten_into(out, prefix + key + SEPARATOR, value)
        else:
            out[prefix + key] = value
