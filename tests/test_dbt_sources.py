"""The dbt package's generated files are the ones fields.json generates, and nothing of dbt is
deployed or shares the connector's environment."""

import importlib.metadata
import re
from pathlib import Path

import pytest
import yaml

import deploy
from tools import dbt_sources
from tools.dbt_sources import (
    PROJECT,
    PROJECT_FILE,
    SOURCES_FILE,
    STAGING,
    STAGING_DOCS,
    differences,
    generated,
    project_with,
)


def test_the_committed_package_files_are_the_ones_the_catalogue_generates(catalog):
    assert differences(catalog) == [], (
        "dbt/ differs from fields.json: run `python tools/dbt_sources.py --write`"
    )


def test_the_check_names_a_file_that_drifted_and_a_stale_model(catalog, monkeypatch, tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    for path, text in generated(catalog).items():
        target = staging / path.name
        target.write_text(text, encoding="utf-8")
    monkeypatch.setattr(dbt_sources, "STAGING", staging)
    monkeypatch.setattr(dbt_sources, "SOURCES_FILE", staging / SOURCES_FILE.name)
    monkeypatch.setattr(dbt_sources, "STAGING_DOCS", staging / STAGING_DOCS.name)
    monkeypatch.setattr(dbt_sources, "PROJECT_FILE", staging / PROJECT_FILE.name)
    assert differences(catalog) == []
    (staging / "stg_act__contacts.sql").write_text("select 1", encoding="utf-8")
    (staging / "stg_act__gone.sql").write_text("select 1", encoding="utf-8")
    assert differences(catalog) == [
        staging / "stg_act__contacts.sql",
        staging / "stg_act__gone.sql",
    ]
    assert dbt_sources.main(["--write"]) == 0
    assert differences(catalog) == []
    assert not (staging / "stg_act__gone.sql").exists()


def sources() -> dict:
    return {
        table["name"]: table
        for table in yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))["sources"][0][
            "tables"
        ]
    }


def test_every_table_has_a_source_named_as_the_destination_names_its_columns(catalog):
    declared = sources()
    assert list(declared) == list(catalog.tables)
    contacts = [column["name"] for column in declared["contacts"]["columns"]]
    # firstName lands as first_name, businessAddress.postalCode as business_address_postal_code.
    assert {"id", "first_name", "business_address_postal_code", "record_manager_id"} <= set(
        contacts
    )
    assert contacts[-2:] == ["_fivetran_synced", "_fivetran_deleted"]
    # opportunityID and opportunity_id land as one column: declared once.
    items = [column["name"] for column in declared["opportunity_products"]["columns"]]
    assert items.count("opportunity_id") == 1
    source = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))["sources"][0]
    assert source["loaded_at_field"] == "_fivetran_synced"
    assert source["freshness"]["error_after"] == {"count": 168, "period": "hour"}
    # Freshness only where rows land as Act!'s records are edited: not where they land only when
    # they change (users, links), which a quiet week leaves untouched.
    assert "freshness" not in declared["contacts"]
    assert declared["users"]["freshness"] is None
    assert declared["opportunity_contacts"]["freshness"] is None


def test_descriptions_come_from_the_catalogue(catalog):
    declared = sources()
    assert declared["activities"]["description"].startswith(
        "Act!'s Activities.ActivityOccurrence (/api/tasks), read incrementally on its edit "
        "time (edited); primary key id; synced by default."
    )
    assert "off by default (add it to `tables`)" in declared["history"]["description"]
    assert (
        "one row per contacts embedded in a row of opportunities"
        in (declared["opportunity_contacts"]["description"])
    )
    company = next(c for c in declared["contacts"]["columns"] if c["name"] == "company_id")
    assert (
        company["description"]
        == "The companies row this one refers to (Act!'s companyID), STRING."
    )


