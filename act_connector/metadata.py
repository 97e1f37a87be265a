"""What this Act! database defines: custom fields typed as Act! defines them, custom tables.

Custom fields are not in the vendor's entity schema: undeclared, they land as whatever Fivetran
infers from the values (a date as text, a yes/no as text when Act! sends "Y"). Act! does say what
each field is, so schema() and each sync read the definitions and declare every custom field of a
chosen table with its real type, under the name it lands as (`customFields_<name>`, as the
flattener names it). If the definitions cannot be read, the fields are left to inference and one
warning says so; a column fields.json declares is never retyped.

Custom tables (Act! Premium's custom entities) are listed by /api/metadata/entities; each lands as
custom_<name>, read from /api/custom/entities/<name> incrementally on `edited`, with the columns
every custom entity has declared and its own fields left to inference. Unless `tables` names the
tables, every custom table is synced. The listing itself lands as the `entities` table, as the
field definitions land as `fields`, each row saying which table its records land in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from act_connector.catalog import Catalog, custom_table_name, custom_table_specs
from act_connector.client import ActClient, account_key
from act_connector.config import Settings
from act_connector.errors import ActConnectorError, ConfigurationError
from act_connector.flatten import SEPARATOR
from act_connector.listing import PageCap, read_list
from act_connector.logs import log

METADATA_PATH = "metadata/fields"
ENTITIES_PATH = "metadata/entities"
# schema() and update() of one sync both need the definitions, and the `fields` table is the field
# definitions: read within this many seconds, they are used again (one request, and one warning
# when they cannot be read); a later sync reads anew.
REUSE_SECONDS = 300.0
# Per account (client.account_key): when the definitions were read, and what came (None: failed).
_read: dict[tuple[str, str, str, str], tuple[float, Definitions]] = {}
CUSTOM_PREFIX = "customFields" + SEPARATOR
# Act!'s field types and the column type each lands as. Types whose values have no one form
# (Calculated, Picture) are left out: inference takes them as they come.
ACT_TYPES = {
    "yesno": "BOOLEAN",
    "number": "DOUBLE",
    "decimal": "DOUBLE",
    "currency": "DECIMAL",
    "date": "UTC_DATETIME",
    "datetime": "UTC_DATETIME",
    "annualevent": "UTC_DATETIME",
    "character": "STRING",
    "memo": "STRING",
    "url": "STRING",
    "email": "STRING",
    "phone": "STRING",
    "time": "STRING",
    "address": "STRING",
}


def landed_column(field: dict) -> str | None:
    """The column a field lands as: a custom one under customFields_, by its column name in lower
    case (the key Act! gives it in a record's customFields); a standard one by its name."""
    name = field.get("columnName") or field.get("name")
    if not isinstance(name, str) or not name:
        return None
    return CUSTOM_PREFIX + name.lower() if field.get("isCustom") else field.get("name") or name


def with_landed_column(field: dict) -> dict:
    """A field definition as the `fields` table holds it: with the column it lands as."""
    return {**field, "landed_column": landed_column(field)}


@dataclass(frozen=True)
class Definitions:
    """What Act! said it defines; None where it could not be read."""

    fields: list | None
    entities: list | None


def with_landed_table(entity: dict) -> dict:
    """An entity as the `entities` table holds it: with the table its records land in."""
    return {**entity, "landed_table": custom_table_name(entity)}


# What a table read whole may derive from each row (fields.json "derive").
DERIVED = {"landed_column": with_landed_column, "landed_table": with_landed_table}


def custom_columns(fields: list, catalog: Catalog) -> dict[str, dict[str, str]]:
    """Per table of the catalogue, its custom fields' columns and their types."""
    tables = {spec.record_type.lower(): name for name, spec in catalog.tables.items()
              if spec.record_type}  # fmt: skip
    columns: dict[str, dict[str, str]] = {}
    for field in fields:
        if not isinstance(field, dict) or not field.get("isCustom"):
            continue
        table = tables.get(str(field.get("recordType", "")).lower())
        kind = ACT_TYPES.get(str(field.get("type") or field.get("dataType") or "").lower())
        column = landed_column(field)
        if table and kind and column:
            columns.setdefault(table, {})[column] = kind
    return columns


def typed_catalog(catalog: Catalog, fields: list) -> Catalog:
    """The catalogue with each table's custom fields declared (declared columns win)."""
    extra = custom_columns(fields, catalog)
    return Catalog(
        {
            name: replace(spec, columns={**extra.get(name, {}), **spec.columns})
            if name in extra
            else spec
            for name, spec in catalog.tables.items()
        }
    )


def for_this_server(
    settings: Settings, catalog: Catalog, client: ActClient | None = None
) -> tuple[Settings, Catalog]:
    """The settings and catalogue to declare and sync with: this database's custom tables added
    (and chosen, unless `tables` names the tables), custom fields typed. `client`, if given, is
    an authorized one to ask with (the setup test's, which gives up sooner)."""
    wants_entities = not settings.tables_chosen or any(
        name not in catalog.tables for name in settings.tables
    )
    wants_fields = any(
        catalog.tables[name].record_type for name in settings.tables if name in catalog.tables
    )
    if not (wants_entities or wants_fields):
        return settings, catalog
    definitions = read_definitions(settings, client)
    if wants_entities:
        settings, catalog = with_custom_tables(settings, catalog, definitions.entities or [])
    if wants_fields and definitions.fields is not None:
        catalog = typed_catalog(catalog, definitions.fields)
    return settings, catalog


def with_custom_tables(
    settings: Settings, catalog: Catalog, entities: list
) -> tuple[Settings, Catalog]:
    """The catalogue with a table per listed entity; a chosen one Act! does not list is refused."""
    custom = {}
    for entity in entities:
        table = custom_table_name(entity) if isinstance(entity, dict) else None
        if table and table not in catalog.tables:
            custom.update(custom_table_specs(table, entity["name"]))
    missing = [n for n in settings.tables if n not in catalog.tables and n not in custom]
    if missing:
        listed = ", ".join(custom) or "none"
        raise ConfigurationError(
            f"tables names {', '.join(missing)}, which this Act! database does not have (its "
            f"custom tables, from /api/{ENTITIES_PATH}: {listed})."
        )
    tables = settings.tables if settings.tables_chosen else settings.tables + tuple(custom)
    catalog = catalog.with_tables(custom)
    catalog.refuse_orphans(list(tables))
    return replace(settings, tables=tables), catalog


def read_definitions(settings: Settings, given: ActClient | None = None) -> Definitions:
    """Act!'s field definitions and custom entities, read once per sync (see REUSE_SECONDS)."""
    earlier = _recent(settings)
    if earlier is not None:
        return earlier
    client = given or ActClient(settings)
    try:
        if given is None:  # refused credentials or no server: the sync would fail alike, so fail
            client.authorize()
        definitions = Definitions(
            _listing(client, METADATA_PATH, paged_on="id"), _listing(client, ENTITIES_PATH)
        )
    finally:
        if given is None:
            client.close()
    _read[account_key(settings)] = (time.monotonic(), definitions)
    return definitions


def rows_read(settings: Settings, path: str) -> list | None:
    """The rows read_definitions read at /api/<path> within REUSE_SECONDS, for a table read whole
    from that path (the `fields` table) to land rather than ask again; None if there are none."""
    definitions = _recent(settings)
    if definitions is None:
        return None
    return {METADATA_PATH: definitions.fields, ENTITIES_PATH: definitions.entities}.get(path)


def _recent(settings: Settings) -> Definitions | None:
    earlier = _read.get(account_key(settings))
    if earlier and time.monotonic() - earlier[0] < REUSE_SECONDS:
        return earlier[1]
    return None


def _listing(client: ActClient, path: str, paged_on: str | None = None) -> list | None:
    """The definitions at a path; read page by page on `paged_on` where the path takes a query
    (/api/metadata/fields: a server that caps answers caps it too, and it can hold hundreds)."""
    name = path.replace("/", "_")
    try:
        if paged_on:
            return read_list(client, name, path, paged_on, PageCap(name))
        return client.get_rows(name, path, {})
    except ActConnectorError as error:
        if not error.table_scoped:
            raise
        _warn(path, error)
        return None


def _warn(path: str, error: ActConnectorError) -> None:
    meaning = {
        METADATA_PATH: "custom fields are left to Fivetran's type inference",
        ENTITIES_PATH: "no custom table is synced",
    }[path]
    log.warning(f"Act!'s definitions at /api/{path} could not be read, so {meaning}: {error}")
