"""Turning an Act! record into a row.

Nested objects become columns joined by "_" (businessAddress.city -> businessAddress_city, and
customFields the same way); arrays stay whole and land as JSON; timestamps become UTC ISO 8601.
Nothing is dropped: a value that should be a timestamp and is not is counted and reported.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from act_connector.timestamps import to_utc_text

SEPARATOR = "_"


class Flattener:
    """Flattens the records of one table and counts timestamps it could not read."""

    def __init__(self, columns: dict[str, str]):
        self._declared = frozenset(columns)
        self._datetime_columns = tuple(n for n, kind in columns.items() if kind == "UTC_DATETIME")
        self.unreadable: Counter[str] = Counter()

    def row(self, record: dict) -> dict:
        out: dict = {}
        self._flatten_into(out, "", record)
        for column in self._datetime_columns:
            value = out.get(column)
            if isinstance(value, str):
                out[column] = self._timestamp(column, value)
        return out

    def _flatten_into(self, out: dict, prefix: str, nested: dict) -> None:
        for key, value in nested.items():
            name = prefix + key
            if isinstance(value, dict):
                self._flatten_into(out, name + SEPARATOR, value)
            elif type(value) is float and name not in self._declared:
                # The SDK infers an undeclared float column as 32-bit FLOAT (4446.71 would
                # land as 4446.7099609375); the same digits as a Decimal land as exact DOUBLE.
                out[name] = Decimal(repr(value))
            else:
                out[name] = value

    def _timestamp(self, column: str, value: str) -> str | None:
        if not value.strip():
            return None  # Act! sends "" for an unset date on some fields
        try:
            return to_utc_text(value)
        except ValueError:
            self.unreadable[column] += 1
            return None
