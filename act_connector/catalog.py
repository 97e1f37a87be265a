"""The table catalogue: fields.json says, for each table, where it lives and what it holds.

Adding a table is adding an entry to fields.json; no code names a table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

FIELDS_FILE = Path(__file__).resolve().parent.parent / "fields.json"
# How a table's rows are read: "keyset" pages through an OData collection on its edit time and id
# (paging.py); "whole" takes a path that accepts no query (users, task and history types, sales
# stages) in one request.
# "links": rows made from an array each parent record embeds (links.py), no request of its own.
# "per_parent": rows served under each parent record (per_parent.py), a request per parent.
READ_KINDS = ("keyset", "whole", "links", "per_parent")
# When a per-parent table reads its parents: "written", each parent record this sync writes (line
# items change with their opportunity); "scheduled", every parent once the membership interval
# has passed (membership does not touch a group's edit time).
PER_PARENT_WHEN = ("written", "scheduled")
# Act! stores currency as SQL Server's money: 19 digits, 4 after the point.
DECIMAL_SHAPE = {"precision": 19, "scale": 4}


@dataclass(frozen=True)
class TableSpec:
    name: str
    paths: tuple[str, ...]  # candidate collection paths under /api/, first the current build's
    primary_key: str
    cursor: str | None  # the edit timestamp a keyset table is read on; None for the others
    columns: dict[str, str]  # declared column types, flattened names
    default: bool  # synced when the configuration does not choose tables
    read: str = "keyset"  # one of READ_KINDS
    # Columns that hold another table's key: column -> that table. What joins the tables (the
    # README's diagram is drawn from them); nothing is read or checked at sync time.
    references: dict[str, str] = field(default_factory=dict)
    # The record type Act!'s field definitions name this table's records by ("Contact"): its
    # custom fields are typed from them (metadata.py). None: the table has no custom fields.
    record_type: str | None = None
    # A name in metadata.DERIVED: a column worked out from each row, for a table read whole.
    derive: str | None = None
    # A table read whole that not every Act! edition or user may read (the custom table
    # definitions, Act! Premium's): refused, it is left as it was with a warning, and the sync
    # goes on, as it did before the table existed.
    optional: bool = False
    # A link table's parent table, the parent's array, and its two id columns (read "links").
    links: dict | None = None
    # A per-parent table's parent, the column its id lands in, when parents are read, and (for
    # membership) the column the served record's id lands in (read "per_parent").
    per_parent: dict | None = None

    @property
    def incremental(self) -> bool:
        return self.cursor is not None

    @property
    def follows(self) -> str | None:
        """The parent table whose walk writes this table's rows (a link table, line items)."""
        if self.links:
            return self.links["parent"]
        if self.per_parent and self.per_parent["when"] == "written":
            return self.per_parent["parent"]
        return None


@dataclass(frozen=True)
class Catalog:
    tables: dict[str, TableSpec]

    @property
    def default_tables(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.tables.items() if spec.default)

    def schema(self, names: tuple[str, ...]) -> list[dict]:
        """What the SDK's schema() wants for the chosen tables."""
        return [
            {
                "table": name,
                "primary_key": [self.tables[name].primary_key],
                "columns": {
                    column: {"type": kind, **DECIMAL_SHAPE} if kind == "DECIMAL" else kind
                    for column, kind in self.tables[name].columns.items()
                },
            }
            for name in names
        ]


def load_catalog(path: Path = FIELDS_FILE) -> Catalog:
    with open(path, encoding="utf-8") as handle:
        entries = json.load(handle)["tables"]
    for name, entry in entries.items():
        _check_references(path, name, entry, entries)
        _check_links(path, name, entry, entries)
        _check_per_parent(path, name, entry, entries)
        read = entry.get("read", "keyset")
        has_cursor = bool(entry.get("cursor"))
        if read not in READ_KINDS or has_cursor != (read == "keyset"):
            raise ValueError(
                f"{path}: table '{name}' reads {read!r} with cursor {entry.get('cursor')!r}; "
                f"read is one of {READ_KINDS}, and only a 'keyset' table has a cursor (one "
                "without an edit time is read 'whole')"
            )
    return Catalog(
        {
            name: TableSpec(
                name=name,
                paths=tuple(entry["paths"]),
                primary_key=entry["primary_key"],
                cursor=entry.get("cursor"),
                columns=entry["columns"],
                default=entry.get("default", True),
                read=entry.get("read", "keyset"),
                references=entry.get("references", {}),
                record_type=entry.get("record_type"),
                derive=entry.get("derive"),
                optional=entry.get("optional", False) is True,
                links=entry.get("links"),
                per_parent=entry.get("per_parent"),
            )
            for name, entry in entries.items()
        }
    )


def _check_references(path: Path, name: str, entry: dict, entries: dict) -> None:
    """A reference names a declared column and a table of the catalogue."""
    for column, table in entry.get("references", {}).items():
        if column not in entry["columns"] or table not in entries:
            raise ValueError(
                f"{path}: table '{name}' references {table!r} by {column!r}, which is not a "
                "declared column and a table of the catalogue"
            )


def _check_links(path: Path, name: str, entry: dict, entries: dict) -> None:
    """A link table names its parent table and array, and declares its id and both columns."""
    links = entry.get("links")
    if (entry.get("read") == "links") != (links is not None):
        raise ValueError(f"{path}: table '{name}' must have both read 'links' and links, or none")
    if links is None:
        return
    needed = {"id", "position", links.get("parent_column"), links.get("related_column")}
    if links.get("parent") not in entries or not needed <= set(entry["columns"]):
        raise ValueError(
            f"{path}: link table '{name}' needs a parent of the catalogue and the columns "
            f"{sorted(map(str, needed))}"
        )


def _check_per_parent(path: Path, name: str, entry: dict, entries: dict) -> None:
    """A per-parent table names its parent, when it reads it, a path with {id}, its columns."""
    per_parent = entry.get("per_parent")
    if (entry.get("read") == "per_parent") != (per_parent is not None):
        raise ValueError(
            f"{path}: table '{name}' must have both read 'per_parent' and per_parent, or none"
        )
    if per_parent is None:
        return
    needed = {"id", per_parent.get("parent_column"), per_parent.get("related_column", "id")}
    if (
        per_parent.get("parent") not in entries
        or per_parent.get("when") not in PER_PARENT_WHEN
        or not all("{id}" in candidate for candidate in entry["paths"])
        or not needed <= set(entry["columns"])
    ):
        raise ValueError(
            f"{path}: per-parent table '{name}' needs a parent of the catalogue, 'when' one of "
            f"{PER_PARENT_WHEN}, paths with {{id}}, and the columns {sorted(map(str, needed))}"
        )
