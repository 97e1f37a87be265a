"""The benchmark's results as Markdown: each goal with its figure, its target and whether it is
met (on the median of repeated runs), then the measures behind them."""

from __future__ import annotations

import statistics

from bench.figures import shown

# Issue 11's targets.
SPEED_TARGET = 1.00  # connector / typed floor, end to end
SLOW_TARGET = 1.15  # connector / max(writer floor, server floor)
OWN_MEMORY_MB = 80  # the connector's own memory while update() runs, at most
WORKERS_MEMORY_MB = 100  # the same in goal 2's first sync, four tables at once (issue 28)
GROWTH_MB = 15  # its growth between the two memory sizes, at most


def render(results: dict) -> str:
    machine, runs = results["machine"], results["runs"]
    lines = [
        f"# Act! connector benchmark, {results['date']}",
        "",
        f"{machine['cpu']}, {machine['cores']} cores ({machine['host']}); {results['pinning']}; "
        f"scale {results['scale']:g}, {len(runs)} run(s), pages of {results['batch_size']:,}. "
        "With several runs each figure is the median (min to max), and met is judged on it.",
        "",
        "| goal | figure | target | met |",
        "| --- | --- | --- | --- |",
    ]
    lines += speed_goal(results) + wide_goals(results) + slow_goals(results)
    lines += memory_goal(results)
    if results["speed_sizes"]:
        lines += ["", *speed_details(results)]
    if results["memory_sizes"] or results.get("wide"):
        lines += ["", *contacts_details(results)]
    if "slow" in runs[0]:
        lines += ["", *slow_details(results)]
    return "\n".join(lines)


def met(value: float, limit: float) -> str:
    return "yes" if value <= limit else "**no**"


def across(runs: list[dict], figure) -> list[float]:
    """One figure of every run."""
    return [figure(run) for run in runs]


def speed_goal(results: dict) -> list[str]:
    lines = []
    for n in results["speed_sizes"]:
        pairs = [run["speed"][str(n)] for run in results["runs"]]
        for label, side in (("", "connector"), (", reconciliation off", "unreconciled")):
            ratios = across(pairs, lambda pair, side=side: ratio(pair, side))
            lines.append(
                f"| 1. as fast as the leanest emitter: connector / floor, {n:,} live-shaped "
                f"contacts{label} | {shown(ratios, 'x', 3)} | at most {SPEED_TARGET:.2f}x | "
                f"{met(statistics.median(ratios), SPEED_TARGET)} |"
            )
    return lines


def speed_details(results: dict) -> list[str]:
    """Goal 1's times and memory, and what each side does per record."""
    lines = [
        "## Goal 1: live-shaped contacts, floor and connector",
        "",
        f"Each contact carries about {results['live_columns']} of its columns, the rest absent; "
        "a few are null; time stamps are whole seconds in UTC. Per record, the floor (bench/"
        "floor) reads a row already flattened from a JSON-lines file, absent and null values "
        "left out, time stamps as text, and upserts it with the connector's declared schema, "
        "checkpointing as often as the connector does. The connector reads the page from the "
        "emulator over HTTP and parses it, flattens and coerces the record (time stamps parsed "
        "to UTC datetimes, nulls left out), checks and updates the remembered set (with "
        "reconciliation off, no set), and upserts the row, checkpointing once a page (pages "
        "sized to about 2 MB of records) with the set in the state. Before them, extraction "
        "alone (the connector with the SDK's operations replaced by a counter) warms the "
        "emulator, whose first request of a table sorts it, and counts the connector's "
        "checkpoints; the three then run in an order that turns from one run to the next.",
        "",
        "| measure | value |",
        "| --- | --- |",
    ]
    for n in results["speed_sizes"]:
        pairs = [run["speed"][str(n)] for run in results["runs"]]

        def figure(path, pairs=pairs):
            return [path(pair) for pair in pairs]

        lines += [
            f"| {n:,}: floor / connector / reconciliation off, end to end | "
            f"{shown(figure(lambda p: p['floor']['wall_seconds']), ' s')} / "
            f"{shown(figure(lambda p: p['connector']['wall_seconds']), ' s')} / "
            f"{shown(figure(lambda p: p['unreconciled']['wall_seconds']), ' s')} |",
            f"| {n:,}: memory while update() runs, floor / connector / reconciliation off | "
            f"{shown(figure(lambda p: p['floor']['update_peak_mb']), ' MB', 1)} / "
            f"{shown(figure(lambda p: p['connector']['update_peak_mb']), ' MB', 1)} / "
            f"{shown(figure(lambda p: p['unreconciled']['update_peak_mb']), ' MB', 1)} |",
        ]
        if all("extraction" in pair for pair in pairs):  # (earlier results have no warm-up)
            lines.append(
                f"| {n:,}: extraction alone, the warm-up (the connector's own work, no SDK, "
                "and the emulator's first sort of the table) | "
                f"{shown(figure(lambda p: p['extraction']['seconds']), ' s')} |"
            )
    orders = [run["speed"][str(n)].get("order") for run in results["runs"]
              for n in results["speed_sizes"]]  # fmt: skip
    if orders and None not in orders:
        shown_orders = dict.fromkeys(", ".join(order) for order in orders)
        lines.append(f"| order of the runs | {'; '.join(shown_orders)} |")
    return lines