def test_each_table_has_a_staging_model_switched_by_its_variable(catalog):
    variables = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["vars"]
    for name, spec in catalog.tables.items():
        model = (STAGING / f"stg_act__{name}.sql").read_text(encoding="utf-8")
        assert f"config(enabled=var('act__using_{name}'))" in model
        assert variables[f"act__using_{name}"] is spec.default
    assert variables["union_schemas"] == []


def test_staging_types_ids_money_timestamps_and_status(catalog):
    opportunities = (STAGING / "stg_act__opportunities.sql").read_text(encoding="utf-8")
    assert "{{ act.text('id') }} as opportunity_id" in opportunities
    assert "{{ act.text('record_manager_id') }} as record_manager_id" in opportunities
    assert "cast(product_total as {{ act.type_money() }}) as product_total" in opportunities
    assert "{{ act.timestamp('actual_close_date') }} as actual_close_date" in opportunities
    assert "when 0 then 'Open' when 1 then 'Won' when 2 then 'Lost'" in opportunities
    assert "where not coalesce(_fivetran_deleted, false)" in opportunities
    assert "{{ act.custom_fields('opportunities', declared) }}" in opportunities
    # Integer ids (activity types) become text like every other id.
    activities = (STAGING / "stg_act__activities.sql").read_text(encoding="utf-8")
    assert "{{ act.text('activity_type_id') }} as activity_type_id" in activities


def test_links_are_tested_against_their_parents_among_live_rows():
    models = {
        model["name"]: model
        for model in yaml.safe_load(STAGING_DOCS.read_text(encoding="utf-8"))["models"]
    }
    column = next(
        c
        for c in models["stg_act__opportunity_contacts"]["columns"]
        if c["name"] == "opportunity_id"
    )
    related = column["data_tests"][1]["act.related_per_schema"]
    assert related["arguments"] == {
        "to": "ref('stg_act__opportunities')",
        "field": "opportunity_id",
    }
    assert "severity" not in related["config"]  # the parent: a failure
    contact = next(
        c for c in models["stg_act__opportunity_contacts"]["columns"] if c["name"] == "contact_id"
    )
    assert contact["data_tests"][0]["act.related_per_schema"]["config"]["severity"] == "warn"


def test_a_project_file_without_the_markers_is_refused():
    with pytest.raises(ValueError, match=r"no .* section"):
        project_with("name: act\n", "  act__using_contacts: true")


def requirement(text: str, package: str) -> str:
    return re.search(rf"^{package}==(\S+)", text, re.MULTILINE)[1]


def test_dbt_reads_the_warehouse_with_the_duckdb_the_sdk_writes_it_with():
    pins = (PROJECT / "requirements-dbt.txt").read_text(encoding="utf-8")
    sdk = importlib.metadata.requires("fivetran-connector-sdk-core")
    sdk_duckdb = next(r for r in sdk if r.startswith("duckdb==")).split("==")[1]
    assert requirement(pins, "duckdb") == sdk_duckdb
    assert requirement(pins, "dbt-core").startswith("1.")
    # dbt stays out of the connector's environment and its development pins.
    development = (PROJECT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert "dbt" not in re.sub(r"#.*", "", development)


def test_nothing_of_dbt_is_deployed(tmp_path):
    staged = deploy.stage(tmp_path / "staged")
    assert not [path for path in staged if "dbt" in Path(path).parts[0]]
    assert "requirements-dbt.txt" not in staged


def test_make_analytics_runs_the_tool_and_make_test_has_dbt():
    makefile = (PROJECT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nanalytics: ", 1)[1].split("\n\n", 1)[0]
    assert "$(DBT_VENV)/.installed" in recipe.splitlines()[0]
    assert recipe.splitlines()[1].strip() == "$(RUN_ENV) $(BIN)/python tools/analytics.py"
    assert "$(DBT_VENV)/.installed" in makefile.split("\ntest: ", 1)[1].splitlines()[0]
    assert "DBT_VENV := .venv-dbt" in makefile
