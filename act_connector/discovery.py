"""What this Act! server offers: the path each table lives at, and the server's present.

Act! builds differ (activities moved from /api/activities to /api/tasks), so a table's path is
found per sync by trying the catalogue's candidates in turn. The sync, the setup test and the
server doctor all find paths here.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from act_connector.catalog import TableSpec
from act_connector.client import ActClient, Page
from act_connector.errors import ActHttpError
from act_connector.logs import log

# The second the server is in may still receive records: leave it for the next sync.
UNTIL_MARGIN = timedelta(seconds=1)


def sync_until(client: ActClient) -> datetime:
    """The upper bound shared by every table of this sync: the server's clock, else ours."""
    now = client.server_time or datetime.now(timezone.utc)
    return now.replace(microsecond=0) - UNTIL_MARGIN


def first_page(client: ActClient, table: TableSpec, query: dict[str, str]) -> tuple[Page, str]:
    """The first page, from the first of the table's paths this Act! build answers on."""
    for path in table.paths:
        try:
            return client.get_page(table.name, path, query), path
        except ActHttpError as error:
            if error.status != 404:
                raise
            log.info(f"Table '{table.name}': /api/{path} is not on this server (HTTP 404)")
    tried = ", ".join(f"/api/{path}" for path in table.paths)
    raise ActHttpError(
        table.name,
        404,
        f"{client.base_url}/api/{table.paths[-1]}",
        f"none of {tried} exists on this Act! server; this build does not offer "
        f"'{table.name}': remove it from the tables setting",
    )
