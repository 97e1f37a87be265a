"""The connector's state in words: per table, where the next sync starts and what a re-sync does.

The state is read with the connector's own SyncState.load, so what is explained is what the next
sync will do with it. Each kind of table keeps its own entry, and is put in its own words:
- incremental (keyset) tables, custom tables among them: a position (cursor and id), how their
  pages were sized, the set of live ids with edit times, when they were last reconciled;
- tables read whole: the set of their rows by digest, no position;
- link tables and line items, written as their parent is read: their set, by parent;
- membership, read on its own schedule: its set, and when it was last read.
Custom tables (custom_<name>, and their link tables) are known from the state itself, as the
sync knows them from Act!'s list of entities. A key this explainer does not know appears as saved
instead of being hidden or crashing the explanation.
"""

from __future__ import annotations

import json
import textwrap

from act_connector.catalog import (
    CUSTOM_TABLE,
    CUSTOM_TABLE_PREFIX,
    Catalog,
    TableSpec,
    custom_table_specs,
)
from act_connector.paging import PAGE_BYTES, Position
from act_connector.state import STATE_VERSION, SyncState

# The keys of a table's position, explained with it; what else an entry holds is put in words
# below, or shown as saved when this explainer does not know it.
POSITION_KEYS = ("cursor", "id", "skip")
# Top-level keys of today's layout (`tables`) and of the brief's older one (`table_cursors`).
KNOWN_TOP_KEYS = ("version", "tables", "table_cursors")
VALUE_PREVIEW = 80  # characters of an unknown value shown; an id set could be megabytes
REPORT_WIDTH = 99
CONTINUATION = "      "  # wrapped lines go this much further in than the line they continue
MEGABYTE = 1024 * 1024
RESYNC = (
    "A re-sync (Fivetran's re-sync of the connection, or `fivetran reset` locally) empties "
    "this state: every table is then read from scratch (an incremental one from "
    "default_start_date), its rows first marked deleted so that what Act! no longer has shows "
    "as deleted."
)
LOOKBACK = "less lookback_minutes, 10 by default"


def explain_state(state: dict, catalog: Catalog) -> str:
    """The whole state in words, one paragraph per table of the catalogue (and any other)."""
    tables = state.get("tables") if isinstance(state.get("tables"), dict) else {}
    legacy = state.get("table_cursors") if isinstance(state.get("table_cursors"), dict) else {}
    catalog = with_custom_tables(catalog, [*tables, *legacy])
    positions = SyncState.load(state, catalog).positions
    lines, not_default = [layout_words(state), ""], []
    for name in [*catalog.tables, *sorted((set(tables) | set(legacy)) - set(catalog.tables))]:
        entry = tables.get(name, {"cursor": legacy[name]} if name in legacy else None)
        spec = catalog.tables.get(name)
        if entry is None and spec is not None and not spec.default:
            not_default.append(name)
            continue
        lines += explain_table(name, spec, entry, positions.get(name), catalog)
    if not_default:
        lines.append(
            "Not synced unless the configuration's tables names them, and nothing saved: "
            f"{', '.join(not_default)}. The first sync that does reads each from scratch (a "
            "link table's parent with it)."
        )
    lines += [
        f"Also saved: {key} = {describe(value)}"
        for key, value in state.items()
        if key not in KNOWN_TOP_KEYS
    ]
    lines += ["", RESYNC]
    return "\n".join(wrapped for line in lines for wrapped in _wrap(line))


def with_custom_tables(catalog: Catalog, names: list[str]) -> Catalog:
    """The catalogue with the custom tables the state names, and their link tables, as the sync
    declares them once Act! lists the entity: custom_projects, custom_projects_contacts, …"""
    custom: dict[str, TableSpec] = {}
    named = [n for n in names if n not in catalog.tables and CUSTOM_TABLE.fullmatch(n)]
    specs = {
        name: custom_table_specs(name, name.removeprefix(CUSTOM_TABLE_PREFIX)) for name in named
    }
    for name in named:  # a custom table's, unless it is the link table of another named
        if not any(name in specs[other] for other in named if other != name):
            custom.update(specs[name])
    return Catalog({**catalog.tables, **custom})


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


def kind(spec: TableSpec) -> str:
    """keyset, whole, links, line_items (read as the parent is), membership (on a schedule)."""
    if spec.per_parent:
        return "line_items" if spec.follows else "membership"
    return spec.read


def explain_table(
    name: str, spec: TableSpec | None, entry, position: Position | None, catalog: Catalog
) -> list[str]:
    """One table: how its next sync reads it (`position`, as the sync reads `entry`), and
    whatever else its entry holds."""
    if spec is None:
        return [f"{name}: not a table of this connector; the sync ignores this entry."]
    extra = entry.items() if isinstance(entry, dict) else ()
    shown = {"cap", "top"} if position is not None else set()  # learned by a walk, if any
    return [f"{name}: {next_sync_words(spec, entry, position, catalog)}"] + [
        f"    {ENTRY_WORDS[key](spec, value)}"
        if key in ENTRY_WORDS and (key in shown or key not in ("cap", "top"))
        else f"    also saved: {key} = {describe(value)}"
        for key, value in extra
        if key not in POSITION_KEYS
    ]


