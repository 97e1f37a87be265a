"""The OData subset Act! serves on its collections: $filter, $orderby, $top, $skip and $select.

$filter: eq ne gt ge lt le, and / or / not, parentheses, unquoted ISO datetimes (Z or an offset),
quoted strings ('' escapes a quote), numbers, GUIDs, true/false/null and property paths (a/b).
Property names are case-sensitive, as in ASP.NET OData; an unknown one or bad syntax is an
ODataError, which the server answers with 400 and the ASP.NET error body.
"""

from __future__ import annotations

import bisect
import re
from datetime import datetime, timezone
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


@lru_cache(maxsize=1 << 18)
def moment(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Literal:
    def __init__(self, value, is_datetime: bool = False):
        self.value, self.is_datetime = value, is_datetime


class Query:
    """A parsed query for a collection whose records have `properties` (nested dict of names)."""

    def __init__(self, params: dict[str, str], properties: dict, entity: str):
        self.properties, self.entity = properties, entity
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
        node = self.properties
        parts = tuple(name.split("/"))
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                raise ODataError(
                    f"Could not find a property named '{part}' on type '{self.entity}'."
                )
            node = node[part]
        return parts

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
        return ("cmp", op, left, self._operand())

    def _operand(self):
        kind, text = self._take()
        if kind == "datetime":
            return Literal(moment(text), is_datetime=True)
        if kind == "guid":
            return Literal(text.lower())
        if kind == "number":
            return Literal(float(text) if "." in text else int(text))
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"))
        if kind == "word" and text in ("true", "false"):
            return Literal(text == "true")
        if kind == "word" and text == "null":
            return Literal(None)
        if kind == "word" and text not in KEYWORDS:
            return self._path(text)
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
