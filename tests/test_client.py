"""The HTTP client: authorization, the one retry policy, pacing and error messages, against
`responses` (and, where the network's own errors matter, real sockets on 127.0.0.1)."""

import base64
import dataclasses
import json
import re
import threading
import time

import pytest
import requests
import responses

from act_connector import client as client_module
from act_connector.client import (
    DEFAULT_POLICY,
    TOKEN_REFRESH_SECONDS,
    ActClient,
    Cancelled,
    account_key,
    answer_limit,
    server_message,
)
from act_connector.config import validate_configuration
from act_connector.errors import (
    ActHttpError,
    ActUnavailable,
    AnswerTooLarge,
    CredentialsRefused,
)
from tests.helpers import ANOTHER_ACCOUNT, BASE_URL, PASSWORD, configuration

AUTHORIZE = f"{BASE_URL}/authorize"
CONTACTS = f"{BASE_URL}/api/contacts"
COMPANIES = f"{BASE_URL}/api/companies"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKb2huIn0.c2ln"


@pytest.fixture
def settings(catalog):
    return validate_configuration(configuration(rate_limit_pause="0.5"), catalog)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def client_for(settings, slept=None, clock=None, policy=DEFAULT_POLICY):
    """A client whose sleeps are recorded in `slept` and move its clock on, at once."""
    clock = clock or FakeClock()
    slept = slept if slept is not None else []

    def sleep(seconds):
        slept.append(seconds)
        clock.now += seconds

    return ActClient(settings, sleep=sleep, clock=clock, policy=policy)


def authorize_ok(body=TOKEN, **headers):
    responses.get(AUTHORIZE, body=body, content_type="text/html", headers=headers)


@responses.activate
def test_authorize_sends_utf8_basic_credentials_and_database(settings):
    authorize_ok(body=f'"{TOKEN}"')  # some servers quote the token
    responses.get(CONTACTS, json=[{"id": "a"}])
    client = client_for(settings)
    assert client.get_rows("contacts", "contacts", {"$top": "1"}) == [{"id": "a"}]
    auth_request, data_request = (call.request for call in responses.calls)
    expected = base64.b64encode(f"John Hollo:{PASSWORD}".encode()).decode()
    assert auth_request.headers["Authorization"] == f"Basic {expected}"
    assert auth_request.headers["Act-Database-Name"] == "ActDemo"
    assert data_request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert data_request.headers["Act-Database-Name"] == "ActDemo"
    assert data_request.url == f"{CONTACTS}?$top=1"


@responses.activate
def test_odata_query_is_percent_encoded_with_odata_characters_kept(settings):
    authorize_ok()
    responses.get(CONTACTS, json=[])
    client_for(settings).get_rows(
        "contacts", "contacts", {"$filter": "id gt 'O''Brien' and edited le 2025-01-01T00:00:00Z"}
    )
    assert responses.calls[1].request.url == (
        f"{CONTACTS}?$filter=id%20gt%20'O''Brien'%20and%20edited%20le%202025-01-01T00:00:00Z"
    )


@responses.activate
def test_every_request_has_a_timeout(settings):
    authorize_ok()
    responses.get(CONTACTS, json=[])
    client_for(settings).get_rows("contacts", "contacts", {})
    # (connect, read): a host that never answers fails in seconds, a slow answer has a minute
    timeouts = [call.request.req_kwargs["timeout"] for call in responses.calls]
    assert timeouts == [(10.0, 60.0), (10.0, 60.0)]


@responses.activate
def test_odata_envelope_is_accepted(settings):
    authorize_ok()
    responses.get(CONTACTS, json={"value": [{"id": "a"}, {"id": "b"}], "Count": 2})
    assert client_for(settings).get_rows("contacts", "contacts", {}) == [{"id": "a"}, {"id": "b"}]


@responses.activate
def test_refused_credentials_fail_at_once_without_retry_or_secret(settings):
    responses.get(AUTHORIZE, status=401)
    with pytest.raises(CredentialsRefused) as raised:
        client_for(settings).get_rows("contacts", "contacts", {})
    message = str(raised.value)
    assert "refused the user name, password or database name" in message
    assert PASSWORD not in message
    assert len(responses.calls) == 1


