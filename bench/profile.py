"""Where a sync's time goes: `python -m bench.profile` runs the connector and the floor (which
checkpoints as often) through `fivetran debug` on live-shaped contacts, as goal 1 does, under
py-spy, a sampling profiler that sees every thread (cProfile sees only the main one, which waits
for the table workers), and splits the samples by stage: HTTP and JSON parse, flatten and
coerce, the remembered set and the state, the connector's own paging and emitting, the SDK's
record path (names, encoding, buffering, checkpoints), DuckDB's write, and start-up. The
connector's process runs on one core, so the time no thread was running is time spent waiting
(on the server, or a lock). As goal 1 does, extraction alone runs first, unprofiled, to warm the
emulator (its first request of a table sorts it).

`--contacts N` (default 50,000), `--reconcile off` for the connector without its remembered set,
`--raw DIR` to keep py-spy's samples (flamegraph.pl reads them); the split is written to
bench/results/<date>-profile-<N>.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from bench.__main__ import (
    CONTACTS_PER_COMPANY,
    LIVE_COLUMNS,
    emulator,
    extraction,
    fivetran_debug,
    floor,
    machine,
    pinning,
    save,
)
from bench.act_data import CONTACT_COLUMNS
from bench.extraction import connector_configuration
from bench.figures import shown

RATE = 100  # samples a second: 10 ms apart, a few thousand for a run of a minute
# A sample's stage is that of its innermost frame outside the standard library (json.loads in
# the client is the client's, a regular expression in the SDK's renaming is the SDK's), by the
# first of these prefixes its file starts with.
STAGES = (
    ("DuckDB write", ("fivetran_connector_sdk_core/destination/", "duckdb/")),
    ("SDK record path: names, encoding, buffering, checkpoints", ("fivetran_connector_sdk",)),
    (
        "remembered set and state",
        ("act_connector/known.py", "act_connector/packing.py", "act_connector/state.py"),
    ),
    ("flatten and coerce", ("act_connector/flatten.py", "act_connector/timestamps.py")),
    (
        "HTTP and JSON parse",
        ("requests/", "urllib3/", "charset_normalizer/", "idna/", "act_connector/client.py"),
    ),
    ("connector: paging, emitting, logging", ("act_connector/",)),
    ("floor: reading its rows file", ("connector.py",)),
)
OTHER = "start-up and other"
WAITING = "no thread running (waiting on the server or a lock)"
IDLE_THREADS = ("_monitor_loop",)  # the SDK's memory sampler, asleep between its samples
# A thread pool's worker waiting for its next task blocks in C (the queue's get), and py-spy
# still counts it as running: a sample whose innermost frame is that is no work.
IDLE_FRAMES = ("_worker (concurrent/futures/thread.py:",)


def stage_of(frames: list[str]) -> str:
    """The stage of one sample's stack (outermost frame first)."""
    for frame in reversed(frames):
        path = frame.rsplit(" (", 1)[-1].split(":", 1)[0]
        if path.split("/", 1)[0].removesuffix(".py") in sys.stdlib_module_names:
            continue
        for stage, prefixes in STAGES:
            if path.startswith(prefixes):
                return stage
        return OTHER
    return OTHER


def split(raw: Path) -> Counter:
    """Samples by stage, from py-spy's raw output: a line is a stack and its count, its frames
    joined by ";", led by its process's and thread's names."""
    samples: Counter = Counter()
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        names = [frame for frame in frames if frame.startswith(("process ", "thread "))]
        if any(idle in name for name in names for idle in IDLE_THREADS):
            continue
        if frames[-1].startswith(IDLE_FRAMES):
            continue
        samples[stage_of(frames[len(names) :])] += int(count)
    return samples


def seconds_by_stage(run: dict, samples: Counter) -> dict[str, float]:
    """Seconds per stage; what is left of the run's wall time, no thread running."""
    seconds = {stage: round(count / RATE, 2) for stage, count in samples.most_common()}
    seconds[WAITING] = round(max(0.0, run["wall_seconds"] - sum(samples.values()) / RATE), 2)
    return seconds


def profiled(side: str, folder: Path, run) -> dict:
    """A run under py-spy (its samples in `folder`), and its split."""
    raw = folder / f"{side}.txt"
    result = run(raw)
    return {**result, "stages": seconds_by_stage(result, split(raw))}


def render(results: dict) -> str:
    n, sides = results["contacts"], results["sides"]
    stages = list(dict.fromkeys(stage for side in sides.values() for stage in side["stages"]))
    lines = [
        f"# Where the time goes: {n:,} live-shaped contacts, {results['date']}",
        "",
        f"{results['machine']}; {results['pinning']}. `python -m bench.profile --contacts {n}"
        f"{' --reconcile off' if results['reconcile'] == 'off' else ''}`: py-spy sampling every "
        f"thread {RATE} times a second; a sample's stage is its innermost frame outside the "
        "standard library. Seconds under py-spy run a little longer than without it.",
        "",
        "| stage | " + " | ".join(sides) + " |",
        "| --- | " + " | ".join("---" for _ in sides) + " |",
    ]
    for stage in stages:
        cells = [shown([side["stages"].get(stage, 0.0)], " s") for side in sides.values()]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    totals = [shown([side["wall_seconds"]], " s") for side in sides.values()]
    lines.append("| **total, end to end** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--reconcile", choices=("on", "off"), default="on")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples in this folder")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    pin = pinning()
    n = args.contacts
    sizes = {"contacts": n, "companies": max(1, n // CONTACTS_PER_COMPANY),
             CONTACT_COLUMNS: LIVE_COLUMNS}  # fmt: skip

    def under_py_spy(raw: Path) -> tuple[str, ...]:
        return (py_spy, "record", "--subprocesses", "--threads", "--rate", str(RATE),
                "--format", "raw", "--output", str(raw), "--")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="act-profile-") as scratch:
        folder = Path(scratch)
        samples = args.raw or folder
        samples.mkdir(parents=True, exist_ok=True)
        connector = folder / "connector"
        import deploy  # here: bench.__main__ has put the project on the path

        deploy.stage(connector)
        with emulator(folder, sizes, {}, pin) as server:
            configuration = connector_configuration(server.port, 2000)
            if args.reconcile == "off":
                configuration["reconcile_interval_hours"] = "off"
            print(f"{n:,} contacts: extraction alone, to warm the emulator …", flush=True)
            extraction(server.port, 2000, pin)
            print("  the connector under py-spy …", flush=True)
            connector_side = profiled(
                "connector", samples,
                lambda raw: fivetran_debug(connector, configuration, pin, wrap=under_py_spy(raw)),
            )  # fmt: skip
            print("  the floor under py-spy, checkpointing as often …", flush=True)
            checkpoints = connector_side["checkpoints"]
            floor_side = profiled(
                "floor", samples,
                lambda raw: floor(folder, configuration, sizes, pin, wrap=under_py_spy(raw),
                                  checkpoints=checkpoints),
            )  # fmt: skip
    spec = machine()
    results = {
        "date": date.today().isoformat(), "contacts": n, "reconcile": args.reconcile,
        "machine": f"{spec['cpu']}, {spec['cores']} cores", "pinning": pin.note,
        "sides": {"floor": floor_side, "connector": connector_side},
    }  # fmt: skip
    suffix = "" if args.reconcile == "on" else "-reconcile-off"
    save(f"{results['date']}-profile-{n}{suffix}", render(results), results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
