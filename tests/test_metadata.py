"""Custom fields typed from Act!'s field definitions, and the field definitions table."""

import pytest
import responses

from act_connector import metadata
from act_connector.config import validate_configuration
from act_connector.errors import ConfigurationError
from act_connector.metadata import DERIVED, custom_columns, for_this_server, typed_catalog
from tests.helpers import BASE_URL, configuration


def field(record_type, name, kind, custom=True):
    return {"id": f"{record_type}.{name}", "recordType": record_type, "name": name,
            "columnName": name.upper() if not custom else name, "type": kind,
            "isCustom": custom}  # fmt: skip


def test_each_act_type_lands_as_its_column_type(catalog):
    fields = [
        field("Contact", "last_review", "Date"),
        field("Contact", "newsletter", "YesNo"),
        field("Contact", "annual_value", "Currency"),
        field("Company", "Seats", "Number"),
        field("Opportunity", "user2", "Character"),
        field("Contact", "photo", "Picture"),  # no one form: left to inference
        field("Contact", "firstName", "Character", custom=False),  # not a custom field
        field("Invoice", "total", "Currency"),  # a record type no table holds
    ]
    assert custom_columns(fields, catalog) == {
        "contacts": {
            "customFields_last_review": "UTC_DATETIME",
            "customFields_newsletter": "BOOLEAN",
            "customFields_annual_value": "DECIMAL",
        },
        "companies": {"customFields_seats": "DOUBLE"},
        "opportunities": {"customFields_user2": "STRING"},
    }


def test_a_declared_column_is_never_retyped_and_decimals_have_a_shape(catalog):
    typed = typed_catalog(
        catalog, [field("Contact", "annual_value", "Currency"), field("Contact", "x", "YesNo")]
    )
    assert typed.tables["contacts"].columns["customFields_annual_value"] == "DECIMAL"
    assert catalog.tables["contacts"].columns.get("customFields_annual_value") is None
    [contacts] = typed.schema(("contacts",))
    assert contacts["columns"]["customFields_annual_value"] == {
        "type": "DECIMAL", "precision": 19, "scale": 4
    }  # fmt: skip
    retyped = typed_catalog(typed, [field("Contact", "annual_value", "Character")])
    assert retyped.tables["contacts"].columns["customFields_annual_value"] == "DECIMAL"


def test_every_derived_column_of_the_catalogue_is_known(catalog):
    for spec in catalog.tables.values():
        assert spec.derive is None or spec.derive in DERIVED
    row = DERIVED["landed_column"](field("Contact", "USER4", "Character"))
    assert row["landed_column"] == "customFields_user4"
    assert DERIVED["landed_column"](field("Contact", "firstName", "Character", custom=False))[
        "landed_column"
    ] == "firstName"  # fmt: skip


@pytest.fixture
def act():
    metadata._read.clear()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{BASE_URL}/authorize", body="tok.en", content_type="text/html")
        yield mock
    metadata._read.clear()


def test_definitions_are_read_once_for_schema_and_update(catalog, act):
    act.get(f"{BASE_URL}/api/metadata/fields", json=[field("Contact", "x", "YesNo")])
    act.get(f"{BASE_URL}/api/metadata/entities", json=[{"name": "Projects"}])
    settings = validate_configuration(configuration(), catalog)
    first = for_this_server(settings, catalog)
    asked, calls = sum("/api/metadata/" in call.request.url for call in act.calls), len(act.calls)
    second = for_this_server(settings, catalog)
    assert first[1].tables["contacts"].columns["customFields_x"] == "BOOLEAN"
    # Every custom table and its link tables, unless tables chooses.
    assert first[0].tables[-5:] == (
        "custom_projects",
        "custom_projects_contacts",
        "custom_projects_companies",
        "custom_projects_groups",
        "custom_projects_opportunities",
    )
    assert first[1].tables["custom_projects_opportunities"].links.array == "opportunity"
    assert first[1].tables["custom_projects"].paths == ("custom/entities/Projects",)
    assert second == first
    # One read of each listing (the fields' first page may be followed by one more, to tell
    # its end from a server's page cap); the second asked nothing.
    assert asked == 3 and len(act.calls) == calls


def test_each_listed_entity_says_where_it_lands_and_a_standard_one_is_no_table(catalog, act):
    listed = [
        {"name": "Projects", "isCustom": True},
        {"name": "Contact", "isCustom": False},  # should a build list its standard entities too
        {"name": "Rig Sites"},  # no table can be named so
    ]
    act.get(f"{BASE_URL}/api/metadata/entities", json=listed)
    act.get(f"{BASE_URL}/api/metadata/fields", json=[])
    settings, _ = for_this_server(validate_configuration(configuration(), catalog), catalog)
    custom = {name for name in settings.tables if name.startswith("custom_")}
    assert custom == {"custom_projects"} | {
        f"custom_projects_{kind}" for kind in ("contacts", "companies", "groups", "opportunities")
    }
    landed = [DERIVED["landed_table"](entity)["landed_table"] for entity in listed]
    assert landed == ["custom_projects", None, None]


def test_no_request_when_no_chosen_table_needs_definitions(catalog, act):
    settings = validate_configuration(configuration(tables="activities,users"), catalog)
    assert for_this_server(settings, catalog) == (settings, catalog)
    assert not act.calls


def test_a_custom_table_is_chosen_by_name_and_one_act_lacks_is_named(catalog, act):
    act.get(f"{BASE_URL}/api/metadata/entities", json=[{"name": "projects"}, {"name": "Rigs"}])
    act.get(f"{BASE_URL}/api/metadata/fields", json=[])
    settings = validate_configuration(configuration(tables="users,custom_rigs"), catalog)
    assert for_this_server(settings, catalog)[0].tables == ("users", "custom_rigs")
    metadata._read.clear()
    settings = validate_configuration(configuration(tables="custom_boats"), catalog)
    with pytest.raises(ConfigurationError, match=r"custom_boats, which .* custom_projects, cus"):
        for_this_server(settings, catalog)


def test_unreadable_definitions_leave_custom_fields_to_inference(catalog, act, capsys):
    act.get(f"{BASE_URL}/api/metadata/fields", status=403, json={"message": "No."})
    act.get(f"{BASE_URL}/api/metadata/entities", status=404, json={"message": "No."})
    settings = validate_configuration(configuration(), catalog)
    assert for_this_server(settings, catalog) == (settings, catalog)
    out = capsys.readouterr().out
    assert out.count("left to Fivetran's type inference") == 1
    assert out.count("no custom table is synced") == 1
