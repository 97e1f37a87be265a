"""The soak (issue 29): first syncs in a row against a strict Act! server; none may fail.

    python -m bench.soak [--syncs 10]        or   make bench BENCH_ARGS=--scenarios=soak

The emulator (in this process, on 127.0.0.1) is as strict as the server that failed 4 syncs in
15: tokens live a few seconds, a third of the data requests are refused at random (a 429, a 503
or a dropped connection, in turn), every other /authorize is throttled, and companies, groups
and opportunities number in the hundreds, each a request of its own for its members or line
items, four tables and four parents at a time. Each sync is the connector's whole sync
(run_sync: every row through the SDK's encoder) from an empty state, and every table it wrote
must equal the emulator's truth. The count of syncs and failures, and what the retries cost, go
to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from fivetran_connector_sdk import Logging  # noqa: E402

from act_connector.catalog import Catalog, TableSpec, load_catalog  # noqa: E402
from act_connector.config import validate_configuration  # noqa: E402
from act_connector.errors import ActConnectorError  # noqa: E402
from act_connector.sync import run_sync  # noqa: E402
from bench.__main__ import save  # noqa: E402
from emulator.server import ActEmulator, Store  # noqa: E402
from tests.conftest import emulator_configuration  # noqa: E402
from tests.e2e.harness import differences, emitted_rows  # noqa: E402
from tests.helpers import RecordingOperations, as_in_a_new_process  # noqa: E402

SYNCS = 10
# The stricter server's faults: tokens that live five seconds (a few round trips of the 16
# requests under way at once, yet long enough that a token got and sent at once is never
# refused), one data request in three refused, /authorize throttled every other time.
STRICT = {
    "token_ttl": 5.0,
    "refuse_share": 1 / 3,
    "authorize_throttle_every": 2,
    "retry_after": 1.0,
}
# Hundreds of parents: 300 companies, 300 opportunities and 100 groups are 700 requests for
# their members and line items, each as likely to be refused as any other.
SIZES = {
    "contacts": 1500,
    "companies": 300,
    "opportunities": 300,
    "groups": 100,
    "activities": 400,
    "products": 40,
}
SEED = 29
# A line item's parent, in the record the emulator serves.
PARENT_KEYS = {"opportunity_products": "opportunityID"}


def expected_rows(store: Store, spec: TableSpec) -> list[dict]:
    """A table's rows as the emulator's records say they should land."""
    if spec.links:  # one row per element of the parent's embedded array
        links = spec.links
        return [
            {
                "id": f"{record['id']}|{related['id']}",
                links.parent_column: record["id"],
                links.related_column: related["id"],
                "position": position,
            }
            for record in store.truth(links.parent)
            for position, related in enumerate(record[links.array])
        ]
    if spec.per_parent and spec.per_parent.related_column:  # membership
        parent = spec.per_parent.parent
        if parent == "groups":
            pairs = [(link["groupID"], link["contactID"]) for link in store.truth(spec.name)]
        else:
            pairs = [(contact["companyID"], contact["id"]) for contact in store.truth("contacts")]
        return [
            {
                "id": f"{parent_id}|{contact}",
                spec.per_parent.parent_column: parent_id,
                spec.per_parent.related_column: contact,
            }
            for parent_id, contact in pairs
            if parent_id in store.tables[parent] and contact in store.tables["contacts"]
        ]
    if spec.per_parent:  # line items, with their parent's id
        key, column = PARENT_KEYS[spec.name], spec.per_parent.parent_column
        return [{**item, column: item[key]} for item in store.truth(spec.name)]
    return store.truth(spec.name)


def first_sync(server: ActEmulator, catalog: Catalog, **changes: str) -> dict:
    """One first sync of the default tables, as a sync in a process of its own runs: whether it
    failed, how each table it wrote differs from the truth, and what the retries cost."""
    settings = validate_configuration(emulator_configuration(server, **changes), catalog)
    operations = RecordingOperations()
    as_in_a_new_process()
    started = time.monotonic()
    try:
        summary = run_sync(settings, catalog, None, operations)
    except ActConnectorError as error:
        return {"failure": str(error), "seconds": round(time.monotonic() - started, 1)}
    problems = {
        result.name: differences(
            expected_rows(server.store, catalog.tables[result.name]),
            emitted_rows(operations, result.name),
        )
        for result in summary.tables
    }
    stats = summary.stats
    return {
        "failure": None,
        "seconds": round(time.monotonic() - started, 1),
        "tables": len(summary.tables),
        "rows": summary.records,
        "differences": {table: found for table, found in problems.items() if found},
        "requests": stats.requests,
        "retries": stats.retries,
        "throttled": stats.throttled,
        "token_renewals": stats.token_refreshes,
        "seconds_waited": round(stats.sleep_seconds, 1),
        "by_table": stats.cost_words(),
    }


def strict_server(sizes: dict[str, int], seed: int = SEED, **faults) -> ActEmulator:
    """The emulator with `sizes` records, serving with the strict faults (and `faults`)."""
    server = ActEmulator(seed=seed, sizes=sizes)
    server.configure(**{**STRICT, **faults})
    server.start()
    return server


def soak(syncs: int) -> dict:
    catalog = load_catalog()
    server = strict_server(SIZES)
    runs = []
    try:
        for number in range(1, syncs + 1):
            run = first_sync(server, catalog)
            runs.append(run)
            verdict = (
                f"FAILED: {run['failure']}"
                if run["failure"]
                else "differs from Act!: " + json.dumps(run["differences"])[:500]
                if run["differences"]
                else f"{run['rows']} rows equal to Act!'s, {run['retries']} retries, "
                f"{run['throttled']} throttled, {run['token_renewals']} token renewals, "
                f"{run['seconds_waited']}s waited"
            )
            print(f"sync {number} of {syncs} ({run['seconds']}s): {verdict}", flush=True)
    finally:
        server.stop()
    failed = [run for run in runs if run["failure"] or run["differences"]]
    return {
        "date": date.today().isoformat(),
        "syncs": len(runs),
        "failures": len(failed),
        "server": {**STRICT, "sizes": SIZES},
        "runs": runs,
    }


def render(results: dict) -> str:
    lines = [
        f"# Soak: {results['syncs']} first syncs against a strict Act! server, {results['date']}",
        "",
        f"syncs: {results['syncs']}, failures: {results['failures']} (a sync failed, or a table "
        "it wrote differs from the emulator's truth)",
        "",
        f"Server: {json.dumps(results['server'])}",
        "",
        "| sync | result | seconds | rows | requests | retries | throttled | token renewals "
        "| seconds waited |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, run in enumerate(results["runs"], 1):
        if run["failure"]:
            lines.append(f"| {number} | failed: {run['failure']} | {run['seconds']} | | | | | | |")
            continue
        result = "rows differ" if run["differences"] else "ok, rows equal to Act!'s"
        lines.append(
            f"| {number} | {result} | {run['seconds']} | {run['rows']} | {run['requests']} | "
            f"{run['retries']} | {run['throttled']} | {run['token_renewals']} | "
            f"{run['seconds_waited']} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--syncs", type=int, default=SYNCS, help="first syncs in a row")
    args = parser.parse_args(argv)
    # Each retry is a warning: hundreds a sync. The soak prints a line a sync instead.
    Logging.LOG_LEVEL = Logging.Level.SEVERE
    results = soak(args.syncs)
    save(f"{results['date']}-soak", render(results), results)
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
