"""The emulator is only worth its end-to-end tests if it behaves as Act! does: these check it."""

import base64
import http.client
import json
import random
import re
import threading
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pytest

from emulator.odata import ODataError, Query, moment
from emulator.server import BUILDS, ActEmulator, kinds
from tests.e2e.harness import wait_for
from tests.helpers import bulk_import

PROPERTIES = {"id": None, "edited": None, "name": None, "n": None, "address": {"city": None}}
ROWS = [
    {
        "id": "a",
        "edited": "2025-01-01T00:00:00+00:00",
        "name": "O'Brien",
        "n": 1,
        "address": {"city": "Zürich"},
    },
    {
        "id": "b",
        "edited": "2025-01-01T00:00:00+00:00",
        "name": "Smith",
        "n": 2,
        "address": {"city": "Berlin"},
    },
    {"id": "c", "edited": "2025-06-01T12:00:00+00:00", "name": None, "n": 3, "address": None},
]


def select(filter_text="", orderby="", **options):
    params = {"$filter": filter_text, "$orderby": orderby, **options}
    query = Query(params, PROPERTIES, "T")
    ordered = sorted(ROWS, key=query.sort_key) if query.orderby else ROWS
    keys = [query.sort_key(r)[0] for r in ordered] if query.orderby else None
    return [row["id"] for row in query.run(ordered, keys)]


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("n eq 2", ["b"]),
        ("n ne 2", ["a", "c"]),
        ("n gt 1 and n lt 3", ["b"]),
        ("n ge 2 or n le 1", ["a", "b", "c"]),
        ("not (n eq 1)", ["b", "c"]),
        ("(n eq 1 or n eq 3) and id ne 'c'", ["a"]),
        ("name eq 'O''Brien'", ["a"]),
        ("name eq null", ["c"]),
        ("address/city eq 'Zürich'", ["a"]),
        ("edited gt 2025-01-01T00:00:00Z", ["c"]),
        ("edited le 2025-01-01T01:00:00+01:00", ["a", "b"]),
        ("edited eq 2025-06-01T12:00:00Z and id gt 'b'", ["c"]),
    ],
)
def test_filters(filter_text, expected):
    assert select(filter_text) == expected


def test_orderby_top_skip_and_select():
    assert select(orderby="edited desc,id asc") == ["c", "a", "b"]
    assert select(orderby="n desc", **{"$top": "1", "$skip": "1"}) == ["b"]
    query = Query({"$select": "id,name"}, PROPERTIES, "T")
    assert query.select == [("id",), ("name",)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"$filter": "editdate ge 2025-01-01T00:00:00Z"},
            "Could not find a property named 'editdate'",
        ),
        ({"$orderby": "Edited asc"}, "Could not find a property named 'Edited'"),
        ({"$filter": "n eq"}, "ends too early"),
        ({"$filter": "n eq 1)"}, "Syntax error"),
        ({"$filter": "n 1"}, "comparison operator expected"),
        ({"$top": "-1"}, "Invalid value '-1' for $top"),
        ({"$orderby": "n sideways"}, "Syntax error in $orderby"),
    ],
)
def test_bad_queries_are_rejected(params, message):
    with pytest.raises(ODataError, match=message.replace("$", r"\$").replace("(", r"\(")):
        Query(params, PROPERTIES, "T")


def test_the_bisect_shortcut_agrees_with_a_full_scan():
    rng = random.Random(5)
    rows = [
        {"id": f"{i:04d}", "edited": f"2025-01-0{rng.randrange(1, 4)}T00:00:00+00:00"}
        for i in range(300)
    ]
    properties = {"id": None, "edited": None}
    for _ in range(200):
        day, row_id = rng.randrange(1, 4), f"{rng.randrange(300):04d}"
        text = (
            f"(edited gt 2025-01-0{day}T00:00:00Z or (edited eq 2025-01-0{day}T00:00:00Z and "
            f"id gt '{row_id}')) and edited le 2025-01-03T00:00:00Z"
        )
        query = Query(
            {"$filter": text, "$orderby": "edited asc,id asc", "$top": "17"}, properties, "T"
        )
        ordered = sorted(rows, key=query.sort_key)
        keys = [query.sort_key(r)[0] for r in ordered]
        full_scan = [r for r in ordered if query.matches(r)][:17]
        assert query.run(ordered, keys) == full_scan