@responses.activate
def test_expired_token_is_renewed_and_the_request_retried(settings):
    authorize_ok()
    authorize_ok(body="fresh-token")
    responses.get(CONTACTS, status=401)
    responses.get(CONTACTS, json=[{"id": "a"}])
    client = client_for(settings)
    client.authorize()
    assert client.get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    assert responses.calls[3].request.headers["Authorization"] == "Bearer fresh-token"
    assert client.stats.token_refreshes == 2


# -- lost access, told from a token that merely expired (issue 29, item 1)


class TokenServer:
    """Act!'s /authorize, /api/contacts and /api/companies as `responses` callbacks, on the
    client's fake clock: tokens live `ttl` seconds, and a valid one gets what `answers` holds
    next (then the last of them again) while an expired one gets a bare 401. `meanwhile`, if
    set, runs once as the next request arrives, before it is answered."""

    def __init__(self, clock, ttl, answers=((200, "[]"),)):
        self.clock, self.ttl, self.answers = clock, ttl, list(answers)
        self.issued: dict[str, float] = {}
        self.log: list[str] = []
        self.meanwhile = None
        responses.add_callback(responses.GET, AUTHORIZE, self.authorize)
        responses.add_callback(responses.GET, CONTACTS, self.contacts)
        responses.add_callback(responses.GET, COMPANIES, self.contacts)

    def authorize(self, request):
        token = f"token-{len(self.issued) + 1}"
        self.issued[token] = self.clock.now
        self.log.append(f"authorize: {token}")
        return 200, {}, token

    def contacts(self, request):
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        table = request.url.rsplit("/", 1)[-1]
        token = request.headers["Authorization"].removeprefix("Bearer ")
        if self.clock.now - self.issued[token] > self.ttl:
            self.log.append(f"{table} {token}: 401")
            return 401, {}, ""
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        self.log.append(f"{table} {token}: {status}")
        return status, {}, body


@responses.activate
def test_a_token_this_request_got_and_act_refused_at_once_is_lost_access(settings):
    """The request got the sync's first token itself and sent it at once: no second token is
    asked for, and the message says what it means."""
    authorize_ok()
    responses.get(CONTACTS, status=401)
    with pytest.raises(CredentialsRefused) as raised:
        client_for(settings).get_rows("contacts", "contacts", {})
    assert str(raised.value) == (
        f"Table 'contacts': Act! refused a freshly issued token (HTTP 401 from {CONTACTS}); "
        "the user may have lost access to the database."
    )
    assert [call.request.url for call in responses.calls] == [AUTHORIZE, CONTACTS]


@responses.activate
def test_a_renewal_of_its_own_refused_at_once_is_lost_access(settings, capsys):
    authorize_ok()
    authorize_ok(body="fresh-token")
    responses.get(CONTACTS, status=401)
    client = client_for(settings)
    client.authorize()
    with pytest.raises(CredentialsRefused, match="Table 'contacts': Act! refused a freshly"):
        client.get_rows("contacts", "contacts", {})
    assert [call.request.url for call in responses.calls] == [
        AUTHORIZE, CONTACTS, AUTHORIZE, CONTACTS
    ]  # fmt: skip
    assert responses.calls[3].request.headers["Authorization"] == "Bearer fresh-token"
    assert "Table 'contacts': the Act! token expired; authorizing again" in capsys.readouterr().out


