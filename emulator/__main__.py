"""Start the Act! emulator: `python -m emulator [--port 8731] [--size contacts=100000] …`.

It serves until interrupted (Ctrl-C or SIGTERM) and then stops cleanly, saving its records to
--state-file when one is given, so that the next start continues from them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import threading
from dataclasses import fields
from pathlib import Path

from emulator.data import CREATABLE, DEMO_SIZES, generate
from emulator.databases import add_databases
from emulator.server import EDITED_FIELD, ActEmulator, Settings

DEFAULT_PORT = 8731  # the port the example configuration.json points at
# The office activity happened before this start, while the emulator was down: stamp it so.
OFFICE_ACTIVITY_AGE_SECONDS = 30


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7, help="the same seed gives the same data")
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="TABLE=N",
        help=f"records in a table (defaults: {DEMO_SIZES})",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SETTING=VALUE",
        help="an emulator setting: " + ", ".join(f.name for f in fields(Settings)),
    )
    parser.add_argument(
        "--state-file", type=Path, help="load records from it, save them to it on exit"
    )
    parser.add_argument(
        "--office-activity",
        type=int,
        default=0,
        metavar="N",
        help="on start, edit N records and create N/2 in each table, as an office would",
    )
    parser.add_argument(
        "--database",
        action="append",
        default=[],
        metavar="NAME[=VARIANT]",
        help="another database the server hosts (emulator/databases.py: standard, regional, "
        "no_custom_table)",
    )
    parser.add_argument("--port-file", type=Path, help="write the port here once listening")
    parser.add_argument(
        "--generator",
        metavar="MODULE",
        help="serve the records MODULE.generate(seed, sizes) makes instead of emulator.data's "
        "(bench.act_data: the benchmark's)",
    )
    return parser.parse_args(argv)


def setting_value(name: str, text: str):
    kind = {f.name: f.type for f in fields(Settings)}.get(name)
    if kind is None:
        raise SystemExit(f"unknown setting '{name}'")
    if kind == "bool":
        return text.lower() in ("1", "true", "yes")
    return {"int": int, "float": float}.get(kind, str)(text)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    sizes = {name: int(count) for name, _, count in (item.partition("=") for item in args.size)}
    settings = Settings()
    for item in args.set:
        name, _, text = item.partition("=")
        setattr(settings, name, setting_value(name, text))
    data = None
    if args.generator:
        data = importlib.import_module(args.generator).generate(args.seed, sizes)
    if args.state_file and args.state_file.exists():
        data = json.loads(args.state_file.read_text(encoding="utf-8"))
        # A state file from an older emulator lacks the newer tables: they start fresh.
        data = {**generate(args.seed, sizes), **data}
    emulator = ActEmulator(data=data, seed=args.seed, sizes=sizes, settings=settings)
    try:
        add_databases(emulator, args.database, args.seed, sizes)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    if args.office_activity:
        for table in EDITED_FIELD:  # the tables an office edits
            emulator.store.edit(table, args.office_activity, ago=OFFICE_ACTIVITY_AGE_SECONDS)
            if table in CREATABLE:
                count = max(1, args.office_activity // 2)
                emulator.store.create(table, count, ago=OFFICE_ACTIVITY_AGE_SECONDS)
    port = emulator.start(args.port, args.host)
    if args.port_file:
        args.port_file.write_text(str(port), encoding="utf-8")
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in emulator.store.tables.items())
    print(
        f"Act! emulator at {emulator.base_url} (user '{settings.username}', database "
        f"'{settings.database}', build '{settings.build}'): {counts}"
        + "".join(f"; database '{name}' too" for name in emulator.databases),
        flush=True,
    )

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    emulator.stop()
    if args.state_file:
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
        args.state_file.write_text(
            json.dumps(emulator.store.dump(), ensure_ascii=False), encoding="utf-8"
        )
    print("Act! emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
