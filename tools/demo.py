"""`make demo`: the connector syncing a local Act! emulator through the real `fivetran debug`.

    python tools/demo.py [--build build] [--port 8731]

Starts the emulator with the demo data set, runs `fivetran debug` on a staged copy of the connector
(<build>/demo, exactly what deploy.py uploads) with configuration.json, and shows the sync as it
happens: the connector's line for each table it reads, and every warning or error, never the
SDK's state dumps (the whole output is kept in <build>/demo/sync.log). Once the emulator has
stopped, it says what landed in each table: the records read, the rows written and deleted, and
the rows live.

The emulator keeps its records in <build>/demo-emulator.json. Before every run after the first, an
office has been at work while the emulator was down: in each table it edited a few records and
created some, and it deleted a contact; the demo then shows those three changes as they landed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import deploy  # noqa: E402 - after the project is on the path

OFFICE_ACTIVITY = 4  # records edited (and half as many created) in each table before a run
# The table the office deletes a record of before each run after the first (the emulator's
# office only edits and creates): the one a reader knows best.
OFFICE_DELETES_FROM = "contacts"
# The demo reconciles at every sync, so that the contact the office deleted shows deleted in the
# very next run; with the connector's default (24 hours) it would show within a day.
DEMO_SETTINGS = {"reconcile_interval_hours": "0"}
SCHEMA = "tester"  # the schema `fivetran debug` writes to
EMULATOR_START_SECONDS = 60
WIDTH = 99  # a progress line is cut to this many characters: one line of a terminal each

# A line of `fivetran debug`: "14:20:40.291 INFO     ⚡ connector Table 'contacts' from …"; the
# lines that continue one (the state it printed, the table of counts) start with spaces. Lines
# written by two threads at once may come glued in one: each is taken where its time begins.
LOG_LINE = re.compile(r"(\d\d:\d\d:\d\d)\.\d+ +([A-Z]+) +⚡ (\w+) +(.*)")
LINE_START = re.compile(r"(?=\d\d:\d\d:\d\d\.\d+ +[A-Z]+ +⚡ )")
# The connector's line at a table's end: "Table 'contacts': read 12, written 6, unchanged 6,
# deleted 0; 1 page(s), 1.6s" (every kind of table says what it read); those of tables read in
# pages are shown.
COUNTED = re.compile(r"Table '(\w+)': read (\d+), written \d+, unchanged \d+, deleted \d+; ")
PAGED = re.compile(r"; \d+ page\(s\), ")
SHOWN_LEVELS = ("WARNING", "SEVERE", "ERROR")
SYNC_STARTED = "Syncing "  # the connector's first line: the tables and the server
SYNC_ENDED = "SYNC "  # the SDK's last: SYNC SUCCEEDED or SYNC FAILED, and how long it took


@dataclass
class SyncOutput:
    """What `fivetran debug` printed, read line by line as it comes."""

    counted: dict[str, int] = field(default_factory=dict)  # table -> the rows its line says read

    def read(self, table: str) -> int | None:
        """The records the log says were read of the table; None if it says nothing."""
        return self.counted.get(table)

    def take(self, line: str) -> list[str]:
        """Notes what the line counts; returns what of it the demo shows."""
        return [shown for part in LINE_START.split(line) if (shown := self._take(part))]

    def _take(self, line: str) -> str | None:
        parsed = LOG_LINE.fullmatch(line)
        if not parsed:
            return None  # a continuation: the previous state, the table of operation counts
        clock, level, source, message = parsed.groups()
        counted = COUNTED.match(message)
        if counted:
            self.counted[counted[1]] = int(counted[2])
        paged = counted and PAGED.search(message)
        shown = (
            level in SHOWN_LEVELS
            or (source == "connector" and (paged or message.startswith(SYNC_STARTED)))
            or (source == "sdk" and message.startswith(SYNC_ENDED))
        )
        if not shown:
            return None
        text = f"  {clock} {'' if level == 'INFO' else level + ' '}{message}"
        return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def shown_path(path: Path) -> str:
    """A path as the user finds it: from the project (where `make demo` runs) when within it."""
    return str(path.relative_to(PROJECT)) if path.is_relative_to(PROJECT) else str(path)


def delete_in_act(records_file: Path) -> str | None:
    """The office deletes a record while the emulator is down: from the records it saved. Returns
    the record's name; None on the first run (nothing saved yet)."""
    if not records_file.exists():
        return None
    records = json.loads(records_file.read_text(encoding="utf-8"))
    # A contact that is no Act! user, the first by id: the same one for the same records.
    gone = min(
        (r for r in records[OFFICE_DELETES_FROM] if not r.get("isUser")), key=lambda r: r["id"]
    )
    records[OFFICE_DELETES_FROM].remove(gone)
    records_file.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return gone.get("fullName") or gone["id"]