@responses.activate
def test_a_token_another_worker_renewed_is_renewed_again_when_refused(settings):
    """While this request's expired token was out, another worker's request renewed it; the
    renewed token then expired too before this request used it. It is renewed again, by this
    request, which gets its answer: another worker's token refused is no lost access."""
    clock = FakeClock()
    server = TokenServer(clock, ttl=0.4)
    client = client_for(settings, clock=clock)
    client.authorize()
    clock.now += 1  # the sync's token expires

    def another_worker():
        client.get_rows("companies", "companies", {})  # gets a 401 and renews the token
        clock.now += 0.5  # this request's answer comes later than the new token lives

    server.meanwhile = another_worker
    assert client.get_rows("contacts", "contacts", {}) == []
    assert server.log == [
        "authorize: token-1",
        "companies token-1: 401",
        "authorize: token-2",  # the other worker's
        "companies token-2: 200",
        "contacts token-1: 401",
        "contacts token-2: 401",  # renewed by another worker: expired meanwhile
        "authorize: token-3",  # this request's own
        "contacts token-3: 200",
    ]
    assert (client.stats.tables["contacts"].renewals, client.stats.token_refreshes) == (1, 3)


@responses.activate
def test_a_token_that_expired_while_the_request_waited_is_renewed(settings):
    """Throttled: every request first waits the rate-limit pause (0.5 s), longer than tokens
    live (0.4 s). A token renewed before that pause would expire during it; the request renews
    after it and sends the token at once, and gets its answer."""
    clock = FakeClock()
    server = TokenServer(clock, ttl=0.4, answers=[(429, ""), (200, '[{"id": "a"}]')])
    slept = []
    client = client_for(settings, slept, clock=clock)
    client.authorize()
    assert client.get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    assert server.log == [
        "authorize: token-1",
        "contacts token-1: 429",
        "contacts token-1: 401",  # expired during the 429's wait
        "authorize: token-2",
        "contacts token-2: 200",
    ]
    assert slept[1:] == [0.5, 0.5]  # the 429's backoff, then the pause before each request


@responses.activate
def test_out_of_time_with_an_expired_token_reports_what_failed_before(settings):
    """Refused again and again, its token expired during the waits, and the request's time ran
    out on the 401. The cause is the server's 503s, not a refused fresh token."""
    authorize_ok()
    for _ in range(7):
        responses.get(CONTACTS, status=503, body="<html><title>Service Unavailable</title></html>")
    clock = FakeClock()

    def slow_401(request):
        clock.now += 60  # the answer takes a minute: the request's time runs out meanwhile
        return 401, {}, ""

    responses.add_callback(responses.GET, CONTACTS, slow_401)
    policy = dataclasses.replace(DEFAULT_POLICY, request_seconds=90, down_seconds=900)
    client = client_for(settings, clock=clock, policy=policy)
    client.authorize()
    with pytest.raises(ActHttpError) as raised:
        client.get_rows("contacts", "contacts", {})
    assert str(raised.value) == (
        f"Table 'contacts': Act! answered HTTP 503 for {CONTACTS}: Service Unavailable"
    )


@responses.activate
def test_an_expired_token_on_the_eighth_attempt_is_no_lost_access(settings):
    """The issue's request: seven 503s, then a 401 to a token that expired during their
    backoff. It is renewed and the request goes on; the server's 503s are what it reports."""
    authorize_ok()
    for _ in range(7):
        responses.get(CONTACTS, status=503, body="<html><title>Service Unavailable</title></html>")
    responses.get(CONTACTS, status=401)
    responses.get(CONTACTS, status=503, body="<html><title>Service Unavailable</title></html>")
    client = client_for(settings)
    client.authorize()
    with pytest.raises(ActUnavailable) as raised:
        client.get_rows("contacts", "contacts", {})
    assert str(raised.value).startswith(
        "Table 'contacts': Act! has answered no request but with errors for 300s, so the server "
        f"is down (the last: HTTP 503: Service Unavailable, from {CONTACTS})."
    )
    assert client.stats.tables["contacts"].renewals == 1


@responses.activate
def test_token_is_refreshed_before_its_lifetime_runs_out(settings):
    authorize_ok()
    authorize_ok(body="second")
    responses.get(CONTACTS, json=[])
    clock = FakeClock()
    client = client_for(settings, clock=clock)
    client.get_rows("contacts", "contacts", {})
    clock.now += TOKEN_REFRESH_SECONDS + 1
    client.get_rows("contacts", "contacts", {})
    urls = [call.request.url for call in responses.calls]
    assert urls == [AUTHORIZE, CONTACTS, AUTHORIZE, CONTACTS]
    assert responses.calls[3].request.headers["Authorization"] == "Bearer second"


