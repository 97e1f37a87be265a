"""The table catalogue: fields.json says, for each table, where it lives and what it holds.

Adding a table is adding an entry to fields.json; no code names a table. An entry is read into a
TableSpec (a link table's "links" into a LinkSpec, a per-parent table's "per_parent" into a
PerParentSpec); a key the catalogue does not know is refused when it is loaded, so that a typo
never passes for a setting. Custom tables, which each database defines for itself, are made
here too (custom_table_specs), from what Act! lists at /api/metadata/entities.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, get_args

from act_connector.errors import ConfigurationError

FIELDS_FILE = Path(__file__).resolve().parent.parent / "fields.json"
# How a table's rows are read: "keyset" pages through an OData collection on its edit time and id
# (paging.py); "whole" takes a path that accepts no query (users, task and history types, sales
# stages) in one request.
# "links": rows made from an array each parent record embeds (links.py), no request of its own.
# "per_parent": rows served under each parent record (per_parent.py), a request per parent.
ReadKind = Literal["keyset", "whole", "links", "per_parent"]
READ_KINDS: tuple[str, ...] = get_args(ReadKind)
# When a per-parent table reads its parents: "written", each parent record this sync writes (line
# items change with their opportunity); "scheduled", every parent once the membership interval
# has passed (membership does not touch a group's edit time).
PerParentWhen = Literal["written", "scheduled"]
PER_PARENT_WHEN: tuple[str, ...] = get_args(PerParentWhen)
# Act! stores currency as SQL Server's money: 19 digits, 4 after the point.
DECIMAL_SHAPE = {"precision": 19, "scale": 4}
# The name a custom table (an entity of /api/metadata/entities) lands as.
CUSTOM_TABLE_PREFIX = "custom_"
CUSTOM_TABLE = re.compile(CUSTOM_TABLE_PREFIX + r"[a-z0-9_]+")
# What every custom entity holds (CustomEntity in the vendor's definitions); its own fields are
# not in the definitions, and are left to inference.
CUSTOM_TABLE_COLUMNS = {
    "id": "STRING",
    "created": "UTC_DATETIME",
    "edited": "UTC_DATETIME",
    "editedBy": "STRING",
    "recordOwner": "STRING",
    "companies": "JSON",
    "contacts": "JSON",
    "groups": "JSON",
    "opportunity": "JSON",
}
# A custom entity's arrays of linked records, each landing as a link table like any other's:
# array -> (the link table's suffix, its column of the linked record's id).
CUSTOM_TABLE_LINKS = {
    "contacts": ("contacts", "contact_id"),
    "companies": ("companies", "company_id"),
    "groups": ("groups", "group_id"),
    "opportunity": ("opportunities", "opportunity_id"),
}


@dataclass(frozen=True)
class LinkSpec:
    """A link table's rows: one per member of an array each parent record embeds (links.py)."""

    parent: str  # the parent table
    array: str  # the parent record's array of related records
    parent_column: str  # the column the parent's id lands in
    related_column: str  # the column the related record's id lands in


