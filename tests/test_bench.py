"""The benchmark's own pieces that need no server: its data generator covers what real Act! data
has, its floor rows keep Act!'s values, and its arithmetic."""

from __future__ import annotations

import itertools
import json

import pytest

from act_connector.catalog import load_catalog
from act_connector.metadata import typed_catalog
from bench.__main__ import turned, unused_path
from bench.act_data import CONTACT_COLUMNS, SIZES, generate, leaves_of, records, scaled
from bench.figures import quiet_target, server_floor_seconds, shown, spread
from bench.floor_rows import as_sent, feed, feeds, flat, interleave, rows_of
from bench.profile import OTHER, split, stage_of

SEED = 3
# 200 contacts, 400 activities, 20 groups: enough for every kind of value to turn up.
SMALL = {**scaled(SIZES, 0.004), "groups": 20}


@pytest.fixture(scope="module")
def generated():
    return generate(SEED, SMALL)


@pytest.fixture(scope="module")
def catalog(generated):
    """The catalogue typed with the generated custom field definitions, as the connector's."""
    return typed_catalog(load_catalog(), generated["fields"])


def test_the_same_seed_makes_the_same_records():
    first = list(itertools.islice(records(SEED, SMALL), 500))
    assert first == list(itertools.islice(records(SEED, SMALL), 500))
    assert first != list(itertools.islice(records(SEED + 1, SMALL), 500))


def test_every_declared_column_is_filled_in_some_row(generated, catalog):
    """Of every table the benchmark has records for: no column is always null."""
    tables = tuple(name for name, spec in catalog.tables.items() if generated.get(feed(spec)[0]))
    rows = list(rows_of(records(SEED, SMALL), feeds(catalog, tables)))
    for table in tables:
        filled = {column for name, row in rows if name == table for column, value in row.items()
                  if value is not None}  # fmt: skip
        assert set(catalog.tables[table].columns) - filled == set(), table


def test_custom_fields_of_every_kind(catalog):
    kinds = {kind for column, kind in catalog.tables["contacts"].columns.items()
             if column.startswith("customFields_")}  # fmt: skip
    assert kinds == {"STRING", "DOUBLE", "DECIMAL", "UTC_DATETIME", "BOOLEAN"}


def test_data_has_what_real_act_data_has(generated):
    contacts = generated["contacts"]
    texts = [value for record in contacts for value in record.values() if isinstance(value, str)]
    assert "" in texts
    assert any(stamp.endswith("-05:00") and "." in stamp for stamp in texts)
    assert any(len(text) > 2000 for text in texts)  # long notes
    assert all(record["businessAddress"] and record["homeAddress"] for record in contacts)


def test_live_shaped_contacts_leave_most_columns_out_as_a_live_server(catalog):
    """Goal 1's contacts: about 45 columns present a record, the rest absent (never null), a
    few nulls, stamps in whole seconds and UTC; the floor sends none of the nulls."""
    sizes = {"contacts": 200, "companies": 20, CONTACT_COLUMNS: 45}
    contacts = [record for table, record in records(SEED, sizes) if table == "contacts"]
    present = [list(leaves_of(record)) for record in contacts]
    assert all(40 <= len(leaves) <= 45 for leaves in present)
    nulls = sum(value is None for leaves in present for _, value in leaves)
    assert 0.01 < nulls / sum(map(len, present)) < 0.05
    stamps = [record["edited"] for record in contacts]
    assert all(stamp.endswith("+00:00") and "." not in stamp for stamp in stamps)
    columns = catalog.tables["contacts"].columns
    sets = {frozenset(name for name, _ in leaves) for leaves in present}
    assert len(sets) > 150  # which columns are present differs from record to record
    rows = [flat(record, columns) for record in contacts]
    assert all(None not in row.values() for row in rows)
    assert sum(map(len, rows)) < 0.5 * len(rows) * len(columns)


def test_floor_values_are_as_sent_but_for_what_the_sdk_refuses():
    assert as_sent("UTC_DATETIME", "2024-03-01T09:30:00.123-05:00").endswith("-05:00")
    assert as_sent("UTC_DATETIME", "") is None
    assert as_sent("STRING", "") == ""
    assert as_sent("DECIMAL", 12.5) == "12.5"
    assert as_sent("DOUBLE", 12.5) == 12.5


