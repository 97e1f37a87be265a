"""Reading a table whole: reference data at a path that takes no query, in one request.

Users, sales processes and stages, history types and field definitions have no time stamp and no
documented OData query (/api/users is "Get all users"), and hold tens of rows. Each sync reads
them in one request and lands what Act! holds, as a full-sync table does: the rows are first
marked deleted, and what Act! still has is upserted again, so that a user or stage removed in
Act! shows as deleted.
"""

from __future__ import annotations

from fivetran_connector_sdk import Logging as log

from act_connector.catalog import TableSpec
from act_connector.client import ActClient
from act_connector.discovery import first_page
from act_connector.emitter import Emitter
from act_connector.metadata import DERIVED
from act_connector.paging import usable_rows


def read_whole(client: ActClient, table: TableSpec, emitter: Emitter) -> tuple[str, list[str]]:
    """Lands every row of a 'whole' table; returns the path it came from and its warnings."""
    page, path = first_page(client, table, {})
    rows, malformed = usable_rows(table, page.rows)
    # Only once Act! has answered, so that a table that fails keeps its rows as they were.
    emitter.truncate()
    derive = DERIVED[table.derive] if table.derive else None
    emitter.upsert([derive(record) for record in rows] if derive else rows)
    emitter.end_pass()  # publishes the state: nothing of this table is kept in it
    warnings = [emitter.unfit_report()]
    if malformed:
        warnings.append(
            f"Table '{table.name}': {malformed} row(s) were not records with an "
            f"'{table.primary_key}' and were skipped."
        )
    log.info(f"Table '{table.name}' from /api/{path}: read whole")
    return path, [message for message in warnings if message]
