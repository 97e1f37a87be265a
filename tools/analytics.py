"""`make analytics`: the dbt package built against the demo warehouse, and one answer per model.

Runs `dbt build` (every model and test of dbt/) in .venv-dbt on the warehouse `make demo` landed
(build/demo/files/warehouse.db, attached read-only: the models go to build/analytics/act.duckdb),
then prints a few lines from each answer model. Runs `make demo`'s sync first if there is no
warehouse yet.

    python tools/analytics.py [--warehouse PATH] [--out FOLDER] [--tables a,b,...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from act_connector.catalog import load_catalog  # noqa: E402

PACKAGE = PROJECT / "dbt"
DBT = PROJECT / ".venv-dbt" / "bin" / "dbt"
DEMO_WAREHOUSE = PROJECT / "build" / "demo" / "files" / "warehouse.db"
OUT = PROJECT / "build" / "analytics"
RAW = "warehouse"  # the name the connector's warehouse is attached under
MODELS_SCHEMA = "analytics"

# One answer per model: (model, the question, the query over the built models).
ANSWERS = [
    (
        "act__opportunity_enhanced",
        "Which open opportunities weigh most in the pipeline?",
        """select opportunity_name as opportunity, stage_name as stage, owner_name as owner,
                  amount, weighted_amount as weighted, line_items, days_open
           from act__opportunity_enhanced where status = 'Open'
           order by weighted_amount desc nulls last, opportunity_id limit 3""",
    ),
    (
        "act__pipeline_snapshot",
        "What is the open pipeline by process and stage?",
        """select process_name as process, stage_number as stage_no, stage_name as stage,
                  sum(opportunities) as opportunities, sum(amount) as amount,
                  sum(weighted_amount) as weighted
           from act__pipeline_snapshot
           group by process_name, stage_number, stage_name
           order by process, stage_no limit 4""",
    ),
    (
        "act__product_revenue",
        "Which products brought in the most revenue from won deals?",
        """select product_name as product, sum(units) as units, sum(revenue) as revenue,
                  count(*) as months
           from act__product_revenue group by product_name
           order by revenue desc, product limit 3""",
    ),
    (
        "act__contact_engagement",
        "Who was contacted most, and when last?",
        """select full_name as contact, activities, last_contacted_at as last_contacted,
                  open_opportunities as open_deals
           from act__contact_engagement
           order by activities desc nulls last, last_contacted_at desc nulls last, contact_id
           limit 3""",
    ),
    (
        "act__user_activity_weekly",
        "What did each user do in their busiest week?",
        """select user_name as user, week_start as week, activities_scheduled as scheduled,
                  activities_cleared as cleared, opportunities_created as created,
                  opportunities_won as won
           from act__user_activity_weekly
           qualify row_number() over (
               partition by source_schema, user_id
               order by activities_scheduled + opportunities_created + opportunities_won desc,
                        week_start desc) = 1
           order by scheduled + created + won desc, user limit 4""",
    ),
]


def dbt_vars(
    tables: Iterable[str] | None = None,
    schema: str = "tester",
    union_schemas: list[str] | None = None,
) -> dict:
    """The package's variables for a warehouse the connector wrote with `tables` synced (None:
    the connector's default tables), into `schema` (or each of `union_schemas`)."""
    catalog = load_catalog()
    chosen = set(catalog.default_tables if tables is None else tables)
    return {
        "act_database": RAW,
        "act_schema": schema,
        "union_schemas": union_schemas or [],
        **{f"act__using_{name}": name in chosen for name in catalog.tables},
    }


