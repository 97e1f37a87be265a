"""A local Act! Web API: /authorize, the collections, OData, faults, and a control API for tests.

Behaves as the real one is documented to (../shared/reference/FACTS.md): Basic credentials plus
Act-Database-Name at /authorize give a bare JWT as text/html; calls carry it as a Bearer token; bad
credentials and expired tokens get a bare 401; routing is case-insensitive; errors are ASP.NET JSON
bodies (or an IIS HTML page); OData literals are type-checked (emulator/odata.py). Every fault a
real server, or a proxy before it, is known to show is a setting, off by default, that a test can
change while the server runs. The control API lives under /_emulator/, outside the Act! base path.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import ssl
import threading
import time
import zlib
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from act_connector.catalog import load_catalog
from emulator.data import Generator, generate, new_record
from emulator.odata import ODataError, Query, moment
from emulator.related import CUSTOM_TABLE

# Every other table: "edited". Reference data and links carry no time stamp.
CURSORS = {
    "products": "editDate",
    "activity_types": None,
    "users": None,
    "opportunity_processes": None,
    "opportunity_stages": None,
    "history_types": None,
    "fields": None,
    "group_contacts": None,
    "activity_priorities": None,
    "teams": None,
    "contact_campaigns": "editDate",
    "contact_secondaries": None,
}
ENTITIES = {
    "contacts": "Contacts.Contact",
    "companies": "Companies.Company",
    "opportunities": "Opportunities.Opportunity",
    "activities": "Activities.ActivityOccurrence",
    "activity_types": "TaskTypes.TaskType",
    "products": "Products.Product",
    "groups": "Groups.Group",
    "notes": "Notes.Note",
    "history": "Histories.History",
    "documents": "Histories.History",
    "users": "Users.UserInfo",
    "opportunity_processes": "Opportunities.Process",
    "opportunity_stages": "Opportunities.Stage",
    "history_types": "Histories.HistoryType",
    "fields": "MetaData.Schema.Column",
    "entities": "MetaData.Schema.Entity",
    "opportunity_products": "Opportunities.OpportunityProduct",
    "group_contacts": "Contacts.Contact",
    "recurring_activities": "Activities.ActivitySeries",
    "activity_priorities": "Activities.ActivityPriority",
    "teams": "Teams.Team",
    "contact_campaigns": "MarketingAutomation.Campaign",
    "secondary_contacts": "Contacts.Contact",
    "contact_secondaries": "Contacts.Contact",
    f"custom_{CUSTOM_TABLE}": "CustomEntity",
}
# The connector's catalogue (fields.json) names each table's paths and how it is read: the
# emulator serves what it declares, and models only what differs between Act! builds.
CATALOG = load_catalog()
# Where every build serves a table: a table of the catalogue with a single path (lower-case:
# routing ignores case), and the custom table.
COMMON_PATHS = {
    **{
        spec.paths[0].lower(): name
        for name, spec in CATALOG.tables.items()
        if spec.read in ("keyset", "whole") and len(spec.paths) == 1
    },
    f"custom/entities/{CUSTOM_TABLE}": f"custom_{CUSTOM_TABLE}",
}
# The tables the catalogue reads whole: their paths take no query ("Get all users", "Gets all
# task types") and are served whole, whatever the query or page cap, but for QUERYABLE's.
WHOLE = frozenset(name for name, spec in CATALOG.tables.items() if spec.read == "whole")
# Tables read whole whose path still takes an OData query, and so is paged and capped like any
# collection: the vendor's definition says "matching an (optional) OData query" of
# /api/metadata/fields; of users, task and history types it says "Gets all".
QUERYABLE = frozenset({"fields"})
# Records served per parent record: (parent's path, child path) -> the table they come from.
SCOPED = {
    ("opportunities", "products"): "opportunity_products",
    ("groups", "associated-contacts"): "contacts",
    ("groups", "associated-groups"): "groups",
    ("companies", "associated-contacts"): "contacts",
    ("contacts", "campaigns"): "contact_campaigns",
    ("contacts", "secondary-contacts"): "secondary_contacts",
}
# Where each Act! build serves activities and their types (lower-case: routing ignores case).
BUILDS = {
    "current": {
        **COMMON_PATHS,
        "tasks": "activities",
        "task-types": "activity_types",
        "history-types": "history_types",
    },
    "legacy": {
        **COMMON_PATHS,
        "activities": "activities",
        "activitytypes": "activity_types",
        "historytypes": "history_types",
    },
    "seed": {
        **COMMON_PATHS,
        "activities": "activities",
        "activity-types": "activity_types",
        "history-types": "history_types",
    },
}
# The field a simulated user changes when editing a record of each table.
EDITED_FIELD = {
    "contacts": "jobTitle",
    "companies": "industry",
    "opportunities": "reason",
    "activities": "location",
    "activity_types": "description",
    "products": "itemNumber",
    "groups": "description",
    "notes": "noteText",
    "history": "details",
    "documents": "details",
    "contact_campaigns": "subject",
    "secondary_contacts": "jobTitle",
    "users": "role",
    "opportunity_products": "name",
    "recurring_activities": "location",
    f"custom_{CUSTOM_TABLE}": "name",
}


# How often the serving loop looks whether stop() was called: stop() waits up to this long. At
# the default half second, the hundred-odd unit tests that start an emulator spent about 50 s of
# the suite's 160 s stopping it; fifty looks a second cost an idle server 3 ms of CPU a second.
STOP_POLL_SECONDS = 0.02


@dataclass
class Settings:
    username: str = "John Hollo"
    password: str = "Pa55w0rd!"
    database: str = "ActDemo"
    base_path: str = "/act.web.api"
    build: str = "current"  # which activity paths exist: current, legacy or seed
    token_ttl: float = 3900.0  # seconds; about 65 minutes, as self-hosted servers
    quote_token: bool = False  # some servers send the token inside double quotes
    envelope: str = "array"  # or "odata": {"value": [...], "Count": n}
    page_cap: int = 0  # rows per page at most, whatever $top asks; 0 is no cap
    throttle_every: int = 0  # every Nth data request answers 429
    retry_after: float = 1.0
    rate_limit_headers: bool = False
    error_every: int = 0  # every Nth data request answers error_status
    error_status: int = 500
    error_html: bool = False  # an IIS HTML page instead of ASP.NET's JSON body
    delay: float = 0.0  # seconds added to every data response
    # A realistic server's pace: a fixed time per data request, a time per record it returns,
    # and how many requests it serves at once (others wait their turn; 0: no limit).
    request_seconds: float = 0.0
    record_seconds: float = 0.0
    max_concurrent: int = 0
    forbidden_tables: str = ""  # comma-separated tables this user may not read: 403
    churn_edits: int = 0  # records edited after each data page served, as users would
    churn_creates: int = 0  # records created after each data page served
    # -- what stricter and stranger servers do
    # The 1st, N+1th, 2N+1th... /authorize answers 429 (Act! cloud limits every call).
    authorize_throttle_every: int = 0
    # This share of data requests, drawn at random, is refused: a 429, a 503 (each with
    # Retry-After: retry_after) or the connection dropped unanswered, in turn.
    refuse_share: float = 0.0
    # The Date header: "gmt" as IIS sends it; "minus-zero" (RFC 5322's -0000, zone unknown);
    # "zoneless"; "doubled" (a proxy's Date beside IIS's, which clients join with ", ");
    # "garbage"; "none".
    date_header: str = "gmt"
    clock_offset_seconds: float = 0.0  # the server's clock minus the real one: Date and stamps
    cut_body_every: int = 0  # every Nth data answer stops mid-body: the connection drops
    fraction_digits: int = 0  # stamps written with this many fractional digits (.NET: 7)
    lagging_edits: int = 0  # records edited after each data page, stamped lag_seconds ago
    lag_seconds: float = 45.0  # how far behind a lagging edit's stamp is (a long save, a clock)
    null_cursor_every: int = 0  # every Nth record is served with its cursor null
    # Every Nth record is served with its numbers and booleans as text, as live Act! data differs
    # from its spec: "" or "42" in a number, "true" / "false" in a boolean.
    typed_text_every: int = 0
    ids_as_text: bool = False  # integer ids (task types) sent as text: "12"
    ignore_top_every: int = 0  # every Nth page holds all that matches, whatever $top asks
    select_supported: bool = True  # False: any $select is a 400
    max_orderby_keys: int = 0  # more keys than this in $orderby is a 400; 0: any number
    or_supported: bool = True  # False: a $filter with `or` (the keyset clause) is a 400
    # -- what live servers send that the vendor's definition does not say (FACTS.md)
    status_as_code: bool = True  # opportunity status as 0/1/2/3; False: the definition's names
    record_owner: bool = False  # contacts with a top-level recordOwner, as a live contact has
    # Activities without duration, originalTime, calendarUid, isRecurring and scheduledWith*,
    # as one build's record of live calls shows them.
    lean_activities: bool = False


# The settings that change how records are served: their texts are made again when one changes.
SERVED_SHAPES = (
    "null_cursor_every",
    "typed_text_every",
    "ids_as_text",
    "status_as_code",
    "record_owner",
    "lean_activities",
)
STATUS_NAMES = ["Open", "Won", "Lost", "Inactive"]  # the definition's, for codes 0 to 3
LEAN_ACTIVITY_DROPS = ("duration", "originalTime", "calendarUid", "isRecurring")


def _lean_drops(key: str) -> bool:
    return key in LEAN_ACTIVITY_DROPS or key.startswith("scheduledWith")


class Clock:
    """The server's time: the real clock, moved on by what a test advances it by. A test that
    needs the server's time to pass (an edit to fall out of the current second, a token to
    expire) moves it instead of sleeping; the Date header, new stamps and tokens' ages follow."""

    def __init__(self):
        self.moved = 0.0  # seconds added to the real clock so far
        self._lock = threading.Lock()  # a client's threads may each move it

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"the clock moves forward only, not by {seconds} s")
        with self._lock:
            self.moved += seconds

    def time_ns(self) -> int:
        return time.time_ns() + int(self.moved * 1e9)

    def monotonic(self) -> float:
        return time.monotonic() + self.moved


