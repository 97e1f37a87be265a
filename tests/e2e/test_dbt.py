"""End to end: the dbt package built and tested (`dbt build`) on what `fivetran debug` lands from
the emulator, with each table set the connector offers: its default, every table (over two
schemas), and the core six alone; and `make analytics`' answers.

One `fivetran debug` lands every table of the catalogue; each table set's warehouse is a copy of
it without the tables that set leaves out (a table lands the same rows whichever others are
synced), which spares a landing per set (about 30 s each on a 2-core machine)."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from fivetran_connector_sdk_core.renaming import redshift_safe

from act_connector.catalog import load_catalog
from emulator.server import ActEmulator
from tests.conftest import emulator_configuration
from tests.e2e.harness import fivetran_debug, staged_project
from tools import analytics
from tools.dbt_sources import landed_columns

pytestmark = pytest.mark.e2e

CORE_SIX = ("contacts", "companies", "opportunities", "activities", "activity_types", "products")
ANALYTICS = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"
# The end-to-end tests' emulator (tests/conftest.py), for this module's one landing.
SIZES = {"contacts": 230, "companies": 40, "opportunities": 60, "activities": 90, "products": 25}


@pytest.fixture(scope="module")
def emulator():
    server = ActEmulator(seed=11, sizes=SIZES)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def everything(emulator, tmp_path_factory) -> Path:
    """The warehouse `fivetran debug` lands with every table of the catalogue chosen."""
    project = staged_project(tmp_path_factory.mktemp("everything") / "connector")
    tables = ",".join(load_catalog().tables)
    run = fivetran_debug(project, emulator_configuration(emulator, tables=tables))
    assert run.returncode == 0, run.output[-3000:]
    return project / "files" / "warehouse.db"


def landed(everything: Path, tmp_path: Path, tables) -> Path:
    """A warehouse with only `tables` (None: the connector's default ones), as `fivetran debug`
    lands it with `tables` chosen."""
    warehouse = tmp_path / "warehouse.db"
    shutil.copy(everything, warehouse)
    kept = set(load_catalog().default_tables if tables is None else tables)
    with duckdb.connect(str(warehouse)) as connection:
        for (table,) in connection.execute(
            "select table_name from information_schema.tables where table_schema = 'tester'"
        ).fetchall():
            if table not in kept:
                connection.execute(f"drop table tester.{table}")
    return warehouse


def built(warehouse: Path, out: Path, variables: dict) -> str:
    done = analytics.build(out, warehouse, variables)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    closing = analytics.summary(done.stdout)
    assert re.fullmatch(r"PASS=\d+ WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=\d+", closing), closing
    return closing


def query(out: Path, sql: str) -> list[tuple]:
    with analytics.connect(out, out.parent / "warehouse.db") as connection:
        return connection.execute(sql).fetchall()


def test_make_analytics_on_the_default_tables_answers_each_question(
    emulator, everything, tmp_path, capsys
):
    warehouse = landed(everything, tmp_path, None)
    out = tmp_path / "analytics"
    assert analytics.main(["--warehouse", str(warehouse), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"dbt build on .*: PASS=\d+ WARN=0 ERROR=0 SKIP=0", printed), printed
    for model, question, _ in analytics.ANSWERS:
        answer = printed.split(f"{model}: {question}\n", 1)[1].split("\n\n", 1)[0]
        assert len(answer.splitlines()) >= 2, f"{model} printed no row:\n{printed}"
    # docs/analytics.md shows `make analytics`' output: each question and its columns, as printed.
    document = ANALYTICS.read_text(encoding="utf-8")
    sample = document.split("<!-- make analytics output -->\n```\n", 1)[1].split("```", 1)[0]
    sample = sample.splitlines()
    questions = [i for i, line in enumerate(sample) if line.startswith("act__")]
    assert len(questions) == len(analytics.ANSWERS)
    lines = printed.splitlines()
    for i in questions:
        assert sample[i] in lines, sample[i]
        assert lines[lines.index(sample[i]) + 1].split() == sample[i + 1].split()
    # The figures the user sees are the emulator's own.
    opportunities = emulator.store.truth("opportunities")
    open_ones = [o for o in opportunities if str(o["status"]) == "0"]
    assert query(out, "select count(*) from act__opportunity_enhanced") == [(len(opportunities),)]
    pipeline = query(out, "select sum(opportunities), sum(amount) from act__pipeline_snapshot")
    assert pipeline[0][0] == len(open_ones)
    assert float(pipeline[0][1]) == pytest.approx(
        sum(o["productTotal"] for o in open_ones), abs=0.01
    )
    won = {o["id"] for o in opportunities if str(o["status"]) == "1"}
    items = [i for i in emulator.store.truth("opportunity_products") if i["opportunityID"] in won]
    revenue = query(out, "select sum(revenue) from act__product_revenue")[0][0]
    assert isinstance(revenue, Decimal)  # money as a decimal
    assert float(revenue) == pytest.approx(sum(i["total"] for i in items), abs=0.01)
    # Custom fields are kept, typed as they landed.
    kinds = dict(
        query(
            out,
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'stg_act__contacts' and column_name like 'custom_fields_%'",
        )
    )
    assert kinds["custom_fields_annual_value"] == "DECIMAL(19,4)"
    assert kinds["custom_fields_last_review"] == "TIMESTAMP"
    # The document's query runs as shown.
    shown = document.split("<!-- dbt example query -->\n```sql\n", 1)[1].split("```", 1)[0]
    rows = query(out, shown)
    assert rows and all(row[0] in ("Open", "Won", "Lost", "Inactive") for row in rows)


def test_every_table_of_the_catalogue_over_two_databases(emulator, everything, tmp_path, catalog):
    """All tables, and union_schemas: the same warehouse copied to a second schema, where a few
    opportunities are deleted and a custom field is missing."""
    warehouse = landed(everything, tmp_path, tuple(catalog.tables))
    with duckdb.connect(str(warehouse)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'tester'"
            ).fetchall()
        ]
        # Every column the connector landed is a column of its source: the names are the SDK's.
        for name, spec in catalog.tables.items():
            assert name in tables, name
            columns = {
                row[0]
                for row in connection.execute(
                    "select column_name from information_schema.columns "
                    f"where table_schema = 'tester' and table_name = '{name}'"
                ).fetchall()
            }
            unknown = {
                column
                for column in columns - set(landed_columns(spec))
                if not column.startswith(("custom_fields_", "_fivetran_"))
            }
            assert not unknown, f"{name}: {unknown}"
        connection.execute("create schema second")
        for table in tables:
            connection.execute(f"create table second.{table} as select * from tester.{table}")
        # Five open opportunities deleted (marked, as the connector marks them), and every link
        # and line item naming them gone.
        connection.execute(
            "create table gone as "
            "select id from second.opportunities where status = '0' order by id limit 5"
        )
        connection.execute(
            "update second.opportunities set _fivetran_deleted = true where id in (from gone)"
        )
        for name, spec in catalog.tables.items():
            for column, target in spec.references.items():
                if target == "opportunities":
                    connection.execute(
                        f"delete from second.{name} where {redshift_safe(column)} in (from gone)"
                    )
        connection.execute("drop table gone")
        # This database sends the status by name, as the vendor's definition has it, and no
        # statusName beside it.
        connection.execute(
            "update second.opportunities set status_name = null, status = "
            "['Open', 'Won', 'Lost', 'Inactive'][cast(status as integer) + 1]"
        )
        connection.execute("alter table second.contacts drop column custom_fields_user_4")
    out = tmp_path / "analytics"
    variables = analytics.dbt_vars(catalog.tables, union_schemas=["tester", "second"])
    built(warehouse, out, variables)
    opportunities = len(emulator.store.truth("opportunities"))
    assert query(
        out,
        "select source_schema, count(*) from act__opportunity_enhanced group by 1 order by 1",
    ) == [("second", opportunities - 5), ("tester", opportunities)]
    # The same statuses, whichever form they came in.
    statuses = query(
        out,
        "select source_schema, status, status_code, count(*) from act__opportunity_enhanced "
        "group by all order by 1, 2",
    )
    by_schema = {
        schema: {status: (code, n) for s, status, code, n in statuses if s == schema}
        for schema in ("second", "tester")
    }
    for schema in ("second", "tester"):
        codes = {status: code for status, (code, _) in by_schema[schema].items()}
        assert codes == {"Open": 0, "Won": 1, "Lost": 2, "Inactive": 3}
    assert by_schema["second"]["Open"][1] == by_schema["tester"]["Open"][1] - 5
    assert by_schema["second"]["Won"] == by_schema["tester"]["Won"]
    assert query(
        out,
        "select source_schema, count(custom_fields_user_4) > 0 from stg_act__contacts "
        "group by 1 order by 1",
    ) == [("second", False), ("tester", True)]
    # The tables off by default are built too: history counted per contact, by type.
    history = len(emulator.store.truth("history"))
    assert history > 0
    assert query(out, "select count(*) from stg_act__history where source_schema = 'tester'") == [
        (history,)
    ]
    columns = [row[0] for row in query(out, "describe act__contact_engagement")]
    assert "history_items" in columns
    assert any(column.startswith("history_items_") for column in columns)


def test_the_core_six_alone_in_a_project_that_installs_the_package(emulator, everything, tmp_path):
    """A dbt project of the user's own: the package installed from its folder (as from git with
    `subdirectory: dbt`), the variables in the project's dbt_project.yml."""
    warehouse = landed(everything, tmp_path, CORE_SIX)
    out = tmp_path / "analytics"
    project = tmp_path / "my_project"
    project.mkdir()
    variables = analytics.dbt_vars(CORE_SIX)
    (project / "dbt_project.yml").write_text(
        json.dumps(
            {
                "name": "my_project",
                "version": "1.0.0",
                "config-version": 2,
                "profile": "act",
                "vars": variables,
            }
        ),
        encoding="utf-8",
    )
    (project / "packages.yml").write_text(
        json.dumps({"packages": [{"local": str(analytics.PACKAGE)}]}), encoding="utf-8"
    )
    deps = analytics.run_dbt(["deps"], out, warehouse, project=project)
    assert deps.returncode == 0, deps.stdout[-3000:]
    done = analytics.run_dbt(["build"], out, warehouse, project=project)
    assert done.returncode == 0, done.stdout[-6000:]
    assert re.fullmatch(
        r"PASS=\d+ WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=\d+", analytics.summary(done.stdout)
    )
    models = {row[0] for row in query(out, "show tables")}
    assert {"act__opportunity_enhanced", "act__pipeline_snapshot"} <= models
    assert "act__product_revenue" not in models  # needs the line items
    assert "stg_act__users" not in models
    # Stage, process and owner come from what each opportunity carries; counts are unknown.
    assert query(
        out,
        "select count(*), count(stage_name), count(process_name), count(owner_name), "
        "count(contacts_count) from act__opportunity_enhanced",
    ) == [(len(emulator.store.truth("opportunities")),) * 4 + (0,)]
    # The sources of tables read by edit time were synced just now: fresh.
    fresh = analytics.run_dbt(["source", "freshness"], out, warehouse, project=project)
    assert fresh.returncode == 0, fresh.stdout[-3000:]
    passed = re.findall(r"PASS freshness of act\.(\w+)", fresh.stdout)
    assert sorted(passed) == sorted(set(CORE_SIX) - {"activity_types"})
