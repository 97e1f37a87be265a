"""What the docs show, run: every SQL query of README.md and docs/*.md as written, on the
warehouse `make demo` lands, and the documents' sample outputs as tools/doc_samples.py makes them
now.

One run serves every test: `make demo` twice (tools/doc_samples.py's own run, which also makes
the samples), then one more sync for the tables a query says are not synced by default. A query
runs on the warehouse of the default tables alone unless it says so (`-- history is not synced by
default: …`), so that one needing a table it does not name fails.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from emulator.server import Settings
from tests.doc_blocks import PROJECT, blocks
from tests.e2e.harness import fivetran_debug
from tools import demo, doc_samples

pytestmark = pytest.mark.e2e

# A query's own word that it needs tables the connector does not sync by default.
NOT_BY_DEFAULT = re.compile(r"^-- (.+?) (?:is|are) not synced by default", re.MULTILINE)


def elsewhere(marker: str) -> bool:
    """A block marked by a comment another test quotes is that test's to run (the dbt package's
    query, run on its models)."""
    tests = [path for path in (PROJECT / "tests").rglob("*.py") if path != Path(__file__)]
    return bool(marker) and any(marker in path.read_text(encoding="utf-8") for path in tests)


def needed(query: str) -> set[str]:
    """The tables a query says it needs beyond the default ones."""
    return {
        name
        for names in NOT_BY_DEFAULT.findall(query)
        for name in re.findall(r"\w+", names)
        if name != "and"
    }


QUERIES = [block for block in blocks() if block.language == "sql" and not elsewhere(block.marker)]


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> SimpleNamespace:
    """`make demo` twice, its samples, its warehouse as it lands (the default tables), and the
    same with the tables the queries say they need on top."""
    build = tmp_path_factory.mktemp("docs")
    samples = doc_samples.make(build)
    project = build / "demo"
    default = build / "default" / "warehouse.db"
    default.parent.mkdir()
    shutil.copy(project / "files" / "warehouse.db", default)
    extra = sorted(set().union(*(needed(block.text) for block in QUERIES)))
    if extra:
        emulator, port = demo.start_emulator(build, 0)
        try:
            configuration = json.loads((PROJECT / "configuration.json").read_text("utf-8"))
            run = fivetran_debug(
                project,
                {
                    **configuration,
                    **demo.DEMO_SETTINGS,
                    "port": str(port),
                    "tables": ",".join(extra),
                },
            )
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
        assert run.returncode == 0, run.output[-3000:]
    return SimpleNamespace(
        samples=samples, default=default, extended=project / "files" / "warehouse.db"
    )


def tables_in(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [demo.SCHEMA],
        ).fetchall()
    return {name for (name,) in rows}


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_a_query_the_docs_show_runs_as_written_and_gives_what_they_say(landed, query):
    tables = needed(query.text)
    default_tables = tables_in(landed.default)
    assert not tables & default_tables, f"{query}: {tables & default_tables} are synced by default"
    warehouse = landed.extended if tables else landed.default
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        relation = connection.sql(query.text)
        assert relation is not None, f"{query}: not a query"
        assert relation.fetchall(), f"{query}: no rows"
        if query.result is not None:
            shown = [line.rstrip() for line in str(relation).strip().splitlines()]
            assert shown == query.result.strip().splitlines(), "\n".join(shown)


def test_the_documents_samples_are_what_the_tools_print_now(landed):
    differences = doc_samples.differences(doc_samples.shown(), landed.samples)
    assert not differences, (
        "the documents' samples differ from a run's: run `python tools/doc_samples.py --write`\n"
        + "\n".join(differences.values())
    )
    password = Settings().password  # the emulator's, in configuration.json
    assert not [name for name, text in landed.samples.items() if password in text]
    for path in set(doc_samples.WHERE.values()):
        assert password not in path.read_text(encoding="utf-8"), path


def test_every_query_is_taken_and_the_one_needing_history_says_so():
    """The example queries of docs/tables.md are all here, the history one naming what it
    needs."""
    examples = [query for query in QUERIES if query.path.name == "tables.md"]
    assert len(examples) >= 5
    assert [needed(query.text) for query in examples if "tester.history h" in query.text] == [
        {"history"}
    ]
    assert needed("-- notes and history are not synced by default: name them") == {
        "notes",
        "history",
    }
