"""The benchmark's arithmetic, apart from its runs: the server's floor from the emulator's
counters, the spread of repeated runs, and what a quiet incremental sync may ask for."""

from __future__ import annotations

import statistics

from act_connector.catalog import Catalog

# Reads that make requests of their own; link tables ride on their parent's pages, and a
# per-parent table's requests are its parents' (none when no parent changed).
REQUESTING_READS = ("keyset", "whole")


def counted(before: dict, after: dict) -> dict:
    """What the emulator's counters grew by between two readings of its stats."""
    tables = after["answers_by_table"]
    return {
        "requests": after["requests"] - before["requests"],
        "authorizations": after["authorizations"] - before["authorizations"],
        "answers": after["answers"] - before["answers"],
        "records_served": after["records_served"] - before["records_served"],
        "answers_by_table": {
            table: count - before["answers_by_table"].get(table, 0)
            for table, count in sorted(tables.items())
            if count != before["answers_by_table"].get(table, 0)
        },
        "concurrent_peak": after["concurrent_peak"],
    }


def server_floor_seconds(
    answers: int, records: int, request_seconds: float, record_seconds: float, concurrent: int
) -> float:
    """The least time a server paced so can take to answer these requests: its own time for
    each (request_seconds, plus record_seconds a record), `concurrent` at once."""
    return (answers * request_seconds + records * record_seconds) / max(concurrent, 1)


def quiet_target(catalog: Catalog, tables: tuple[str, ...]) -> int:
    """Requests a quiet incremental sync needs: one per table that is read by requests of its
    own, plus the authorization; and one more for a list read whole that takes a query (the
    field definitions): a server may cap a list's pages silently below $top, so its first page
    ends it only once a request past it finds nothing (listing.PageCap)."""
    specs = [catalog.tables[name] for name in tables]
    paged_lists = sum(spec.read == "whole" and spec.queryable for spec in specs)
    return 1 + sum(spec.read in REQUESTING_READS for spec in specs) + paged_lists


def spread(values: list[float]) -> dict:
    """Min, median and max of repeated runs' figures."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def shown(values: list[float], unit: str = "", digits: int = 2) -> str:
    """A figure as the results show it: the one value, or the median (min to max) of several."""
    text = f"{{:,.{digits}f}}{unit}"
    if len(values) == 1:
        return text.format(values[0])
    s = spread(values)
    return f"{text.format(s['median'])} ({text.format(s['min'])} to {text.format(s['max'])})"