# -- over HTTP


@pytest.fixture
def server():
    emulator = ActEmulator(seed=3, sizes={"contacts": 40})
    emulator.start()
    yield emulator
    emulator.stop()


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def basic(user="John Hollo", password="Pa55w0rd!"):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token(server):
    status, headers, body = get(
        f"{server.base_url}/AUTHORIZE", {"Authorization": basic(), "Act-Database-Name": "ActDemo"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    return body


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": basic(password="nope"), "Act-Database-Name": "ActDemo"},
        {"Authorization": basic(), "Act-Database-Name": "Other"},
        {"Authorization": basic(user="Jane"), "Act-Database-Name": "ActDemo"},
    ],
)
def test_bad_credentials_get_a_bare_401(server, headers):
    status, _, body = get(f"{server.base_url}/authorize", headers)
    assert (status, body) == (401, "")


def test_a_token_reads_collections_with_case_insensitive_routes(server):
    bearer = {"Authorization": "Bearer " + token(server)}
    status, headers, body = get(f"{server.base_url}/api/Contacts?$top=5", bearer)
    assert status == 200 and len(json.loads(body)) == 5
    assert "Date" in headers
    assert get(f"{server.base_url}/api/contacts")[0] == 401
    assert get(f"{server.base_url}/api/activities", bearer)[0] == 404  # not on the current build


def test_tokens_expire_and_can_be_quoted(server):
    server.configure(token_ttl=0.2, quote_token=True)
    quoted = token(server)
    assert quoted.startswith('"') and quoted.endswith('"') and quoted.count(".") == 2
    bearer = {"Authorization": "Bearer " + quoted.strip('"')}
    assert get(f"{server.base_url}/api/contacts?$top=1", bearer)[0] == 200
    server.advance_clock(0.3)
    assert get(f"{server.base_url}/api/contacts?$top=1", bearer)[0] == 401


def test_errors_are_aspnet_json_bodies(server):
    bearer = {"Authorization": "Bearer " + token(server)}
    status, _, body = get(
        f"{server.base_url}/api/Products?$filter=" + quote("editdate ge 2025-01-01T00:00:00Z"),
        bearer,
    )
    assert status == 400
    assert json.loads(body)["message"].startswith("The query specified in the URI is not valid.")


def test_page_cap_envelope_and_control_api(server):
    bearer = {"Authorization": "Bearer " + token(server)}
    server.configure(page_cap=3, envelope="odata")
    body = json.loads(get(f"{server.base_url}/api/contacts?$top=10", bearer)[2])
    assert body["Count"] == 3 and len(body["value"]) == 3
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/_emulator/create",
        method="POST",
        data=json.dumps({"table": "contacts", "count": 2}).encode(),
    )
    with urllib.request.urlopen(request) as response:
        created = json.loads(response.read())
    requests = server.stats["requests"]
    truth = json.loads(get(f"http://127.0.0.1:{server.port}/_emulator/truth/contacts")[2])
    assert len(truth) == 42 and set(created) <= {r["id"] for r in truth}
    assert server.stats["requests"] == requests  # a test's own look is no client's request


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_every_build_serves_each_table_at_one_of_its_catalogue_paths(catalog, build):
    for name, spec in catalog.tables.items():
        if spec.read in ("keyset", "whole"):
            assert name in {BUILDS[build].get(path.lower()) for path in spec.paths}, name