def test_floor_rows_take_the_order_another_run_wrote_their_tables_in(tmp_path):
    rows = tmp_path / "rows.jsonl"
    lines = [["a", {"id": 1}], ["a", {"id": 2}], ["b", {"id": 3}], ["a", {"id": 4}],
             ["b", {"id": 5}], ["c", {"id": 6}]]  # fmt: skip
    rows.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    # The run wrote b, a, b, a (and only two rows of a, no c): a table's k-th row takes its
    # k-th time; what it did not write comes last, as it was.
    interleave(rows, {"a": [20, 40], "b": [10, 30]})
    ordered = [json.loads(line) for line in rows.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for _, row in ordered] == [3, 1, 5, 2, 4, 6]
    assert sorted(map(json.dumps, ordered)) == sorted(map(json.dumps, lines))


def test_server_floor_is_the_servers_time_shared_by_its_concurrent_requests():
    assert server_floor_seconds(100, 50_000, 0.15, 0.0002, 4) == pytest.approx(6.25)
    assert server_floor_seconds(10, 0, 0.5, 0.001, 0) == pytest.approx(5.0)  # 0: no limit set


def test_a_quiet_sync_may_ask_once_per_table_read_by_requests(catalog):
    tables = ("contacts", "users", "opportunity_contacts")  # keyset, whole, links
    assert quiet_target(catalog, tables) == 3
    assert quiet_target(catalog, ("fields",)) == 3  # authorization, the list, once past its end


def test_repeated_figures_show_their_spread():
    assert spread([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0}
    assert shown([1.0]) == "1.00"
    assert shown([1.0, 3.0, 2.0], "x", 1) == "2.0x (1.0x to 3.0x)"


def test_each_run_of_goal_1_starts_with_another_side():
    sides = ["connector", "floor", "unreconciled"]
    orders = [turned(sides, turn) for turn in range(4)]
    assert [order[0] for order in orders] == ["connector", "floor", "unreconciled", "connector"]
    assert all(sorted(order) == sorted(sides) for order in orders)


def test_a_second_run_the_same_day_keeps_the_firsts_results(tmp_path):
    first = unused_path(tmp_path, "2026-12-06-amd-epyc-2-cores")
    assert first.name == "2026-12-06-amd-epyc-2-cores.md"
    first.write_text("the first run")
    second = unused_path(tmp_path, "2026-12-06-amd-epyc-2-cores")
    assert second.name == "2026-12-06-amd-epyc-2-cores-2.md"
    second.write_text("the second run")
    assert unused_path(tmp_path, "2026-12-06-amd-epyc-2-cores").name.endswith("-cores-3.md")


def test_a_profiles_samples_are_split_by_the_innermost_frame_outside_the_standard_library(
    tmp_path,
):
    head = 'process 1:"fivetran debug";thread (2): act-table_0;'
    raw = tmp_path / "samples.txt"
    raw.write_text(
        f"{head}run (act_connector/sync.py:1);row (act_connector/flatten.py:9) 7\n"
        f"{head}row (act_connector/flatten.py:9);parse (json/decoder.py:3) 2\n"
        f"{head}get (act_connector/client.py:4);loads (json/__init__.py:1) 5\n"
        f"{head}upsert (fivetran_connector_sdk_cli/operations.py:1);sub (re/__init__.py:2) 3\n"
        f"{head}flush (fivetran_connector_sdk_core/runner.py:2);"
        "upsert (fivetran_connector_sdk_core/destination/duckdb_destination.py:1) 4\n"
        'process 1:"fivetran debug";thread (3): Thread-1 (_monitor_loop);sleep (x.py:1) 9\n'
        f"{head}<module> (pipreqs/pipreqs.py:1) 1\n"
        f"{head}Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:81) 6\n",
        encoding="utf-8",
    )
    assert split(raw) == {
        "flatten and coerce": 9,
        "HTTP and JSON parse": 5,
        "SDK record path: names, encoding, buffering, checkpoints": 3,
        "DuckDB write": 4,
        OTHER: 1,
    }
    assert stage_of(["loads (json/__init__.py:1)"]) == OTHER
