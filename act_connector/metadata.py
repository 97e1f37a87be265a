"""Custom fields typed as Act! defines them, from its field definitions (/api/metadata/fields).

Custom fields are not in the vendor's entity schema: undeclared, they land as whatever Fivetran
infers from the values (a date as text, a yes/no as text when Act! sends "Y"). Act! does say what
each field is, so schema() and each sync read the definitions and declare every custom field of a
chosen table with its real type, under the name it lands as (`customFields_<name>`, as the
flattener names it). If the definitions cannot be read, the fields are left to inference and one
warning says so; a column fields.json declares is never retyped.
"""

from __future__ import annotations

import time
from dataclasses import replace

from fivetran_connector_sdk import Logging as log

from act_connector.catalog import Catalog
from act_connector.client import ActClient
from act_connector.config import Settings
from act_connector.errors import ActConnectorError
from act_connector.flatten import SEPARATOR

METADATA_PATH = "metadata/fields"
# schema() and update() of one sync both need the definitions: read within this many seconds, they
# are used again (one request, and one warning when they cannot be read); a later sync reads anew.
REUSE_SECONDS = 300.0
# Per server, database and user: when the definitions were read, and what came (None: failed).
_read: dict[tuple[str, str, str], tuple[float, list | None]] = {}
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


# What a table read whole may derive from each row (fields.json "derive").
DERIVED = {"landed_column": with_landed_column}


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


def field_definitions(settings: Settings) -> list | None:
    """Act!'s field definitions, or None when they cannot be read; read once per sync."""
    key = (settings.base_url, settings.database_name, settings.username)
    earlier = _read.get(key)
    if earlier and time.monotonic() - earlier[0] < REUSE_SECONDS:
        return earlier[1]
    fields = read_field_definitions(settings)
    _read[key] = (time.monotonic(), fields)
    return fields


def read_field_definitions(settings: Settings) -> list | None:
    """Act!'s field definitions, or None (with a warning) when they cannot be read."""
    client = ActClient(settings)
    try:
        client.authorize()
        return client.get_rows("fields", METADATA_PATH, {})
    except ActConnectorError as error:
        log.warning(
            f"Act!'s field definitions (/api/{METADATA_PATH}) could not be read, so custom "
            f"fields are left to Fivetran's type inference: {error}"
        )
        return None
    finally:
        client.close()


def catalog_for(settings: Settings, catalog: Catalog) -> Catalog:
    """The catalogue to declare and sync the chosen tables with: custom fields typed when a
    chosen table has them and Act! describes them."""
    if not any(catalog.tables[name].record_type for name in settings.tables):
        return catalog
    fields = field_definitions(settings)
    return catalog if fields is None else typed_catalog(catalog, fields)