def test_data_is_deterministic_and_awkward():
    first = ActEmulator(seed=9, sizes={"contacts": 200}).store.truth("contacts")
    assert first == ActEmulator(seed=9, sizes={"contacts": 200}).store.truth("contacts")
    text = json.dumps(first, ensure_ascii=False)
    assert any(ord(c) > 127 for c in text)
    assert any(r["middleName"] == "" for r in first) and any(
        r["middleName"] is None for r in first
    )
    assert len(bulk_import(first)) > 20
    activities = ActEmulator(seed=9).store.truth("activities")
    assert any(len(a["id"]) == 44 and a["id"].startswith(a["seriesID"]) for a in activities)
    opportunities = ActEmulator(seed=9).store.truth("opportunities")
    assert any(o["actualCloseDate"] == "9999-12-31T00:00:00+00:00" for o in opportunities)
    assert all(isinstance(o["status"], int) for o in opportunities)


# -- strictness: what a real ASP.NET OData server refuses
KINDS = {"id": "string", "n": "int", "edited": "datetime", "ok": "bool", "price": "number"}


@pytest.mark.parametrize(
    ("filter_text", "message"),
    [
        ("edited gt '2025-01-01T00:00:00Z'", "'Edm.DateTimeOffset' and 'Edm.String'"),
        ("id gt 6f1c0d3e-0000-4000-8000-000000000001", "'Edm.String' and 'Edm.Guid'"),
        ("id gt 12", "'Edm.String' and 'Edm.Int32'"),
        ("n gt '12'", "'Edm.Int32' and 'Edm.String'"),
        ("ok eq 'true'", "'Edm.Boolean' and 'Edm.String'"),
    ],
)
def test_literals_of_another_type_are_refused(filter_text, message):
    with pytest.raises(ODataError, match="incompatible types was detected.*" + message):
        Query({"$filter": filter_text}, KINDS, "T")


@pytest.mark.parametrize(
    "filter_text",
    [
        "edited gt 2025-01-01T00:00:00Z",
        "id gt '6f1c0d3e-0000-4000-8000-000000000001'",
        "n gt 12",
        "price gt 12",
        "price gt 1.5",
        "ok eq true",
        "id eq null",
    ],
)
def test_literals_of_the_right_type_are_taken(filter_text):
    Query({"$filter": filter_text}, KINDS, "T")


def test_time_stamps_compare_to_the_100_nanoseconds():
    assert moment("2025-01-01T00:00:00.1234567+00:00") > moment("2025-01-01T00:00:00.123456Z")
    assert moment("2025-01-01T01:00:00.1234567+01:00") == moment("2025-01-01T00:00:00.1234567Z")
    assert moment("2025-01-01T00:00:00Z") == moment("2025-01-01T00:00:00.0000000+00:00")


def test_property_kinds_are_learnt_from_the_records():
    table = kinds(
        [
            {"id": "a", "n": None, "edited": "", "address": {"lat": 1}},
            {"id": "b", "n": 2, "edited": "2025-01-01T00:00:00+00:00", "address": {"lat": 1.5}},
        ]
    )
    assert table == {
        "id": "string",
        "n": "int",
        "edited": "datetime",
        "address": {"lat": "number"},
    }


# -- faults, each a setting
def data_request(server, path="contacts?$top=5"):
    bearer = {"Authorization": "Bearer " + token(server)}
    return get(f"{server.base_url}/api/{path}", bearer)