def stamp_ns(nanoseconds: int, digits: int = 0) -> str:
    """A time stamp as Act! writes it, with `digits` fractional digits (at most .NET's 7)."""
    moment = datetime.fromtimestamp(nanoseconds // 1_000_000_000, timezone.utc)
    fraction = f"{nanoseconds % 1_000_000_000 // 100:07d}"[:digits]
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + "+00:00"


class Store:
    """The records, with the sorted orders and JSON texts the pages are served from."""

    def __init__(self, data: dict[str, list[dict]], seed: int, settings: Settings, clock: Clock):
        self.lock = threading.RLock()
        self.settings = settings
        self.clock = clock
        # Every table the emulator serves, empty where the data has none: a server with no
        # records of a kind still answers (an empty page), as Act! does.
        self.tables = {name: {} for name in ENTITIES}
        self.tables.update({name: {r["id"]: r for r in rows} for name, rows in data.items()})
        self.properties = {name: kinds(rows) for name, rows in data.items() if rows}
        self.version = dict.fromkeys(self.tables, 0)
        self._sorted: dict = {}
        # Every record's JSON, made once up front: serving then only joins texts, tens of
        # thousands of records a second, so the emulator is never what a benchmark measures.
        self._json = {
            (name, record_id): json.dumps(record, ensure_ascii=False)
            for name, rows in self.tables.items()
            for record_id, record in rows.items()
        }
        # New records (and edits) draw from a stream of their own, seeded with the store's size:
        # deterministic, yet different after a restart from a state file that has grown.
        self._make = Generator(seed + 1 + sum(len(rows) for rows in data.values()))

    def page(self, table: str, query: Query) -> list[str]:
        """The JSON texts of the records the query selects, in its order."""
        with self.lock:
            key = (table, tuple(query.orderby))
            cached = self._sorted.get(key)
            if cached is None or cached[0] != self.version[table]:
                ordered = list(self.tables[table].values())
                if query.orderby:
                    ordered.sort(key=query.sort_key)
                    sort_keys = [query.sort_key(r)[0] for r in ordered]
                else:
                    sort_keys = None
                cached = (self.version[table], ordered, sort_keys)
                self._sorted[key] = cached
            records = query.run(cached[1], cached[2])
            if query.select:
                return [json.dumps(_project(r, query.select), ensure_ascii=False) for r in records]
            return [self._text(table, r) for r in records]

    def scoped(self, parent: str, parent_id: str, child: str, query: Query) -> list[str] | None:
        """The JSON texts of the records a parent-scoped path serves that the query selects, or
        None when the parent does not exist: a line item's opportunityID, a member's group, a
        subgroup's parent group, a contact's company, a campaign e-mail's contact, a secondary
        contact's primary. Act! takes an OData query on these lists like on any collection."""
        with self.lock:
            if parent_id not in self.tables[parent]:
                return None
            if (parent, child) == ("opportunities", "products"):
                table = "opportunity_products"
                rows = self._children(table, "opportunityID").get(parent_id, [])
            elif (parent, child) == ("groups", "associated-groups"):
                table = "groups"
                rows = self._children("groups", "parentID").get(parent_id, [])
            elif (parent, child) == ("contacts", "campaigns"):
                table = "contact_campaigns"
                rows = self._children(table, "contacts").get(parent_id, [])
            elif (parent, child) == ("contacts", "secondary-contacts"):
                table = "secondary_contacts"
                links = self._children("contact_secondaries", "contactID").get(parent_id, [])
                found = [self.tables[table].get(link["secondaryID"]) for link in links]
                rows = [record for record in found if record]
            elif parent == "groups":
                table = "contacts"
                links = self._children("group_contacts", "groupID").get(parent_id, [])
                members = [self.tables["contacts"].get(link["contactID"]) for link in links]
                rows = [member for member in members if member]
            else:
                table = "contacts"
                rows = self._children("contacts", "companyID").get(parent_id, [])
            ordered = sorted(rows, key=query.sort_key) if query.orderby else rows
            return [self._text(table, record) for record in query.run(ordered, None)]

    def _children(self, table: str, key: str) -> dict[str, list[dict]]:
        """A table's records by the parent id in `key` (or by each id of a list there: a campaign
        e-mail's contacts), kept until the table changes."""
        cache_key = ("children", table, key)
        cached = self._sorted.get(cache_key)
        if cached is None or cached[0] != self.version[table]:
            index: dict[str, list[dict]] = {}
            for record in self.tables[table].values():
                parents = record.get(key)
                for parent in parents if isinstance(parents, list) else [parents]:
                    index.setdefault(parent, []).append(record)
            cached = self._sorted[cache_key] = (self.version[table], index)
        return cached[1]

    def _text(self, table: str, record: dict) -> str:
        key = (table, record["id"])
        text = self._json.get(key)
        if text is None:
            text = json.dumps(self.served(table, record), ensure_ascii=False)
            self._json[key] = text
        return text

    def served(self, table: str, record: dict) -> dict:
        """The record as the server sends it, with the quirks the settings ask for; filtering
        and ordering still see the record as it is stored."""
        settings, cursor = self.settings, CURSORS.get(table, "edited")
        if settings.typed_text_every and _bucket(record["id"], settings.typed_text_every) == 1:
            record = {key: _as_text(value, key) for key, value in record.items()}
        if settings.ids_as_text and isinstance(record["id"], int):
            record = {**record, "id": str(record["id"])}
        hidden = settings.null_cursor_every and cursor
        if hidden and _bucket(record["id"], settings.null_cursor_every) == 0:
            record = {**record, cursor: None}
        if table == "opportunities" and not settings.status_as_code:
            record = {**record, "status": STATUS_NAMES[record["status"]]}
        if table == "contacts" and settings.record_owner:
            record = {**record, "recordOwner": record.get("recordManager")}
        if table == "activities" and settings.lean_activities:
            record = {key: value for key, value in record.items() if not _lean_drops(key)}
        return record

    def now_stamp(self, ago: float = 0) -> str:
        """Now on the server's clock, less `ago` seconds."""
        offset = self.settings.clock_offset_seconds - ago
        return stamp_ns(self.clock.time_ns() + int(offset * 1e9), self.settings.fraction_digits)

    def forget_texts(self) -> None:
        """After a change in how records are served, every text is made again."""
        with self.lock:
            self._json.clear()

    def _touch(self, table: str, record: dict) -> None:
        self._json.pop((table, record["id"]), None)
        self.version[table] += 1

    def edit(
        self,
        table: str,
        count: int = 0,
        ids: list | None = None,
        ago: float = 0,
        at: str | None = None,
        values: dict | None = None,
    ) -> list:
        """Edits records as a user would: one field changes (or the fields `values` names take
        its values: None clears one) and the edit time moves to now (or `ago` seconds before
        now, or to the stamp `at`)."""
        with self.lock:
            rows = self.tables[table]
            cursor = CURSORS.get(table, "edited")
            stamp = (at or self.now_stamp(ago)) if cursor else None
            if not ids:
                # Nobody saves a record twice within the one second its last save was stamped
                # with: two versions of a record with one stamp cannot be told apart by Act!'s
                # edit times (nor by anything that reads them).
                candidates = [
                    key for key in sorted(rows) if not cursor or rows[key][cursor] != stamp
                ]
                ids = self._make.rng.sample(candidates, min(count, len(candidates)))
            for record_id in ids:
                record = rows[record_id]
                record.update(
                    values or {EDITED_FIELD[table]: f"Edited {self._make.rng.randrange(10**6)} ✓"}
                )
                if cursor:
                    record[cursor] = stamp
                self._touch(table, record)
            self._edit_parents(table, [rows[record_id] for record_id in ids])
            return list(ids)

    def create(self, table: str, count: int, ago: float = 0) -> list:
        with self.lock:
            data = {name: list(rows.values()) for name, rows in self.tables.items()}
            created = []
            for _ in range(count):
                record = new_record(self._make, table, data)
                cursor = CURSORS.get(table, "edited")
                if cursor:
                    created_key = "createDate" if cursor == "editDate" else "created"
                    record[created_key] = record[cursor] = self.now_stamp(ago)
                self.tables[table][record["id"]] = record
                self._touch(table, record)
                created.append(record["id"])
            self._edit_parents(table, [self.tables[table][i] for i in created])
            return created

    def delete(self, table: str, count: int = 0, ids: list | None = None) -> list:
        with self.lock:
            rows = self.tables[table]
            chosen = ids or self._make.rng.sample(sorted(rows), min(count, len(rows)))
            removed = [rows.pop(record_id) for record_id in chosen]
            for record in removed:
                self._touch(table, record)
            if table == "opportunities":  # its line items go with it
                gone = set(chosen)
                items = self.tables["opportunity_products"]
                for item in [i for i in items.values() if i["opportunityID"] in gone]:
                    self._touch("opportunity_products", items.pop(item["id"]))
            self._edit_parents(table, removed)
            return list(chosen)

    def _edit_parents(self, table: str, records: list[dict]) -> None:
        """A line item added, changed or removed changes its opportunity (its product total),
        and so moves the opportunity's edit time."""
        if table == "opportunity_products":
            parents = {r["opportunityID"] for r in records} & set(self.tables["opportunities"])
            self.edit("opportunities", ids=sorted(parents))

    def truth(self, table: str) -> list[dict]:
        """The records as the server sends them, ordered by id."""
        with self.lock:
            return [
                json.loads(self._text(table, record))
                for record in sorted(self.tables[table].values(), key=lambda r: str(r["id"]))
            ]

    def dump(self) -> dict:
        with self.lock:
            return {name: list(rows.values()) for name, rows in self.tables.items()}


# Records looked at to learn a table's property kinds: enough to meet every property set.
KIND_SAMPLE = 500


def kinds(rows: list[dict]) -> dict:
    """The property names of a table's records, nested, each with its kind ("datetime",
    "string", "int", "number", "bool", or None when only nulls and blanks were seen): what
    $filter, $orderby and $select may name, and what type a literal compared with it must be."""
    shape: dict = {}
    for record in rows[:KIND_SAMPLE]:
        _merge_kinds(shape, record)
    return shape


def _merge_kinds(shape: dict, record: dict) -> None:
    for key, value in record.items():
        if isinstance(value, dict):
            nested = shape.get(key)
            if not isinstance(nested, dict):
                nested = shape[key] = {}
            _merge_kinds(nested, value)
        elif shape.get(key) is None:
            shape[key] = _kind(value)
        elif shape[key] == "int" and _kind(value) == "number":
            shape[key] = "number"


def _kind(value) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str) and value.strip():
        try:
            moment(value)
        except ValueError:
            return "string"
        return "datetime"
    return None


