"""The documents' sample outputs, made by real runs: `make demo` twice, the doctor, a sync's log.

    python tools/doc_samples.py            # prints the samples (about 30 s: two syncs)
    python tools/doc_samples.py --write    # rewrites them in README.md and docs/

Each sample sits in its document (WHERE) between two markers, and a test (tests/e2e/test_docs.py)
fails when one differs from what this script makes, so that no sample drifts from what the tools
print:

- demo (README.md): what the second run of `make demo` prints (the incremental sync, the
  office's edit, new record and deletion landing), its table of what landed for DEMO_TABLES;
- doctor (docs/doctor.md): `python tools/doctor.py --configuration configuration.json` against
  the demo's emulator, as `make demo` starts it;
- state (docs/doctor.md): `python tools/doctor.py --state` on the state that sync left, for one
  table of each kind;
- log (docs/logs.md): the connector's lines of that second sync's log (INFO and above: no
  page-by-page DEBUG line, none of the SDK's own but its last).

A run's samples are shown as the user would see them: the emulator's port (a free one here) as
configuration.json's, the build folder as `build`. What still changes from run to run (times of
day, dates the office stamps now, durations, shares of time, request counts, the packed state's
bytes, the order in which tables that run side by side finish) is left as it came: `comparable()`
sets it aside when a test compares.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from tools import demo  # noqa: E402 - after the project is on the path

README = PROJECT / "README.md"
# The samples, and the document each is in.
WHERE = {
    "demo": README,
    "doctor": PROJECT / "docs" / "doctor.md",
    "state": PROJECT / "docs" / "doctor.md",
    "log": PROJECT / "docs" / "logs.md",
}
SAMPLES = tuple(WHERE)
# The rows of the demo's table of what landed that README shows (one table of each kind, and the
# one with a deletion); a line "…" stands for each run of the others.
DEMO_TABLES = (
    "activities",
    "companies",
    "company_contacts",
    "contacts",
    "opportunities",
    "opportunity_products",
    "users",
)
DEMO_ROW = re.compile(r"  (\w+) +(\d+|—) +\d+ +\d+ +\d+")  # a row of that table
# Samples whose lines come in the order tables finish, which varies from run to run: compared as
# sets of lines. The others are compared word by word, as a time's width moves a line's wrap.
ORDER_VARIES = {"demo", "log"}
# What `--state` is shown for: one table of each kind (read by edit time, read whole, line items,
# membership, links); the state explains every table, and a line "…" stands for the others.
STATE_TABLES = (
    "contacts",
    "users",
    "opportunity_products",
    "group_contacts",
    "opportunity_contacts",
)
STATE_ENTRY = re.compile(r"(\w+): ")  # the first line of a table's paragraph in `--state`
EMULATOR_ADDRESS = re.compile(r"127\.0\.0\.1:\d+")
# What changes from run to run, each set aside by `comparable()`: most specific first.
RUN_SPECIFIC = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<date>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(\.\d+)?"), "<time>"),
    (re.compile(r"under a second|about [\d.]+ (s|min|h)\b"), "<duration>"),
    (re.compile(r"[+-]?\d+(\.\d+)? ?s\b"), "<seconds>"),
    (re.compile(r"\d+%"), "<share>"),
    (re.compile(r"[\d,]+ a second"), "<pace>"),
    # the remembered set's size: the office's edit times, packed, take a few bytes more or less
    (re.compile(r"[\d,]+ bytes"), "<bytes>"),
    # a walk's next page is asked for while the last is written, or not, as the threads go
    (re.compile(r"\d+ requests"), "<requests>"),
]
# A line the demo cut at its width ends so; where it is cut moves with the width of the times
# before it (a table that took 12.6s, not 2.0s, a few characters at most): a comparison takes
# such a line's first characters only, as many as every cut of it leaves.
CUT = "…"
CUT_KEPT = demo.WIDTH - 8
# The second a sync leaves for the next, waited out before each of the samples' syncs and the
# doctor's count (see fivetran_a_second_later), with a tenth to spare.
SECOND_FILLING = 1.1
SHOWN_LEVELS = ("INFO", *demo.SHOWN_LEVELS)  # the log lines the log sample keeps


def start_marker(name: str) -> str:
    return f"<!-- sample {name}: made by tools/doc_samples.py from a real run -->"


def end_marker(name: str) -> str:
    return f"<!-- end of sample {name} -->"


def environment(first: Path | None = None) -> dict:
    """The tools' environment as `make demo` gives it: the project's `fivetran` and pipreqs
    wrapper first (after `first`, if given), no usage telemetry."""
    path = [str(PROJECT / "tools" / "offline-bin"), str(Path(sys.executable).parent)]
    return {
        **os.environ,
        "PATH": os.pathsep.join([*([str(first)] if first else []), *path, os.environ["PATH"]]),
        "DO_NOT_TRACK": "1",
        "PYTHONUNBUFFERED": "1",
    }


def run(command: list[str], path_first: Path | None = None) -> str:
    done = subprocess.run(
        command,
        cwd=PROJECT,
        env=environment(path_first),
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def as_the_user_sees_it(text: str, build: Path) -> str:
    """A run's output with configuration.json's port for the emulator's and `build` for the
    build folder: what `make demo` and the example configuration show."""
    configuration = json.loads((PROJECT / "configuration.json").read_text(encoding="utf-8"))
    text = EMULATOR_ADDRESS.sub(f"{configuration['hostname']}:{configuration['port']}", text)
    return text.replace(str(build), "build").rstrip("\n")


def doctor_report(build: Path) -> str:
    """The doctor's report on the demo's emulator, as `make demo` starts it."""
    folder = build / "doctor"
    folder.mkdir(parents=True, exist_ok=True)
    emulator, port = demo.start_emulator(folder, 0)
    try:
        time.sleep(SECOND_FILLING)  # as the syncs do (see fivetran_a_second_later): it counts
        configuration = json.loads((PROJECT / "configuration.json").read_text(encoding="utf-8"))
        path = folder / "configuration.json"
        path.write_text(json.dumps({**configuration, "port": str(port)}), encoding="utf-8")
        return run([sys.executable, "tools/doctor.py", "--configuration", str(path)])
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def state_excerpt(explained: str) -> str:
    """`--state`'s text for STATE_TABLES and what concerns every table, "…" for the rest."""
    kept: list[str] = []
    keep = True
    for line in explained.splitlines():
        if line and not line[0].isspace():
            entry = STATE_ENTRY.match(line)
            keep = not entry or entry[1] in STATE_TABLES
            if not keep and kept[-1] != "…":
                kept.append("…")
        if keep:
            kept.append(line)
    return "\n".join(kept)


