"""The OData subset Act! serves on its collections: $filter, $orderby, $top, $skip and $select.

$filter: eq ne gt ge lt le, and / or / not, parentheses, unquoted ISO datetimes (Z or an offset),
quoted strings ('' escapes a quote), numbers, GUIDs, true/false/null and property paths (a/b).
Property names are case-sensitive, as in ASP.NET OData; an unknown one or bad syntax is an
ODataError, which the server answers with 400 and the ASP.NET error body.

Strict as ASP.NET OData is about types: a property compared with a literal of another type (a
quoted date, an unquoted GUID against a text key, a quoted number against an integer key) is a
400. Time stamps compare to the 100 ns of SQL Server's datetime2(7), not to Python's microsecond:
a cursor sent back with a digit lost selects other rows than the one it came from.
"""

from __future__ import annotations

import bisect
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

TOKEN = re.compile(
    r"""\s*(?:
      (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>'(?:[^']|'')*')
    | (?P<paren>[()])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
KEYWORDS = {"and", "or", "not", "true", "false", "null"} | COMPARISONS


class ODataError(ValueError):
    """A query the server rejects with 400."""


STAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:\d{2})?"
)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TICKS_PER_SECOND = 10_000_000  # SQL Server's datetime2(7) and .NET's DateTime: 100 ns


class Moment(int):
    """A time stamp as 100 ns ticks since 1970 UTC: exact to the last digit .NET writes."""


@lru_cache(maxsize=1 << 18)
def moment(text: str) -> Moment:
    match = STAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"not a time stamp: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    base = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    offset = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    seconds = (base.replace(tzinfo=timezone.utc) - EPOCH) // timedelta(seconds=1) - offset
    ticks = int((fraction or "").ljust(7, "0")[:7])
    return Moment(seconds * TICKS_PER_SECOND + ticks)


# Edm type names, for messages as ASP.NET OData words them.
EDM = {
    "datetime": "Edm.DateTimeOffset",
    "string": "Edm.String",
    "int": "Edm.Int32",
    "number": "Edm.Double",
    "bool": "Edm.Boolean",
    "guid": "Edm.Guid",
}
COMPATIBLE = {
    "datetime": {"datetime"},
    "string": {"string"},
    "int": {"int", "number"},
    "number": {"int", "number"},
    "bool": {"bool"},
}
OPERATOR_KINDS = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
                  "lt": "LessThan", "le": "LessThanOrEqual"}  # fmt: skip


class Literal:
    def __init__(self, value, kind: str):
        self.value, self.kind = value, kind


class Query:
    """A parsed query for a collection whose records have `properties` (nested dict of names)."""

    def __init__(self, params: dict[str, str], properties: dict, entity: str):
        # properties: a nested dict of the entity's property names; a leaf holds the property's
        # kind ("datetime", "string", "int", "number", "bool") or None when it is not known.
        self.properties, self.entity = properties, entity
        self.uses_or = False
        self.filter = self._parse_filter(params.get("$filter", ""))
        self.orderby = self._parse_orderby(params.get("$orderby", ""))
        self.top = self._int(params, "$top")
        self.skip = self._int(params, "$skip") or 0
        select = params.get("$select", "").strip()
        self.select = [self._path(name.strip()) for name in select.split(",")] if select else None

    # -- parsing
    def _int(self, params: dict, key: str) -> int | None:
        text = params.get(key)
        if text is None:
            return None
        if not text.isdigit():
            raise ODataError(f"Invalid value '{text}' for {key} query option.")
        return int(text)

    def _path(self, name: str) -> tuple[str, ...]:
        return self._property(name)[0]

    def _property(self, name: str) -> tuple[tuple[str, ...], str | None]:
        """A property path and its kind."""
        node = self.properties
        parts = tuple(name.split("/"))
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                raise ODataError(
                    f"Could not find a property named '{part}' on type '{self.entity}'."
                )
            node = node[part]
        return parts, node if isinstance(node, str) else None

    def _parse_orderby(self, text: str) -> list[tuple[tuple[str, ...], bool]]:
        keys = []
        for clause in filter(None, (part.strip() for part in text.split(","))):
            words = clause.split()
            if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise ODataError(f"Syntax error in $orderby at '{clause}'.")
            keys.append((self._path(words[0]), len(words) == 2 and words[1] == "desc"))
        return keys

    def _parse_filter(self, text: str):
        if not text.strip():
            return None
        self._tokens = self._tokenize(text)
        self._at = 0
        tree = self._or()
        if self._at != len(self._tokens):
            raise ODataError(f"Syntax error at position {self._at} in '{text}'.")
        return tree

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens, at = [], 0
        while at < len(text):
            if text[at:].strip() == "":
                break
            match = TOKEN.match(text, at)
            if not match:
                raise ODataError(f"Syntax error at position {at} in '{text}'.")
            tokens.append((match.lastgroup, match.group(match.lastgroup)))
            at = match.end()
        return tokens

    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise ODataError("Syntax error: the $filter ends too early.")
        self._at += 1
        return token

    def _or(self):
        node = self._and()
        while self._peek() == ("word", "or"):
            self._take()
            self.uses_or = True
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._unary()
        while self._peek() == ("word", "and"):
            self._take()
            node = ("and", node, self._unary())
        return node

    def _unary(self):
        if self._peek() == ("word", "not"):
            self._take()
            return ("not", self._unary())
        if self._peek() == ("paren", "("):
            self._take()
            node = self._or()
            if self._take() != ("paren", ")"):
                raise ODataError("Syntax error: ')' expected.")
            return node
        left = self._operand()
        kind, op = self._take()
        if kind != "word" or op not in COMPARISONS:
            raise ODataError(f"Syntax error: a comparison operator expected, found '{op}'.")
        right = self._operand()
        _check_types(op, left, right)
        return ("cmp", op, _bare(left), _bare(right))

    def _operand(self):
        kind, text = self._take()
        if kind == "datetime":
            return Literal(moment(text), "datetime")
        if kind == "guid":
            return Literal(text.lower(), "guid")
        if kind == "number":
            return Literal(float(text), "number") if "." in text else Literal(int(text), "int")
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"), "string")
        if kind == "word" and text in ("true", "false"):
            return Literal(text == "true", "bool")
        if kind == "word" and text == "null":
            return Literal(None, "null")
        if kind == "word" and text not in KEYWORDS:
            return self._property(text)
        raise ODataError(f"Syntax error: unexpected '{text}'.")

    # -- evaluation
    def matches(self, record: dict) -> bool:
        return self.filter is None or _evaluate(self.filter, record)

    def run(self, ordered: list[dict], sort_keys: list | None) -> list[dict]:
        """The page: `ordered` is the collection sorted by this query's $orderby.

        When the first $orderby key is ascending and the filter bounds it from below, the scan
        starts at that bound (a bisect), so keyset paging costs a page, not the whole table.
        """
        start = 0
        if sort_keys is not None and self.orderby and not self.orderby[0][1]:
            bound = _lower_bound(self.filter, self.orderby[0][0])
            if bound is not None:
                start = bisect.bisect_left(sort_keys, (True, _comparable(bound.value)))
        wanted = None if self.top is None else self.skip + self.top
        found = []
        for index in range(start, len(ordered)):
            record = ordered[index]
            if self.filter is None or _evaluate(self.filter, record):
                found.append(record)
                if wanted is not None and len(found) >= wanted:
                    break
        return found[self.skip :]

    def sort_key(self, record: dict) -> tuple:
        return tuple(
            _DescendingKey(_sortable(_value(record, path)))
            if desc
            else _sortable(_value(record, path))
            for path, desc in self.orderby
        )


def _bare(operand):
    """A literal as it is, a property as its path alone."""
    return operand if isinstance(operand, Literal) else operand[0]


def _check_types(op: str, left, right) -> None:
    """ASP.NET OData's 400 for a comparison of a property with a literal of another type."""
    for prop, other in ((left, right), (right, left)):
        if isinstance(prop, Literal) or not isinstance(other, Literal):
            continue
        kind = prop[1]
        if (
            kind is None
            or other.kind == "null"
            or other.kind in COMPATIBLE.get(kind, {other.kind})
        ):
            continue
        raise ODataError(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{EDM.get(kind, kind)}' and '{EDM.get(other.kind, other.kind)}' for operator kind "
            f"'{OPERATOR_KINDS[op]}'."
        )


def _value(record: dict, path: tuple[str, ...]):
    value = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _comparable(value):
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        try:
            return moment(value)
        except ValueError:
            return value
    if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
        return value.lower()
    return value


def _sortable(value) -> tuple:
    """Nulls first, as ASP.NET OData sorts them ascending."""
    return (False, 0) if value is None else (True, _comparable(value))


class _DescendingKey:
    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __lt__(self, other):
        return other.key < self.key

    def __eq__(self, other):
        return self.key == other.key


def _compare(op: str, left, right) -> bool:
    if left is None or right is None:
        if op == "eq":
            return left is right
        if op == "ne":
            return left is not right
        return False
    left, right = _comparable(left), _comparable(right)
    try:
        if op == "eq":
            return left == right
        if op == "ne":
            return left != right
        if op == "gt":
            return left > right
        if op == "ge":
            return left >= right
        if op == "lt":
            return left < right
        return left <= right
    except TypeError:
        raise ODataError(
            f"A binary operator with incompatible types was detected: {op}."
        ) from None


def _operand_value(operand, record):
    return operand.value if isinstance(operand, Literal) else _value(record, operand)


def _evaluate(node, record) -> bool:
    kind = node[0]
    if kind == "cmp":
        return _compare(node[1], _operand_value(node[2], record), _operand_value(node[3], record))
    if kind == "and":
        return _evaluate(node[1], record) and _evaluate(node[2], record)
    if kind == "or":
        return _evaluate(node[1], record) or _evaluate(node[2], record)
    return not _evaluate(node[1], record)


def _lower_bound(node, path) -> Literal | None:
    """A value every matching record's `path` is at least, when the filter implies one."""
    if node is None:
        return None
    kind = node[0]
    if kind == "cmp":
        op, left, right = node[1], node[2], node[3]
        if left == path and isinstance(right, Literal) and op in ("gt", "ge", "eq"):
            return right if right.value is not None else None
        return None
    if kind == "and":
        bounds = [b for b in (_lower_bound(node[1], path), _lower_bound(node[2], path)) if b]
        return max(bounds, key=lambda b: _comparable(b.value)) if bounds else None
    if kind == "or":
        first, second = _lower_bound(node[1], path), _lower_bound(node[2], path)
        if first is None or second is None:
            return None
        return min((first, second), key=lambda b: _comparable(b.value))
    return None
