"""The server doctor's checks: what kind of Act! server a configuration points at.

Every Act! server differs a little (build, paths, page cap, clock, throttling, $select, time stamp
precision, envelope), and the connector's behaviour depends on each. These checks find out, in
plain words, through the connector's own client, catalogue and queries (paging.page_query), so
that what the doctor sees is what a sync would see. Every request is bounded (a few records, ids
only, one page of batch_size), and no check starts once DOCTOR_BUDGET_SECONDS have passed, so
the report comes within a minute however large the database is (a minute per database, when a
configuration names several: each is checked as a configuration naming it alone would be).

The report never holds the password or the token: the client keeps both in request headers, and
the report is built only from answers, timings and the connector's own error messages.
"""

from __future__ import annotations

import math
import re
import textwrap
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone

from act_connector.catalog import Catalog, TableSpec
from act_connector.client import PROMPT_POLICY, ActClient, Cost, Page, RequestStats
from act_connector.config import MAX_BATCH_SIZE, Settings, unknown_keys
from act_connector.databases import Database
from act_connector.discovery import first_page, sync_until
from act_connector.errors import ActConnectorError, ActHttpError, PagingError
from act_connector.metadata import for_this_server
from act_connector.paging import Position, cursor_moment, next_position, page_query
from act_connector.per_parent import probe_children
from act_connector.timestamps import ISO_8601, format_utc

# No check starts, and no wait between attempts ends, after this long: at most one request (of
# at most DOCTOR_REQUEST_TIMEOUT) runs past it, so the report comes within the promised minute.
DOCTOR_BUDGET_SECONDS = 35.0
DOCTOR_REQUEST_TIMEOUT = 10.0
# The setup test's policy: a passing 5xx or 429 does not spoil a report, and a server never
# reached is named after three attempts, in seconds. Waits go through the doctor's Budget, which
# ends one that would outlast it.
DOCTOR_POLICY = PROMPT_POLICY
# Records read per table to find its path: enough to see how its time stamps are written.
SAMPLE_ROWS = 10
# Records the keyset check asks for: the sync's own query, only smaller.
KEYSET_PROBE_ROWS = 2
# A record count is wanted to within a page or this share, whichever is coarser: the estimate of
# a first sync's length needs no more, and each halving costs a request.
COUNT_PRECISION = 0.1
# Counting stops beyond this: a larger table, or a server that ignores $skip.
MAX_COUNTED = 50_000_000
# A Date header carries whole seconds: differences this small are the header's rounding.
IN_STEP_SECONDS = 2
DATE_HEADER_RESOLUTION = 1.0
# Headers a server may pace its clients with (Act!'s cloud sends X-RateLimit-*).
RATE_LIMIT_HEADER = re.compile(r"(x-)?rate-?limit.*|retry-after", re.IGNORECASE)
SECRETS_NOTE = (
    "This report holds neither the password nor the token: paste it into a support request as "
    "it is."
)
# A sync writes every record to the destination while it reads, and no request can time that:
# docs/performance.md measured `fivetran debug`'s local writer on this project's
# machine at 500 to 1,500 records a second (614 for contacts in the latest run).
WRITING_NOTE = (
    "A sync also writes every record to the destination while it reads, and where that is "
    "slower it sets the pace: `fivetran debug` writes 500 to 1,500 records a second on this "
    "project's 2-core machine (docs/performance.md)."
)
ENVELOPES = {"array": "a bare JSON array", "odata": 'OData {"value": [...]}'}


class OutOfTime(Exception):
    """The doctor's time is up: the checks still to run are left out of the report."""


class Budget:
    """The doctor's time: checks ask it before they start, the client's pauses go through it."""

    def __init__(self, seconds: float, clock=time.monotonic, sleep=time.sleep):
        self._clock, self._sleep = clock, sleep
        self._deadline = clock() + seconds

    def check(self) -> None:
        if self._clock() >= self._deadline:
            raise OutOfTime

    def sleep(self, seconds: float) -> None:
        """A pause the client asks for (throttling, backoff), if it ends within the budget."""
        if self._clock() + seconds > self._deadline:
            raise OutOfTime
        self._sleep(seconds)


