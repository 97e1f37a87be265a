"""The emulator is only worth its end-to-end tests if it behaves as Act! does: these check it."""

import base64
import json
import random
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from emulator.odata import ODataError, Query
from emulator.server import ActEmulator
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
    time.sleep(0.3)
    assert get(f"{server.base_url}/api/contacts?$top=1", bearer)[0] == 401


def test_errors_are_aspnet_json_bodies(server):
    bearer = {"Authorization": "Bearer " + token(server)}
    status, _, body = get(
        f"{server.base_url}/api/Products?$filter=" + quote("editdate ge 2025-01-01T00:00:00Z"),
        bearer,
    )
    assert status == 400
    assert json.loads(body)["message"].startswith("The query specified in the URI is not valid.")


def test_select_lists_only_the_named_fields_unless_the_build_refuses_it(server):
    bearer = {"Authorization": "Bearer " + token(server)}
    url = f"{server.base_url}/api/contacts?$select=id,edited&$top=2"
    status, _, body = get(url, bearer)
    assert status == 200 and [sorted(row) for row in json.loads(body)] == [["edited", "id"]] * 2
    server.configure(select_supported=False)
    status, _, body = get(url, bearer)
    assert status == 400 and "Query option 'Select' is not allowed" in json.loads(body)["message"]
    assert get(f"{server.base_url}/api/contacts?$top=2", bearer)[0] == 200


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
    truth = json.loads(get(f"http://127.0.0.1:{server.port}/_emulator/truth/contacts")[2])
    assert len(truth) == 42 and set(created) <= {r["id"] for r in truth}


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
