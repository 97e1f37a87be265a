"""The catalogue held to the vendor's own API definition (../shared/reference/
act-web-api-swagger.json, Swagger 2.0, verbatim): every path a table reads is the vendor's,
every column it declares is a property of the records (nested objects flattened as the connector
flattens them) with a type that agrees, and every property is declared. What departs is listed,
with its evidence, in tests/vendor_deviations.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from act_connector.flatten import SEPARATOR
from emulator.data import generate
from tests import vendor_deviations as deviations
from tests.helpers import every_table

SWAGGER = json.loads(
    (Path(__file__).resolve().parents[2] / "shared/reference/act-web-api-swagger.json").read_text(
        encoding="utf-8"
    )
)
DEFINITIONS = SWAGGER["definitions"]
VENDOR_PREFIX = "act.web.api.models."
# How deep nested objects are flattened: an address's fields (one level) and a picklist's;
# deeper references (an object inside an object inside a record) land as JSON.
FLATTEN_DEPTH = 2
# A number that is money: Act! keeps it in SQL Server `money` (DECIMAL(19,4) here), never DOUBLE.
MONEY = re.compile(r"(?i)(price|cost|total|revenue|margin)")
# The column types each of the definition's types may land as.
TYPES = {
    "integer": {"INT", "LONG"},
    "number": {"DOUBLE"},  # DECIMAL for money
    "boolean": {"BOOLEAN"},
    "string": {"STRING"},
    "date-time": {"UTC_DATETIME"},
    "array": {"JSON"},  # and a link table of its own
    "object": {"JSON"},
    "map": {"JSON"},  # or, where metadata.py types them, a column per custom field
}


def properties(name: str, prefix: str = "", depth: int = 0) -> dict[str, str]:
    """A definition's properties flattened as the connector flattens records: property ->
    its type (with date-time and 'map' for an object of free keys)."""
    found = {}
    for key, spec in DEFINITIONS[name].get("properties", {}).items():
        column = prefix + key
        if "$ref" in spec:
            target = spec["$ref"].rsplit("/", 1)[-1]
            nested = DEFINITIONS[target]
            if nested.get("properties") and depth < FLATTEN_DEPTH:
                found.update(properties(target, column + SEPARATOR, depth + 1))
            else:
                found[column] = nested.get("type", "object")
        elif spec.get("format") == "date-time":
            found[column] = "date-time"
        elif spec.get("type") == "object" and "additionalProperties" in spec:
            found[column] = "map"
        else:
            found[column] = spec.get("type", "object")
    return found


def vendor_tables(catalog) -> dict:
    """The tables whose records are the vendor's (link tables and membership are made by the
    connector from them), custom tables included."""
    tables = every_table(catalog)
    return {name: spec for name, spec in tables.items() if spec.definition}


def test_every_table_of_vendor_records_names_its_definition(catalog):
    tables = every_table(catalog)
    unnamed = {
        name
        for name, spec in tables.items()
        if not spec.definition
        and not spec.links
        and not (spec.per_parent and spec.per_parent.related_column)
    }
    assert unnamed == set()
    for name, spec in vendor_tables(catalog).items():
        assert VENDOR_PREFIX + spec.definition in DEFINITIONS, name


def test_every_path_is_the_vendors_or_a_listed_alias(catalog):
    vendor_paths = {re.sub(r"\{[^}]+\}", "{id}", path.lower()) for path in SWAGGER["paths"]}
    departures = {
        (name, path)
        for name, spec in catalog.tables.items()
        for path in spec.paths
        if f"/api/{path}".lower() not in vendor_paths
    }
    assert departures == set(deviations.PATHS)


def test_every_declared_column_is_the_vendors_and_every_property_declared(catalog):
    declared_only, defined_only = set(), set()
    for name, spec in vendor_tables(catalog).items():
        defined = properties(VENDOR_PREFIX + spec.definition)
        declared_only |= {(name, column) for column in spec.columns if column not in defined}
        defined_only |= {(name, prop) for prop in defined if prop not in spec.columns}
    assert declared_only == set(deviations.DECLARED_NOT_DEFINED)
    assert defined_only == set(deviations.DEFINED_NOT_DECLARED)


def test_each_column_has_a_type_its_definition_allows_and_money_is_decimal(catalog):
    wrong = {}
    for name, spec in vendor_tables(catalog).items():
        defined = properties(VENDOR_PREFIX + spec.definition)
        for column, kind in spec.columns.items():
            vendor = defined.get(column)
            if vendor is None:
                continue
            money = vendor == "number" and MONEY.search(column)
            allowed = {"DECIMAL"} if money else TYPES.get(vendor, set())
            if kind not in allowed:
                wrong[f"{name}.{column}"] = f"{kind}, where the vendor says {vendor}"
    assert wrong == {}


@pytest.mark.parametrize(
    ("table", "column"),
    [("opportunities", "productTotal"), ("opportunity_products", "total"), ("products", "price")],
)
def test_money_lands_as_a_decimal_of_four_places(catalog, table, column):
    [entry] = catalog.schema((table,))
    assert entry["columns"][column] == {"type": "DECIMAL", "precision": 19, "scale": 4}


def test_every_listed_departure_says_where_its_evidence_is():
    listed = {**deviations.PATHS, **deviations.DECLARED_NOT_DEFINED}
    listed.update(deviations.DEFINED_NOT_DECLARED)
    assert all(len(reason) > 20 for reason in listed.values())


def flattened(record: dict, prefix: str = ""):
    """Every (column, value) a record flattens to, nulls kept: what the server sent."""
    for key, value in record.items():
        if isinstance(value, dict):
            yield from flattened(value, prefix + key + SEPARATOR)
        else:
            yield prefix + key, value


def test_the_emulator_serves_the_vendors_shapes(catalog):
    """Every record the emulator makes, flattened as the connector flattens it, holds only the
    vendor's properties (a custom table's own fields aside, which no definition has), and
    every property is served somewhere, but those of objects it always sends as null (no
    attachment, no recurrence detail): the emulator cannot drift from the definitions."""
    data = generate(7, {"contacts": 60, "opportunities": 30, "activities": 40})
    problems = {}
    for name, spec in vendor_tables(catalog).items():
        defined = properties(VENDOR_PREFIX + spec.definition)
        served, null_objects = set(), set()
        for record in data[name]:
            for column, value in flattened(record):
                if column in spec.omit:
                    continue
                served.add(column)
                if value is None and any(p.startswith(column + SEPARATOR) for p in defined):
                    null_objects.add(column)
        custom = {column for column in served if column.startswith("customFields" + SEPARATOR)}
        foreign = served - set(defined) - custom - null_objects
        if spec.name.startswith("custom_"):
            foreign = set()  # a custom table's own fields are in no definition
        absent = {
            prop
            for prop in set(defined) - served
            if not any(prop.startswith(column + SEPARATOR) for column in null_objects)
            and prop not in spec.omit
            and defined[prop] != "map"
        }
        if foreign or absent:
            problems[name] = {"foreign": sorted(foreign), "absent": sorted(absent)}
    assert problems == {}