def _as_text(value, key: str):
    """Numbers and booleans as text, the way live Act! data sometimes sends them."""
    if key == "id":
        return value
    if isinstance(value, dict):
        return {name: _as_text(inner, name) for name, inner in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "" if zlib.crc32(key.encode()) % 2 else repr(value)
    return value


def _bucket(record_id, every: int) -> int:
    """A stable share of records, the same in every run and every process."""
    return zlib.crc32(str(record_id).encode("utf-8")) % every


def _scope_parts(scope: str) -> tuple[str, str, str]:
    """'opportunities/<id>/products' -> (parent table, parent id, child path)."""
    parent, parent_id, child = scope.split("/")
    return parent, parent_id, child


def _project(record: dict, select) -> dict:
    return {path[0]: record.get(path[0]) for path in select}


class ActEmulator:
    """The server: start() serves on 127.0.0.1 in a background thread, stop() ends it."""

    def __init__(
        self,
        data: dict[str, list[dict]] | None = None,
        seed: int = 7,
        sizes: dict[str, int] | None = None,
        settings: Settings | None = None,
    ):
        self.settings = settings or Settings()
        self.clock = Clock()
        self.store = Store(
            data if data is not None else generate(seed, sizes or {}),
            seed,
            self.settings,
            self.clock,
        )
        # The server's other databases, by name (emulator/databases.py adds them): a request is
        # for the one its Act-Database-Name header names, `store` being settings.database's.
        self.databases: dict[str, Store] = {}
        self.tokens: dict[str, float] = {}
        self.stats = {
            "requests": 0,
            "data_requests": 0,
            "authorize_requests": 0,
            "authorizations": 0,
            "faults": 0,
            "concurrent_peak": 0,
            # Data requests answered with records, the records in them, and the answers by
            # table: what the server's own time (request_seconds, record_seconds) was spent on.
            "answers": 0,
            "records_served": 0,
            "answers_by_table": {},
            # Requests refused on purpose (refuse_share, authorize_throttle_every), by kind ("429",
            # "503", "dropped", "authorize_429"), and the seconds their Retry-After told, by table
            # ("authorization" for /authorize): what the refusals alone force a client to wait.
            "refused": {},
            "told_seconds": {},
        }
        self._counter_lock = threading.Lock()
        self._turns: tuple[int, threading.BoundedSemaphore] | None = None
        self._serving = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.scheme = "http"
        self._thread: threading.Thread | None = None

    # -- lifecycle
    def start(
        self, port: int = 0, host: str = "127.0.0.1", tls: tuple[str, str] | None = None
    ) -> int:
        """Serves in a background thread; with `tls` (certificate file, key file), over HTTPS."""
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(STOP_POLL_SECONDS,), daemon=True
        )
        self._thread.start()
        return self.port

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{self.settings.base_path}"

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def configure(self, **changes) -> None:
        for key, value in changes.items():
            if not hasattr(self.settings, key):
                raise KeyError(f"unknown emulator setting '{key}'")
            setattr(self.settings, key, value)
        if set(SERVED_SHAPES) & set(changes):
            self.store.forget_texts()

    @contextmanager
    def serving(self):
        """A turn at answering: at most max_concurrent requests are served at once (the most
        ever served at once is kept in stats["concurrent_peak"])."""
        limit = self.settings.max_concurrent
        with self._counter_lock:
            if limit and (self._turns is None or self._turns[0] != limit):
                self._turns = (limit, threading.BoundedSemaphore(limit))
            turns = self._turns[1] if limit else nullcontext()
        with turns:
            with self._counter_lock:
                self._serving += 1
                self.stats["concurrent_peak"] = max(self.stats["concurrent_peak"], self._serving)
            try:
                yield
            finally:
                with self._counter_lock:
                    self._serving -= 1

    def store_for(self, database: str) -> Store | None:
        """The records of the database named, None if the server has no such database."""
        return self.store if database == self.settings.database else self.databases.get(database)

    def server_now(self) -> float:
        """The server's clock, in seconds since the epoch."""
        return self.clock.time_ns() / 1e9 + self.settings.clock_offset_seconds

    def advance_clock(self, seconds: float) -> None:
        """Moves the server's time on, as if `seconds` had passed: what a test does instead of
        sleeping (POST /_emulator/clock {"advance": seconds} from another process)."""
        self.clock.advance(seconds)

    # -- auth
    def issue_token(self) -> str:
        claims = {
            "sub": self.settings.username,
            "db": self.settings.database,
            "iat": int(time.time()),
            "jti": random.getrandbits(64),
        }
        parts = [{"alg": "HS256", "typ": "JWT"}, claims, {"sig": random.getrandbits(128)}]
        token = ".".join(
            base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts
        )
        self.tokens[token] = self.clock.monotonic()
        return token

    def token_valid(self, token: str) -> bool:
        issued = self.tokens.get(token)
        return issued is not None and self.clock.monotonic() - issued < self.settings.token_ttl

    def credentials_valid(self, header: str, database: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        s = self.settings
        known = self.store_for(database) is not None  # a database the server has
        return known and (user, password) == (s.username, s.password)

    def count(self, key: str) -> int:
        with self._counter_lock:
            self.stats[key] += 1
            return self.stats[key]

    def count_refusal(self, table: str, kind: str, told: float) -> None:
        with self._counter_lock:
            self.stats["faults"] += 1
            self.stats["refused"][kind] = self.stats["refused"].get(kind, 0) + 1
            waits = self.stats["told_seconds"]
            waits[table] = waits.get(table, 0.0) + told

    def count_answer(self, table: str, records: int) -> None:
        with self._counter_lock:
            self.stats["answers"] += 1
            self.stats["records_served"] += records
            by_table = self.stats["answers_by_table"]
            by_table[table] = by_table.get(table, 0) + 1


class _Handler(BaseHTTPRequestHandler):
    emulator: ActEmulator
    protocol_version = "HTTP/1.1"  # keep-alive, as IIS: a client's session reuses its connection
    # An answer's headers and body are two writes: with Nagle's algorithm the body would wait for
    # the client's delayed ACK of the headers (up to 40 ms on Linux), a pause no IIS server adds,
    # which made every request of a paced benchmark about a quarter slower than the pace it sets.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def send_response(self, code, message=None):
        """As BaseHTTPRequestHandler's, with the Date header the settings ask for."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", "Microsoft-IIS/10.0")
        settings = self.emulator.settings
        now = self.emulator.server_now()
        gmt = formatdate(now, usegmt=True)
        dates = {
            "gmt": [gmt],
            "minus-zero": [formatdate(now)],  # "... -0000": RFC 5322's "zone unknown"
            "zoneless": [gmt[: -len(" GMT")]],
            "doubled": [formatdate(now - 1, usegmt=True), gmt],  # a proxy's, then IIS's
            "garbage": ["at some point today"],
            "none": [],
        }[settings.date_header]
        for value in dates:
            self.send_header("Date", value)

    # -- responses
    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json; charset=utf-8",
        headers: dict | None = None,
    ) -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value, headers: dict | None = None) -> None:
        self._send(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), headers=headers)

    def _aspnet_error(self, status: int, message: str, detail: str = "") -> None:
        self._json(
            status,
            {
                "message": message,
                "exceptionMessage": detail or message,
                "exceptionType": "Microsoft.OData.ODataException",
                "stackTrace": None,
            },
        )

    # -- routing
    def do_GET(self):
        emulator = self.emulator
        url = urlsplit(self.path)
        path = url.path.rstrip("/").lower()
        if path.startswith("/_emulator/"):  # a test's or benchmark's own, not a client's
            return self._control_get(path[len("/_emulator/") :])
        emulator.count("requests")
        base = emulator.settings.base_path.lower().rstrip("/")
        if not path.startswith(base + "/"):
            return self._send(
                404,
                b"<html><head><title>404 - File or directory not found.</title></head></html>",
                "text/html",
            )
        route = path[len(base) + 1 :]
        if route == "authorize":
            return self._authorize()
        if route.startswith("api/"):
            table = BUILDS[emulator.settings.build].get(route[4:])
            parts = route[4:].split("/")
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            if table is None and len(parts) == 3 and (parts[0], parts[2]) in SCOPED:
                return self._collection(SCOPED[(parts[0], parts[2])], params, "/".join(parts))
            if table is None:
                return self._json(
                    404,
                    {
                        "message": f"No HTTP resource was found that matches the request URI "
                        f"'{self.path}'."
                    },
                )
            return self._collection(table, params)
        return self._send(404)

    def _authorize(self):
        emulator = self.emulator
        every = emulator.settings.authorize_throttle_every
        if every and (emulator.count("authorize_requests") - 1) % every == 0:
            emulator.count_refusal("authorization", "authorize_429", 1.0)
            return self._json(429, {"message": "Too many requests."}, {"Retry-After": "1"})
        header = self.headers.get("Authorization", "")
        database = self.headers.get("Act-Database-Name", "")
        if header.startswith("Bearer ") and emulator.token_valid(header[7:]):
            pass  # a valid token buys a fresh one, as on the real server
        elif not emulator.credentials_valid(header, database):
            return self._send(401)
        emulator.count("authorizations")
        token = emulator.issue_token()
        body = f'"{token}"' if emulator.settings.quote_token else token
        self._send(200, body.encode("ascii"), "text/html; charset=utf-8")

    def _collection(self, table: str, params: dict, scope: str | None = None):
        emulator, settings = self.emulator, self.emulator.settings
        header = self.headers.get("Authorization", "")
        if not (header.startswith("Bearer ") and emulator.token_valid(header[7:])):
            return self._send(401)
        number = emulator.count("data_requests")
        if table in settings.forbidden_tables.split(","):
            return self._json(
                403,
                {"message": f"The user does not have permission to read {ENTITIES[table]}."},
            )
        if settings.delay:
            time.sleep(settings.delay)
        limits = {}
        if settings.rate_limit_headers:
            limits = {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "599",
                "X-RateLimit-Reset": str(int(time.time()) + 60),
            }
        if settings.refuse_share and random.random() < settings.refuse_share:
            return self._refuse(table)
        if settings.throttle_every and number % settings.throttle_every == 0:
            emulator.count("faults")
            return self._json(
                429,
                {"message": "Too many requests."},
                {
                    **limits,
                    "X-RateLimit-Remaining": "0",
                    "Retry-After": f"{settings.retry_after:g}",
                    "X-RateLimit-Reset": str(int(time.time() + settings.retry_after)),
                },
            )
        if settings.error_every and number % settings.error_every == 0:
            emulator.count("faults")
            told = (
                {"Retry-After": f"{settings.retry_after:g}"}
                if settings.error_status == 503
                else {}
            )
            if settings.error_html:
                html = (
                    "<html><head><title>Service Unavailable</title></head><body><h1>HTTP Error "
                    f"{settings.error_status}. The service is unavailable.</h1></body></html>"
                )
                return self._send(settings.error_status, html.encode(), "text/html", told)
            return self._json(
                settings.error_status,
                {
                    "message": "An error has occurred.",
                    "exceptionMessage": "Transaction (Process ID 61) was "
                    "deadlocked on lock resources with another process.",
                    "exceptionType": "System.Data.SqlClient.SqlException",
                    "stackTrace": None,
                },
                told,
            )
        store = emulator.store_for(self.headers.get("Act-Database-Name") or settings.database)
        if store is None:
            return self._send(401)
        with emulator.serving():
            try:
                if scope:  # a parent's records
                    query = self._query(table, params, number)
                    texts = store.scoped(*_scope_parts(scope), query)
                    if texts is None:
                        return self._json(404, {"message": f"No record matches '{scope}'."})
                elif table in WHOLE and table not in QUERYABLE:
                    texts = store.page(table, Query({}, {}, ENTITIES[table]))
                else:
                    texts = store.page(table, self._query(table, params, number))
            except ODataError as error:
                return self._aspnet_error(
                    400, "The query specified in the URI is not valid. " + str(error), str(error)
                )
            emulator.count_answer(table, len(texts))
            pace = settings.request_seconds + settings.record_seconds * len(texts)
            if pace:
                time.sleep(pace)
        rows = "[" + ",".join(texts) + "]"
        body = rows if settings.envelope == "array" else f'{{"value":{rows},"Count":{len(texts)}}}'
        if settings.cut_body_every and number % settings.cut_body_every == 0:
            emulator.count("faults")
            self._send_cut(body.encode("utf-8"))
        else:
            self._send(200, body.encode("utf-8"), headers=limits)
        if settings.churn_edits:
            store.edit(table, settings.churn_edits)
        if settings.churn_creates:
            store.create(table, settings.churn_creates)
        if settings.lagging_edits:
            store.edit(table, settings.lagging_edits, ago=settings.lag_seconds)

    def _query(self, table: str, params: dict, number: int) -> Query:
        """The parsed query, refused as this server's settings say."""
        settings = self.emulator.settings
        if "$select" in params and not settings.select_supported:
            raise ODataError("The query parameter '$select' is not supported.")
        query = Query(
            params,
            self.emulator.store.properties.get(table, {}),
            "Act.Web.Api.Models." + ENTITIES[table],
        )
        if settings.max_orderby_keys and len(query.orderby) > settings.max_orderby_keys:
            raise ODataError(
                f"The $orderby has {len(query.orderby)} keys; this server sorts on at most "
                f"{settings.max_orderby_keys}."
            )
        if query.uses_or and not settings.or_supported:
            raise ODataError("The binary operator 'Or' is not supported.")
        if settings.ignore_top_every and number % settings.ignore_top_every == 0:
            query.top = None
        if settings.page_cap:
            query.top = min(query.top or settings.page_cap, settings.page_cap)
        return query

    def _refuse(self, table: str) -> None:
        """A refusal of a request for `table`: a 429, a 503 or a dropped connection, in turn."""
        emulator = self.emulator
        with emulator._counter_lock:
            number = emulator.stats["faults"] + 1
        kind = ("dropped", "429", "503")[number % 3]
        after = emulator.settings.retry_after
        emulator.count_refusal(table, kind, 0.0 if kind == "dropped" else after)
        if kind == "dropped":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status = int(kind)
        told = {"Retry-After": f"{after:g}"}
        self._json(status, {"message": "Too many requests." if status == 429 else "Busy."}, told)

    def _send_cut(self, body: bytes) -> None:
        """Headers for the whole body, then half of it, then the connection drops."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    # -- control API
    def _control_get(self, route: str):
        emulator = self.emulator
        if route.startswith("truth/"):
            return self._json(200, emulator.store.truth(route[len("truth/") :]))
        if route == "stats":
            return self._json(200, emulator.stats)
        if route == "settings":
            return self._json(200, asdict(emulator.settings))
        return self._send(404)

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        store = self.emulator.store
        route = url.path.lower().rstrip("/")
        try:
            if route == "/_emulator/settings":
                self.emulator.configure(**body)
                return self._json(200, asdict(self.emulator.settings))
            if route == "/_emulator/clock":
                self.emulator.advance_clock(float(body["advance"]))
                return self._json(200, {"moved": self.emulator.clock.moved})
            if route in ("/_emulator/edit", "/_emulator/create", "/_emulator/delete"):
                action = getattr(store, route.rsplit("/", 1)[1])
                return self._json(200, action(body["table"], body.get("count", 1)))
        except (KeyError, TypeError, ValueError) as error:
            return self._json(400, {"message": str(error)})
        return self._send(404)