def write_profile(out: Path, warehouse: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    profile = {
        "act": {
            "target": "demo",
            "outputs": {
                "demo": {
                    "type": "duckdb",
                    "path": str(out / "act.duckdb"),
                    "schema": MODELS_SCHEMA,
                    "threads": 2,
                    "attach": [{"path": str(warehouse), "alias": RAW, "read_only": True}],
                }
            },
        }
    }
    # JSON is YAML: no YAML writer needed.
    (out / "profiles.yml").write_text(json.dumps(profile, indent=2), encoding="utf-8")


def run_dbt(
    arguments: list[str],
    out: Path,
    warehouse: Path,
    variables: dict | None = None,
    project: Path = PACKAGE,
) -> subprocess.CompletedProcess:
    """dbt on `project` (the package itself, or a project that installs it), offline, with its
    profile, target and logs under `out`."""
    write_profile(out, warehouse)
    if not DBT.exists():
        raise SystemExit(f"{DBT} is missing: run `make .venv-dbt/.installed`")
    environment = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(out),
        "DBT_LOG_PATH": str(out / "logs"),
        "DBT_TARGET_PATH": str(out / "target"),
    }
    return subprocess.run(
        [str(DBT), *arguments, "--project-dir", str(project)]
        + (["--vars", json.dumps(variables)] if variables is not None else []),
        env=environment,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def build(out: Path, warehouse: Path, variables: dict) -> subprocess.CompletedProcess:
    return run_dbt(["build"], out, warehouse, variables)


def connect(out: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The built models, read-only, with the warehouse attached as the staging views expect."""
    connection = duckdb.connect(str(out / "act.duckdb"), read_only=True)
    connection.execute(f"attach '{warehouse}' as {RAW} (read_only)")
    connection.execute(f"use {MODELS_SCHEMA}")
    return connection


def answers(out: Path, warehouse: Path) -> list[tuple[str, str, list[str], list[tuple]]]:
    """Each model's question, and its answer's column names and rows."""
    results = []
    with connect(out, warehouse) as connection:
        present = {row[0] for row in connection.execute("show tables").fetchall()}
        for model, question, query in ANSWERS:
            if model not in present:
                continue
            cursor = connection.execute(query)
            names = [column[0] for column in cursor.description]
            results.append((model, question, names, cursor.fetchall()))
    return results


def shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) or type(value).__name__ == "Decimal":
        return f"{value:,.2f}"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value)


def report(results) -> str:
    lines = []
    for model, question, names, rows in results:
        lines.append(f"{model}: {question}")
        table = [names, *[[shown(value) for value in row] for row in rows]]
        widths = [max(len(row[i]) for row in table) for i in range(len(names))]
        for row in table:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append(("  " + "  ".join(cells)).rstrip())
        lines.append("")
    return "\n".join(lines)


def summary(output: str) -> str:
    """dbt's closing line: 'Done. PASS=… WARN=… ERROR=… SKIP=… … TOTAL=…'."""
    done = [line for line in output.splitlines() if "Done. PASS=" in line]
    return done[-1].split("Done. ", 1)[1].strip() if done else "(no summary)"


def near(path: Path) -> Path:
    """A path inside the project as relative to it."""
    path = path.resolve()
    return path.relative_to(PROJECT) if path.is_relative_to(PROJECT) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=DEMO_WAREHOUSE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--tables", help="the tables the connection syncs (default: its default)")
    arguments = parser.parse_args(argv)
    if not arguments.warehouse.exists() and arguments.warehouse == DEMO_WAREHOUSE:
        print("No demo warehouse yet: running `make demo`'s sync first.")
        demo = subprocess.run([sys.executable, str(PROJECT / "tools" / "demo.py")])
        if demo.returncode != 0:
            return demo.returncode
    tables = arguments.tables.split(",") if arguments.tables else None
    done = build(arguments.out, arguments.warehouse.resolve(), dbt_vars(tables))
    if done.returncode != 0:
        print(done.stdout[-6000:], done.stderr[-3000:])
        print("dbt build failed: see above.")
        return done.returncode
    print(f"dbt build on {near(arguments.warehouse)}: {summary(done.stdout)}")
    print(f"models in {near(arguments.out / 'act.duckdb')}, schema {MODELS_SCHEMA}\n")
    print(report(answers(arguments.out, arguments.warehouse.resolve())), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