def start_emulator(build: Path, port: int) -> tuple[subprocess.Popen, int]:
    port_file = build / "demo-emulator.port"
    port_file.unlink(missing_ok=True)
    emulator = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--port-file", str(port_file),
         "--state-file", str(build / "demo-emulator.json"),
         "--office-activity", str(OFFICE_ACTIVITY)],
        cwd=PROJECT, stdout=subprocess.DEVNULL,  # its own words are the demo's to say
    )  # fmt: skip
    deadline = time.monotonic() + EMULATOR_START_SECONDS
    # Written by our emulator once it listens, never by another (read once it holds the port).
    while not (port_file.exists() and port_file.read_text(encoding="utf-8").strip()):
        if emulator.poll() is not None:
            raise SystemExit(
                f"The Act! emulator did not start: is port {port} in use? `make demo "
                "DEMO_ARGS='--port 0'` picks a free one."
            )
        if time.monotonic() > deadline:
            emulator.terminate()
            raise SystemExit(f"The Act! emulator did not start within {EMULATOR_START_SECONDS} s")
        time.sleep(0.1)
    return emulator, int(port_file.read_text(encoding="utf-8"))


def run_sync(demo: Path, log_file: Path) -> tuple[int, SyncOutput]:
    """`fivetran debug` in `demo`, its progress shown as it comes, its whole output in the log."""
    output = SyncOutput()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines as they are written
    environment.setdefault("DO_NOT_TRACK", "1")  # no usage telemetry from a demo
    with (
        open(log_file, "w", encoding="utf-8") as log,
        subprocess.Popen(
            ["fivetran", "debug", "--configuration", "configuration.json"],
            cwd=demo,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=environment,
        ) as sync,
    ):
        for line in sync.stdout:
            log.write(line)
            for shown in output.take(line.rstrip("\n")):
                print(shown, flush=True)
    return sync.returncode, output


@dataclass
class Landed:
    table: str
    written: int  # rows upserted by this sync
    deleted: int  # rows this sync marked deleted (_fivetran_deleted)
    live: int  # rows not deleted, after it


def landed(database: Path, since: datetime) -> list[Landed]:
    """Every table of the warehouse, with what the sync that began at `since` did to it."""
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_name, bool_or(column_name = '_fivetran_deleted') "
            "FROM information_schema.columns WHERE table_schema = ? "
            "GROUP BY table_name ORDER BY table_name", [SCHEMA],
        ).fetchall()  # fmt: skip
        # (a table no row of which was ever deleted may have no _fivetran_deleted column)
        return [
            Landed(table, *connection.execute(
                f"SELECT count(*) FILTER (_fivetran_synced >= $since AND NOT {deleted}), "
                f"count(*) FILTER (_fivetran_synced >= $since AND {deleted}), "
                f"count(*) FILTER (NOT {deleted}) FROM {SCHEMA}.{table}",
                {"since": since},
            ).fetchone())
            for table, has_deleted in tables
            for deleted in ["coalesce(_fivetran_deleted, false)" if has_deleted else "false"]
        ]  # fmt: skip


