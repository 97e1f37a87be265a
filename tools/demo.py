"""`make demo`: the connector syncing a local Act! emulator through the real `fivetran debug`.

Starts the emulator with the demo data set, runs `fivetran debug` with configuration.json on a
staged copy of the connector (build/demo, exactly what deploy.py uploads), prints what landed, and
stops the emulator. The emulator keeps its records in build/ and a little office activity happens
before every run, so running the demo again shows an incremental sync of just those changes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import deploy  # noqa: E402 - after the project is on the path

BUILD = PROJECT / "build"
DEMO = BUILD / "demo"
OFFICE_ACTIVITY = 4  # records edited (and half as many created) in each table before a run


def start_emulator(port: int) -> subprocess.Popen:
    port_file = BUILD / "demo-emulator.port"
    port_file.unlink(missing_ok=True)
    emulator = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--port-file", str(port_file),
         "--state-file", str(BUILD / "demo-emulator.json"),
         "--office-activity", str(OFFICE_ACTIVITY)],
        cwd=PROJECT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not port_file.exists():  # written by our emulator once it listens, never by another
        if emulator.poll() is not None:
            raise SystemExit(f"The Act! emulator did not start: is port {port} in use?")
        if time.monotonic() > deadline:
            emulator.terminate()
            raise SystemExit("The Act! emulator did not start within 60 s")
        time.sleep(0.1)
    return emulator


def landed(database: Path, tables: list[str]) -> list[tuple[str, int, int]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return [
            (table, *connection.execute(
                f"SELECT count(*) FILTER (NOT _fivetran_deleted), "
                f"count(*) FILTER (_fivetran_deleted) FROM tester.{table}"
            ).fetchone())
            for table in tables
        ]  # fmt: skip


def main() -> int:
    configuration = json.loads((PROJECT / "configuration.json").read_text(encoding="utf-8"))
    deploy.stage(DEMO)
    shutil.copy2(PROJECT / "configuration.json", DEMO / "configuration.json")
    first_run = not (DEMO / "files" / "state.json").exists()
    emulator = start_emulator(int(configuration["port"]))
    try:
        sync = subprocess.run(
            ["fivetran", "debug", "--configuration", "configuration.json"],
            cwd=DEMO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    print(sync.stdout)
    if sync.returncode != 0:
        print("The sync failed: see the log above.")
        return sync.returncode
    fetched = {}
    for line in sync.stdout.splitlines():
        if "⚡ connector Table '" in line and " records in " in line:
            name = line.split("Table '")[1].split("'")[0]
            fetched[name] = line.split("': ")[1].split(" records")[0]
    rows = landed(DEMO / "files" / "warehouse.db", list(fetched))
    print(("First sync" if first_run else "Incremental sync") + f": {DEMO / 'files/warehouse.db'}")
    print(f"{'table':<22}{'fetched now':>12}{'rows':>8}{'deleted':>9}")
    for table, live, deleted in rows:
        print(f"{table:<22}{fetched[table]:>12}{live:>8}{deleted:>9}")
    print("Run `make demo` again to see an incremental sync of the office's latest changes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