def wide_goals(results: dict) -> list[str]:
    """Goals 1 and 3 on contacts as wide as a live one."""
    wide = results.get("wide")
    if not wide:
        return []
    pairs = [run["wide"] for run in results["runs"]]
    ratios, own = across(pairs, ratio), across(pairs, own_mb)
    what = f"{wide['contacts']:,} contacts with {wide['custom_fields']} custom fields"
    return [
        f"| 1. the same on {what} (as a live one; most empty) | {shown(ratios, 'x', 3)} | "
        f"at most {SPEED_TARGET:.2f}x | {met(statistics.median(ratios), SPEED_TARGET)} |",
        f"| 3. connector's own memory on those {what} | {shown(own, ' MB', 1)} | "
        f"under {OWN_MEMORY_MB} MB | {met(statistics.median(own), OWN_MEMORY_MB)} |",
    ]


def ratio(pair: dict, side: str = "connector") -> float:
    return pair[side]["wall_seconds"] / pair["floor"]["wall_seconds"]


def slow_ratio(slow: dict) -> float:
    floor = max(slow["floor"]["wall_seconds"], slow["server_floor_seconds"])
    return slow["connector"]["wall_seconds"] / floor


def slow_goals(results: dict) -> list[str]:
    runs = [run["slow"] for run in results["runs"] if "slow" in run]
    if not runs:
        return []
    ratios, own = across(runs, slow_ratio), across(runs, own_mb)
    quiet = across(runs, lambda s: s["quiet"]["served"]["requests"])
    quiet_seconds = across(runs, lambda s: s["quiet"]["wall_seconds"])
    target = runs[0]["quiet"]["target_requests"]
    return [
        "| 2. slow server: first sync / max(writer floor, server floor) | "
        f"{shown(ratios, 'x', 3)} (connector {shown(across(runs, connector_seconds), ' s')}, "
        f"writer floor {shown(across(runs, lambda s: s['floor']['wall_seconds']), ' s')}, "
        f"server floor {shown(across(runs, lambda s: s['server_floor_seconds']), ' s')}) | "
        f"at most {SLOW_TARGET:.2f}x | {met(statistics.median(ratios), SLOW_TARGET)} |",
        "| 3. with the workers: the connector's own memory in that first sync (its update() "
        "peak less the writer floor's) | "
        f"{shown(own, ' MB', 1)} | under {WORKERS_MEMORY_MB} MB | "
        f"{met(statistics.median(own), WORKERS_MEMORY_MB)} |",
        "| 4. quiet incremental sync, nothing changed: requests (time) | "
        f"{shown(quiet, '', 0)} ({shown(quiet_seconds, ' s')})"
        f" | {target}: one per table read by requests (the field definitions, two), plus "
        "authorization | "
        f"{met(statistics.median(quiet), target)} |",
    ]


def connector_seconds(slow: dict) -> float:
    return slow["connector"]["wall_seconds"]


def own_mb(pair: dict) -> float:
    """The connector's own memory: its update() peak less the floor's (the SDK writer's)."""
    return pair["connector"]["update_peak_mb"] - pair["floor"]["update_peak_mb"]


def memory_goal(results: dict) -> list[str]:
    sizes, runs = results["memory_sizes"], results["runs"]
    lines = []
    for n in sizes:
        own = across(runs, lambda r, n=n: own_mb(r["contacts"][str(n)]))
        lines.append(
            f"| 3. connector's own memory at {n:,} contacts | {shown(own, ' MB', 1)} | "
            f"under {OWN_MEMORY_MB} MB | {met(statistics.median(own), OWN_MEMORY_MB)} |"
        )
    if len(sizes) >= 2:
        low, high = sizes[0], sizes[-1]
        growth = across(
            runs,
            lambda r: own_mb(r["contacts"][str(high)]) - own_mb(r["contacts"][str(low)]),
        )
        lines.append(
            f"| 3. its growth {low:,} → {high:,} contacts | {shown(growth, ' MB', 1)} | "
            f"at most {GROWTH_MB} MB | {met(statistics.median(growth), GROWTH_MB)} |"
        )
    return lines