def known_words(spec: TableSpec, value) -> str:
    count = value.get("count") if isinstance(value, dict) else None
    size = f"{len(json.dumps(value)):,} bytes of this state"
    if not isinstance(count, int):
        return f"remembers a set it cannot read ({size}): the next sync builds it again."
    parent = spec.follows or (spec.per_parent.parent if spec.per_parent else None)
    return {
        "keyset": (
            f"remembers the {count:,} record(s) it has live, each id with the edit time it was "
            f"written with ({size}): a reconciliation deletes what Act! no longer lists and "
            "reads what it lists with another edit time; a look-back skips what it reads again "
            "unchanged."
        ),
        "whole": (
            f"remembers its {count:,} row(s), each id with a digest of its content ({size}): "
            "the next sync writes only the rows that are new or changed, and deletes those Act! "
            "no longer lists."
        ),
        "links": (
            f"remembers its {count:,} link(s), each with its place in its record's array "
            f"({size}): a record of {parent} written again writes only its new or moved links and "
            "deletes those it no longer has; a record deleted takes its links with it."
        ),
        "line_items": (
            f"remembers its {count:,} row(s), each by record of {parent} with a digest of its "
            f"content ({size}): a record of {parent} read again writes only its rows that are "
            "new or changed and deletes those it no longer has; a record deleted takes its rows "
            "with it."
        ),
        "membership": (
            f"remembers its {count:,} membership(s), each by record of {parent} with a digest "
            f"({size}): a read writes only those new or changed, and deletes those gone (the "
            f"members of the records of {parent} Act! no longer lists included)."
        ),
    }[kind(spec)]


def reconciled_words(spec: TableSpec, value) -> str:
    if kind(spec) == "membership":
        return (
            f"members last read at {value}: read again, for every record of "
            f"{spec.per_parent.parent}, once membership_interval_hours (24 by default) have "
            "passed."
        )
    return (
        f"last compared with what Act! holds at {value} (or, after a first sync, when the "
        "remembered set was built); the next reconciliation comes once reconcile_interval_hours "
        "(24 by default) have passed."
    )


def too_large_words(spec: TableSpec, value) -> str:
    return (
        "past the records the connector remembers: records deleted in Act! show as deleted "
        "only after a re-sync."
        if value
        else "within the records the connector remembers."
    )


def cap_words(spec: TableSpec, value) -> str:
    return (
        f"Act! was seen to serve at most {value} records a page, fewer than asked for: a page "
        "that long never ends a walk, as more may follow it."
    )


def top_words(spec: TableSpec, value) -> str:
    return (
        f"its pages are asked for {value:,} records at a time: as many records of the size its "
        f"last pages held as fit in about {PAGE_BYTES // MEGABYTE} MB of answer (batch_size at "
        "most); its next walk asks its first page for that many."
    )


ENTRY_WORDS = {
    "top": top_words,
    "cap": cap_words,
    "known": known_words,
    "reconciled": reconciled_words,
    "too_large": too_large_words,
}


def next_sync_words(spec: TableSpec, entry, position: Position | None, catalog: Catalog) -> str:
    table_kind = kind(spec)
    if table_kind == "whole":
        return whole_words(entry)
    if table_kind == "membership":
        parent = spec.per_parent.parent
        saved = "" if entry is not None else "nothing saved: "
        return (
            f"{saved}read for every record of {parent} (a request each) when the sync finds "
            "membership_interval_hours (24 by default) passed since the last read (a first "
            "read at once); membership moves no edit time: no position, no look-back."
        )
    if spec.follows:
        return follower_words(spec, entry, catalog.tables[spec.follows])
    return keyset_words(spec, entry, position)


def follower_words(spec: TableSpec, entry, parent: TableSpec) -> str:
    """A link table, or line items: written as the parent's records are, nothing of its own."""
    if entry is None:
        return (
            f"nothing saved: if it is synced, its first sync reads {parent.name} from scratch, "
            f"so that it is written for every record of {parent.name}."
        )
    made = (
        f"written as {parent.name} is read: a row per member of the {spec.links.array} "
        f"array of each record of {parent.name} the sync writes, with no request"
        if spec.links
        else f"read as {parent.name} is read: a request for each record of {parent.name} the "
        "sync writes"
    )
    return f"{made}; no position, edit time or look-back of its own."


def keyset_words(spec: TableSpec, entry, position: Position | None) -> str:
    if position is None:
        unreadable = (
            f" (the saved position {describe(entry)} cannot be read)" if entry is not None else ""
        )
        saved = (
            "nothing saved: if it is synced, its first sync"
            if entry is None
            else "nothing usable saved: its next sync"
        )
        return (
            f"{saved} reads it from scratch, first marking its rows "
            f"deleted, then every record whose {spec.cursor} is from default_start_date "
            f"on{unreadable}."
        )
    skipped = (
        f"; the {position.skip} record(s) after it whose {spec.cursor} Act! sent empty are "
        "passed over, read already"
        if position.skip
        else ""
    )
    if position.id is None:
        return (
            f"the next sync reads records whose {spec.cursor} is from {position.cursor} on "
            f"({LOOKBACK}); saved without an id, so the records of that second are read again, "
            f"harmlessly{skipped}."
        )
    return (
        f"the next sync reads records whose {spec.cursor} is after {position.cursor}, or equal "
        f"to it with an id after {position.id!r} ({LOOKBACK}), up to the server's present"
        f"{skipped}."
    )


def whole_words(entry) -> str:
    """A table read in one request (whole.py): it keeps its rows' ids and digests, no position."""
    if isinstance(entry, dict) and "known" in entry:
        return (
            "read whole, in one request, every sync; no position, edit time or look-back: what "
            "changed is told by its remembered rows."
        )
    saved = "nothing saved" if entry is None else "nothing remembered"
    return (
        f"read whole, in one request, every sync; {saved}, so the next sync marks its rows "
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