@responses.activate
def test_429_with_retry_after_waits_exactly_that_and_keeps_no_pause(settings):
    """Told how long, the request waits that long, and no request pauses after it: the pause
    kept once throttled cost every later request of a throttled sync 0.25 s (issue 28)."""
    authorize_ok()
    responses.get(CONTACTS, status=429, headers={"Retry-After": "7"})
    responses.get(CONTACTS, json=[{"id": "a"}])
    responses.get(CONTACTS, json=[])
    slept = []
    client = client_for(settings, slept)
    assert client.get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    assert slept == [7.0]
    client.get_rows("contacts", "contacts", {})
    assert slept == [7.0]
    assert client.stats.throttled == 1


@responses.activate
def test_429_that_tells_no_wait_keeps_the_configured_pause(settings):
    authorize_ok()
    responses.get(CONTACTS, status=429)
    responses.get(CONTACTS, json=[{"id": "a"}])
    responses.get(CONTACTS, json=[])
    slept = []
    client = client_for(settings, slept)
    client.get_rows("contacts", "contacts", {})
    assert 0.5 <= slept[0] <= 1.0 and slept[1:] == [0.5]  # backoff (at least the pause), pause
    client.get_rows("contacts", "contacts", {})
    assert slept[2:] == [0.5]


@responses.activate
def test_told_waits_do_not_grow_the_backoff_of_later_failures(settings):
    """Two 429s told 1 s each, then a dropped connection: retried at once, not after the
    backoff of a third failure (2 to 4 s)."""
    authorize_ok()
    for _ in range(2):
        responses.get(CONTACTS, status=429, headers={"Retry-After": "1"})
    responses.get(CONTACTS, body=requests.ConnectionError("Connection reset by peer"))
    responses.get(CONTACTS, json=[])
    slept = []
    client = client_for(settings, slept)
    client.authorize()
    client.get_rows("contacts", "contacts", {})
    assert slept == [1.0, 1.0, 0.0]


@responses.activate
def test_a_dropped_connection_is_retried_at_once_twice_then_backs_off(settings):
    """Two drops in a row are chance on a server that drops one request in ten (issue 28's
    throttled server: backing off from the second cost 5-7% above the refusals' floor); the
    third backs off, and the fourth longer."""
    authorize_ok()
    for _ in range(4):
        responses.get(CONTACTS, body=requests.ConnectionError("Connection reset by peer"))
    responses.get(CONTACTS, json=[])
    slept = []
    client = client_for(settings, slept)
    client.authorize()  # the server has answered: a dropped connection is no unreached host
    client.get_rows("contacts", "contacts", {})
    assert slept[:2] == [0.0, 0.0] and 0.5 <= slept[2] <= 1.0 and 1.0 <= slept[3] <= 2.0


@responses.activate
def test_tokens_are_renewed_ahead_of_the_lifetime_act_showed_while_others_go_on(settings):
    """Act! refused a token 10 s old: the next is renewed at 5 s, by one worker, while another
    goes on with the token it has instead of waiting for /authorize (issue 28: tokens of a few
    seconds stalled every worker at each expiry)."""
    clock = FakeClock()
    client = client_for(settings, clock=clock)
    meanwhile = {}

    def other_worker():
        meanwhile["rows"] = client.get_rows("companies", "companies", {})

    tokens = iter(["first", "second", "third"])

    def authorize(request):
        token = next(tokens)
        if token == "third":  # renewing ahead: another worker is not held up meanwhile
            worker = threading.Thread(target=other_worker)
            worker.start()
            worker.join(5)
            meanwhile["done"] = not worker.is_alive()
        return 200, {}, token

    responses.add_callback(responses.GET, AUTHORIZE, authorize, content_type="text/html")
    responses.get(CONTACTS, status=401)
    responses.get(CONTACTS, json=[{"id": "a"}])
    responses.get(COMPANIES, json=[{"id": "c"}])
    client.authorize()
    clock.now += 10
    client.get_rows("contacts", "contacts", {})  # "first" refused at 10 s: renewed
    clock.now += 6
    client.get_rows("contacts", "contacts", {})  # "second" is 6 s old: renewed ahead
    data = [
        (call.request.url, call.request.headers["Authorization"])
        for call in responses.calls
        if call.request.url != AUTHORIZE
    ]
    # the other worker went on with "second" while "third" was being got
    assert data[-2:] == [(COMPANIES, "Bearer second"), (CONTACTS, "Bearer third")]
    assert meanwhile == {"rows": [{"id": "c"}], "done": True}
    assert client.stats.token_refreshes == 3


