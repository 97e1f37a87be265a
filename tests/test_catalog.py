"""The catalogue as fields.json declares it: typed entries, unknown keys refused at load."""

import json
from pathlib import Path

import pytest
from fivetran_connector_sdk_core.renaming import redshift_safe

from act_connector.catalog import (
    FIELDS_FILE,
    LinkSpec,
    PerParentSpec,
    custom_table_specs,
    load_catalog,
)
from act_connector.errors import ConfigurationError
from act_connector.flatten import Flattener
from emulator.data import generate
from tests.helpers import every_table

SWAGGER = Path(__file__).resolve().parents[2] / "shared/reference/act-web-api-swagger.json"
VENDOR_PREFIX = "act.web.api.models."  # of every definition's name in the vendor's Swagger


def written(tmp_path: Path, tables: dict) -> Path:
    path = tmp_path / "fields.json"
    path.write_text(json.dumps({"tables": tables}), encoding="utf-8")
    return path


def entries() -> dict:
    return json.loads(FIELDS_FILE.read_text(encoding="utf-8"))["tables"]


def test_nested_entries_are_typed(catalog):
    links = catalog.tables["opportunity_contacts"].links
    assert links == LinkSpec("opportunities", "contacts", "opportunity_id", "contact_id")
    line_items = catalog.tables["opportunity_products"].per_parent
    assert line_items == PerParentSpec("opportunities", "opportunityID", "written")
    members = catalog.tables["group_contacts"].per_parent
    assert (members.when, members.related_column) == ("scheduled", "contact_id")


@pytest.mark.parametrize(
    ("where", "typo"),
    [
        (lambda entry: entry, "primary_keys"),
        (lambda entry: entry["links"], "aray"),
    ],
)
def test_an_unknown_key_is_refused_at_load(tmp_path, where, typo):
    tables = entries()
    where(tables["opportunity_contacts"])[typo] = "x"
    with pytest.raises(ValueError, match=f"unknown key\\(s\\) \\['{typo}'\\]"):
        load_catalog(written(tmp_path, tables))


def test_a_per_parent_entry_without_when_is_refused(tmp_path):
    tables = entries()
    del tables["opportunity_products"]["per_parent"]["when"]
    with pytest.raises(ValueError, match=r"lacks \['when'\]"):
        load_catalog(written(tmp_path, tables))


def test_every_vendor_definition_named_is_in_the_vendors_api_definition(catalog):
    definitions = json.loads(SWAGGER.read_text(encoding="utf-8"))["definitions"]
    named = {name: spec.definition for name, spec in catalog.tables.items() if spec.definition}
    assert len(named) >= 17  # every table the vendor defines names its definition
    missing = {name: d for name, d in named.items() if VENDOR_PREFIX + d not in definitions}
    assert missing == {}


def test_a_custom_table_comes_with_a_link_table_per_array():
    specs = custom_table_specs("custom_projects", "projects")
    assert specs["custom_projects"].paths == ("custom/entities/projects",)
    links = specs["custom_projects_opportunities"].links
    assert links == LinkSpec(
        "custom_projects", "opportunity", "custom_projects_id", "opportunity_id"
    )
    assert {spec.follows for name, spec in specs.items() if name != "custom_projects"} == {
        "custom_projects"
    }


def test_a_table_chosen_without_its_parent_is_refused(catalog):
    with pytest.raises(ConfigurationError, match=r"opportunity_products \(needs opportunities\)"):
        catalog.refuse_orphans(["contacts", "opportunity_products"])
    catalog.refuse_orphans(["opportunities", "opportunity_products"])  # no error


def collisions(names) -> dict[str, list[str]]:
    """Names that the SDK's own (Fivetran) naming lands in one column."""
    landed: dict[str, list[str]] = {}
    for name in names:
        landed.setdefault(redshift_safe(name), []).append(name)
    return {column: sorted(sources) for column, sources in landed.items() if len(sources) > 1}


def test_no_two_declared_columns_land_in_one(catalog):
    found = {
        name: collisions(spec.columns)
        for name, spec in every_table(catalog).items()
        if collisions(spec.columns)
    }
    assert found == {}


def test_no_two_names_of_a_row_land_in_one(catalog):
    """Every row the emulator's data makes, declared or not (nested objects flattened, the
    parent's id added), as the connector writes it."""
    data = generate(7, {"contacts": 60, "opportunities": 30, "activities": 40})
    found = {}
    for name, spec in every_table(catalog).items():
        if spec.per_parent and spec.per_parent.related_column:
            continue  # a member's row is its declared three columns, not the served record
        flattener = Flattener(spec.columns, spec.omit)
        names = set()
        for record in data.get(name, []):
            names.update(flattener.row(record))
        if spec.per_parent:
            names.add(spec.per_parent.parent_column)
        if collisions(names):
            found[name] = collisions(names)
    assert found == {}
    assert "historyType_id" not in Flattener({}, ("historyType_id",)).row(
        {"historyType": {"id": 1}}
    )


def test_the_default_tables_join(catalog):
    """Every table a default table references is on by default too: a user who chose nothing
    can join every id the default tables carry."""
    dangling = {
        f"{name}.{column} -> {table}"
        for name, spec in catalog.tables.items()
        if spec.default
        for column, table in spec.references.items()
        if not catalog.tables[table].default
    }
    assert dangling == set()