@dataclass(frozen=True)
class PerParentSpec:
    """A per-parent table's rows: served under each parent record (per_parent.py)."""

    parent: str  # the parent table
    parent_column: str  # the column the parent's id lands in
    when: PerParentWhen  # which parents are read: see PER_PARENT_WHEN
    # For membership: the column the served record's id lands in (a row is then a link, keyed
    # "parent id|record id"); None: a row is the served record itself, with the parent's id.
    related_column: str | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    paths: tuple[str, ...]  # candidate collection paths under /api/, first the current build's
    primary_key: str
    cursor: str | None  # the edit timestamp a keyset table is read on; None for the others
    columns: dict[str, str]  # declared column types, flattened names
    default: bool  # synced when the configuration does not choose tables
    read: ReadKind = "keyset"
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
    links: LinkSpec | None = None  # read "links"
    per_parent: PerParentSpec | None = None  # read "per_parent"
    # A table read whole whose path still takes an OData query ("matching an (optional) OData
    # query", the vendor says of /api/metadata/fields): read page by page, as a server that
    # caps its answers caps it too (listing.read_list). The others accept none ("Gets all").
    queryable: bool = False
    # Columns a record's flattening makes that another column already holds under a name the
    # destination would merge with it (history's historyType_id beside Act!'s historyTypeID,
    # both history_type_id under Fivetran's naming): left out of every row.
    omit: tuple[str, ...] = ()
    # The vendor's name for the table's records in its API definition (Swagger), e.g.
    # "Contacts.Contact": what tests hold the declared columns to.
    definition: str | None = None

    @property
    def incremental(self) -> bool:
        return self.cursor is not None

    @property
    def follows(self) -> str | None:
        """The parent table whose walk writes this table's rows (a link table, line items)."""
        if self.links:
            return self.links.parent
        if self.per_parent and self.per_parent.when == "written":
            return self.per_parent.parent
        return None


@dataclass(frozen=True)
class Catalog:
    tables: dict[str, TableSpec]

    @property
    def default_tables(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.tables.items() if spec.default)

    def refuse_orphans(self, names: list[str]) -> None:
        """A table written as its parent is read (links, line items) needs its parent chosen."""
        orphans = [
            f"{name} (needs {self.tables[name].follows})"
            for name in names
            if name in self.tables
            and self.tables[name].follows
            and self.tables[name].follows not in names
        ]
        if orphans:
            raise ConfigurationError(
                f"tables names table(s) without their parent: {', '.join(orphans)}; each is "
                "written as its parent is read, so add the parent or remove the table."
            )

    def with_tables(self, specs: dict[str, TableSpec]) -> Catalog:
        """This catalogue with more tables (a database's custom tables)."""
        return Catalog({**self.tables, **specs})

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
    return Catalog(
        {name: _table_spec(path, name, entry, entries) for name, entry in entries.items()}
    )


# fields.json's keys of an entry: TableSpec's fields but its name, which is the entry's key.
ENTRY_KEYS = frozenset(spec.name for spec in fields(TableSpec)) - {"name"}
REQUIRED_ENTRY_KEYS = frozenset({"paths", "primary_key", "columns"})


def _table_spec(path: Path, name: str, entry: dict, entries: dict) -> TableSpec:
    """A fields.json entry as a TableSpec, once it is checked."""
    _check_keys(path, f"table '{name}'", entry, ENTRY_KEYS, REQUIRED_ENTRY_KEYS)
    _check_references(path, name, entry, entries)
    links = _check_links(path, name, entry, entries)
    per_parent = _check_per_parent(path, name, entry, entries)
    read = entry.get("read", "keyset")
    has_cursor = bool(entry.get("cursor"))
    if read not in READ_KINDS or has_cursor != (read == "keyset"):
        raise ValueError(
            f"{path}: table '{name}' reads {read!r} with cursor {entry.get('cursor')!r}; "
            f"read is one of {READ_KINDS}, and only a 'keyset' table has a cursor (one "
            "without an edit time is read 'whole')"
        )
    return TableSpec(
        name=name,
        paths=tuple(entry["paths"]),
        primary_key=entry["primary_key"],
        cursor=entry.get("cursor"),
        columns=entry["columns"],
        default=entry.get("default", True),
        read=read,
        references=entry.get("references", {}),
        record_type=entry.get("record_type"),
        derive=entry.get("derive"),
        optional=entry.get("optional", False) is True,
        links=links,
        per_parent=per_parent,
        definition=entry.get("definition"),
        queryable=_check_queryable(path, name, entry),
        omit=tuple(entry.get("omit", ())),
    )


def _check_keys(path: Path, what: str, entry, known: frozenset, required: frozenset) -> None:
    """An entry is an object of known keys, with those it needs."""
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: {what} is not an object")
    unknown, missing = sorted(set(entry) - known), sorted(required - set(entry))
    if unknown or missing:
        raise ValueError(
            f"{path}: {what} has unknown key(s) {unknown} and lacks {missing}; "
            f"its keys are {sorted(known)}"
        )