@responses.activate
def test_429_without_retry_after_uses_the_rate_limit_reset(settings):
    authorize_ok()
    responses.get(CONTACTS, status=429, headers={"X-RateLimit-Reset": "12"})
    responses.get(CONTACTS, json=[])
    slept = []
    client_for(settings, slept).get_rows("contacts", "contacts", {})
    assert slept[0] == 12.0


@responses.activate
def test_a_used_up_rate_limit_waits_for_its_reset_before_the_next_request(settings):
    authorize_ok()
    responses.get(
        CONTACTS, json=[], headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}
    )
    slept = []
    client_for(settings, slept).get_rows("contacts", "contacts", {})
    assert slept == [3.0]


@responses.activate
def test_an_unthrottled_sync_never_sleeps(settings):
    authorize_ok()
    for _ in range(5):
        responses.get(CONTACTS, json=[{"id": "a"}], headers={"X-RateLimit-Remaining": "99"})
    slept = []
    client = client_for(settings, slept)
    for _ in range(5):
        client.get_rows("contacts", "contacts", {})
    assert slept == []
    assert client.stats.sleep_seconds == 0


@responses.activate
def test_server_errors_are_retried_with_growing_backoff(settings):
    authorize_ok()
    responses.get(CONTACTS, status=503, body="<html><title>Service Unavailable</title></html>")
    responses.get(CONTACTS, status=500, json={"message": "An error has occurred."})
    responses.get(CONTACTS, json=[{"id": "a"}])
    slept = []
    client = client_for(settings, slept)
    assert client.get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    assert len(slept) == 2
    assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0
    assert client.stats.retries == 2


def answered_meanwhile(client, status, **answer):
    """A callback answering `status` to this request while another request of the same sync,
    for companies, gets its answer: the server is up, and this request is failing alone."""

    def callback(request):
        client.get_rows("companies", "companies", {})
        return status, {}, json.dumps(answer)

    return callback


@responses.activate
def test_a_request_failing_alone_keeps_trying_for_its_budget_then_fails_its_table(settings):
    """While Act! answers other requests, one that keeps drawing 500s keeps trying (far more
    than eight times) for ten minutes, then fails its table with the server's own words."""
    authorize_ok()
    responses.get(COMPANIES, json=[])
    body = {"message": "An error has occurred.", "exceptionMessage": "Deadlock on lock resources"}
    slept = []
    client = client_for(settings, slept)
    responses.add_callback(responses.GET, CONTACTS, answered_meanwhile(client, 500, **body))
    with pytest.raises(ActHttpError) as raised:
        client.get_rows("contacts", "contacts", {"$top": "5"})
    assert str(raised.value) == (
        f"Table 'contacts': Act! answered HTTP 500 for {CONTACTS}?$top=5: An error has "
        "occurred.: Deadlock on lock resources"
    )
    assert raised.value.table_scoped  # the other tables sync on
    assert len(slept) > 20 and 570 < sum(slept) <= 600
    assert max(slept) <= 30  # capped backoff


@responses.activate
def test_a_request_refused_twenty_times_while_others_succeed_gets_through(settings):
    authorize_ok()
    responses.get(COMPANIES, json=[])
    client = client_for(settings)
    failing = answered_meanwhile(client, 503)
    for number in range(20):
        if number % 2:
            responses.add_callback(responses.GET, CONTACTS, failing)
        else:
            responses.get(CONTACTS, status=429, headers={"Retry-After": "1"})
    responses.get(CONTACTS, json=[{"id": "a"}])
    assert client.get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    cost = client.stats.tables["contacts"]
    assert (cost.requests, cost.retries, cost.throttled) == (21, 20, 10)


