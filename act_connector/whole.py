"""Reading a table whole: reference data at a path that takes no query, in one request.

Activity types, users, sales processes and stages, history types, field definitions and custom
table definitions have no time stamp and no documented OData query (/api/users is "Get all users",
/api/task-types "Gets all task types"), and hold tens of rows. Each sync reads them in one request
(the definitions in none when metadata.py read them moments before, to type custom fields and find
custom tables). A row that repeats another's key is left out (the last one lands), so that the two
never take turns in the destination. Only what changed is written: the table's remembered set
(known.py) keeps each row's id with a digest of its content, so a row lands again only when its
digest differs, a new row lands, and a row Act! no longer lists is deleted. Without a remembered
set (the first sync, a re-sync, an older state) the rows are first marked deleted and all of them
land.
"""

from __future__ import annotations

from act_connector.catalog import TableSpec
from act_connector.client import ActClient
from act_connector.discovery import first_page
from act_connector.emitter import Emitter, Remembered
from act_connector.errors import ActConnectorError, ActHttpError
from act_connector.known import KnownSet
from act_connector.listing import PageCap, read_list
from act_connector.metadata import DERIVED, rows_read
from act_connector.packing import digest
from act_connector.paging import usable_rows

# What an optional table's refusal looks like: no such path on this build, or no permission.
OPTIONAL_REFUSALS = (403, 404)


def refused_optional(table: TableSpec, error: ActConnectorError) -> bool:
    """Whether the error is Act! refusing a table it need not offer (TableSpec.optional)."""
    return table.optional and isinstance(error, ActHttpError) and error.status in OPTIONAL_REFUSALS


def read_whole(client: ActClient, table: TableSpec, emitter: Emitter) -> tuple[str, list[str]]:
    """Lands what changed in a 'whole' table; returns where it came from (for its log line)
    and its warnings."""
    try:
        rows, path, reused = _read_rows(client, table)
    except ActHttpError as error:
        if not refused_optional(table, error):
            raise
        source = f"/api/{table.paths[0]}"
        return source, [f"{error} The table is left as it was; the sync goes on."]
    rows, malformed = usable_rows(table, rows)
    by_key = {record[table.primary_key]: record for record in rows}  # the last of a key wins
    repeated, rows = len(rows) - len(by_key), list(by_key.values())
    derive = DERIVED[table.derive] if table.derive else None
    rows = [derive(record) for record in rows] if derive else rows
    # Remembered with its digest, where a keyset table keeps its cursor.
    entries = [(record[table.primary_key], digest(record), record) for record in rows]
    emitter.read += len(entries)
    if emitter.known is None:
        # Only once Act! has answered, so that a table that fails keeps its rows as they were.
        emitter.truncate()
        changed, gone = entries, []
    else:
        changed, gone = _changes(emitter.known, entries)
    emitter.write_remembered(changed)
    emitter.delete(gone)
    emitter.checkpoint()  # publishes the remembered set
    warnings = [emitter.unfit_report()]
    if malformed:
        warnings.append(
            f"Table '{table.name}': {malformed} row(s) were not records with an "
            f"'{table.primary_key}' and were skipped."
        )
    if repeated:
        warnings.append(
            f"Table '{table.name}': {repeated} row(s) repeated another's "
            f"'{table.primary_key}'; the last of each landed."
        )
    source = f"/api/{path}" + (" (as read for the definitions)" if reused else "")
    return source, [message for message in warnings if message]


def _read_rows(client: ActClient, table: TableSpec) -> tuple[list, str, bool]:
    """The table's rows, the path they are from, and whether they were read for the definitions
    (within metadata.REUSE_SECONDS) rather than asked for now."""
    path = table.paths[0]
    rows = rows_read(client.settings, path)
    if rows is not None:
        return rows, path, True
    if table.queryable:
        return (
            read_list(client, table.name, path, table.primary_key, PageCap(table.name)),
            path,
            False,
        )
    page, path = first_page(client, table, {})
    return page.rows, path, False


def _changes(known: KnownSet, entries: list[Remembered]) -> tuple[list[Remembered], list]:
    """The rows that are new or changed since they landed, and the ids Act! no longer lists."""
    census = known.census()
    changed = [entry for entry in entries if census.see(entry[0]) != entry[1]]
    return changed, census.unseen()
