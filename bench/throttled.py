"""Per-parent reads on a throttled server (issue 28, item 5): a first sync of opportunities and
their line items through the real `fivetran debug`, from a server that refuses four requests in
ten, against the refusal floor.

    python -m bench --scenarios throttled [--repeat 3] [--scale 0.1]

What each side does:
- The emulator (a process of its own, on a core of its own when taskset is there) serves
  bench/act_data.py's 2,000 opportunities and their line items (a request each, at
  /api/opportunities/{id}/products). It refuses REFUSE_SHARE of the data requests at random, in
  turn a 429 and a 503 (each with Retry-After: 1) and a connection dropped unanswered; its tokens
  live TOKEN_TTL seconds and every other /authorize is a 429 (Retry-After: 1). It counts what it
  refused, by kind, and the seconds its Retry-After told, by table (/_emulator/stats).
- The connector syncs `opportunities,opportunity_products` from an empty state, as Fivetran would
  (`fivetran debug`), reading line items PARENT_WORKERS at a time. Its log gives each retry's
  cause and wait, and its summary the seconds it paused and the tokens it renewed.

The refusal floor is the least time the server's refusals force on that sync: the same sync from
the same server refusing nothing (the clean run, measured just before; the median of a
--repeat's), plus every wait a
refusal's Retry-After tells (data requests' and /authorize's, from the emulator's counters),
shared by the PARENT_WORKERS workers, as each told wait holds up the one request it answered
and the others go on; the waits told to schema()'s requests and to the first /authorize, which
nothing runs beside, count whole. A dropped connection tells no wait: retrying it at once is
allowed, so it adds nothing to the floor. Every row written is checked against the emulator's
records: no line item or opportunity missing, duplicated or not in Act!.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import urllib.request
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import deploy  # noqa: E402
from act_connector.per_parent import PARENT_WORKERS  # noqa: E402
from bench.__main__ import (  # noqa: E402
    emulator,
    fivetran_debug,
    machine,
    pinning,
    save,
)
from bench.extraction import connector_configuration  # noqa: E402
from tests.e2e.harness import warehouse_rows  # noqa: E402

OPPORTUNITIES = 2000
PRODUCTS = 40
TABLES = "opportunities,opportunity_products"
REFUSE_SHARE = 0.4
RETRY_AFTER = 1.0
TOKEN_TTL = 5.0
THROTTLED = {
    "refuse_share": REFUSE_SHARE,
    "retry_after": RETRY_AFTER,
    "token_ttl": TOKEN_TTL,
    "authorize_throttle_every": 2,
}
BATCH_SIZE = 1000
# The connector's retry line: "Table 'x': HTTP 429: … from URL; retry 2 in 1.0s", or a network
# error's "ConnectionError: … from URL; retry 1 in 0.7s".
RETRY = re.compile(
    r"(?:(Authorization)|Table '(\w+)'): (?:HTTP (\d+)|(\w+)): .*; retry \d+ in ([\d.]+)s"
)
SUMMARY = re.compile(
    r"(\d+) requests, (\d+) retries, (\d+) throttled, ([\d.]+)s paused, (\d+) token renewals"
)


def sizes(scale: float) -> dict[str, int]:
    return {"opportunities": max(1, round(OPPORTUNITIES * scale)), "products": PRODUCTS}


def stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as answer:
        return json.load(answer)


def truth(port: int, table: str) -> list[dict]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/truth/{table}") as answer:
        return json.load(answer)


def row_problems(project: Path, port: int) -> list[str]:
    """How the rows written differ from the emulator's: ids missing, duplicated or not in Act!,
    and line items under the wrong opportunity."""
    problems = []
    for table, parent in (("opportunities", None), ("opportunity_products", "opportunityID")):
        expected = {str(record["id"]): record for record in truth(port, table)}
        rows = [row for row in warehouse_rows(project, table) if not row["_fivetran_deleted"]]
        ids = [str(row["id"]) for row in rows]
        if len(ids) != len(set(ids)):
            problems.append(f"{table}: {len(ids) - len(set(ids))} duplicated")
        if set(ids) - set(expected):
            problems.append(f"{table}: {len(set(ids) - set(expected))} not in Act!")
        if set(expected) - set(ids):
            problems.append(f"{table}: {len(set(expected) - set(ids))} missing")
        if parent:
            wrong = [
                r
                for r in rows
                if r["opportunity_id"] != expected.get(str(r["id"]), {}).get(parent)
            ]
            if wrong:
                problems.append(f"{table}: {len(wrong)} under the wrong opportunity")
    return problems


def read_log(text: str) -> dict:
    """What the connector's log says the refusals cost it: retries and their waits by cause, the
    rate-limit pauses (the seconds paused that no retry explains), and token renewals."""
    retries: dict[str, int] = {}
    waited: dict[str, float] = {}
    for match in RETRY.finditer(text):
        kind = ("authorize " if match[1] else "") + (match[3] or match[4])
        retries[kind] = retries.get(kind, 0) + 1
        waited[kind] = round(waited.get(kind, 0.0) + float(match[5]), 1)
    summary = SUMMARY.search(text)
    paused = float(summary[4]) if summary else 0.0
    return {
        "requests": int(summary[1]) if summary else None,
        "retries": retries,
        "retry_wait_seconds": waited,
        "paused_seconds": paused,
        "rate_limit_pause_seconds": round(max(0.0, paused - sum(waited.values())), 1),
        "token_renewals": int(summary[5]) if summary else None,
        "expired_tokens": text.count("the Act! token expired"),
    }


def refusal_floor(clean_seconds: float, told: dict[str, float]) -> float:
    """The least time the refusals force: the clean run's, plus the waits told to the schema
    step's requests (the field definitions, one after another) and to the sync's first
    /authorize whole, and every other told wait shared by the workers."""
    synced = set(TABLES.split(","))
    first = min(told.get("authorization", 0.0), RETRY_AFTER)
    alone = first + sum(seconds for table, seconds in told.items() if table not in synced
                        and table != "authorization")  # fmt: skip
    shared = sum(told.values()) - alone
    return clean_seconds + alone + shared / PARENT_WORKERS


def one_run(folder: Path, connector: Path, scale: float, pin) -> dict:
    size = sizes(scale)
    configuration = connector_configuration(0, BATCH_SIZE, tables=TABLES)
    with emulator(folder, size, {}, pin) as server:
        print("  clean server: the same sync, nothing refused …", flush=True)
        clean = fivetran_debug(connector, {**configuration, "port": str(server.port)}, pin)
    with emulator(folder, size, THROTTLED, pin) as server:
        print("  throttled server …", flush=True)
        before = stats(server.port)
        run = fivetran_debug(connector, {**configuration, "port": str(server.port)}, pin)
        after = stats(server.port)
        problems = row_problems(connector, server.port)
    told = after["told_seconds"]
    floor = refusal_floor(clean["wall_seconds"], told)
    log = read_log((connector / "debug.log").read_text(encoding="utf-8"))
    return {
        "wall_seconds": run["wall_seconds"],
        "sync_seconds": run["sync_seconds"],
        "clean_wall_seconds": clean["wall_seconds"],
        "floor_seconds": round(floor, 1),
        "over_floor": round(run["wall_seconds"] / floor, 3),
        "server": {
            "requests": after["requests"] - before["requests"],
            "data_requests": after["data_requests"],
            "authorize_requests": after["authorize_requests"],
            "refused": after["refused"],
            "told_seconds": {name: round(value, 1) for name, value in told.items()},
            "answers_by_table": after["answers_by_table"],
            "concurrent_peak": after["concurrent_peak"],
        },
        "connector": log,
        "row_problems": problems,
    }


def with_median_clean(runs: list[dict]) -> None:
    """Each run's floor from the median of the clean runs: a clean run is seconds long, so a
    moment of another process on the machine moves it by more than the gap being measured."""
    clean = statistics.median(run["clean_wall_seconds"] for run in runs)
    for run in runs:
        run["floor_seconds"] = round(refusal_floor(clean, run["server"]["told_seconds"]), 1)
        run["over_floor"] = round(run["wall_seconds"] / run["floor_seconds"], 3)


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:g}"
    return f"{statistics.median(values):g} ({min(values):g} to {max(values):g})"


def render(results: dict) -> str:
    runs = results["runs"]
    figure = lambda key: spread([run[key] for run in runs])  # noqa: E731
    lines = [
        f"# Per-parent reads on a throttled server, {results['date']}",
        "",
        f"Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores; "
        f"{results['pinning']}. Opportunities: {results['sizes']['opportunities']:,}; server: "
        f"{json.dumps(results['server'])}; {PARENT_WORKERS} workers. "
        f"{len(runs)} run(s): median (min to max).",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| wall time of the throttled first sync (s) | {figure('wall_seconds')} |",
        f"| clean run: the same sync, nothing refused (s) | {figure('clean_wall_seconds')} |",
        f"| refusal floor (s) | {figure('floor_seconds')} |",
        f"| throttled / floor | {figure('over_floor')} |",
    ]
    for number, run in enumerate(runs, 1):
        server, log = run["server"], run["connector"]
        lines += [
            "",
            f"Run {number}: {run['wall_seconds']} s (floor {run['floor_seconds']} s); rows: "
            + ("; ".join(run["row_problems"]) or "equal to Act!'s"),
            f"- server: {server['requests']} requests ({server['data_requests']} data, "
            f"{server['authorize_requests']} /authorize), "
            f"refused {json.dumps(server['refused'])}, "
            f"told waits {json.dumps(server['told_seconds'])} s",
            f"- connector: {log['requests']} requests, retries {json.dumps(log['retries'])}, "
            f"waited after them {json.dumps(log['retry_wait_seconds'])} s, rate-limit pauses "
            f"{log['rate_limit_pause_seconds']} s (all waits {log['paused_seconds']} s), "
            f"{log['token_renewals']} token renewals after {log['expired_tokens']} expiries",
        ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throttled", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--label", default="", help="added to the results file's name")
    args = parser.parse_args(argv)
    pin = pinning()
    results = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "pinning": pin.note,
        "sizes": sizes(args.scale),
        "server": THROTTLED,
        "runs": [],
    }
    with tempfile.TemporaryDirectory(prefix="act-throttled-") as scratch:
        folder = Path(scratch)
        connector = folder / "connector"
        deploy.stage(connector)
        for number in range(1, args.repeat + 1):
            print(f"Run {number} of {args.repeat} ({pin.note})", flush=True)
            results["runs"].append(one_run(folder, connector, args.scale, pin))
            print(
                f"  {results['runs'][-1]['wall_seconds']} s, floor "
                f"{results['runs'][-1]['floor_seconds']} s",
                flush=True,
            )
    with_median_clean(results["runs"])
    stem = f"{results['date']}-throttled" + (f"-{args.label}" if args.label else "")
    save(stem, render(results), results)
    failed = [run for run in results["runs"] if run["row_problems"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