@responses.activate
@pytest.mark.parametrize(
    ("failure", "last"),
    [
        ({"status": 500, "json": {"message": "An error has occurred."}}, "HTTP 500: An error "
         "has occurred."),
        ({"body": requests.ConnectionError("Connection reset by peer")}, "ConnectionError: "
         "Connection reset by peer"),
        ({"body": requests.ReadTimeout("read timed out")}, "ReadTimeout: read timed out"),
    ],
)  # fmt: skip
def test_a_server_answering_nothing_but_errors_for_five_minutes_is_down(settings, failure, last):
    authorize_ok()
    responses.get(CONTACTS, **failure)
    slept = []
    with pytest.raises(ActUnavailable) as raised:
        client_for(settings, slept).get_rows("contacts", "contacts", {})
    assert str(raised.value) == (
        "Table 'contacts': Act! has answered no request but with errors for 300s, so the server "
        f"is down (the last: {last}, from {CONTACTS}). The next sync resumes from the last "
        "checkpoint."
    )
    assert 240 < sum(slept) <= 300


@responses.activate
def test_timeouts_are_retried(settings):
    authorize_ok()
    responses.get(CONTACTS, body=requests.ReadTimeout("read timed out"))
    responses.get(CONTACTS, json=[])
    slept = []
    assert client_for(settings, slept).get_rows("contacts", "contacts", {}) == []
    assert len(slept) == 1


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "message": "The query specified in the URI is not valid.",
                "exceptionMessage": "Could not find a property named 'editdate'.",
            },
            "HTTP 400 for http://act.test/act.web.api/api/contacts: The query specified in the "
            "URI "
            "is not valid.: Could not find a property named 'editdate'.",
        ),
        (
            403,
            {"code": 4032, "message": "User lacks the Web API Access permission"},
            "HTTP 403 for http://act.test/act.web.api/api/contacts: code 4032: User lacks the "
            "Web API "
            "Access permission (the Act! user needs the 'Web API Access' permission",
        ),
        (
            404,
            "<html><head><title>404 - File or directory not found.</title></head></html>",
            "HTTP 404 for http://act.test/act.web.api/api/contacts: 404 - File or directory "
            "not found.",
        ),
    ],
)
def test_client_errors_fail_at_once_with_the_server_message(settings, status, body, expected):
    authorize_ok()
    if isinstance(body, dict):
        responses.get(CONTACTS, status=status, json=body)
    else:
        responses.get(CONTACTS, status=status, body=body, content_type="text/html")
    with pytest.raises(ActHttpError) as raised:
        client_for(settings).get_rows("contacts", "contacts", {})
    assert expected in str(raised.value)
    assert raised.value.status == status
    assert len(responses.calls) == 2


@responses.activate
def test_server_clock_is_read_from_the_date_header(settings):
    authorize_ok(Date="Tue, 01 Jul 2025 10:00:05 GMT")
    client = client_for(settings)
    client.authorize()
    assert client.server_time.isoformat() == "2025-07-01T10:00:05+00:00"


def test_server_message_without_body():
    response = requests.Response()
    response.status_code, response.reason, response._content = 502, "Bad Gateway", b""
    assert server_message(response) == "no message (HTTP 502 Bad Gateway)"


@responses.activate
def test_a_429_on_authorize_waits_as_told_and_authorizes(settings):
    responses.get(AUTHORIZE, status=429, headers={"Retry-After": "4"})
    authorize_ok()
    responses.get(CONTACTS, json=[{"id": "a"}])
    slept = []
    assert client_for(settings, slept).get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    assert slept == [4.0]


@responses.activate
@pytest.mark.parametrize("status", [408, 502, 503, 504, 520, 522, 524])
def test_gateway_and_timeout_statuses_are_retried(settings, status):
    authorize_ok()
    responses.get(CONTACTS, status=status, body="<html><title>Gateway trouble</title></html>")
    responses.get(CONTACTS, json=[])
    slept = []
    assert client_for(settings, slept).get_rows("contacts", "contacts", {}) == []
    assert len(slept) == 1