def contacts_details(results: dict) -> list[str]:
    runs = results["runs"]
    lines = ["## Contacts: floor, connector, memory", "",
             "| measure | value |", "| --- | --- |"]  # fmt: skip
    groups = [
        (f"{int(key):,}", [run["contacts"][key] for run in runs]) for key in runs[0]["contacts"]
    ]
    if results.get("wide"):
        wide = results["wide"]
        label = f"{wide['contacts']:,} wide ({wide['custom_fields']} custom fields)"
        groups.append((label, [run["wide"] for run in runs]))
    for label, pairs in groups:

        def figure(path, pairs=pairs):
            return [path(pair) for pair in pairs]

        lines += [
            f"| {label}: floor / connector, end to end | "
            f"{shown(figure(lambda p: p['floor']['wall_seconds']), ' s')} / "
            f"{shown(figure(lambda p: p['connector']['wall_seconds']), ' s')} |",
            f"| {label}: extraction alone | "
            f"{shown(figure(lambda p: p['extraction']['records_per_second']), ' records/s', 0)}"
            f", {pairs[0]['extraction']['requests']} requests |",
            f"| {label}: memory while update() runs, connector / floor | "
            f"{shown(figure(lambda p: p['connector']['update_peak_mb']), ' MB', 1)} / "
            f"{shown(figure(lambda p: p['floor']['update_peak_mb']), ' MB', 1)} |",
            f"| {label}: peak RSS of `fivetran debug`, connector / floor; extraction alone | "
            f"{shown(figure(lambda p: p['connector']['peak_rss_mb']), ' MB', 1)} / "
            f"{shown(figure(lambda p: p['floor']['peak_rss_mb']), ' MB', 1)}; "
            f"{shown(figure(lambda p: p['extraction']['peak_rss_mb']), ' MB', 1)} |",
            f"| {label}: remembered set, bytes a record; checkpoint without / unchanged / "
            "changed | "
            f"{shown(figure(lambda p: p['remembered']['bytes_per_record']), '', 1)}; "
            f"{shown(figure(lambda p: p['remembered']['checkpoint_ms_without']), ' ms', 1)} / "
            f"{shown(figure(lambda p: p['remembered']['checkpoint_ms_unchanged']), ' ms', 1)} / "
            f"{shown(figure(lambda p: p['remembered']['checkpoint_ms_changed']), ' ms', 1)} |",
            f"| {label}: quiet sync with the set / without; a quiet reconciliation | "
            f"{shown(figure(lambda p: p['remembered']['quiet_sync_seconds']), ' s')} / "
            f"{shown(figure(lambda p: p['remembered']['quiet_sync_seconds_without']), ' s')}; "
            f"{shown(figure(lambda p: p['remembered']['reconciliation_seconds']), ' s')} |",
        ]
    return lines


def slow_details(results: dict) -> list[str]:
    runs = [run["slow"] for run in results["runs"]]
    first, pace = runs[0], results["slow_server"]
    served, quiet = first["connector"]["served"], first["quiet"]["served"]
    rows = ", ".join(f"{t} {n:,}" for t, n in first["floor"]["rows_by_table"].items())
    lines = [
        "## Slow server (goals 2 and 4)",
        "",
        f"The emulator answers in {pace['request_seconds']} s a request plus "
        f"{pace['record_seconds']} s a record, {pace['max_concurrent']} at once. "
        "The server floor is its own time for the requests the first sync made, divided by "
        f"{pace['max_concurrent']}; the writer floor, the floor connector emitting every row "
        "of every table, interleaved as the connector's first sync wrote them (`fivetran "
        "debug` writes every table with rows waiting at each checkpoint, and tables written "
        "side by side cost its DuckDB writer more time and memory than one after another). "
        "Answers are counted by the emulator's table (a company's or group's "
        "members are contacts). Counts are the first run's.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| rows ({first['floor']['rows']:,}) | {rows} |",
        f"| first sync: requests (authorizations), answers, records served | "
        f"{served['requests']:,} ({served['authorizations']}), {served['answers']:,}, "
        f"{served['records_served']:,} |",
        f"| first sync: answers by table | {by_table(served)} |",
        f"| first sync: most requests served at once | {served['concurrent_peak']} |",
        f"| first sync: peak RSS of `fivetran debug`; memory while update() runs | "
        f"{shown(across(runs, lambda s: s['connector']['peak_rss_mb']), ' MB', 1)}; "
        f"{shown(across(runs, lambda s: s['connector']['update_peak_mb']), ' MB', 1)} |",
        f"| quiet sync: requests (authorizations), answers by table | {quiet['requests']} "
        f"({quiet['authorizations']}), {by_table(quiet)} |",
    ]
    if all(
        None not in (run["connector"].get("state_mb"), run["connector"].get("checkpoints"))
        for run in runs
    ):
        lines.insert(-1, checkpoint_line([run["connector"] for run in runs]))
    return lines


def checkpoint_line(syncs: list[dict]) -> str:
    """What the first sync's checkpoints sent: each sends the whole state, and `fivetran debug`
    prints it in its log and copies it several times over."""
    return (
        "| first sync: checkpoints; the state at its end, sent whole at each; "
        "`fivetran debug`'s log, which prints the state at each | "
        f"{shown([s['checkpoints'] for s in syncs], '', 0)}; "
        f"{shown([s['state_mb'] for s in syncs], ' MB', 1)}; "
        f"{shown([s['log_mb'] for s in syncs], ' MB', 0)} |"
    )


def by_table(served: dict) -> str:
    return ", ".join(f"{t} {n:,}" for t, n in served["answers_by_table"].items()) or "none"
