"""The connector's state in words: per table, where the next sync starts and what a re-sync does.

The state is read with the connector's own SyncState.load, so what is explained is what the next
sync will do with it; what reconciliation remembers (the set of live ids, when it last ran) is
put in words, and a key this explainer does not know appears as saved instead of being hidden or
crashing the explanation.
"""

from __future__ import annotations

import json
import textwrap

from act_connector.catalog import Catalog, TableSpec
from act_connector.paging import Position
from act_connector.state import STATE_VERSION, SyncState

# The keys of a table's position; what else an entry holds is put in words below, or shown as
# saved when this explainer does not know it.
POSITION_KEYS = ("cursor", "id", "skip")
# Top-level keys of today's layout (`tables`) and of the brief's older one (`table_cursors`).
KNOWN_TOP_KEYS = ("version", "tables", "table_cursors")
VALUE_PREVIEW = 80  # characters of an unknown value shown; an id set could be megabytes
REPORT_WIDTH = 99
CONTINUATION = "      "  # wrapped lines go this much further in than the line they continue
RESYNC = (
    "A re-sync (Fivetran's re-sync of the connection, or `fivetran reset` locally) empties "
    "this state: every table is then read from scratch, from default_start_date, its rows "
    "first marked deleted so that what Act! no longer has shows as deleted."
)


def explain_state(state: dict, catalog: Catalog) -> str:
    """The whole state in words, one paragraph per table of the catalogue (and any other)."""
    positions = SyncState.load(state, catalog).positions
    tables = state.get("tables") if isinstance(state.get("tables"), dict) else {}
    legacy = state.get("table_cursors") if isinstance(state.get("table_cursors"), dict) else {}
    lines = [layout_words(state), ""]
    for name in [*catalog.tables, *sorted((set(tables) | set(legacy)) - set(catalog.tables))]:
        entry = tables.get(name, {"cursor": legacy[name]} if name in legacy else None)
        lines += explain_table(name, catalog.tables.get(name), entry, positions.get(name))
    lines += [
        f"Also saved: {key} = {describe(value)}"
        for key, value in state.items()
        if key not in KNOWN_TOP_KEYS
    ]
    lines += ["", RESYNC]
    return "\n".join(wrapped for line in lines for wrapped in _wrap(line))


def _wrap(line: str) -> list[str]:
    indent = line[: len(line) - len(line.lstrip())]
    return textwrap.wrap(
        line,
        REPORT_WIDTH,
        subsequent_indent=indent + CONTINUATION,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [""]


def layout_words(state: dict) -> str:
    version = state.get("version")
    if "tables" in state:
        return f"State version {version} (this connector writes version {STATE_VERSION})."
    if "table_cursors" in state:
        return (
            "State in the older layout (table_cursors): the next sync carries its cursors over "
            "and saves them in today's layout."
        )
    return "The state holds no table position: every table's next sync reads it from scratch."


def explain_table(
    name: str, spec: TableSpec | None, entry, position: Position | None
) -> list[str]:
    """One table: where its next sync starts (`position`, as the sync reads `entry`), and
    whatever else its entry holds, shown as saved."""
    if spec is None:
        return [f"{name}: not a table of this connector; the sync ignores this entry."]
    extra = entry.items() if isinstance(entry, dict) else ()
    return [f"{name}: {next_sync_words(spec, entry, position)}"] + [
        f"    {ENTRY_WORDS[key](value)}"
        if key in ENTRY_WORDS
        else f"    also saved: {key} = {describe(value)}"
        for key, value in extra
        if key not in POSITION_KEYS
    ]


def known_words(value) -> str:
    count = value.get("count") if isinstance(value, dict) else None
    size = len(json.dumps(value))
    if not isinstance(count, int):
        return f"remembers a set it cannot read ({size:,} bytes): the next sync builds it again."
    return (
        f"remembers the {count:,} record(s) it has live, each id with the edit time it was "
        f"written with ({size:,} bytes of this state): a reconciliation deletes what Act! no "
        "longer lists and reads what it lists with another edit time; a look-back skips what "
        "it reads again unchanged."
    )


def reconciled_words(value) -> str:
    return (
        f"last compared with what Act! holds at {value} (or, after a first sync, when the "
        "remembered set was built); the next reconciliation comes once reconcile_interval_hours "
        "(24 by default) have passed."
    )


def too_large_words(value) -> str:
    return (
        "past the records the connector remembers: records deleted in Act! show as deleted "
        "only after a re-sync."
        if value
        else "within the records the connector remembers."
    )


def cap_words(value) -> str:
    return (
        f"Act! was seen to serve at most {value} records a page, fewer than asked for: a page "
        "that long never ends a walk, as more may follow it."
    )


ENTRY_WORDS = {
    "known": known_words,
    "reconciled": reconciled_words,
    "too_large": too_large_words,
    "cap": cap_words,
}


def next_sync_words(spec: TableSpec, entry, position: Position | None) -> str:
    if spec.read == "whole":
        return whole_words(entry)
    if spec.follows:
        return (
            f"written as {spec.follows} is read, for each of its records a sync writes; what "
            "those records no longer have is deleted."
        )
    if spec.per_parent:
        return (
            f"read again for every record of {spec.per_parent.parent} once "
            "membership_interval_hours (24 by default) has passed since it was last read; only "
            "new rows are written, and rows Act! no longer serves are deleted."
        )
    unreadable = (
        f" (the saved position {describe(entry)} cannot be read)"
        if entry is not None and position is None
        else ""
    )
    if position is None:
        return (
            f"{'nothing saved' if entry is None else 'nothing usable saved'}: its next sync reads "
            f"it from scratch, first marking its rows deleted, then every record whose "
            f"{spec.cursor} is from default_start_date on{unreadable}."
        )
    if position.id is None:
        return (
            f"the next sync reads records whose {spec.cursor} is from {position.cursor} on "
            f"(less lookback_minutes, 10 by default); saved without an id, so the records of that "
            "second are read again, harmlessly."
        )
    return (
        f"the next sync reads records whose {spec.cursor} is after {position.cursor}, or equal "
        f"to it with an id after {position.id!r} (less lookback_minutes, 10 by default), up to "
        "the server's present."
    )


def whole_words(entry) -> str:
    """A table read in one request (whole.py): it keeps its rows' ids and digests, no position."""
    if isinstance(entry, dict) and "known" in entry:
        return (
            "read in one request every sync; its rows are remembered by id and digest, so the "
            "next sync writes only rows that are new or changed and deletes those Act! no longer "
            "lists."
        )
    return (
        "read in one request every sync; nothing remembered, so the next sync marks its rows "
        "deleted, then writes them all."
    )


def describe(value) -> str:
    """A saved value as a person can read it: sizes for collections, a clipped text otherwise."""
    if isinstance(value, list):
        return f"a list of {len(value):,} item(s)"
    if isinstance(value, dict) and not set(value) <= set(POSITION_KEYS):
        return f"an object of {len(value):,} key(s): {', '.join(map(str, list(value)[:5]))}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_PREVIEW else text[:VALUE_PREVIEW] + "…"