@responses.activate
def test_a_503_with_retry_after_waits_as_told(settings):
    authorize_ok()
    responses.get(CONTACTS, status=503, headers={"Retry-After": "9"})
    responses.get(CONTACTS, json=[])
    slept = []
    client_for(settings, slept).get_rows("contacts", "contacts", {})
    assert slept == [9.0]


@responses.activate
def test_a_body_cut_off_mid_transfer_is_retried(settings):
    authorize_ok()
    cut = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(10 bytes)")
    responses.get(CONTACTS, body=cut)
    responses.get(CONTACTS, json=[{"id": "a"}])
    slept = []
    assert client_for(settings, slept).get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    assert len(slept) == 1


@responses.activate
def test_throttled_to_the_end_names_429_and_what_to_do(settings):
    authorize_ok()
    responses.get(CONTACTS, status=429, json={"message": "Too many requests."})
    with pytest.raises(ActUnavailable) as raised:
        client_for(settings, []).get_rows("contacts", "contacts", {})
    assert re.fullmatch(
        rf"Table 'contacts': Act! kept answering 429 \(too many requests\) for {CONTACTS}, "
        r"\d+ attempt\(s\) in \d+s: Too many requests\. Raise rate_limit_pause or sync less "
        r"often\.",
        str(raised.value),
    ), str(raised.value)


@responses.activate
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 01 Jul 2025 10:00:05 GMT", "2025-07-01T10:00:05+00:00"),
        ("Tue, 01 Jul 2025 10:00:05 -0000", "2025-07-01T10:00:05+00:00"),  # zone unknown
        ("Tue, 01 Jul 2025 10:00:05", "2025-07-01T10:00:05+00:00"),  # no zone at all
        # a proxy's Date joined to IIS's: the earlier is the safer bound
        (
            "Tue, 01 Jul 2025 10:00:07 GMT, Tue, 01 Jul 2025 10:00:05 GMT",
            "2025-07-01T10:00:05+00:00",
        ),
    ],
)
def test_the_server_clock_is_read_defensively(settings, header, expected):
    authorize_ok(Date=header)
    client = client_for(settings)
    client.authorize()
    assert client.server_time.isoformat() == expected


@responses.activate
def test_an_unreadable_date_is_ignored_with_one_warning(settings, capsys):
    for _ in range(3):
        authorize_ok(Date="yesterday-ish")
    client = client_for(settings)
    for _ in range(3):
        client.authorize()
    assert client.server_time is None
    assert capsys.readouterr().out.count("Act! sent a Date header that is not a date") == 1


@responses.activate
def test_an_answer_larger_than_the_page_could_be_is_refused_before_it_is_read(
    settings, monkeypatch
):
    monkeypatch.setattr("act_connector.client.MIN_ANSWER_BYTES", 1000)
    monkeypatch.setattr("act_connector.client.ANSWER_BYTES_PER_RECORD", 100)
    authorize_ok()
    responses.get(CONTACTS, json=[{"id": "x" * 50}] * 100)  # ~6 KB for a $top of 10
    with pytest.raises(AnswerTooLarge, match=r"Table 'contacts': Act! sent more than .* \$top"):
        client_for(settings).get_rows("contacts", "contacts", {"$top": "10"})
    assert answer_limit({"$top": "10"}) == 1000


def test_answer_limits_follow_the_page_size():
    assert answer_limit({"$top": "2000"}) == 2000 * 32 * 1024
    assert answer_limit({"$top": "1"}) == 16 * 1024 * 1024
    assert answer_limit({"$top": "10000"}) == 128 * 1024 * 1024
    assert answer_limit({}) == 128 * 1024 * 1024


@responses.activate
def test_a_stopped_request_abandons_its_backoff_at_once(settings):
    authorize_ok()
    responses.get(CONTACTS, status=503)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    client = ActClient(settings)  # real sleeping: a 503 without Retry-After backs off
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client.get_page("contacts", "contacts", {}, stop=stop)
    assert time.monotonic() - started < 2


