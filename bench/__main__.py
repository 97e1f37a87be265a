"""`make bench` (or `python -m bench --contacts 100000`): speed and memory against the floor.

Measures, with the Act! emulator serving N contacts in its own process:
1. the floor: bench/floor/connector.py emitting the same flattened rows through `fivetran debug`;
2. this connector end to end through `fivetran debug`;
3. extraction alone: update()'s work with the SDK's operations replaced by a counter, in a
   process of its own, whose peak RSS is the connector's own memory;
4. memory at two sizes: the peak RSS of the whole `fivetran debug` process, and the SDK's own
   sampling of memory while update() runs, connector against floor (the difference is the
   connector's share);
5. requests made, and seconds spent sleeping and waiting on the network;
6. the remembered set in the state at two sizes: bytes a record, the time a checkpoint takes
   with it (changed and unchanged) against a state without it, a quiet incremental sync with
   and without it, and a quiet reconciliation (its requests and time).
Prints a table and keeps it, with the date and the CPU, in bench/results/.
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
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import deploy  # noqa: E402 - after the project is on the path
from act_connector.catalog import load_catalog  # noqa: E402
from act_connector.config import DEFAULT_BATCH_SIZE  # noqa: E402
from act_connector.flatten import Flattener  # noqa: E402
from act_connector.known import KnownSet  # noqa: E402
from bench.extraction import connector_configuration  # noqa: E402
from emulator.data import generate  # noqa: E402

SEED = 17
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
# Only contacts are benchmarked; the other tables are kept tiny so that generating them is quick.
OTHER_TABLES = (
    "companies",
    "opportunities",
    "activities",
    "products",
    "groups",
    "notes",
    "history",
)


@contextmanager
def emulator(contacts: int, folder: Path):
    port_file = folder / f"emulator-{contacts}.port"
    sizes = [f"--size=contacts={contacts}"] + [f"--size={t}=5" for t in OTHER_TABLES]
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--port-file", str(port_file),
         "--seed", str(SEED), *sizes],
        cwd=PROJECT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while not port_file.exists():
            if process.poll() is not None:
                raise SystemExit("the emulator did not start")
            time.sleep(0.2)
        time.sleep(0.2)  # the file is written just after the port opens
        yield int(port_file.read_text())
    finally:
        process.terminate()
        process.wait()


def fivetran_debug(project: Path, configuration: dict, fresh: bool = True) -> dict:
    """Runs `fivetran debug` in `project` (afresh, or from the state the last run left); wall
    time, the SDK's own time and peak RSS."""
    if fresh:
        shutil.rmtree(project / "files", ignore_errors=True)
    (project / "configuration.json").write_text(json.dumps(configuration), encoding="utf-8")
    log = project / "debug.log"
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as output:
        status = subprocess.run(
            [*PEAK_RSS, str(Path(sys.executable).parent / "fivetran"), "debug",
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
    return {
        "wall_seconds": round(wall, 2),
        "sync_seconds": round(sync_seconds, 2),
        "peak_rss_mb": peak_rss_mb(text),
        "update_peak_mb": float(update_memory[2]) if update_memory else None,
        "requests": int(summary[1]) if summary else None,
        "paused_seconds": float(summary[2]) if summary else None,
    }


def floor_project(folder: Path, contacts: int, batch_size: int) -> tuple[Path, dict]:
    """The floor's folder, with the connector's own flattened rows written out beforehand."""
    project = folder / f"floor-{contacts}"
    project.mkdir(exist_ok=True)
    shutil.copy2(PROJECT / "bench" / "floor" / "connector.py", project / "connector.py")
    catalog = load_catalog()
    (project / "schema.json").write_text(json.dumps(catalog.schema(("contacts",))))
    flattener = Flattener(catalog.tables["contacts"].columns)
    records = generate(SEED, {"contacts": contacts, **dict.fromkeys(OTHER_TABLES, 5)})["contacts"]
    with open(project / "rows.jsonl", "w", encoding="utf-8") as rows:
        for record in records:
            row = flattener.row(record)
            rows.write(json.dumps(row, ensure_ascii=False, default=as_json) + "\n")
    del records
    configuration = {
        "rows_file": str(project / "rows.jsonl"),
        "schema_file": str(project / "schema.json"),
        "batch_size": str(batch_size),
    }
    return project, configuration


def remembered_set(project: Path, configuration: dict) -> dict:
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
        "state_mb": round(len(json.dumps(state)) / 1e6, 2),
        # What a checkpoint costs the connector: the set encoded again (when it changed) and the
        # state made JSON, as the SDK does, against the same state without the set.
        "checkpoint_ms_without": milliseconds(lambda: json.dumps(without)),
        "checkpoint_ms_unchanged": milliseconds(lambda: json.dumps(state)),
        "checkpoint_ms_changed": milliseconds(
            lambda: (known.put(record, next(stamps)), json.dumps(state | {"k": known.to_state()}))
        ),
    }
    quiet = fivetran_debug(project, configuration, fresh=False)  # not due within a day
    reconciled = fivetran_debug(
        project, {**configuration, "reconcile_interval_hours": "0"}, fresh=False
    )
    state_file.write_text(json.dumps(without))
    quiet_without = fivetran_debug(
        project, {**configuration, "reconcile_interval_hours": "off"}, fresh=False
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


def as_json(value):
    """What JSON lacks in a flattened row: timestamps (as ISO text) and decimals."""
    return value.isoformat() if isinstance(value, datetime) else float(value)


def extraction(port: int, batch_size: int) -> dict:
    """bench.extraction in its own process: its figures, and its peak RSS."""
    done = subprocess.run(
        [*PEAK_RSS, sys.executable, "-m", "bench.extraction", str(port), str(batch_size)],
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="N for the speed runs")
    parser.add_argument("--memory-sizes", default="20000,200000", help="N for the memory runs")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the connector's")
    args = parser.parse_args(argv)
    batch = args.batch_size or DEFAULT_BATCH_SIZE
    memory_sizes = [int(n) for n in args.memory_sizes.split(",") if n]
    results: dict = {"date": date.today().isoformat(), "cpu": cpu_name(), "cores": os.cpu_count(),
                     "contacts": args.contacts, "batch_size": batch, "memory": {},
               "remembered": {}}  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="act-bench-") as scratch:
        folder = Path(scratch)
        connector = folder / "connector"
        deploy.stage(connector)
        for n in [args.contacts] + [m for m in memory_sizes if m != args.contacts]:
            print(f"N = {n:,} contacts: preparing the floor's rows and the emulator …", flush=True)
            floor, floor_configuration = floor_project(folder, n, batch)
            with emulator(n, folder) as port:
                print("  floor through fivetran debug …", flush=True)
                floor_run = fivetran_debug(floor, floor_configuration)
                print("  connector through fivetran debug …", flush=True)
                connector_run = fivetran_debug(connector, connector_configuration(port, batch))
                print("  the remembered set: checkpoints, quiet syncs, a reconciliation …")
                remembered = remembered_set(connector, connector_configuration(port, batch))
                print("  extraction alone …", flush=True)
                extraction_run = extraction(port, batch)
            if n == args.contacts:
                results["floor"], results["connector"] = floor_run, connector_run
                results["extraction"] = extraction_run
            results["memory"][n] = {
                "floor_peak_rss_mb": floor_run["peak_rss_mb"],
                "connector_peak_rss_mb": connector_run["peak_rss_mb"],
                "floor_update_peak_mb": floor_run["update_peak_mb"],
                "connector_update_peak_mb": connector_run["update_peak_mb"],
                "connector_own_mb": round(
                    connector_run["update_peak_mb"] - floor_run["update_peak_mb"], 1
                ),
                "extraction_peak_rss_mb": extraction_run["peak_rss_mb"],
            }
            results["remembered"][n] = remembered
            shutil.rmtree(floor)

    report = render(results, memory_sizes)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", results["cpu"].lower()).strip("-")[:40]
    path = RESULTS / f"{results['date']}-{slug}.md"
    path.write_text(report + "\n```json\n" + json.dumps(results, indent=2) + "\n```\n")
    print(f"Saved to {path.relative_to(PROJECT)}")
    return 0


def render(results: dict, memory_sizes: list[int]) -> str:
    floor, run, ext = results["floor"], results["connector"], results["extraction"]
    n = results["contacts"]
    ratio = run["wall_seconds"] / floor["wall_seconds"]
    floor_rate = n / floor["wall_seconds"]
    lines = [
        f"# Act! connector benchmark, {results['date']}",
        f"{results['cpu']}, {results['cores']} cores; {n:,} contacts, pages of "
        f"{results['batch_size']:,}",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| floor (SDK writer alone), end to end | {floor['wall_seconds']} s "
        f"({floor_rate:,.0f} rows/s) | |",
        f"| connector, end to end | {run['wall_seconds']} s "
        f"({n / run['wall_seconds']:,.0f} rows/s)"
        " | |",
        f"| connector / floor | {ratio:.3f}x | at most 1.15x |",
        f"| extraction alone | {ext['records_per_second']:,} records/s "
        f"({ext['records_per_second'] / floor_rate:.1f}x the floor) | at least 5x the floor |",
        f"| requests (extraction run) | {ext['requests']} for {ext['records']:,} records | "
        f"pages of {results['batch_size']:,}, plus authorize, the closing empty page and "
        "(a first sync) one look for edits made meanwhile |",
        f"| sleeping / network wait | {ext['sleep_seconds']} s / {ext['network_wait_seconds']} s"
        " | no sleep when not throttled |",
    ]
    mem = results["memory"]
    for size in memory_sizes:
        m = mem[size]
        lines += [
            f"| peak RSS of the whole `fivetran debug` at {size:,}: connector / floor | "
            f"{m['connector_peak_rss_mb']} MB / {m['floor_peak_rss_mb']} MB | |",
            f"| memory while update() runs at {size:,}: connector / floor | "
            f"{m['connector_update_peak_mb']} MB / {m['floor_update_peak_mb']} MB "
            f"(connector's own: {m['connector_own_mb']} MB) | own under 80 MB |",
            f"| extraction alone at {size:,}: peak RSS of its process | "
            f"{m['extraction_peak_rss_mb']} MB | |",
        ]
    if len(memory_sizes) >= 2:
        low, high = mem[memory_sizes[0]], mem[memory_sizes[-1]]
        growth = high["connector_own_mb"] - low["connector_own_mb"]
        alone = high["extraction_peak_rss_mb"] - low["extraction_peak_rss_mb"]
        lines.append(
            f"| connector's own memory growth {memory_sizes[0]:,} → {memory_sizes[-1]:,} | "
            f"{growth:+.1f} MB (extraction alone: {alone:+.1f} MB) | at most 15 MB |"
        )
    lines += remembered_lines(results["remembered"], memory_sizes)
    return "\n".join(lines)


def remembered_lines(remembered: dict, memory_sizes: list[int]) -> list[str]:
    lines = []
    for size in memory_sizes:
        r = remembered[size]
        lines += [
            f"| remembered set at {size:,}: bytes a record in the state / whole state | "
            f"{r['bytes_per_record']} / {r['state_mb']} MB | about 24 bytes a record |",
            f"| checkpoint at {size:,}: without the set / set unchanged / set changed | "
            f"{r['checkpoint_ms_without']} / {r['checkpoint_ms_unchanged']} / "
            f"{r['checkpoint_ms_changed']} ms | |",
            f"| quiet incremental sync at {size:,}: with the set / without | "
            f"{r['quiet_sync_seconds']} s / {r['quiet_sync_seconds_without']} s | |",
            f"| quiet reconciliation at {size:,} (listing pages of 10,000) | "
            f"{r['reconciliation_seconds']} s, {r['reconciliation_requests']} requests | |",
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
