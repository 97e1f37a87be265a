"""Reading a table whole: reference data at a path that takes no query, in one request.

Users, sales processes and stages, and history types have no time stamp and no documented OData
query (/api/users is "Get all users"), and hold tens of rows. Each sync reads them in one request
and lands what Act! holds, as a full-sync table does: the rows are first marked deleted, and what
Act! still has is upserted again, so that a user or stage removed in Act! shows as deleted.
"""

from __future__ import annotations

import time

from fivetran_connector_sdk import Logging as log

from act_connector.catalog import TableSpec
from act_connector.client import ActClient
from act_connector.discovery import first_page
from act_connector.flatten import Flattener
from act_connector.metadata import DERIVED
from act_connector.paging import usable_rows


def read_whole(client: ActClient, table: TableSpec, operations) -> tuple[str, int, float]:
    """Lands every row of a 'whole' table; returns the path it came from, the rows landed and
    the seconds it took."""
    started = time.monotonic()
    page, path = first_page(client, table, {})
    rows, malformed = usable_rows(table, page.rows)
    flattener = Flattener(table.columns)
    # Only once Act! has answered, so that a table that fails keeps its rows as they were.
    operations.truncate(table.name)
    derive = DERIVED[table.derive] if table.derive else None
    for record in rows:
        operations.upsert(table.name, flattener.row(derive(record) if derive else record))
    problems = [flattener.report(table.name)]
    if malformed:
        problems.append(
            f"Table '{table.name}': {malformed} row(s) were not records with an "
            f"'{table.primary_key}' and were skipped."
        )
    for message in filter(None, problems):
        operations.warning(message)
    seconds = time.monotonic() - started
    log.info(
        f"Table '{table.name}': {len(rows)} records in 1 page(s), {seconds:.1f}s, read whole "
        f"from /api/{path}"
    )
    return path, len(rows), seconds