@dataclass
class TableFinding:
    """What one table of the catalogue is on this server."""

    path: str | None  # the path this build answers on, None when it has none
    readable: bool
    chosen: bool  # in the configuration's tables
    status: str  # in words
    envelope: str | None = None  # "array" or "odata"
    timestamps: dict | None = None  # how its cursor field is written, from the records read
    first_sync_records: dict | None = None  # the count found, and how


@dataclass
class ServerReport:
    """Everything the doctor found; `findings` holds each check's result in words."""

    act_url: str
    database_name: str
    username: str
    authorized: bool = False
    authorization_seconds: float | None = None
    clock_skew_seconds: float | None = None  # the server's clock minus this machine's
    tables: dict[str, TableFinding] = field(default_factory=dict)
    page_cap: int | None = None
    select_supported: bool = False
    orderby_supported: bool = False
    keyset_supported: bool = False
    rate_limit: dict[str, str] | None = None
    throttled_requests: int = 0
    # What the doctor's requests cost per table (or authorization), counted as a sync counts:
    # requests, retries, throttled answers, token renewals, seconds waited.
    costs: dict[str, dict] = field(default_factory=dict)
    page: dict | None = None  # the page timed: table, records, seconds
    first_sync_records: dict | None = None  # the chosen tables' records, at least and at most
    first_sync_read_seconds: float | None = None  # reading them from Act!, writing not included
    findings: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the server cannot be synced

    @property
    def syncable(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {**asdict(self), "syncable": self.syncable, "secrets": SECRETS_NOTE}


@dataclass
class ConnectionReport:
    """The doctor's report of a configuration that names several databases: one ServerReport
    per database, each checked as a configuration naming it alone would be."""

    act_url: str
    username: str
    databases: dict[str, ServerReport]

    @property
    def syncable(self) -> bool:
        return all(report.syncable for report in self.databases.values())

    def to_json(self) -> dict:
        return {
            "act_url": self.act_url,
            "username": self.username,
            "databases": {name: report.to_json() for name, report in self.databases.items()},
            "syncable": self.syncable,
            "secrets": SECRETS_NOTE,
        }


def examine_databases(
    databases: list[Database], catalog: Catalog, configuration: dict
) -> ServerReport | ConnectionReport:
    """The report of one database as examine's, or of several, each examined in turn (each
    within DOCTOR_BUDGET_SECONDS of its own)."""
    if len(databases) == 1:
        return examine(databases[0].settings, catalog, configuration)
    settings = databases[0].settings
    return ConnectionReport(
        settings.base_url,
        settings.username,
        {db.name: examine(db.settings, catalog, configuration) for db in databases},
    )


def examine(settings: Settings, catalog: Catalog, configuration: dict) -> ServerReport:
    """Runs every check against the server `settings` point at; never raises for the server."""
    report = ServerReport(settings.base_url, settings.database_name, settings.username)
    report.notes += [
        f"Configuration key '{key}' is not a setting of this connector; ignored."
        for key in unknown_keys(configuration)
    ]
    if settings.verify is False:
        report.notes.append("verify_tls is 'false': the server's certificate is not checked.")
    for name, spec in catalog.tables.items():
        if spec.read != "links":  # a link table asks nothing of Act!: nothing to check
            report.tables[name] = TableFinding(None, False, name in settings.tables, "not checked")
    budget = Budget(DOCTOR_BUDGET_SECONDS)
    quick = replace(
        settings, request_timeout=min(settings.request_timeout, DOCTOR_REQUEST_TIMEOUT)
    )
    client = ActClient(quick, sleep=budget.sleep, policy=DOCTOR_POLICY)
    try:
        _run_checks(client, settings, catalog, report, budget)
    except OutOfTime:
        report.problems.append(
            f"The checks did not finish within {DOCTOR_BUDGET_SECONDS:g} s (the server is "
            "slow or throttling); what is missing above was not checked."
        )
    except ActConnectorError as error:  # unreachable, TLS, refused: every table alike
        report.problems.append(str(error))
    finally:
        client.close()
        report.throttled_requests = client.stats.throttled
        report.costs = {name: asdict(cost) for name, cost in client.stats.tables.items()}
    return report


def _run_checks(
    client: ActClient, settings: Settings, catalog: Catalog, report: ServerReport, budget: Budget
) -> None:
    started = time.monotonic()
    try:
        client.authorize(reuse=False)  # what is checked: never a token shared in the process
    except ActConnectorError as error:
        report.findings["authorization"] = f"fails: {error}"
        report.problems.append(str(error))
        return
    report.authorized = True
    report.authorization_seconds = round(time.monotonic() - started, 3)
    report.findings["authorization"] = f"works ({report.authorization_seconds:.2f} s)"
    settings, catalog = for_this_server(settings, catalog, client)  # custom tables too
    skew = clock_skew(client.server_time, datetime.now(timezone.utc))
    report.clock_skew_seconds = skew
    report.findings["clock"] = clock_words(skew)
    until = sync_until(client)

    pages: list[Page] = []
    samples: dict[str, list[dict]] = {}
    for name, spec in catalog.tables.items():
        if spec.read == "links":
            continue  # no path: written from its parent's records
        budget.check()
        if spec.per_parent:
            parent = catalog.tables[spec.per_parent.parent]
            report.tables[name] = discover_children(client, spec, parent, name in settings.tables)
            continue
        finding, page = discover(client, spec, name in settings.tables)
        report.tables[name] = finding
        if page is not None:
            pages.append(page)
            samples[name] = page.rows
        elif finding.chosen:
            report.problems.append(f"Table '{name}': {finding.status}")

    probe = probe_table(catalog, report, samples)
    if not any(finding.chosen and finding.readable for finding in report.tables.values()):
        report.problems.append("No chosen table can be read, so nothing can be synced.")
    if probe is not None:  # none when only tables read whole are chosen: they take no query
        spec, path = catalog.tables[probe], report.tables[probe].path.removeprefix("/api/")
        pages += check_queries(client, settings, spec, path, until, samples[probe], report, budget)
    report.rate_limit = rate_limit_headers(pages)
    report.findings["rate limits"] = rate_limit_words(report.rate_limit)
    report.findings["time stamps"] = timestamp_words(report.tables)
    if report.page is None:
        report.findings["first sync"] = "not estimated: no page of the sync's query was timed"
    else:
        estimate_first_sync(client, settings, catalog, until, report, budget)


def discover(client: ActClient, spec: TableSpec, chosen: bool) -> tuple[TableFinding, Page | None]:
    """The path a table answers on and whether this user may read it, from a few records."""
    try:
        query = {} if spec.read == "whole" else {"$top": str(SAMPLE_ROWS)}  # a path with no query
        page, path = first_page(client, spec, query)
    except ActHttpError as error:
        if error.status == 404:  # first_page tried every candidate path
            tried = ", ".join(f"/api/{path}" for path in spec.paths)
            return TableFinding(None, False, chosen, f"not on this build (tried {tried})"), None
        words = "this user may not read it" if error.status == 403 else "it answers an error"
        status = f"{words}: HTTP {error.status}, {error.server_message}"
        return TableFinding(_path_in(spec, error.url), False, chosen, status), None
    finding = TableFinding(
        f"/api/{path}",
        True,
        chosen,
        "readable",
        envelope=page.envelope,
        timestamps=timestamp_forms(spec.cursor, page.rows) if spec.cursor else None,
    )
    return finding, page


def discover_children(
    client: ActClient, spec: TableSpec, parent: TableSpec, chosen: bool
) -> TableFinding:
    """Whether a per-parent table answers, asked of its parent's first record."""
    path = f"/api/{spec.paths[0]}"
    try:
        page = probe_children(client, spec, parent)
    except ActHttpError as error:
        status = (
            f"it answers an error: HTTP {error.status} from {error.url}, {error.server_message}"
        )
        return TableFinding(path, False, chosen, status)
    if page is None:
        return TableFinding(path, False, chosen, f"not checked: {parent.name} has no record")
    status = f"readable, a request per {parent.name} record"
    return TableFinding(path, True, chosen, status, envelope=page.envelope)


def _path_in(spec: TableSpec, url: str) -> str | None:
    """Which of the table's candidate paths an error's URL is for."""
    address = url.split("?", 1)[0].lower()
    return next((f"/api/{p}" for p in spec.paths if address.endswith(f"/api/{p.lower()}")), None)


def probe_table(catalog: Catalog, report: ServerReport, samples: dict) -> str | None:
    """The table the query checks use: a chosen, readable one read by keyset pages (the sync's
    keyset query is the one that matters), with records if possible."""
    readable = [
        n
        for n, f in report.tables.items()
        if f.chosen and f.readable and catalog.tables[n].read == "keyset"
    ]
    return min(readable, key=lambda name: not samples[name]) if readable else None


def check_queries(
    client: ActClient,
    settings: Settings,
    spec: TableSpec,
    path: str,
    until: datetime,
    sample: list[dict],
    report: ServerReport,
    budget: Budget,
) -> list[Page]:
    """$select and the page cap, the sync's $orderby, its first page (timed) and its keyset
    clause, on one table; returns the pages read, for their headers."""
    pages = []
    budget.check()
    ids_page = check_page_cap(client, settings, spec, path, report)
    pages.append(ids_page)
    until_text = format_utc(until)
    start = Position(cursor=settings.default_start_date)
    budget.check()
    report.orderby_supported = check_orderby(client, spec, path, until_text, report)
    if report.orderby_supported:
        budget.check()
        timed = time_first_page(client, settings, spec, path, start, until, report)
        if timed is not None:
            pages.append(timed)
            sample = timed.rows or sample
            forms = timestamp_forms(spec.cursor, sample)
            report.tables[spec.name].timestamps = forms or report.tables[spec.name].timestamps
    else:
        report.findings["time per page"] = "not measured: the server refuses the sync's $orderby"
    budget.check()
    report.keyset_supported = check_keyset(client, spec, path, start, until, sample, report)
    return pages


def check_page_cap(
    client: ActClient, settings: Settings, spec: TableSpec, path: str, report: ServerReport
) -> Page:
    """How many records one request returns when asked for the most a sync may ask for."""
    key, asked = spec.primary_key, MAX_BATCH_SIZE
    try:
        page = client.get_page(spec.name, path, {"$select": key, "$top": str(asked)})
    except ActHttpError as error:
        if error.status != 400:
            raise
        report.findings["$select"] = (
            f"refused (HTTP 400, {error.server_message}); the sync does not use it, but the "
            "page cap below had to be read from whole records"
        )
        what = "whole records"
        page = client.get_page(spec.name, path, {"$top": str(asked)})
    else:
        report.select_supported = True
        honoured = all(set(row) - {key} <= _ANNOTATIONS for row in page.rows)
        report.findings["$select"] = (
            f"accepted (only '{key}' came back)"
            if honoured
            else "accepted but ignored (whole records came back); the sync does not use it"
        )
        what = "ids"
    got = len(page.rows)
    asked_words = f"asked for {asked:,} {what} of {spec.name}, got {got:,}"
    if got >= asked:
        report.findings["page cap"] = f"none up to {asked:,}: {asked_words}"
        return page
    more = more_records_than(client, spec, path, got, report.select_supported)
    if more is None:
        report.findings["page cap"] = (
            f"unknown: {asked_words}, and the server refuses $skip, so whether more exist "
            "cannot be told"
        )
    elif more:
        report.page_cap = got
        effect = (
            f"the sync asks for {settings.batch_size:,} (batch_size) and so reads pages of "
            f"{got:,}: more requests, no record lost"
            if settings.batch_size > got
            else f"no effect at batch_size {settings.batch_size:,}"
        )
        report.findings["page cap"] = f"{got:,} records a request: {asked_words}; {effect}"
    else:
        report.findings["page cap"] = (
            f"none seen: {asked_words}, all that {spec.name} holds, so no cap up to {got:,}"
        )
    return page


# Keys OData may add to a record beside the ones asked for (@odata.etag and the like).
_ANNOTATIONS = frozenset({"@odata.etag", "@odata.id"})


def more_records_than(
    client: ActClient, spec: TableSpec, path: str, count: int, select: bool, where: str = ""
) -> bool | None:
    """Whether a table holds more than `count` records (matching `where`), asking for the one
    after them: None when the server refuses $skip."""
    query = {"$skip": str(count), "$top": "1"}
    if select:
        query["$select"] = spec.primary_key
    if where:
        query["$filter"] = where
    try:
        return bool(client.get_page(spec.name, path, query).rows)
    except ActHttpError as error:
        if error.status != 400:
            raise
        return None


def check_orderby(
    client: ActClient, spec: TableSpec, path: str, until_text: str, report: ServerReport
) -> bool:
    """Whether the server accepts the order every page of the sync asks for."""
    order = page_query(spec, Position(cursor=until_text), until_text, 1)["$orderby"]
    keys = "two keys" if "," in order else "one key"
    try:
        client.get_page(spec.name, path, {"$orderby": order, "$top": "1"})
    except ActHttpError as error:
        if error.status != 400:
            raise
        report.findings["$orderby"] = (
            f"{keys} ({order}) refused (HTTP 400, {error.server_message}): the sync orders "
            "every page so and cannot run on this server"
        )
        report.problems.append(f"The server refuses the sync's $orderby={order}.")
        return False
    report.findings["$orderby"] = f"{keys} ({order}) accepted"
    return True


def time_first_page(
    client: ActClient,
    settings: Settings,
    spec: TableSpec,
    path: str,
    start: Position,
    until: datetime,
    report: ServerReport,
) -> Page | None:
    """The sync's own first page of the table, timed, and checked as the sync checks it."""
    top = settings.batch_size
    try:
        page = client.get_page(spec.name, path, page_query(spec, start, format_utc(until), top))
    except ActHttpError as error:
        if error.status != 400:
            raise
        report.findings["time per page"] = f"not measured: {error}"
        report.problems.append(f"The server refuses the sync's first query: {error}")
        return None
    seconds = round(page.seconds, 3)
    report.page = {"table": spec.name, "records": len(page.rows), "seconds": seconds}
    report.findings["time per page"] = (
        f"{seconds:.2f} s for {len(page.rows):,} {spec.name}, the sync's own first query "
        f"(batch_size {top:,})"
    )
    if page.rows:
        try:
            next_position(spec, start, page.rows, until)
        except PagingError as error:
            report.problems.append(str(error))
            report.findings["time per page"] += f"; but the page breaks paging: {error}"
            return None
    return page


def check_keyset(
    client: ActClient,
    spec: TableSpec,
    path: str,
    start: Position,
    until: datetime,
    sample: list[dict],
    report: ServerReport,
) -> bool:
    """Whether the server accepts (and honours) the clause every page after the first uses."""
    if not sample:
        report.findings["keyset clause"] = (
            f"not checked: {spec.name} has no record to page on from; the first sync will tell"
        )
        return False
    first = sample[0]
    if cursor_moment(spec, first) is None:
        report.findings["keyset clause"] = (
            f"not checked: the first record of {spec.name} has no readable {spec.cursor}"
        )
        return False
    # As the sync does: the cursor sent back as the server wrote it.
    after = Position(cursor=first.get(spec.cursor), id=first.get(spec.primary_key))
    query = page_query(spec, after, format_utc(until), KEYSET_PROBE_ROWS)
    if not report.orderby_supported:  # the clause alone, so that the order's refusal hides nothing
        del query["$orderby"]
    clause = query["$filter"]
    try:
        rows = client.get_page(spec.name, path, query).rows
    except ActHttpError as error:
        if error.status != 400:
            raise
        report.findings["keyset clause"] = (
            f"refused (HTTP 400, {error.server_message}): {clause}; every page after the "
            "first asks for the records after the last one read so, and cannot on this server"
        )
        report.problems.append("The server refuses the keyset clause the sync pages with.")
        return False
    if rows and report.orderby_supported:
        try:
            next_position(spec, after, rows, until)
        except PagingError as error:
            report.findings["keyset clause"] = f"accepted but not honoured: {error}"
            report.problems.append(str(error))
            return False
    alone = "" if report.orderby_supported else " (tried without the $orderby refused above)"
    report.findings["keyset clause"] = f"accepted{alone}: {clause}"
    return True


def estimate_first_sync(
    client: ActClient,
    settings: Settings,
    catalog: Catalog,
    until: datetime,
    report: ServerReport,
    budget: Budget,
) -> None:
    """How long a first sync would read from Act!: each chosen table's records counted (Act!
    has no documented $count), at the pace of the page timed."""
    per_page = min(settings.batch_size, report.page_cap or settings.batch_size)
    page_seconds = report.page["seconds"]
    pages_total, lines, uncounted, counts = 0, [], [], []
    for name in settings.tables:
        if name not in report.tables:
            continue  # a link table: no request of its own
        finding, spec = report.tables[name], catalog.tables[name]
        if spec.per_parent:
            lines.append(f"{name}: a request per {spec.per_parent.parent} record")
            continue
        if not finding.readable:
            continue
        path = finding.path.removeprefix("/api/")
        try:
            if spec.read == "whole":  # one request holds them all
                low = high = len(client.get_rows(name, path, {}))
            else:
                start = Position(cursor=settings.default_start_date)
                where = page_query(spec, start, format_utc(until), 1)["$filter"]
                low, high = count_records(
                    client, spec, path, where, per_page, report.select_supported, budget
                )
        except (OutOfTime, _SkipRefused) as stop:
            why = "time ran out" if isinstance(stop, OutOfTime) else "the server refuses $skip"
            uncounted.append(f"{name} ({why})")
            continue
        except ActHttpError as error:
            uncounted.append(f"{name} (HTTP {error.status})")
            continue
        finding.first_sync_records = {"at_least": low, "at_most": high}
        counts.append((low, high))
        # One request for a table read whole; otherwise its pages and the empty one that ends it.
        pages = 1 if spec.read == "whole" else math.ceil((high or low) / per_page) + 1
        pages_total += pages
        lines.append(f"{name} {count_words(low, high)}, {pages:,} page(s)")
    if not lines:
        report.findings["first sync"] = (
            "cannot be estimated: no table could be counted (" + ", ".join(uncounted) + ")"
        )
        return
    highs = [high for _, high in counts]
    total_low = sum(low for low, _ in counts)
    total_high = None if None in highs else sum(highs)
    report.first_sync_records = {"at_least": total_low, "at_most": total_high}
    report.first_sync_read_seconds = round(pages_total * page_seconds, 1)
    words = (
        f"{about(report.first_sync_read_seconds)} to read {count_words(total_low, total_high)} "
        f"from Act! ({pages_total:,} pages at {page_seconds:.2f} s each, the pace of the page "
        "timed above): "
        + "; ".join(lines)
        + ". Act! has no documented $count: a table that fits in one page is counted from a "
        "page of its ids, a larger one with $skip probes of one record each, to within a page "
        "or 10%."
    )
    if uncounted:
        words += " Not counted: " + ", ".join(uncounted) + "."
    report.findings["first sync"] = f"{words} {WRITING_NOTE}"


def count_records(
    client: ActClient,
    spec: TableSpec,
    path: str,
    where: str,
    per_page: int,
    select: bool,
    budget: Budget,
) -> tuple[int, int | None]:
    """The records a first sync reads (those matching `where`), as (at least, at most)."""

    def more_than(count: int) -> bool:
        budget.check()
        more = more_records_than(client, spec, path, count, select, where)
        if more is None:
            raise _SkipRefused
        return more

    if select:  # a page of ids is cheap, and counts a table that fits in it exactly
        budget.check()
        query = {"$select": spec.primary_key, "$top": str(per_page)}
        ids = client.get_page(spec.name, path, {**query, "$filter": where})
        if len(ids.rows) < per_page and not more_than(len(ids.rows)):
            return len(ids.rows), len(ids.rows)
    return count_bounds(more_than, per_page)


def count_words(low: int, high: int | None) -> str:
    if high is None:
        return f"over {low:,} records"
    if low == high:
        return f"{low:,} records"
    return f"{low:,} to {high:,} records" if low else f"at most {high:,} records"


class _SkipRefused(Exception):
    """The server answered a $skip with 400: its records cannot be counted cheaply."""


def count_bounds(
    more_than: Callable[[int], bool], step: int, limit: int = MAX_COUNTED
) -> tuple[int, int | None]:
    """(low, high) with low <= count <= high, from `more_than(n)`: whether more than n exist.

    Doubles from `step` until a probe finds nothing, then halves the gap until it is within a
    step or COUNT_PRECISION; high is None beyond `limit`.
    """
    low, probe = 0, step
    while more_than(probe):
        low = probe + 1
        if probe >= limit:
            return low, None
        probe *= 2
    high = probe
    while high - low > max(step, low * COUNT_PRECISION):
        middle = (low + high) // 2
        if more_than(middle):
            low = middle + 1
        else:
            high = middle
    return low, high


def clock_skew(server: datetime | None, local: datetime) -> float | None:
    """The server's clock minus this machine's, in whole seconds; None without a Date header.

    A Date header truncates to the second, so the middle of that second is the best guess.
    """
    if server is None:
        return None
    if server.tzinfo is None:  # a header without its GMT: HTTP dates are GMT
        server = server.replace(tzinfo=timezone.utc)
    return float(round((server - local).total_seconds() + DATE_HEADER_RESOLUTION / 2))


def clock_words(skew: float | None) -> str:
    if skew is None:
        return (
            "unknown: the server sends no readable Date header, so the sync bounds its reads by "
            "this machine's clock instead; keep it right"
        )
    if abs(skew) <= IN_STEP_SECONDS:
        return f"in step with this machine's ({skew:+.0f} s, read from the Date header)"
    side = "behind" if skew < 0 else "ahead of"
    return (
        f"{abs(skew):,.0f} s ({duration_words(abs(skew))}) {side} this machine's, read from the "
        "Date header; no harm: the sync bounds its reads by the server's own clock"
    )


def about(seconds: float) -> str:
    return "under a second" if seconds < 1 else f"about {duration_words(seconds)}"


def duration_words(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def rate_limit_headers(pages: list[Page]) -> dict[str, str] | None:
    """The rate-limit headers of the latest answer that sent any."""
    for page in reversed(pages):
        found = {k: v for k, v in page.headers.items() if RATE_LIMIT_HEADER.fullmatch(k)}
        if found:
            return found
    return None


def rate_limit_words(headers: dict[str, str] | None) -> str:
    if not headers:
        return "none sent"
    return (
        ", ".join(f"{name}: {value}" for name, value in headers.items())
        + " (the connector waits for the reset when X-RateLimit-Remaining reaches 0)"
    )


def timestamp_forms(field_name: str, rows: list[dict]) -> dict | None:
    """How a table's cursor field is written in `rows`: offsets and fractional digits seen."""
    values = [row.get(field_name) for row in rows]
    values = [value for value in values if isinstance(value, str) and value]
    if not values:
        return None
    offsets, digits = set(), set()
    for value in values:
        match = ISO_8601.fullmatch(value.strip())
        if match is None:
            offsets.add("unreadable")
            continue
        offsets.add(match.group("offset") or "none")
        digits.add(len(match.group("fraction") or ""))
    return {
        "field": field_name,
        "offsets": sorted(offsets),
        "fraction_digits": sorted(digits),
        "example": values[0],
    }


def timestamp_words(tables: dict[str, TableFinding]) -> str:
    """The forms seen, each with the table fields written so."""
    groups: dict[str, list[str]] = {}
    examples: dict[str, str] = {}
    warnings = []
    for name, finding in tables.items():
        forms = finding.timestamps
        if not forms:
            continue
        digits = "/".join(str(d) for d in forms["fraction_digits"]) or "no"
        form = f"offset {'/'.join(forms['offsets'])}, " + (
            "whole seconds" if digits == "0" else f"{digits} fractional digits"
        )
        groups.setdefault(form, []).append(f"{name}.{forms['field']}")
        examples.setdefault(form, forms["example"])
        if "none" in forms["offsets"]:
            warnings.append(
                f"{name}.{forms['field']} has no offset: the connector takes it as UTC, so a "
                "server writing local time would be off by its UTC offset"
            )
    if not groups:
        return "none seen (no readable table with a cursor holds a record)"
    seen = "; ".join(
        f"{form} (e.g. {examples[form]}): {', '.join(fields)}" for form, fields in groups.items()
    )
    return seen + "".join(f". Note: {warning}" for warning in warnings)


# The report's lines, in the order a person reads them.
FINDING_LABELS = (
    ("authorization", "Authorization"),
    ("clock", "Clock"),
    ("page cap", "Page cap"),
    ("$select", "$select"),
    ("$orderby", "$orderby"),
    ("keyset clause", "Keyset clause"),
    ("rate limits", "Rate limits"),
    ("time stamps", "Time stamps"),
    ("time per page", "Time per page"),
    ("first sync", "First sync"),
)
LABEL_WIDTH = 16
REPORT_WIDTH = 99


def render_databases(report: ServerReport | ConnectionReport) -> str:
    """The report in plain words: one database's as render's, or each database's in turn and a
    verdict on them all."""
    if isinstance(report, ServerReport):
        return render(report)
    parts = [render(database) for database in report.databases.values()]
    failing = [name for name, database in report.databases.items() if not database.syncable]
    verdict = (
        f"Verdict on the {len(parts)} databases: each can be synced with this configuration."
        if not failing
        else f"Verdict on the {len(parts)} databases: {', '.join(failing)} cannot be synced "
        "with this configuration (see each above); the others sync, and the sync fails naming "
        "these."
    )
    rule = "-" * REPORT_WIDTH
    return (
        f"\n{rule}\n".join(parts) + f"\n{rule}\n" + "\n".join(textwrap.wrap(verdict, REPORT_WIDTH))
    )


def render(report: ServerReport) -> str:
    """The report in plain words, as the doctor prints it."""
    lines = [
        f"Act! server doctor: {report.act_url}, database '{report.database_name}', user "
        f"'{report.username}'",
        "",
    ]
    for key, label in FINDING_LABELS[:2]:
        lines += _labelled(label, report.findings.get(key, "not checked"))
    if report.authorized:
        lines += _labelled("Tables", "path this build answers on, access, envelope (* chosen)")
        # Columns as wide as the longest name and path, and a space between; a per-parent
        # table's longer path ("/api/groups/{id}/associated-contacts") has its status below it.
        name_width = max(map(len, report.tables), default=0) + 1
        path_width = 1 + max(
            (len(f.path or "-") for f in report.tables.values() if "{" not in (f.path or "")),
            default=0,
        )
        indent = " " * (4 + name_width + path_width)
        for name, finding in report.tables.items():
            envelope = f", {ENVELOPES[finding.envelope]}" if finding.envelope else ""
            head, path = f"  {'*' if finding.chosen else ' '} {name:<{name_width}}", finding.path
            text = f"{path or '-':<{path_width}}{finding.status}{envelope}"
            if len(path or "-") >= path_width:  # its status on the next line, under the others'
                lines.append(head + path)
                head, text = indent, f"{finding.status}{envelope}"
            lines += textwrap.wrap(
                text, REPORT_WIDTH, initial_indent=head, subsequent_indent=indent
            )
        for key, label in FINDING_LABELS[2:]:
            lines += _labelled(label, report.findings.get(key, "not checked"))
        if report.throttled_requests:
            lines += _labelled(
                "Throttling",
                f"the server answered {report.throttled_requests} of the doctor's requests "
                "with HTTP 429",
            )
        stats = RequestStats({name: Cost(**cost) for name, cost in report.costs.items()})
        if stats.cost_words():
            lines += _labelled(
                "Retries",
                f"{stats.retries} retries, {stats.token_refreshes} token renewals, "
                f"{stats.sleep_seconds:.1f}s waited, of {stats.requests} requests; by table: "
                + stats.cost_words(),
            )
    for note in report.notes:
        lines += _labelled("Note", note)
    lines.append("")
    if report.syncable:
        lines.append("Verdict: this server can be synced with this configuration.")
    else:
        lines.append("Verdict: this server cannot be synced with this configuration:")
        for problem in report.problems:
            lines += textwrap.wrap(
                problem, REPORT_WIDTH, initial_indent="  - ", subsequent_indent="    "
            )
    lines += ["", *textwrap.wrap(SECRETS_NOTE, REPORT_WIDTH)]
    return "\n".join(lines)


def _labelled(label: str, words: str) -> list[str]:
    return textwrap.wrap(
        words,
        REPORT_WIDTH,
        initial_indent=f"{label:<{LABEL_WIDTH}}",
        subsequent_indent=" " * LABEL_WIDTH,
        break_on_hyphens=False,
        break_long_words=False,
    )