def _check_queryable(path: Path, name: str, entry: dict) -> bool:
    """Only a table read whole, from one path, is marked queryable (the others page anyway)."""
    queryable = entry.get("queryable", False)
    if queryable is not False and (
        queryable is not True or entry.get("read") != "whole" or len(entry["paths"]) != 1
    ):
        raise ValueError(f"{path}: table '{name}' is queryable only if read 'whole' from one path")
    return queryable


def _check_references(path: Path, name: str, entry: dict, entries: dict) -> None:
    """A reference names a declared column and a table of the catalogue."""
    for column, table in entry.get("references", {}).items():
        if column not in entry["columns"] or table not in entries:
            raise ValueError(
                f"{path}: table '{name}' references {table!r} by {column!r}, which is not a "
                "declared column and a table of the catalogue"
            )


def _check_links(path: Path, name: str, entry: dict, entries: dict) -> LinkSpec | None:
    """A link table names its parent table and array, and declares its id and both columns."""
    links = entry.get("links")
    if (entry.get("read") == "links") != (links is not None):
        raise ValueError(f"{path}: table '{name}' must have both read 'links' and links, or none")
    if links is None:
        return None
    keys = frozenset(spec.name for spec in fields(LinkSpec))
    _check_keys(path, f"the links of table '{name}'", links, keys, keys)
    needed = {"id", "position", links["parent_column"], links["related_column"]}
    if links["parent"] not in entries or not needed <= set(entry["columns"]):
        raise ValueError(
            f"{path}: link table '{name}' needs a parent of the catalogue and the columns "
            f"{sorted(map(str, needed))}"
        )
    return LinkSpec(**links)


def _check_per_parent(path: Path, name: str, entry: dict, entries: dict) -> PerParentSpec | None:
    """A per-parent table names its parent, when it reads it, a path with {id}, its columns."""
    per_parent = entry.get("per_parent")
    if (entry.get("read") == "per_parent") != (per_parent is not None):
        raise ValueError(
            f"{path}: table '{name}' must have both read 'per_parent' and per_parent, or none"
        )
    if per_parent is None:
        return None
    keys = frozenset(spec.name for spec in fields(PerParentSpec))
    _check_keys(
        path, f"the per_parent of table '{name}'", per_parent, keys, keys - {"related_column"}
    )
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
    return PerParentSpec(**per_parent)


def custom_table_name(entity: dict) -> str | None:
    """The table a listed entity's records land in: custom_<name in lower case>; None for an
    entity Act! says is not custom, or whose name cannot be a table's."""
    name = entity.get("name")
    if not isinstance(name, str) or entity.get("isCustom") is False:
        return None
    table = CUSTOM_TABLE_PREFIX + name.lower()
    return table if CUSTOM_TABLE.fullmatch(table) else None


def custom_table_specs(table: str, entity: str) -> dict[str, TableSpec]:
    """A custom table (read incrementally on `edited` from /api/custom/entities/<entity>) and
    its link tables: one row per record each of its rows links to."""
    specs = {
        table: TableSpec(
            name=table,
            paths=(f"custom/entities/{entity}",),
            primary_key="id",
            cursor="edited",
            columns=dict(CUSTOM_TABLE_COLUMNS),
            default=True,
            definition="CustomEntity",
        )
    }
    parent_column = f"{table}_id"
    for array, (suffix, related_column) in CUSTOM_TABLE_LINKS.items():
        name = f"{table}_{suffix}"
        specs[name] = TableSpec(
            name=name,
            paths=(),
            primary_key="id",
            cursor=None,
            columns={
                "id": "STRING",
                parent_column: "STRING",
                related_column: "STRING",
                "position": "INT",
            },
            default=True,
            read="links",
            links=LinkSpec(table, array, parent_column, related_column),
        )
    return specs