def raw_headers(server, path) -> list[tuple[str, str]]:
    """The answer's headers exactly as sent, duplicates included."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", f"{server.settings.base_path}/{path}")
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.getheaders()


@pytest.mark.parametrize(
    ("setting", "pattern"),
    [
        ("gmt", r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$"),
        ("minus-zero", r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} -0000$"),
        ("zoneless", r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2}$"),
        ("garbage", r"^at some point today$"),
    ],
)
def test_the_date_header_takes_every_form(server, setting, pattern):
    server.configure(date_header=setting)
    dates = [value for name, value in raw_headers(server, "authorize") if name == "Date"]
    assert len(dates) == 1 and re.match(pattern, dates[0])


def test_a_doubled_or_missing_date_header(server):
    server.configure(date_header="doubled")
    assert [name for name, _ in raw_headers(server, "authorize")].count("Date") == 2
    server.configure(date_header="none")
    assert "Date" not in [name for name, _ in raw_headers(server, "authorize")]


def test_the_clock_offset_moves_the_date_header_and_new_stamps(server):
    server.configure(clock_offset_seconds=-600)
    date = dict(raw_headers(server, "authorize"))["Date"]
    skew = parsedate_to_datetime(date).timestamp() - time.time()
    assert -605 < skew < -595
    edited = server.store.edit("contacts", 1)[0]
    stamp = server.store.tables["contacts"][edited]["edited"]
    assert -605 < moment(stamp) / 1e7 - time.time() < -595


def test_the_clock_a_test_moves_moves_the_date_header_and_new_stamps(server):
    """Moved on instead of sleeping: the server answers as if the time had passed."""
    server.advance_clock(3600)
    skew = parsedate_to_datetime(dict(raw_headers(server, "authorize"))["Date"]).timestamp()
    assert 3595 < skew - time.time() < 3605
    edited = server.store.edit("contacts", 1)[0]
    stamp = moment(server.store.tables["contacts"][edited]["edited"]) / 1e7
    assert 3595 < stamp - time.time() < 3605
    with pytest.raises(ValueError, match="forward only"):
        server.advance_clock(-1)


def test_another_process_moves_the_clock_through_the_control_api(server):
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/_emulator/clock",
        method="POST",
        data=json.dumps({"advance": 90}).encode(),
    )
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read()) == {"moved": 90}
    skew = parsedate_to_datetime(dict(raw_headers(server, "authorize"))["Date"]).timestamp()
    assert 85 < skew - time.time() < 95


def test_authorize_throttling_hits_the_first_call_then_every_nth(server):
    server.configure(authorize_throttle_every=2)
    statuses = [
        get(
            f"{server.base_url}/authorize",
            {"Authorization": basic(), "Act-Database-Name": "ActDemo"},
        )[0]
        for _ in range(4)
    ]
    assert statuses == [429, 200, 429, 200]


def test_a_cut_body_drops_the_connection_mid_answer(server):
    server.configure(cut_body_every=1)
    with pytest.raises(http.client.IncompleteRead):
        data_request(server)


@pytest.mark.parametrize(
    ("settings", "query", "message"),
    [
        ({"select_supported": False}, "$select=id,edited", "'$select' is not supported"),
        ({"max_orderby_keys": 1}, "$orderby=edited%20asc,id%20asc", "sorts on at most 1"),
        ({"or_supported": False}, "$filter=" + quote("id eq 'a' or id eq 'b'"), "'Or' is not"),
    ],
)
def test_features_a_server_may_refuse(server, settings, query, message):
    server.configure(**settings)
    status, _, body = data_request(server, f"contacts?{query}")
    assert status == 400 and message in json.loads(body)["exceptionMessage"]


def test_every_nth_page_may_ignore_top(server):
    server.configure(ignore_top_every=2)
    sizes = [len(json.loads(data_request(server, "contacts?$top=5")[2])) for _ in range(2)]
    assert sizes == [5, 40]


def test_quirks_of_served_records_show_in_the_truth(server):
    server.configure(null_cursor_every=3, typed_text_every=3, ids_as_text=True)
    served = json.loads(data_request(server, "contacts?$top=40&$orderby=id%20asc")[2])
    assert served == server.store.truth("contacts")
    assert any(record["edited"] is None for record in served)
    assert any(record["isFavorite"] in ("true", "false") for record in served)
    assert any(
        record["amaScore"] == "" or isinstance(record["amaScore"], str) for record in served
    )
    types = json.loads(data_request(server, "task-types")[2])
    assert all(isinstance(record["id"], str) for record in types)
    ordered = json.loads(data_request(server, "contacts?$orderby=edited%20asc,id%20asc")[2])
    assert len(ordered) == 40  # a null on the wire is still ordered by the stamp it has


def test_seven_digit_stamps_and_lagging_edits(server):
    server.configure(fraction_digits=7, lagging_edits=2, lag_seconds=45)
    data_request(server)

    def recent():
        """the two lagging edits the served page was followed by"""
        return [
            record
            for record in list(server.store.tables["contacts"].values())
            if moment(record["edited"]) / 1e7 > time.time() - 60
        ]

    lagging = wait_for(recent, timeout=5)
    assert len(lagging) == 2
    assert all(re.search(r"\.\d{7}\+00:00$", record["edited"]) for record in lagging)
    assert all(moment(record["edited"]) / 1e7 < time.time() - 40 for record in lagging)


# -- the rest of the database: reference data, line items, membership, metadata, custom tables
def test_every_link_points_to_a_record_that_exists():
    data = ActEmulator(seed=9).store.dump()
    exists = {table: {r["id"] for r in rows} for table, rows in data.items()}
    managers = {r["recordManagerID"] for t in ("contacts", "opportunities", "groups", "notes")
                for r in data[t]}  # fmt: skip
    assert managers <= exists["users"] and len(managers) > 1
    for table in ("opportunities", "activities", "notes", "history", "custom_projects"):
        for record in data[table]:
            for array in ("contacts", "companies", "groups", "opportunities", "opportunity"):
                linked = {link["id"] for link in record.get(array) or []}
                target = "opportunities" if array == "opportunity" else array
                assert linked <= exists[target], (table, array)
    assert any(r["groups"] for r in data["activities"]) and any(
        r["opportunities"] for r in data["notes"]
    )
    assert {r["historyTypeID"] for r in data["history"]} <= exists["history_types"]
    assert {r["stage"]["id"] for r in data["opportunities"]} <= exists["opportunity_stages"]
    for item in data["opportunity_products"]:
        assert item["opportunityID"] in exists["opportunities"]
        assert item["productID"] in exists["products"]
        assert item["total"] == round(item["discountPrice"] * item["quantity"], 2)
    for link in data["group_contacts"]:
        assert link["groupID"] in exists["groups"] and link["contactID"] in exists["contacts"]
    for link in data["contact_secondaries"]:  # a secondary contact is no contact of its own
        assert link["contactID"] in exists["contacts"]
        assert link["secondaryID"] in exists["secondary_contacts"] - exists["contacts"]
    sent_to = {contact for sent in data["contact_campaigns"] for contact in sent["contacts"]}
    assert sent_to and sent_to <= exists["contacts"]
    # Documents are history items with a file attached, and every such item is a document.
    attached = {item["id"]: item for item in data["history"] if item.get("attachment")}
    assert attached and {d["id"]: d for d in data["documents"]} == attached
    parents = {g["id"]: g["parentID"] for g in data["groups"]}
    assert set(parents.values()) - {None} <= exists["groups"] and any(parents.values())
    for group in data["groups"]:  # levels follow the parents, and no group is its own ancestor
        parent = parents[group["id"]]
        level = data["groups"][[g["id"] for g in data["groups"]].index(parent)] if parent else None
        assert group["hierarchyLevel"] == (level["hierarchyLevel"] + 1 if level else 0)


def test_processes_have_ordered_stages_and_fields_describe_the_custom_fields():
    data = ActEmulator(seed=9).store.dump()
    for process in data["opportunity_processes"]:
        stages = [s for s in data["opportunity_stages"] if s["process"]["id"] == process["id"]]
        assert [s["number"] for s in stages] == list(range(1, process["stagesCount"] + 1))
        assert [s["probability"] for s in stages] == sorted(s["probability"] for s in stages)
    custom = {(f["recordType"], f["name"]): f["type"] for f in data["fields"] if f["isCustom"]}
    for record_type, table in (("Contact", "contacts"), ("Company", "companies")):
        for record in data[table]:
            assert {(record_type, name) for name in record["customFields"]} <= set(custom)
    dates = [r["customFields"]["last_review"] for r in data["contacts"]]
    assert custom[("Contact", "last_review")] == "Date" and any(dates)
    assert [e["name"] for e in data["entities"]] == ["projects"] and data["custom_projects"]
    series = {r["seriesID"] for r in data["activities"] if r["isRecurring"]}
    assert {r["id"] for r in data["recurring_activities"]} == series


def test_reference_paths_are_read_whole_and_parent_paths_per_parent(server):
    bearer = {"Authorization": "Bearer " + token(server)}
    store = server.store
    whole = {"users": "users", "opportunities/stages": "opportunity_stages",
             "history-types": "history_types", "task-types": "activity_types"}  # fmt: skip
    for path, table in whole.items():
        status, _, body = get(f"{server.base_url}/api/{path}?$top=1", bearer)
        assert status == 200 and len(json.loads(body)) == len(store.truth(table))  # no query
    # "matching an (optional) OData query", the vendor says of the field definitions
    status, _, body = get(f"{server.base_url}/api/metadata/fields?$top=1", bearer)
    assert status == 200 and len(json.loads(body)) == 1 < len(store.truth("fields"))
    opportunity = store.dump()["opportunity_products"][0]["opportunityID"]
    status, _, body = get(f"{server.base_url}/api/opportunities/{opportunity}/products", bearer)
    items = [i for i in store.truth("opportunity_products") if i["opportunityID"] == opportunity]
    assert status == 200 and json.loads(body) == items
    link = store.dump()["group_contacts"][0]
    status, _, body = get(f"{server.base_url}/api/groups/{link['groupID']}/associated-contacts",
                          bearer)  # fmt: skip
    assert link["contactID"] in {c["id"] for c in json.loads(body)}
    contact = next(c for c in store.truth("contacts") if c["companyID"])
    path = f"companies/{contact['companyID']}/associated-contacts"
    assert contact["id"] in {c["id"] for c in json.loads(get(f"{server.base_url}/api/{path}",
                                                              bearer)[2])}  # fmt: skip
    assert get(f"{server.base_url}/api/groups/nope/associated-contacts", bearer)[0] == 404
    sent = store.truth("contact_campaigns")[0]
    path = f"contacts/{sent['contacts'][0]}/campaigns"
    assert sent["id"] in {c["id"] for c in json.loads(get(f"{server.base_url}/api/{path}",
                                                           bearer)[2])}  # fmt: skip
    link = store.truth("contact_secondaries")[0]
    path = f"contacts/{link['contactID']}/secondary-contacts"
    assert link["secondaryID"] in {c["id"] for c in json.loads(get(f"{server.base_url}/api/{path}",
                                                                   bearer)[2])}  # fmt: skip
    subgroup = next(g for g in store.truth("groups") if g["parentID"])
    path = f"groups/{subgroup['parentID']}/associated-groups"
    status, _, body = get(f"{server.base_url}/api/{path}?$top=1&$orderby=id", bearer)
    under = sorted(g["id"] for g in store.truth("groups") if g["parentID"] == subgroup["parentID"])
    assert status == 200 and [g["id"] for g in json.loads(body)] == under[:1]  # OData, as any
    status, _, body = get(f"{server.base_url}/api/custom/entities/projects?$top=3", bearer)
    assert status == 200 and len(json.loads(body)) == 3  # OData, as the other collections


def test_a_parents_list_takes_an_odata_query_and_the_page_cap(server):
    """As the vendor says of them: "matching an (optional) OData query"; and a server that
    caps its answers caps these too."""
    bearer = {"Authorization": "Bearer " + token(server)}
    company = next(c for c in server.store.truth("contacts") if c["companyID"])["companyID"]
    path = f"{server.base_url}/api/companies/{company}/associated-contacts"
    members = sorted(c["id"] for c in server.store.truth("contacts") if c["companyID"] == company)
    assert len(members) >= 2
    status, _, body = get(f"{path}?$orderby=id%20asc&$filter=id%20gt%20'{members[0]}'", bearer)
    assert status == 200 and [c["id"] for c in json.loads(body)] == members[1:]
    server.configure(page_cap=1)
    assert [c["id"] for c in json.loads(get(f"{path}?$orderby=id%20asc", bearer)[2])] == members[
        :1
    ]
    assert get(f"{path}?$filter=nope%20eq%201", bearer)[0] == 400  # an unknown property


def test_a_realistic_pace_and_a_limit_on_requests_served_at_once(server):
    server.configure(request_seconds=0.2, record_seconds=0.01, max_concurrent=2)
    bearer = {"Authorization": "Bearer " + token(server)}
    started = time.monotonic()
    get(f"{server.base_url}/api/contacts?$top=10", bearer)
    assert 0.3 <= time.monotonic() - started < 0.6  # 0.2 s, and 0.01 s for each of 10 records
    started = time.monotonic()
    threads = [
        threading.Thread(target=get, args=(f"{server.base_url}/api/contacts?$top=1", bearer))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0.4 <= time.monotonic() - started < 0.8  # four requests, two at a time


def test_answers_on_a_kept_connection_come_at_once(server):
    """A client's session reuses its connection; an answer's body must not wait for the client's
    delayed ACK of its headers (Nagle's algorithm, up to 40 ms a request on Linux), which no IIS
    server adds and which would make the paced benchmark measure the emulator, not the
    connector. Twenty answers take about 40 ms; with that wait they took over 0.8 s."""
    bearer = {"Authorization": "Bearer " + token(server)}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    path = f"{server.settings.base_path}/api/contacts?$top=1"
    started = time.monotonic()
    for _ in range(20):
        connection.request("GET", path, headers=bearer)
        answer = connection.getresponse()
        assert answer.status == 200 and answer.read()
    connection.close()
    assert time.monotonic() - started < 0.4


def test_a_kind_of_record_the_data_lacks_is_served_as_an_empty_page():
    """Data made by another generator (the benchmark's) may lack a table: it is empty, not a
    dropped connection."""
    server = ActEmulator(data={"contacts": []})
    server.start()
    try:
        bearer = {"Authorization": "Bearer " + token(server)}
        assert get(f"{server.base_url}/api/groups?$top=5", bearer)[::2] == (200, "[]")
        assert get(f"{server.base_url}/api/task-types", bearer)[::2] == (200, "[]")
        assert get(f"{server.base_url}/api/groups/g1/associated-contacts", bearer)[0] == 404
    finally:
        server.stop()


def test_refusals_are_counted_by_kind_with_the_waits_they_tell(server):
    """What the throttled benchmark's refusal floor is computed from."""
    bearer = "Bearer " + token(server)
    server.configure(refuse_share=1.0, retry_after=2.0, authorize_throttle_every=1)
    statuses = []
    for _ in range(6):
        try:
            statuses.append(get(f"{server.base_url}/api/contacts", {"Authorization": bearer})[0])
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
            statuses.append("dropped")
    assert sorted(statuses, key=str) == sorted([429, 429, 503, 503, "dropped", "dropped"], key=str)
    assert get(f"{server.base_url}/authorize", {"Authorization": basic()})[0] == 429
    assert server.stats["refused"] == {"429": 2, "503": 2, "dropped": 2, "authorize_429": 1}
    assert server.stats["told_seconds"] == {"contacts": 8.0, "authorization": 1.0}