@responses.activate
def test_the_rate_limit_pause_applies_to_data_requests_once_throttled_untold(settings):
    authorize_ok()
    responses.get(CONTACTS, status=429, headers={"Retry-After": "0"})
    responses.get(CONTACTS, status=429)
    responses.get(CONTACTS, json=[])
    slept = []
    client_for(settings, slept).get_rows("contacts", "contacts", {})
    # told 0 s: none; told nothing: backoff of at least the pause, then the pause
    assert slept[0] == 0.0 and 0.5 <= slept[1] <= 2.0 and slept[2:] == [0.5]


# -- one token for the clients of one account (schema() and update() of a sync)


@responses.activate
def test_clients_of_one_account_share_a_token_and_the_servers_clock(settings):
    authorize_ok(Date="Tue, 01 Jul 2025 10:00:05 GMT")
    responses.get(CONTACTS, json=[])
    first = client_for(settings)
    first.authorize()
    second = client_for(settings)
    second.authorize()  # asks nothing: the first's token serves
    second.get_rows("contacts", "contacts", {})
    assert [call.request.url for call in responses.calls] == [AUTHORIZE, CONTACTS]
    assert responses.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    # The clock /authorize gave, moved on by the time since: never ahead of the server's.
    moved_on = (second.server_time - first.server_time).total_seconds()
    assert 0 <= moved_on < 5
    assert (first.stats.token_refreshes, second.stats.token_refreshes) == (1, 0)


@responses.activate
def test_a_shared_token_act_refuses_is_renewed_once_and_the_request_retried(settings, capsys):
    authorize_ok()
    authorize_ok(body="fresh-token")
    responses.get(CONTACTS, status=401)
    responses.get(CONTACTS, json=[{"id": "a"}])
    client_for(settings).authorize()
    second = client_for(settings)
    second.authorize()
    assert second.get_rows("contacts", "contacts", {}) == [{"id": "a"}]
    urls = [call.request.url for call in responses.calls]
    assert urls == [AUTHORIZE, CONTACTS, AUTHORIZE, CONTACTS]
    assert responses.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert responses.calls[3].request.headers["Authorization"] == "Bearer fresh-token"
    assert "Table 'contacts': the Act! token expired; authorizing again" in capsys.readouterr().out
    third = client_for(settings)  # the renewed token is the one shared now
    third.authorize()
    assert len(responses.calls) == 4 and third._token == "fresh-token"


@pytest.mark.parametrize("change", ANOTHER_ACCOUNT)
@responses.activate
def test_another_account_never_gets_the_token(settings, catalog, change):
    authorize_ok()
    authorize_ok(body="other-token")
    responses.get("http://other.test/act.web.api/authorize", body="other-token")
    client_for(settings).authorize()
    other = client_for(validate_configuration(configuration(**change), catalog))
    other.authorize()
    assert len(responses.calls) == 2 and other._token == "other-token"


@responses.activate
def test_a_shared_token_past_the_refresh_window_is_not_used(settings):
    authorize_ok()
    authorize_ok(body="second")
    client_for(settings).authorize()
    [(account, shared)] = client_module._tokens.items()
    older = shared.obtained - TOKEN_REFRESH_SECONDS - 1
    client_module._tokens[account] = dataclasses.replace(shared, obtained=older)
    late = client_for(settings)
    late.authorize()
    assert len(responses.calls) == 2 and late._token == "second"


@responses.activate
def test_a_test_of_the_credentials_always_asks(settings):
    authorize_ok()
    client_for(settings).authorize()
    client_for(settings).authorize(reuse=False)  # the setup test's and the doctor's
    assert len(responses.calls) == 2


@responses.activate
def test_what_is_shared_shows_neither_token_nor_password(settings):
    authorize_ok()
    client_for(settings).authorize()
    shown = repr(client_module._tokens)
    assert TOKEN not in shown and PASSWORD not in shown
    assert account_key(settings)[:3] == (BASE_URL, "ActDemo", "John Hollo")