def demo_excerpt(printed: str) -> str:
    """What `make demo` prints, its table of what landed cut to DEMO_TABLES' rows, a line "…"
    for each run of the others."""
    kept: list[str] = []
    for line in printed.splitlines():
        row = DEMO_ROW.fullmatch(line)
        if row and row[1] not in DEMO_TABLES:
            if kept[-1] != "  …":
                kept.append("  …")
            continue
        kept.append(line)
    return "\n".join(kept)


def connector_log(log: str) -> str:
    """The connector's lines of a sync's log at INFO and above, and the SDK's last line."""
    kept = []
    for line in log.splitlines():
        for part in demo.LINE_START.split(line):  # lines two threads wrote glued, taken apart
            parsed = demo.LOG_LINE.fullmatch(part)
            if not parsed:
                continue  # the state the SDK prints, its table of counts
            _, level, source, message = parsed.groups()
            if (source == "connector" and level in SHOWN_LEVELS) or (
                source == "sdk" and message.startswith(demo.SYNC_ENDED)
            ):
                kept.append(part)
    return "\n".join(kept)


def fivetran_a_second_later(folder: Path) -> Path:
    """A folder whose `fivetran` waits a second, then runs the real one.

    The emulator's office stamps the opportunities of the line items it changes with the time it
    starts, not a while before as the rest (emulator/server.py's `_edit_parents`); a sync begun
    within that second leaves them for the next (the second still filling is never read), one
    begun later reads them. The demo starts its sync at once, so either may happen: the samples'
    syncs begin a second later, so that every run reads them, and the samples are the same."""
    folder.mkdir(parents=True, exist_ok=True)
    real = Path(sys.executable).parent / "fivetran"
    wrapper = folder / "fivetran"
    wrapper.write_text(
        f'#!/bin/sh\nsleep {SECOND_FILLING}\nexec "{real}" "$@"\n', encoding="utf-8"
    )
    wrapper.chmod(0o755)
    return folder


