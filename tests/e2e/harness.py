"""Running the real `fivetran debug` on a staged copy of the connector and reading what landed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
from fivetran_connector_sdk_core.renaming import redshift_safe

import deploy
from act_connector.timestamps import parse_timestamp

PROJECT = Path(__file__).resolve().parents[2]
# `fivetran` and pipreqs come from the test environment; the wrapper keeps pipreqs off the network.
BIN = Path(sys.executable).parent
PATH = os.pathsep.join([str(PROJECT / "tools" / "offline-bin"), str(BIN), os.environ["PATH"]])
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


@dataclass
class DebugRun:
    returncode: int
    output: str
    project: Path

    @property
    def state(self) -> dict:
        path = self.project / "files" / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def rows(self, table: str) -> list[dict]:
        return warehouse_rows(self.project, table)


def staged_project(folder: Path) -> Path:
    deploy.stage(folder)
    return folder


def environment() -> dict:
    return {**os.environ, "PATH": PATH, "DO_NOT_TRACK": "1"}


def debug_command(project: Path, configuration: dict) -> list[str]:
    (project / "configuration.json").write_text(json.dumps(configuration), encoding="utf-8")
    return [str(BIN / "fivetran"), "debug", "--configuration", "configuration.json"]


def fivetran_debug(project: Path, configuration: dict, timeout: float = 120) -> DebugRun:
    done = subprocess.run(
        debug_command(project, configuration),
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return DebugRun(done.returncode, done.stdout + done.stderr, project)


def start_fivetran_debug(
    project: Path, configuration: dict, log: Path | None = None
) -> subprocess.Popen:
    """`fivetran debug` in the background; its output, unbuffered, goes to `log` if given."""
    output = open(log, "w", encoding="utf-8") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            debug_command(project, configuration),
            cwd=project,
            env={**environment(), "PYTHONUNBUFFERED": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if log:
            output.close()  # the child has its own copy


def wait_for(condition, timeout: float = 60, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout}s waiting for {condition.__doc__ or condition}")


def warehouse_rows(project: Path, table: str) -> list[dict]:
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as connection:
        cursor = connection.execute(f"SELECT * FROM tester.{table}")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def emitted_rows(operations, table: str) -> list[dict]:
    """What a sync's upserts leave, row by row, named as the destination names columns."""
    latest = {}
    for row in operations.rows(table):
        latest[row["id"]] = {redshift_safe(name): value for name, value in row.items()}
    return list(latest.values())


def flat(record: dict, prefix: str = "") -> dict:
    """The test's own flattening of a truth record, named as the destination names columns."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}_"))
        else:
            out[redshift_safe(prefix + key)] = value
    return out


def canonical(value):
    """One form for a value whether it came from the emulator's JSON or from DuckDB."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    if isinstance(value, str) and TIMESTAMP.match(value):
        return parse_timestamp(value).astimezone(timezone.utc)  # 7 digits on Python 3.10 too
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def as_landed(sent: str, landed):
    """What a number or boolean Act! sent as text lands as, once coerced to its column."""
    if not sent.strip():
        return None
    if isinstance(landed, bool):
        return {"true": True, "false": False}.get(sent.strip().lower(), sent)
    if isinstance(landed, (int, float)):
        try:
            return float(sent)
        except ValueError:
            return sent
    return sent


def same(expected, landed) -> bool:
    expected, landed = canonical(expected), canonical(landed)
    if isinstance(expected, str) and not isinstance(landed, str):
        expected = as_landed(expected, landed)
    if (
        isinstance(expected, (int, float))
        and not isinstance(expected, bool)
        and isinstance(landed, str)
    ):
        return str(expected) == landed  # Act!'s integer status in a STRING column
    return expected == landed


def differences(truth: list[dict], landed: list[dict]) -> list[str]:
    """Every way the destination differs from the emulator's truth (empty when they agree)."""
    problems = []
    live = [row for row in landed if not row.get("_fivetran_deleted")]
    by_id = {str(row["id"]): row for row in live}
    if len(by_id) != len(live):
        problems.append(f"{len(live) - len(by_id)} duplicated ids")
    truth_ids = {str(record["id"]) for record in truth}
    missing, extra = truth_ids - set(by_id), set(by_id) - truth_ids
    if missing:
        problems.append(f"{len(missing)} missing, e.g. {sorted(missing)[:3]}")
    if extra:
        problems.append(f"{len(extra)} not in Act!, e.g. {sorted(extra)[:3]}")
    for record in truth:
        row = by_id.get(str(record["id"]))
        if row is None:
            continue
        for column, value in flat(record).items():
            if column not in row and value in ("", None):
                continue  # the SDK creates no column that has only ever been empty
            if not same(value, row.get(column)):
                problems.append(f"{record['id']}.{column}: {value!r} != {row.get(column)!r}")
                if len(problems) > 20:
                    return problems
    return problems