def office_changes(database: Path, since: datetime) -> list[str]:
    """A contact the office edited, one it created and the one it deleted, as they landed."""
    with duckdb.connect(str(database), read_only=True) as connection:
        known_before = connection.execute(
            f"SELECT max(created) FROM {SCHEMA}.{OFFICE_DELETES_FROM} "
            "WHERE _fivetran_synced < $since",
            {"since": since},
        ).fetchone()[0]
        rows = connection.execute(
            f"SELECT full_name, created, edited, _fivetran_deleted "
            f"FROM {SCHEMA}.{OFFICE_DELETES_FROM} WHERE _fivetran_synced >= $since ORDER BY id",
            {"since": since},
        ).fetchall()
    examples: dict[str, str] = {}
    for name, created, edited, deleted in rows:
        new = created is not None and known_before is not None and created > known_before
        kind = "deleted" if deleted else "created" if new else "edited"
        examples.setdefault(
            kind,
            f"  {kind:<8} {name[:30]:<31} edited {edited:%Y-%m-%d %H:%M:%S}   "
            f"_fivetran_deleted = {str(bool(deleted)).lower()}",
        )
    return [examples[kind] for kind in ("edited", "created", "deleted") if kind in examples]


def report(database: Path, since: datetime, first_run: bool, output: SyncOutput) -> list[str]:
    tables = landed(database, since)
    lines = [
        f"{'First' if first_run else 'Incremental'} sync: {len(tables)} tables in "
        f"{shown_path(database)}, schema {SCHEMA}",
        f"  {'table':<31}{'read':>7}{'written':>9}{'deleted':>9}{'live rows':>11}",
    ]
    for t in tables:
        read = output.read(t.table)
        lines.append(
            f"  {t.table:<31}{'—' if read is None else read:>7}{t.written:>9}{t.deleted:>9}"
            f"{t.live:>11}"
        )
    lines.append(
        "  read: as the connector's log says; —: it gives no count (links, per-parent rows)"
    )
    if not first_run:
        lines.append(f"The office's changes as they landed in {SCHEMA}.{OFFICE_DELETES_FROM}:")
        lines += office_changes(database, since)
    lines.append(
        "Run `make demo` again: the office edits, creates and deletes; the sync lands it."
    )
    return lines


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python tools/demo.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--build",
        type=Path,
        default=PROJECT / "build",
        help="the folder the demo keeps its files in (default: build)",
    )
    parser.add_argument(
        "--port",
        type=int,
        help="the emulator's port (default: configuration.json's; 0 picks a free one)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    build, demo = args.build.resolve(), args.build.resolve() / "demo"
    configuration = json.loads((PROJECT / "configuration.json").read_text(encoding="utf-8"))
    deploy.stage(demo)
    first_run = not (demo / "files" / "state.json").exists()
    deleted = None if first_run else delete_in_act(build / "demo-emulator.json")
    port = int(configuration["port"]) if args.port is None else args.port
    emulator, port = start_emulator(build, port)
    log_file = demo / "sync.log"
    try:
        (demo / "configuration.json").write_text(
            json.dumps({**configuration, **DEMO_SETTINGS, "port": str(port)}, indent=2),
            encoding="utf-8",
        )
        print(
            f"Act! emulator on {configuration['protocol']}://{configuration['hostname']}:{port}"
            f"{configuration['api_path']}, its records kept in "
            f"{shown_path(build / 'demo-emulator.json')}"
        )
        if deleted:
            print(
                f"While it was down, the office edited {OFFICE_ACTIVITY} records and created "
                f"{OFFICE_ACTIVITY // 2} in each table, and deleted the\ncontact '{deleted}' "
                "(the demo reconciles at every sync: reconcile_interval_hours = 0)."
            )
        print(f"`fivetran debug` in {shown_path(demo)}, its whole log in {shown_path(log_file)}:")
        since = datetime.now(timezone.utc)
        returncode, output = run_sync(demo, log_file)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
        print("Act! emulator stopped")
    if returncode != 0:
        print(
            f"The sync failed: see its errors above, and its whole log in {shown_path(log_file)}"
        )
        return returncode
    print("\n".join(report(demo / "files" / "warehouse.db", since, first_run, output)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
