"""Turning an Act! record into a row whose every value fits its declared column.

Nested objects become columns joined by "_" (businessAddress.city -> businessAddress_city, and
customFields the same way); arrays stay whole and land as JSON. Values are coerced to the type
fields.json declares, because live Act! data differs from its spec ("" in a number, "true" in a
boolean) and the SDK refuses a value that does not fit, failing the sync on every run. "" is an
unset value and lands as null. A value that cannot be coerced lands as null too, and is counted
per column, so that the sync reports it instead of crashing or dropping it silently.
Timestamps are handed to the SDK as UTC datetimes, which it encodes without parsing them again.

A null is left out of the row rather than sent: an upsert sets every column it does not carry
to null (the SDK's documented upsert), so the row lands the same, and the SDK's cost is per
column sent (it renames and encodes each), while live records leave most columns unset.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from decimal import Decimal, InvalidOperation

from act_connector.timestamps import in_utc, parse_timestamp

SEPARATOR = "_"
TRUE_TEXT = frozenset({"true", "yes", "y", "1", "-1", "on"})
FALSE_TEXT = frozenset({"false", "no", "n", "0", "off"})
# The ranges of the destination's integer columns (Java's int and long, as Fivetran's).
INT_RANGE = (-(2**31), 2**31 - 1)
LONG_RANGE = (-(2**63), 2**63 - 1)


class Unfit(ValueError):
    """A value that cannot be made to fit its column."""


def _text(value) -> str | None:
    """Text stripped, or None for blank text (an unset value); what is not text does not fit."""
    if not isinstance(value, str):
        raise Unfit(value)
    return value.strip() or None


def to_boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        word = value.strip().lower()
        if not word:
            return None
        if word in TRUE_TEXT:
            return True
        if word in FALSE_TEXT:
            return False
    raise Unfit(value)


def _integer(value, bounds: tuple[int, int]):
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise Unfit(value)
        number = int(value)
    elif isinstance(value, str):
        text = _text(value)
        if text is None:
            return None
        try:
            number = int(text)
        except ValueError:
            exact = _decimal(text)
            if exact != exact.to_integral_value():
                raise Unfit(value) from None
            number = int(exact)
    else:
        raise Unfit(value)
    if not bounds[0] <= number <= bounds[1]:
        raise Unfit(value)
    return number


def to_int(value):
    return _integer(value, INT_RANGE)


def to_long(value):
    return _integer(value, LONG_RANGE)


def to_double(value):
    if isinstance(value, float):
        return value
    if isinstance(value, (int, bool)):
        return float(value)
    text = _text(value)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise Unfit(value) from None


def _decimal(text: str) -> Decimal:
    try:
        exact = Decimal(text)
    except InvalidOperation:
        raise Unfit(text) from None
    if not exact.is_finite():
        raise Unfit(text)
    return exact


def to_decimal(value):
    """DECIMAL takes text or int (the SDK refuses a float): a float keeps its shortest digits."""
    if isinstance(value, bool):
        raise Unfit(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unfit(value)
        return repr(value)
    text = _text(value)
    return None if text is None else str(_decimal(text))


def to_datetime(value):
    text = _text(value)
    if text is None:
        return None  # Act! sends "" for an unset date on some fields
    try:
        return in_utc(parse_timestamp(text))
    except (ValueError, OverflowError):
        raise Unfit(value) from None


def to_string(value):
    """Text as it is; an object or array a build sends where text was declared, as JSON."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def to_key(value):
    """Another record's key: blank text is no key and lands as null, never as '' (Act! sends
    companyID "" for a contact of no company); a number as it is."""
    if isinstance(value, str):
        return value.strip() or None
    return to_string(value)


COERCERS = {
    "BOOLEAN": to_boolean,
    "SHORT": to_int,
    "INT": to_int,
    "LONG": to_long,
    "FLOAT": to_double,
    "DOUBLE": to_double,
    "DECIMAL": to_decimal,
    "UTC_DATETIME": to_datetime,
    "STRING": to_string,
}


# The Python type each column type takes as it is: its coercer would hand such a value back
# unchanged, so the row skips the call (an int is no LONG as it is: its range is checked).
AS_IS = {"STRING": str, "BOOLEAN": bool, "FLOAT": float, "DOUBLE": float, "DECIMAL": int}
_UNFIT = object()  # a row's placeholder for a value that did not fit, until it is counted


class Flattener:
    """Flattens the records of one table, coercing each declared column to its type."""

    def __init__(
        self, columns: dict[str, str], omit: tuple[str, ...] = (), keys: tuple[str, ...] = ()
    ):
        """`omit`: names a record's flattening makes that no row keeps; `keys`: text columns
        that hold another record's key (TableSpec.references)."""
        self._kinds = columns
        self._omit = omit
        self._declared = frozenset(columns)
        self._coercers = {
            name: COERCERS[kind] for name, kind in columns.items() if kind in COERCERS
        }
        text_keys = {name for name in keys if columns.get(name) == "STRING"}
        self._coercers.update(dict.fromkeys(text_keys, to_key))
        self._as_is = {
            name: AS_IS[kind]
            for name, kind in columns.items()
            if kind in AS_IS and name not in text_keys
        }
        # Per column: values that did not fit its type and landed as null.
        self.unfit: Counter[str] = Counter()

    def row(self, record: dict) -> dict:
        """The record's row: its declared columns coerced, its nulls left out."""
        out: dict = {}
        unfit: list[str] = []
        self._fit_into(out, "", record, unfit)
        for name in unfit:  # counted where an unfit value is what landed (not overwritten)
            if out.get(name) is _UNFIT:
                del out[name]
                self.unfit[name] += 1
        for name in self._omit:
            out.pop(name, None)
        return out

    def _fit_into(self, out: dict, prefix: str, nested: dict, unfit: list[str]) -> None:
        """Flattens and coerces in one pass over the record: a name met twice keeps the later
        value (a later null takes the earlier out), and only that one counts as unfit, as if the
        record were flattened first."""
        coercers, as_is = self._coercers, self._as_is
        for key, value in nested.items():
            name = prefix + key
            if type(value) is as_is.get(name):
                out[name] = value
            elif value is None:
                out.pop(name, None)
            elif isinstance(value, dict):
                self._fit_into(out, name + SEPARATOR, value, unfit)
            elif (coerce := coercers.get(name)) is None:
                # The SDK infers an undeclared float column as 32-bit FLOAT (4446.71 would
                # land as 4446.7099609375); the same digits as a Decimal land as exact DOUBLE.
                undeclared_float = type(value) is float and name not in self._declared
                out[name] = Decimal(repr(value)) if undeclared_float else value
            else:
                try:
                    fitted = coerce(value)
                except (Unfit, OverflowError):
                    fitted = _UNFIT
                    unfit.append(name)
                if fitted is None:
                    out.pop(name, None)
                else:
                    out[name] = fitted

    def report(self, table: str) -> str | None:
        """One warning for the sync: every column whose values did not fit, and how many."""
        if not self.unfit:
            return None
        counts = ", ".join(
            f"{column} ({self._kinds[column]}) {count}"
            for column, count in sorted(self.unfit.items())
        )
        return (
            f"Table '{table}': {sum(self.unfit.values())} value(s) did not fit their column's "
            f"type and landed as null: {counts}. The rest of each row landed as sent."
        )
