"""`make bench` (or `python -m bench`): issue 11's four goals, measured through the real
`fivetran debug` on Act!-shaped data (bench/act_data.py), the emulator on a core of its own.

1. As fast as the leanest hand-written emitter: the connector end to end against the floor, a
   connector that emits the same rows flattened once, absent and null values left out, with the
   connector's own declared schema and values as Act! sends them (bench/floor), on 50,000 and
   200,000 contacts shaped as a live server sends them (about 45 of their columns present, the
   rest absent; a few nulls; whole-second UTC stamps), with the remembered set on and again with
   reconciliation off; and ("wide") on 10,000 contacts with 249 custom fields each, most of them
   empty, as a live contact was seen with. Extraction alone warms the emulator first, and the
   three runs take turns going first (speed_run).
2. Slow servers: a first sync of the default catalogue from an emulator paced as a real Act!
   server (SLOW_SERVER), against the larger of the writer's floor (the floor for all those rows)
   and the server's (its own time for the requests the sync made, from its counters, divided by
   the requests it serves at once).
3. Flat memory: the SDK's sampling of memory while update() runs, connector against floor, at two
   sizes (the difference is the connector's own), with extraction alone (update() with the SDK's
   operations replaced by a counter) and the remembered set's costs beside them; and with the
   workers, in goal 2's first sync and on the wide contacts.
4. Quiet incremental syncs: right after goal 2's first sync, nothing changed: requests and time.
5. The soak (bench/soak.py, issue 29): ten first syncs in a row against a strict server (tokens
   of a few seconds, a third of requests refused, /authorize throttled), none failing, every row
   equal to the emulator's; its own results file.

`--scale 0.02` runs everything at 2% of its size (a few minutes); `--repeat N` runs it N times
and shows each figure as its median (min to max). Results are kept in bench/results/.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import duckdb  # noqa: E402 - the SDK's own, which `fivetran debug` writes with
from fivetran_connector_sdk import Logging  # noqa: E402

import deploy  # noqa: E402 - after the project is on the path
from act_connector.catalog import Catalog, load_catalog  # noqa: E402
from act_connector.config import DEFAULT_BATCH_SIZE, validate_configuration  # noqa: E402
from act_connector.known import KnownSet  # noqa: E402
from act_connector.metadata import for_this_server  # noqa: E402
from bench.act_data import CONTACT_COLUMNS, CONTACT_CUSTOM_FIELDS, SIZES, scaled  # noqa: E402
from bench.extraction import connector_configuration  # noqa: E402
from bench.figures import counted, quiet_target, server_floor_seconds  # noqa: E402
from bench.floor_rows import interleave, write_rows  # noqa: E402
from bench.report import render  # noqa: E402

SEED = 17
SPEED_SIZES = (50_000, 200_000)  # goal 1, as issue 28 asks
# Goal 1's contacts carry about this many of their ~96 columns, as a live server's (issue 28).
LIVE_COLUMNS = 45
# Goal 1 and 3 again on contacts as wide as a live one (249 custom fields, most of them empty):
# the SDK writes each of their columns, so fewer of them make a run as long as goal 1's.
WIDE_CONTACTS = 10_000
WIDE_CUSTOM_FIELDS = 249
MEMORY_SIZES = (20_000, 200_000)  # goal 3: the connector's own memory must not grow between them
# Goal 1's and 3's databases: contacts, and companies for them to work at (a tenth as many).
CONTACTS_PER_COMPANY = 10
# Goal 2's server: 150 ms a request, 0.2 ms a record returned, 4 requests served at once.
SLOW_SERVER = {"request_seconds": 0.15, "record_seconds": 0.0002, "max_concurrent": 4}
SIDE_NAMES = {  # goal 1's three runs, as its progress lines say
    "connector": "the connector through fivetran debug",
    "floor": "the floor through fivetran debug, checkpointing as often",
    "unreconciled": "the connector with reconciliation off",
}
DEBUG_SCHEMA = "tester"  # where `fivetran debug` puts the tables in files/warehouse.db
MEASURED = ("speed", "wide", "slow", "memory")  # the goals measured through `fivetran debug`
SCENARIOS = (*MEASURED, "soak", "throttled")
# Measured commands run under this small wrapper, which reports their own peak RSS.
PEAK_RSS = [sys.executable, str(PROJECT / "bench" / "peak_rss.py")]
RESULTS = PROJECT / "bench" / "results"
ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "PATH": os.pathsep.join(
        [
            str(PROJECT / "tools" / "offline-bin"),
            str(Path(sys.executable).parent),
            os.environ["PATH"],
        ]
    ),
}
CATALOG = load_catalog()


@dataclass(frozen=True)
class Pinning:
    """The commands' prefixes that put the emulator and the measured process on cores of their
    own, and what the results say of it."""

    server: tuple[str, ...]
    client: tuple[str, ...]
    note: str


def pinning() -> Pinning:
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if shutil.which("taskset") and len(cores) >= 2:
        return Pinning(
            ("taskset", "-c", str(cores[0])),
            ("taskset", "-c", str(cores[1])),
            f"emulator pinned to CPU {cores[0]}, connector and floor to CPU {cores[1]} (taskset)",
        )
    why = "no taskset" if len(cores) >= 2 else f"{len(cores) or 'unknown'} CPU(s)"
    return Pinning((), (), f"unpinned ({why}): emulator and connector share the CPUs")


class Server:
    """A running emulator: its port, and its counters."""

    def __init__(self, port: int):
        self.port = port

    def stats(self) -> dict:
        url = f"http://127.0.0.1:{self.port}/_emulator/stats"
        with urllib.request.urlopen(url) as answer:
            return json.load(answer)


@contextmanager
def emulator(folder: Path, sizes: dict[str, int], settings: dict, pin: Pinning):
    """The emulator serving bench/act_data.py's records of `sizes`, paced as `settings` say."""
    port_file = folder / "emulator.port"
    port_file.unlink(missing_ok=True)
    options = [f"--size={table}={count}" for table, count in sizes.items()]
    options += [f"--set={name}={value}" for name, value in settings.items()]
    process = subprocess.Popen(
        [*pin.server, sys.executable, "-m", "emulator", "--port", "0", "--port-file",
         str(port_file), "--seed", str(SEED), "--generator", "bench.act_data", *options],
        cwd=PROJECT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while not port_file.exists():
            if process.poll() is not None:
                raise SystemExit("the emulator did not start")
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written just after the port opens
        yield Server(int(port_file.read_text()))
    finally:
        process.terminate()
        process.wait()


def fivetran_debug(
    project: Path, configuration: dict, pin: Pinning, fresh: bool = True, wrap: tuple = ()
) -> dict:
    """Runs `fivetran debug` in `project` (afresh, or from the state the last run left), under
    the command `wrap` if given (a profiler); wall time, the SDK's own time and peak RSS."""
    if fresh:
        shutil.rmtree(project / "files", ignore_errors=True)
    (project / "configuration.json").write_text(json.dumps(configuration), encoding="utf-8")
    log = project / "debug.log"
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as output:
        status = subprocess.run(
            [*pin.client, *wrap, *PEAK_RSS, str(Path(sys.executable).parent / "fivetran"), "debug",
             "--configuration", "configuration.json"],
            cwd=project, env=ENV, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, check=False,
        ).returncode  # fmt: skip
    wall = time.perf_counter() - started
    text = log.read_text(encoding="utf-8")
    if status != 0 or "SYNC SUCCEEDED" not in text:
        raise SystemExit(f"`fivetran debug` failed in {project}:\n{text[-3000:]}")
    elapsed = re.search(r"total elapsed (\d+):(\d+):([\d.]+)", text)
    sync_seconds = int(elapsed[1]) * 3600 + int(elapsed[2]) * 60 + float(elapsed[3])
    summary = re.search(r"(\d+) requests, \d+ retries, \d+ throttled, ([\d.]+)s paused", text)
    # The SDK samples the process's memory above its start while update() runs, every second.
    update_memory = re.search(r"memory usage: average ([\d.]+) MB, peak ([\d.]+) MB", text)
    checkpoints = re.search(r"Checkpoints\s*\|\s*(\d+)", text)
    return {
        "wall_seconds": round(wall, 2),
        "sync_seconds": round(sync_seconds, 2),
        "peak_rss_mb": peak_rss_mb(text),
        "update_peak_mb": float(update_memory[2]) if update_memory else None,
        "requests": int(summary[1]) if summary else None,
        "paused_seconds": float(summary[2]) if summary else None,
        # Each checkpoint sends the whole state, and `fivetran debug` prints it in its log.
        "checkpoints": int(checkpoints[1]) if checkpoints else None,
        "state_mb": state_mb(project),
        "log_mb": round(log.stat().st_size / 1e6, 2),
    }


def state_mb(project: Path) -> float | None:
    """The size of the state the last run left, as the SDK sends it (`Operations.checkpoint`
    sends `json.dumps(state)`)."""
    state_file = project / "files" / "state.json"
    if not state_file.exists():
        return None
    return round(len(json.dumps(json.loads(state_file.read_text()))) / 1e6, 2)


def declared(configuration: dict) -> tuple[tuple[str, ...], Catalog]:
    """The tables the connector syncs with this configuration, and its catalogue typed for this
    server (custom fields and tables): what its schema() declares."""
    settings, catalog = for_this_server(validate_configuration(configuration, CATALOG), CATALOG)
    return settings.tables, catalog


def floor(
    folder: Path,
    configuration: dict,
    sizes: dict,
    pin: Pinning,
    order: dict | None = None,
    wrap: tuple = (),
    checkpoints: int | None = None,
) -> dict:
    """The floor through `fivetran debug`: the rows the connector's tables would hold, written
    out beforehand, emitted with the connector's own schema; in the order a run of the
    connector wrote its tables' rows, if given (`written_order`); checkpointing once a page of
    the connector's batch_size, or as often as a run of the connector that made `checkpoints`."""
    project = folder / "floor"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir()
    shutil.copy2(PROJECT / "bench" / "floor" / "connector.py", project / "connector.py")
    tables, catalog = declared(configuration)
    (project / "schema.json").write_text(json.dumps(catalog.schema(tables)), encoding="utf-8")
    counts = write_rows(project / "rows.jsonl", SEED, sizes, catalog, tables)
    if order is not None:
        interleave(project / "rows.jsonl", order)
    floor_configuration = {
        "rows_file": str(project / "rows.jsonl"),
        "schema_file": str(project / "schema.json"),
        "batch_size": str(
            -(-sum(counts.values()) // checkpoints) if checkpoints else configuration["batch_size"]
        ),
    }
    run = fivetran_debug(project, floor_configuration, pin, wrap=wrap)
    shutil.rmtree(project)
    return {**run, "rows": sum(counts.values()), "rows_by_table": counts}


def contacts_run(
    folder: Path, connector: Path, contacts: int, batch: int, pin: Pinning, custom_fields: int = 0
) -> dict:
    """Goal 3 at one size (and goals 1 and 3 on the wide contacts): floor and connector on N
    contacts (with that many custom fields, if given), the remembered set's costs, and
    extraction alone."""
    sizes = {"contacts": contacts, "companies": max(1, contacts // CONTACTS_PER_COMPANY)}
    if custom_fields:
        sizes[CONTACT_CUSTOM_FIELDS] = custom_fields
    with emulator(folder, sizes, {}, pin) as server:
        configuration = connector_configuration(server.port, batch)
        print("  floor through fivetran debug …", flush=True)
        floor_run = floor(folder, configuration, sizes, pin)
        print("  connector through fivetran debug …", flush=True)
        connector_run = fivetran_debug(connector, configuration, pin)
        print("  the remembered set: checkpoints, quiet syncs, a reconciliation …", flush=True)
        remembered = remembered_set(connector, configuration, pin)
        print("  extraction alone …", flush=True)
        extraction_run = extraction(server.port, batch, pin)
    return {"floor": floor_run, "connector": connector_run, "remembered": remembered,
            "extraction": extraction_run}  # fmt: skip


def speed_run(
    folder: Path, connector: Path, contacts: int, batch: int, pin: Pinning, turn: int = 0
) -> dict:
    """Goal 1 at one size: the floor and the connector on N live-shaped contacts, the connector
    with the remembered set on (the default) and with reconciliation off.

    Extraction alone runs first, untimed for the goal: it warms the emulator (its first request
    of a table sorts it, seconds at 200,000 records, which a server with indexes never makes a
    client wait) and says how often the connector checkpoints, which the floor then does too.
    The three sides then run in an order that turns with `turn` (the run's number), so that
    none is always the one that meets the machine first."""
    sizes = {"contacts": contacts, "companies": max(1, contacts // CONTACTS_PER_COMPANY),
             CONTACT_COLUMNS: LIVE_COLUMNS}  # fmt: skip
    with emulator(folder, sizes, {}, pin) as server:
        configuration = connector_configuration(server.port, batch)
        print("  extraction alone (warms the emulator) …", flush=True)
        extraction_run = extraction(server.port, batch, pin)
        off = {**configuration, "reconcile_interval_hours": "off"}
        sides = {
            "connector": lambda: fivetran_debug(connector, configuration, pin),
            "floor": lambda: floor(folder, configuration, sizes, pin,
                                   checkpoints=extraction_run["checkpoints"]),
            "unreconciled": lambda: fivetran_debug(connector, off, pin),
        }  # fmt: skip
        order = turned(list(sides), turn)
        run = {}
        for name in order:
            print(f"  {SIDE_NAMES[name]} …", flush=True)
            run[name] = sides[name]()
    return {**run, "extraction": extraction_run, "order": order}


def turned(names: list[str], turn: int) -> list[str]:
    """The names in an order that starts `turn` places along: each run of several starts with
    another."""
    turn %= len(names)
    return names[turn:] + names[:turn]


def slow_run(folder: Path, connector: Path, sizes: dict, batch: int, pin: Pinning) -> dict:
    """Goals 2 and 4: a first sync of the default catalogue from a slow server, the writer's and
    the server's floors, then a quiet incremental sync."""
    with emulator(folder, sizes, SLOW_SERVER, pin) as server:
        configuration = connector_configuration(server.port, batch, tables="")
        tables, catalog = declared(configuration)
        print("  connector's first sync …", flush=True)
        before = server.stats()
        first = fivetran_debug(connector, configuration, pin)
        middle = server.stats()
        print("  floor (every row of every table, in the connector's order) …", flush=True)
        order = written_order(connector, tables)
        floor_run = floor(folder, configuration, sizes, pin, order)
        del order
        print("  a quiet incremental sync …", flush=True)
        before_quiet = server.stats()  # (the floor asked for the server's custom fields)
        quiet = fivetran_debug(connector, configuration, pin, fresh=False)
        after = server.stats()
    requests = counted(before, middle)
    server_floor = server_floor_seconds(
        requests["answers"], requests["records_served"], *SLOW_SERVER.values()
    )
    return {
        "floor": floor_run,
        "connector": {**first, "served": requests},
        "server_floor_seconds": round(server_floor, 2),
        "quiet": {**quiet, "served": counted(before_quiet, after),
                  "target_requests": quiet_target(catalog, tables)},
    }  # fmt: skip


def written_order(project: Path, tables: tuple[str, ...]) -> dict[str, list[int]]:
    """When the last run in `project` wrote each row of each table, sorted (the SDK stamps each
    operation later than the one before, in `_fivetran_synced`)."""
    with duckdb.connect(str(project / "files" / "warehouse.db"), read_only=True) as db:
        written = {name for (name,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            [DEBUG_SCHEMA]).fetchall()}  # fmt: skip
        return {
            table: [when for (when,) in db.execute(
                f"SELECT epoch_us(_fivetran_synced) FROM {DEBUG_SCHEMA}.{table} ORDER BY 1"
            ).fetchall()]
            for table in tables
            if table in written
        }  # fmt: skip


def remembered_set(project: Path, configuration: dict, pin: Pinning) -> dict:
    """The remembered set the first sync in `project` left in its state, and what it costs."""
    state_file = project / "files" / "state.json"
    state = json.loads(state_file.read_text())
    entry = state["tables"]["contacts"]["known"]
    known = KnownSet.from_state(entry)
    without = copy.deepcopy(state)
    del without["tables"]["contacts"]["known"]
    record, stamps = next(iter(known.census().unseen())), itertools.count()
    measures = {
        "records": entry["count"],
        "bytes_per_record": round(len(json.dumps(entry)) / entry["count"], 2),
        "state_mb": state_mb(project),
        # What a checkpoint costs the connector: the set encoded again (when it changed) and the
        # state made JSON, as the SDK does, against the same state without the set.
        "checkpoint_ms_without": milliseconds(lambda: json.dumps(without)),
        "checkpoint_ms_unchanged": milliseconds(lambda: json.dumps(state)),
        "checkpoint_ms_changed": milliseconds(
            lambda: (known.put(record, next(stamps)), json.dumps(state | {"k": known.to_state()}))
        ),
    }
    quiet = fivetran_debug(project, configuration, pin, fresh=False)  # not due within a day
    reconciled = fivetran_debug(
        project, {**configuration, "reconcile_interval_hours": "0"}, pin, fresh=False
    )
    state_file.write_text(json.dumps(without))
    quiet_without = fivetran_debug(
        project, {**configuration, "reconcile_interval_hours": "off"}, pin, fresh=False
    )
    return {
        **measures,
        "quiet_sync_seconds": quiet["sync_seconds"],
        "quiet_sync_seconds_without": quiet_without["sync_seconds"],
        "reconciliation_seconds": reconciled["sync_seconds"],
        "reconciliation_requests": reconciled["requests"],
    }


def milliseconds(action, repeat: int = 5) -> float:
    """The best of a few runs, in milliseconds."""
    best = min(timeit.repeat(action, number=1, repeat=repeat))
    return round(best * 1000, 1)


def extraction(port: int, batch_size: int, pin: Pinning) -> dict:
    """bench.extraction in its own process: its figures, and its peak RSS."""
    done = subprocess.run(
        [*pin.client, *PEAK_RSS, sys.executable, "-m", "bench.extraction", str(port),
         str(batch_size)],
        cwd=PROJECT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the extraction run failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout), "peak_rss_mb": peak_rss_mb(done.stderr)}


def peak_rss_mb(text: str) -> float:
    return round(int(re.search(r"PEAK_RSS_KB (\d+)", text)[1]) / 1024, 1)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "host": platform.node()}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="every size times this (0.02: a quick run of a few minutes)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of everything, for spreads")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"which to run, of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args(argv)
    args.scenarios = [name for name in args.scenarios.split(",") if name]
    if set(args.scenarios) - set(SCENARIOS) or args.repeat < 1:
        parser.error(f"--scenarios takes {', '.join(SCENARIOS)}; --repeat at least 1")
    return args


def sizes_of(args: argparse.Namespace, scenario: str, sizes: tuple[int, ...]) -> list[int]:
    """The contacts a scenario runs at, scaled; none when it is not chosen."""
    if scenario not in args.scenarios:
        return []
    return list(dict.fromkeys(max(1, round(n * args.scale)) for n in sizes))


def wide_contacts(args: argparse.Namespace) -> int:
    """The wide scenario's contacts, scaled."""
    return max(1, round(WIDE_CONTACTS * args.scale))


def one_run(
    folder: Path, connector: Path, args: argparse.Namespace, pin: Pinning, turn: int = 0
) -> dict:
    run: dict = {"speed": {}, "contacts": {}}
    for n in sizes_of(args, "speed", SPEED_SIZES):
        print(f"N = {n:,} live-shaped contacts:", flush=True)
        run["speed"][str(n)] = speed_run(folder, connector, n, args.batch_size, pin, turn)
    for n in sizes_of(args, "memory", MEMORY_SIZES):
        print(f"N = {n:,} contacts:", flush=True)
        run["contacts"][str(n)] = contacts_run(folder, connector, n, args.batch_size, pin)
    if "wide" in args.scenarios:
        n = wide_contacts(args)
        print(f"N = {n:,} contacts with {WIDE_CUSTOM_FIELDS} custom fields:", flush=True)
        run["wide"] = contacts_run(
            folder, connector, n, args.batch_size, pin, custom_fields=WIDE_CUSTOM_FIELDS
        )
    if "slow" in args.scenarios:
        print("Slow server, the default catalogue:", flush=True)
        run["slow"] = slow_run(folder, connector, scaled(SIZES, args.scale), args.batch_size, pin)
    return run


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if "soak" in args.scenarios:
        from bench import soak  # here: bench.soak imports this module

        status = soak.main([])
        args.scenarios.remove("soak")
        if not args.scenarios:
            return status
    if "throttled" in args.scenarios:
        from bench import throttled  # here: bench.throttled imports this module

        status = throttled.main([f"--repeat={args.repeat}", f"--scale={args.scale}"])
        args.scenarios.remove("throttled")
        if not args.scenarios:
            return status
    Logging.LOG_LEVEL = Logging.Level.WARNING  # outside `fivetran debug` the SDK sets no level
    pin = pinning()
    results: dict = {
        "date": date.today().isoformat(), "machine": machine(), "pinning": pin.note,
        "scale": args.scale, "batch_size": args.batch_size, "scenarios": args.scenarios,
        "speed_sizes": sizes_of(args, "speed", SPEED_SIZES), "live_columns": LIVE_COLUMNS,
        "memory_sizes": sizes_of(args, "memory", MEMORY_SIZES),
        "wide": {"contacts": wide_contacts(args),
                 "custom_fields": WIDE_CUSTOM_FIELDS} if "wide" in args.scenarios else None,
        "slow_server": SLOW_SERVER, "runs": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="act-bench-") as scratch:
        folder = Path(scratch)
        connector = folder / "connector"
        deploy.stage(connector)
        for number in range(1, args.repeat + 1):
            print(f"Run {number} of {args.repeat} ({pin.note})", flush=True)
            results["runs"].append(one_run(folder, connector, args, pin, turn=number - 1))
    report = render(results)
    cpu = re.sub(r"[^a-z0-9]+", "-", results["machine"]["cpu"].lower()).strip("-")[:40]
    slug = f"{cpu}-{results['machine']['cores']}-cores"
    if args.scenarios != list(MEASURED):  # a partial run does not replace the day's full one
        slug += "-" + "-".join(args.scenarios)
    save(f"{results['date']}-{slug}", report, results)
    return 0


def save(stem: str, report: str, results: dict) -> Path:
    """Prints the report and keeps it, with its figures as JSON, in bench/results/`stem`.md
    (unused_path's name)."""
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = unused_path(RESULTS, stem)
    path.write_text(report + "\n\n```json\n" + json.dumps(results, indent=2) + "\n```\n")
    print(f"Saved to {path.relative_to(PROJECT)}")
    return path


def unused_path(folder: Path, stem: str) -> Path:
    """`stem`.md in the folder, or with -2, -3, … added: a second run the same day on the same
    machine keeps the first's results."""
    path, number = folder / f"{stem}.md", 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.md"
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
