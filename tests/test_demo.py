"""`make demo` as a person sees it: two runs of tools/demo.py, the real `fivetran debug` against
the emulator, read line by line as they are printed."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import duckdb
import pytest

from tests.e2e.harness import PROJECT, environment
from tools.demo import OFFICE_ACTIVITY, SyncOutput, office_changes

MAX_LINES = 60  # the demo's account of a run fits a screen
# The demo's sync takes seconds (2 to 10 here): its first line printed this long before its last
# is a line shown as it came, not held until the end.
MIN_STREAMED_SECONDS = 0.5
TABLE_ROW = re.compile(r"  (\w+) +(\d+|—) +(\d+) +(\d+) +(\d+)")


def run_demo(build) -> tuple[int, list[tuple[float, str]]]:
    """The demo's exit status, and each line it printed with the moment it came."""
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, str(PROJECT / "tools" / "demo.py"), "--build", str(build), "--port", "0"],
        cwd=PROJECT, env={**environment(), "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, encoding="utf-8",
    ) as demo:  # fmt: skip
        lines = [(time.monotonic() - started, line.rstrip("\n")) for line in demo.stdout]
    return demo.returncode, lines


def index(lines: list[str], start: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(start))


def table_rows(lines: list[str]) -> dict[str, tuple[str, int, int, int]]:
    """The "what landed" table: table -> (read, written, deleted, live)."""
    return {
        match[1]: (match[2], int(match[3]), int(match[4]), int(match[5]))
        for line in lines
        if (match := TABLE_ROW.fullmatch(line))
    }


def warehouse_tables(build) -> set[str]:
    database = build / "demo" / "files" / "warehouse.db"
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tester'"
        ).fetchall()
    return {row[0] for row in rows}


def check_a_run(build, status: int, timed: list[tuple[float, str]]) -> list[str]:
    """What every run shows: short, streamed, no state dump, the log kept, every table listed."""
    lines = [line for _, line in timed]
    assert status == 0, "\n".join(lines)
    assert len(lines) < MAX_LINES, "\n".join(lines)
    assert not [line for line in lines if "checkpoint recorded" in line]
    log = build / "demo" / "sync.log"
    assert f"its whole log in {log}:" in lines[index(lines, "`fivetran debug` in ")]
    text = log.read_text(encoding="utf-8")
    assert "checkpoint recorded: {" in text  # kept there, whole
    assert "SEVERE" not in text  # a staged folder: no requirement the scan cannot place
    # Progress as it happens: the sync's first line came well before its last.
    first = next(moment for moment, line in timed if " Syncing " in line)
    ended = next(moment for moment, line in timed if "SYNC SUCCEEDED" in line)
    assert ended - first >= MIN_STREAMED_SECONDS, timed
    # The emulator stops after the sync's log, before what landed.
    assert index(lines, "  ") < index(lines, "Act! emulator stopped")
    assert index(lines, "Act! emulator stopped") < index(lines, "  table ")
    assert lines[index(lines, "Act! emulator stopped") - 1].startswith("  ")
    rows = table_rows(lines)
    assert set(rows) == warehouse_tables(build)
    # What the table says was written and deleted is what the SDK counted.
    counted = dict(re.findall(r"(Upserts|Deletes) +\| (\d+)", text))
    assert sum(row[1] for row in rows.values()) == int(counted["Upserts"])
    assert sum(row[2] for row in rows.values()) == int(counted["Deletes"])
    return lines


@pytest.mark.e2e
def test_two_demo_runs_show_what_landed_the_deletion_included(tmp_path):
    lines = check_a_run(tmp_path, *run_demo(tmp_path))
    rows = table_rows(lines)
    # every kind of table: incremental, read whole, link, line items, membership, custom
    assert {"contacts", "users", "activity_contacts", "opportunity_products", "group_contacts",
            "custom_projects", "custom_projects_contacts"} <= set(rows)  # fmt: skip
    first = rows["contacts"][3]
    assert rows["contacts"] == (str(first), first, 0, first)  # a first sync reads everything
    assert rows["users"][:2] == ("6", 6)  # read whole
    # links: every one read is written on a first sync
    assert rows["activity_contacts"][0] == str(rows["activity_contacts"][1])
    assert not [line for line in lines if "office" in line and "deleted the" in line]

    lines = check_a_run(tmp_path, *run_demo(tmp_path))
    text = "\n".join(lines)
    deleted = re.search(r"deleted the\ncontact '([^']+)'", text)
    assert deleted, text
    rows = table_rows(lines)
    read, written, gone, live = rows["contacts"]
    created = OFFICE_ACTIVITY // 2
    assert (written, gone, live) == (OFFICE_ACTIVITY + created, 1, first + created - 1)
    assert int(read) > written  # what the look-back read again unchanged is read, not written
    assert rows["users"][0] == "6" and rows["users"][1] < 6  # read whole, written if changed
    office = lines[index(lines, "The office's changes as they landed in tester.contacts:") :]
    assert [line.split()[0] for line in office[1:4]] == ["edited", "created", "deleted"]
    assert office[1].endswith("_fivetran_deleted = false")
    assert office[3].startswith(f"  deleted  {deleted[1]} ")
    assert office[3].endswith("_fivetran_deleted = true")


def test_lines_two_threads_glued_are_each_taken():
    output = SyncOutput()
    shown = output.take(
        "14:25:41.592 INFO     ⚡ connector Table 'entities': read 1, written 0, unchanged 1, "
        "deleted 0; read whole from /api/metadata/entities, 0.0s14:25:41.591 INFO     ⚡ "
        "connector Table 'products': read 17, written 6, unchanged 11, deleted 0; 1 page(s), 0.8s"
    )
    assert shown == [
        "  14:25:41 Table 'products': read 17, written 6, unchanged 11, deleted 0; 1 page(s), 0.8s"
    ]
    assert (output.read("entities"), output.read("products"), output.read("users")) == (
        1,
        17,
        None,
    )


def test_the_office_changes_are_told_apart_by_creation_time(tmp_path):
    database = tmp_path / "warehouse.db"
    since = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
    before, after = since - timedelta(days=1), since + timedelta(seconds=1)
    rows = [  # name, created, edited, synced, deleted
        ("Kept", before, before, before, False),
        ("Unstamped", None, after, after, False),  # no creation time: no new record
        ("Made", after, after, after, False),
        ("Gone", before, before, after, True),
    ]
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "CREATE SCHEMA tester; CREATE TABLE tester.contacts (id VARCHAR, full_name VARCHAR, "
            "created TIMESTAMPTZ, edited TIMESTAMPTZ, _fivetran_synced TIMESTAMPTZ, "
            "_fivetran_deleted BOOLEAN)"
        )
        connection.executemany(
            "INSERT INTO tester.contacts VALUES (?, ?, ?, ?, ?, ?)",
            [(str(i), *row) for i, row in enumerate(rows)],
        )
    shown = office_changes(database, since)
    assert [line.split()[:2] for line in shown] == [
        ["edited", "Unstamped"], ["created", "Made"], ["deleted", "Gone"]
    ]  # fmt: skip
    assert shown[2].endswith("_fivetran_deleted = true")