def make(build: Path) -> dict[str, str]:
    """Every sample, from real runs in `build` (left there: build/demo holds the warehouse)."""
    demo_command = [sys.executable, "tools/demo.py", "--build", str(build), "--port", "0"]
    patient = fivetran_a_second_later(build / "bin")
    run(demo_command, patient)  # the first sync
    second = run(demo_command, patient)  # the incremental one, with the office's changes
    state = build / "demo" / "files" / "state.json"
    samples = {
        "demo": demo_excerpt(second),
        "doctor": doctor_report(build),
        "state": state_excerpt(run([sys.executable, "tools/doctor.py", "--state", str(state)])),
        "log": connector_log((build / "demo" / "sync.log").read_text(encoding="utf-8")),
    }
    return {name: as_the_user_sees_it(text, build) for name, text in samples.items()}


def block(text: str) -> str:
    return f"```\n{text}\n```"


def sample_in(document: str, name: str) -> str:
    """The sample `name` as a document's text shows it (its code block's text)."""
    _, start, rest = document.partition(start_marker(name))
    inside, end, _ = rest.partition(end_marker(name))
    if not start or not end:
        raise ValueError(f"the document has no '{start_marker(name)}' … '{end_marker(name)}'")
    return inside.strip("\n").removeprefix("```\n").removesuffix("\n```")


def with_samples(document: str, samples: dict[str, str]) -> str:
    """A document's text with each sample between its markers replaced."""
    for name, text in samples.items():
        sample_in(document, name)  # refuses a document without the markers
        head, start, rest = document.partition(start_marker(name))
        _, end, tail = rest.partition(end_marker(name))
        document = f"{head}{start}\n{block(text)}\n{end}{tail}"
    return document


def shown() -> dict[str, str]:
    """Each sample as its document (WHERE) shows it."""
    return {name: sample_in(path.read_text("utf-8"), name) for name, path in WHERE.items()}


def write(samples: dict[str, str]) -> None:
    """Rewrites the samples, each in its document."""
    for path in dict.fromkeys(WHERE.values()):
        mine = {name: text for name, text in samples.items() if WHERE[name] == path}
        path.write_text(with_samples(path.read_text(encoding="utf-8"), mine), encoding="utf-8")


def comparable(name: str, text: str) -> list[str]:
    """The sample's lines with what changes from run to run set aside (see the module's
    docstring): in order, words rejoined (a time's width moves a wrap), or sorted."""
    if name in ORDER_VARIES:
        lines = [" ".join(line.split()) for line in text.splitlines()]
    else:
        lines = [" ".join(text.split())]
    for pattern, stand_in in RUN_SPECIFIC:
        lines = [pattern.sub(stand_in, line) for line in lines]
    lines = [line[:CUT_KEPT] + CUT if line.endswith(CUT) else line for line in lines]
    return sorted(lines) if name in ORDER_VARIES else lines[0].split(" ")


def differences(documented: dict[str, str], samples: dict[str, str]) -> dict[str, str]:
    """Each sample its document shows (`documented`, as shown() reads them) otherwise than the
    run made it (beyond what a run varies): its name, and how it differs (the document's, then
    the run's)."""
    found = {}
    for name, text in samples.items():
        was, made = comparable(name, documented[name]), comparable(name, text)
        if was != made:
            where = str(WHERE[name].relative_to(PROJECT))
            found[name] = "\n".join(difflib.unified_diff(was, made, where, "run", n=2))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/doc_samples.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--write", action="store_true", help="rewrite the samples in README.md and docs/"
    )
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="doc-samples-") as build:
        samples = make(Path(build))
    if not arguments.write:
        print("\n\n".join(f"{name}:\n{block(text)}" for name, text in samples.items()))
        return 0
    write(samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
