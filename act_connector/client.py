"""The HTTP client for the Act! Web API: authorization, one retry policy, pacing, error messages.

One persistent session serves the whole sync, and every request has a timeout. Every request,
/authorize included, goes through one loop (`_request`) under one `RetryPolicy`, which decides
what is retried, how long to wait and when to give up, from evidence rather than a count: a
request keeps trying while the server answers other requests, and the sync stops when the server
has answered nothing for a while, or was never reached at all. A 401 renews the token; only a
token this very request got from /authorize and sent at once, refused, means the user lost
access. The clients of one account share a token within the process, so that schema() and
update() of one sync authorize once. What each table's requests cost (retries, throttled answers,
token renewals, seconds waited) is counted in `RequestStats`. Secrets (the password and the
token) live only in request headers and memory: never in a URL, a log line or an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlencode

import requests

from act_connector.config import Settings
from act_connector.errors import (
    AUTHORIZATION,
    ActConnectorError,
    ActHttpError,
    ActUnavailable,
    AnswerTooLarge,
    CredentialsRefused,
    subject,
)
from act_connector.logs import log

# Act! tokens live about 65 minutes on self-hosted servers and an hour in the cloud, with no `exp`
# claim to read: refresh well before either runs out.
TOKEN_REFRESH_SECONDS = 45 * 60
# A server whose tokens expire sooner than that is learned from (the age at which it refused one):
# each later token is renewed once it is this share of that age, by one worker while the others
# go on with the token they have, rather than by all of them waiting once it has expired; never
# before this many seconds, whatever a token refused young (revoked, not expired) suggests.
RENEW_AHEAD_SHARE = 0.5
RENEW_AHEAD_MIN_SECONDS = 1.0
# 408 and 429 ask us to come back; 500, 502, 503 and 504 are a server or gateway in trouble; 520
# to 527 are the same from the proxies (Cloudflare and others) that front many Act! clouds.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, *range(520, 528)})
# Statuses whose Retry-After (or X-RateLimit-Reset) tells us how long to wait.
TOLD_TO_WAIT_STATUSES = frozenset({429, 503})
# Characters OData needs to see as they are; everything else in a query is percent-encoded.
ODATA_SAFE = "$',():"
SERVER_MESSAGE_LIMIT = 500
# The most one answer may hold, so that a server or proxy ignoring $top cannot exhaust the 1 GB
# Fivetran gives a connector: 32 KB a record asked for (a contact is 2 to 10 KB of JSON, a long
# note more), at least 16 MB and at most 128 MB (about 400 MB once parsed).
ANSWER_BYTES_PER_RECORD = 32 * 1024
MIN_ANSWER_BYTES = 16 * 1024 * 1024
MAX_ANSWER_BYTES = 128 * 1024 * 1024
# A token is a few hundred bytes; a megabyte is already a page that is not a token.
MAX_TOKEN_ANSWER_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024
# A server on a LAN or the internet accepts a connection in well under a second; ten seconds
# cover the operating system's own resends of a lost one (after 1 and 3 s), so that a host that
# never answers fails its attempts in half a minute, not request_timeout_seconds each.
CONNECT_TIMEOUT = 10.0
# Connections kept open to the server: four tables at once, each with a page fetched ahead and up
# to four requests for its records' children; requests' default pool of 10 would close the rest
# after each answer and open them again.
POOL_CONNECTIONS = 32
# An RFC 1123 date as a Date header holds it; a proxy that adds its own Date makes requests join
# both with ", ", which parsedate cannot read as one.
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}[^,]*")
# What keys the password's digest in account_key: drawn anew by each process, so that no digest
# can be matched against one from elsewhere.
_ACCOUNT_SALT = os.urandom(16)


@dataclass(frozen=True)
class RetryPolicy:
    """What is retried, how long to wait, and when to give up: for every request alike.

    Throttling (429), server and gateway errors (5xx, 52x), timeouts, dropped connections and
    bodies cut off mid-transfer are all retried. A wait the server tells (Retry-After, or
    X-RateLimit-Reset) is kept exactly, by the request it answered alone: other requests go on,
    and a told wait does not grow the backoff of the request's later failures. Failures that
    tell nothing back off, capped, exponentially in their own number; a network failure (a
    dropped keep-alive connection, a cut body) among a request's first two that told nothing,
    on a server that has answered before, is retried at once, on a new connection, as urllib3
    does. When to stop is read
    from what the server does, not from a count of attempts:
    - a server this client has never had an answer from (a wrong host or port) gets
      `unreached_attempts`, so that a setup test or a sync pointed at it fails in seconds;
    - a request keeps trying for `request_seconds` while the server answers other requests:
      a server that answers most requests is throttling or busy, not down;
    - when no request has had an answer but errors for `down_seconds`, the server is down and
      the request that sees it stops the sync.
    """

    # Two retries after the first: a connection refused or a name that does not resolve is not
    # cured by waiting, and three attempts (about 3 s of backoff) still ride out a blip.
    unreached_attempts: int = 3
    # A sync makes thousands of requests, four or more at once. At the backoff's cap of 30 s,
    # ten minutes are about 25 attempts: a server refusing even half its requests at random then
    # refuses one request every time about once in 30 million, yet a request nothing cures holds
    # its table for minutes, not the hours a sync may run.
    request_seconds: float = 600.0
    # An IIS application pool recycles in a minute or two and a proxy fails over faster: a
    # server that has answered nothing but errors for five minutes is down. The sync stops (the
    # next one resumes from its last checkpoint) rather than sit out the rest of the hour.
    down_seconds: float = 300.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    # A connection dropped by a server that answers is that connection's (an idle keep-alive a
    # proxy closed, a balancer's node): a new one is tried at once. A server dropping one
    # request in ten drops two in a row once in a hundred, which a sync of thousands meets, and
    # three once in a thousand: the third in a row backs off.
    network_retries_at_once: int = 2

    def delay(
        self, untold: int, response: requests.Response | None, pause: float, reached: bool = True
    ) -> float:
        """The wait before the next attempt: what the server told, exactly; else backoff in
        `untold`, the request's failures that told no wait (this one included), and at least
        `pause` after a 429; nothing after a network failure among the first
        `network_retries_at_once` of them, on a server reached."""
        told = told_wait(response)
        if told is not None:
            return told
        at_once = self.network_retries_at_once if reached and response is None else 0
        if untold <= at_once:
            return 0.0
        wait = backoff_delay(max(1, untold - at_once), self)
        if response is not None and response.status_code == 429:
            wait = max(wait, pause)
        return wait

    def verdict(
        self, failures: int, reached: bool, trying: float, failing: float, wait: float
    ) -> str | None:
        """Why to give up now, or None to wait `wait` seconds and try again: "unreached" (no
        answer from the server ever), "down" (only errors from it for `failing` seconds, the
        wait included) or "budget" (this request has tried for `trying` seconds, the wait
        included)."""
        if not reached and failures >= self.unreached_attempts:
            return "unreached"
        if failing + wait > self.down_seconds:
            return "down"
        if trying + wait > self.request_seconds:
            return "budget"
        return None


DEFAULT_POLICY = RetryPolicy()
# For a person waiting (the setup test, the doctor): the same policy, with 15 s of patience for
# a server that errs or throttles instead of minutes; one never reached fails as fast as ever.
PROMPT_POLICY = RetryPolicy(request_seconds=15.0, down_seconds=15.0)


@dataclass
class Page:
    """One answer of a collection: its records, and how the server sent them."""

    rows: list
    envelope: str  # "array" (a bare JSON array) or "odata" ({"value": [...]})
    headers: dict[str, str]
    seconds: float  # from sending the request to having the answer parsed
    size: int = 0  # bytes of the answer's body

    def take_rows(self) -> list:
        """The records, handed over: the page keeps none, so that a page kept for its envelope
        or headers does not keep thousands of records alive while they are written and freed."""
        rows, self.rows = self.rows, []
        return rows


# Waits shorter than this in all (the rate-limit pause before a few requests) are not worth a
# table's mention in the summary.
NOTABLE_WAIT_SECONDS = 1.0


@dataclass
class Cost:
    """What the requests for one table (or for authorization) cost."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0  # answers of 429
    renewals: int = 0  # tokens got from /authorize because this table's requests needed one
    paused: float = 0.0  # seconds waited: backoff, Retry-After, the rate-limit pause
    network: float = 0.0  # seconds waiting on the network

    @property
    def costly(self) -> bool:
        """Whether it cost more than its requests: a retry, a renewal or a wait worth a word."""
        return bool(self.retries or self.renewals or self.paused >= NOTABLE_WAIT_SECONDS)

    def words(self) -> str:
        """The cost in words, leaving out counts of 0: 3 retries, 1 throttled, 4.5s waited."""
        counts = [(self.retries, "retries"), (self.throttled, "throttled")]
        counts.append((self.renewals, "token renewals"))
        return ", ".join(
            [f"{count} {what}" for count, what in counts if count] + [f"{self.paused:.1f}s waited"]
        )


@dataclass
class RequestStats:
    """What the sync cost, per table (or "authorization") and in all: tables synced side by
    side share the client, and each reports its own cost. The summary logs it, the doctor
    reports it and the benchmark reads it."""

    tables: dict[str, Cost] = field(default_factory=dict)

    def of(self, table: str) -> Cost:
        return self.tables.setdefault(table, Cost())

    @property
    def by_table(self) -> Counter:
        """Requests per table."""
        return Counter({name: cost.requests for name, cost in self.tables.items()})

    def _total(self, name: str):
        return sum(getattr(cost, name) for cost in self.tables.values())

    requests = property(lambda self: self._total("requests"))
    retries = property(lambda self: self._total("retries"))
    throttled = property(lambda self: self._total("throttled"))
    token_refreshes = property(lambda self: self._total("renewals"))
    sleep_seconds = property(lambda self: self._total("paused"))
    wait_seconds = property(lambda self: self._total("network"))

    def cost_words(self) -> str:
        """Each table that cost more than its requests, with what: "" when none did."""
        return "; ".join(
            f"{name} {cost.words()}" for name, cost in sorted(self.tables.items()) if cost.costly
        )


class Cancelled(ActConnectorError):
    """A request abandoned because its caller no longer wants the answer (a prefetch whose
    page failed to write): it stops waiting at once instead of sitting out a backoff."""


@dataclass
class _Answer:
    """A response whose body has been read (within its bound)."""

    response: requests.Response
    body: bytes = field(repr=False)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def message(self) -> str:
        return server_message(self.response, self.body)


@dataclass(frozen=True)
class SharedToken:
    """A token this process obtained, for the other clients of the same account to use."""

    token: str = field(repr=False)
    obtained: float  # time.monotonic() when /authorize answered
    server_time: datetime | None  # the server's clock then, as the client had read it


# The latest token obtained per account (account_key): schema() and update() of one sync then
# authorize once. One older than TOKEN_REFRESH_SECONDS is not handed out.
_tokens: dict[tuple[str, str, str, str], SharedToken] = {}


def account_key(settings: Settings) -> tuple[str, str, str, str]:
    """Who asks which database: what a token (or what was read with it) may be shared within.
    The password counts too, so that a changed one shares nothing, as a keyed digest: never
    itself."""
    digest = hmac.new(_ACCOUNT_SALT, settings.password.encode(), hashlib.sha256).hexdigest()
    return settings.base_url, settings.database_name, settings.username, digest


class ActClient:
    """Talks to one Act! database. Token renewal is locked, so threads may share a client."""

    def __init__(
        self,
        settings: Settings,
        sleep=None,
        clock=None,
        policy: RetryPolicy = DEFAULT_POLICY,
    ):
        self._settings = settings
        self._account = account_key(settings)
        self._policy = policy
        self.base_url = settings.base_url
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=POOL_CONNECTIONS)
        for scheme in ("https://", "http://"):
            self._session.mount(scheme, adapter)
        self._session.headers.update(
            {"Act-Database-Name": settings.database_name, "Accept": "application/json"}
        )
        if settings.verify is False:
            log.warning(
                "verify_tls is 'false': the server's certificate is not checked. Prefer ca_bundle."
            )
            # Said once above; urllib3 would otherwise repeat it on every request.
            warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        self._token: str | None = None
        self._token_time = 0.0
        self._token_lock = threading.Lock()
        # The youngest age at which Act! refused a token of this client, once it has: tokens are
        # renewed ahead of it (RENEW_AHEAD_SHARE), by one worker at a time (`_renewing`).
        self._token_life: float | None = None
        self._renewing = False
        self._stats_lock = threading.Lock()
        # Once the server throttles without telling how long to wait, keep the configured pause.
        self._throttled = False
        # Evidence for the retry policy: whether the server ever answered this client, and since
        # when every request has failed (None while requests get answers).
        self._reached = False
        self._failing_since: float | None = None
        # The server's clock, from the Date header of its latest answer that had a readable one.
        self.server_time: datetime | None = None
        self._unreadable_date_said = False
        self.stats = RequestStats()

    @property
    def settings(self) -> Settings:
        return self._settings

    def close(self) -> None:
        self._session.close()

    # -- authorization
    def authorize(self, stop: threading.Event | None = None, reuse: bool = True) -> None:
        """Gets this client a token. With `reuse`, one another client of the same account got in
        this process within TOKEN_REFRESH_SECONDS, if there is one (so the sync uses schema()'s);
        otherwise, or without `reuse` (a test of the credentials), one from /authorize. A token
        Act! then refuses is renewed, however it was got."""
        if not (reuse and self._adopt_shared()):
            self._exchange(stop, AUTHORIZATION)

    def _adopt_shared(self) -> bool:
        """Takes the account's shared token, if it is recent and not the one this client has."""
        shared = _tokens.get(self._account)
        if shared is None or shared.token == self._token:
            return False
        age = time.monotonic() - shared.obtained
        if age > TOKEN_REFRESH_SECONDS:
            return False
        self._token, self._token_time = shared.token, self._clock() - age
        if self.server_time is None and shared.server_time is not None:
            # The clock /authorize's answer gave, moved on by the time since: like a Date header
            # read now, never ahead of the server's clock.
            self.server_time = shared.server_time + timedelta(seconds=age)
        return True

    def _exchange(self, stop: threading.Event | None, table: str) -> None:
        """Exchanges the user name and password for a token at /authorize, and shares it;
        `table` is the one whose request needed it (authorization for the sync's first)."""
        url = f"{self.base_url}/authorize"
        credentials = f"{self._settings.username}:{self._settings.password}".encode()
        # The credentials themselves: a 401 to them is an answer, never an expired token.
        basic = ("Basic " + base64.b64encode(credentials).decode("ascii"), True)
        answer = self._request(
            AUTHORIZATION, url, lambda refused: basic, MAX_TOKEN_ANSWER_BYTES, stop
        )
        if answer.status == 401:
            raise CredentialsRefused(
                f"Act! refused the user name, password or database name (HTTP 401 from {url}). "
                "Check username (the Act! display name, spaces included), password and "
                "database_name."
            )
        if answer.status != 200:
            raise ActHttpError(AUTHORIZATION, answer.status, url, answer.message)
        token = answer.body.decode("utf-8", "replace").strip().strip('"')
        if not token:
            raise ActHttpError(AUTHORIZATION, 200, url, "the server sent an empty token")
        self._token = token
        self._token_time = self._clock()
        self._count(table, renewals=1)
        _tokens[self._account] = SharedToken(token, time.monotonic(), self.server_time)

    def _bearer(
        self, table: str, refused: str | None, stop: threading.Event | None
    ) -> tuple[str, bool]:
        """The Authorization header for a data request, and whether this very call got its token
        from /authorize (a 401 to it then means lost access). `refused` is the header Act! has
        just answered 401 to: its token is renewed, unless another worker already renewed it."""
        with self._token_lock:
            age = self._clock() - self._token_time
            if refused is not None and refused == f"Bearer {self._token}":
                log.info(f"{subject(table)}: the Act! token expired; authorizing again")
                self._token_life = age if self._token_life is None else min(self._token_life, age)
                self._exchange(stop, table)
                return f"Bearer {self._token}", True
            old = self._token is None or age > TOKEN_REFRESH_SECONDS
            fresh = refused is None and old and not self._adopt_shared()
            if fresh:
                self._exchange(stop, table)
            header = f"Bearer {self._token}"
            ahead = not fresh and not self._renewing and self._renew_due(age)
            self._renewing = self._renewing or ahead
        if not ahead:
            return header, fresh
        try:  # the others go on with the token they have meanwhile
            self._exchange(stop, table)
        finally:
            self._renewing = False
        return f"Bearer {self._token}", True

    def _renew_due(self, age: float) -> bool:
        """Whether a token this old is due for renewal ahead of the lifetime Act! showed: only
        while the server answers (an answer from /authorize is no evidence it is up)."""
        life = self._token_life
        if life is None or self._failing_since is not None:
            return False
        return age >= max(RENEW_AHEAD_MIN_SECONDS, life * RENEW_AHEAD_SHARE)

    # -- collections
    def get_rows(self, table: str, path: str, params: dict[str, str]) -> list:
        """One page of a collection: the rows, from a bare array or an OData {"value": [...]}."""
        return self.get_page(table, path, params).rows

    def get_page(
        self,
        table: str,
        path: str,
        params: dict[str, str],
        stop: threading.Event | None = None,
    ) -> Page:
        """One page of a collection, with the envelope and headers it came in.

        `stop`, once set, abandons the request at its next wait.
        """
        started = self._clock()
        url = f"{self.base_url}/api/{path}"
        query = urlencode(params, quote_via=quote, safe=ODATA_SAFE)
        full_url = f"{url}?{query}" if query else url
        answer = self._request(
            table,
            full_url,
            lambda refused: self._bearer(table, refused, stop),
            answer_limit(params),
            stop,
        )
        if answer.status == 401:
            raise CredentialsRefused(
                f"Table '{table}': Act! refused a freshly issued token (HTTP 401 from "
                f"{full_url}); the user may have lost access to the database."
            )
        if answer.status != 200:
            raise ActHttpError(table, answer.status, full_url, answer.message)
        self._note_rate_limit(table, answer.response, stop)
        rows, envelope = _rows(table, full_url, answer)
        seconds = self._clock() - started
        return Page(rows, envelope, dict(answer.response.headers), seconds, len(answer.body))

    # -- the one retry loop
    def _request(self, table, url, authorization, limit, stop) -> _Answer:
        """A GET under the retry policy; the answer is any status the policy does not retry.

        `authorization(refused)` gives the Authorization header and whether it is fresh: the
        credentials, or a token got from /authorize by that very call. Only a 401 to a fresh
        header is returned. Any other token may have expired while the request waited (a
        pause, Retry-After, backoff) or been renewed by another worker: a 401 to it renews it,
        and is no failure.
        """
        started, failures, untold, refused = self._clock(), 0, 0, None
        answer, error = None, None  # the latest failure's answer, or its network error
        while True:
            if stop is not None and stop.is_set():
                raise Cancelled(f"{subject(table)}: request abandoned")
            if self._throttled and self._settings.rate_limit_pause and table != AUTHORIZATION:
                self._pause(table, self._settings.rate_limit_pause, stop)
            header, fresh = authorization(refused)
            latest, latest_error = self._attempt(table, url, header, limit)
            if latest is not None:
                self._heard(latest.status)
            refused = None
            if latest is not None and latest.status == 401 and not fresh:
                trying = self._clock() - started
                if failures and trying > self._policy.request_seconds:
                    # Out of time with a token that expired meanwhile: what failed before is
                    # the cause.
                    self._give_up(table, url, "budget", answer, error, failures, trying)
                refused = header
                continue
            if latest is not None and latest.status not in RETRYABLE_STATUSES:
                return latest
            answer, error = latest, latest_error
            failures += 1
            response = answer.response if answer is not None else None
            told = told_wait(response)
            untold += told is None
            if answer is not None and answer.status == 429:
                # Told how long, this request waits that long and the others go on; told
                # nothing, every request keeps the pause from now on.
                self._throttled = self._throttled or told is None
                self._count(table, throttled=1)
            pause = self._settings.rate_limit_pause
            wait = self._policy.delay(untold, response, pause, self._reached)
            now = self._clock()
            trying, failing = now - started, self._failing(now)
            verdict = self._policy.verdict(failures, self._reached, trying, failing, wait)
            if verdict is not None:
                self._give_up(table, url, verdict, answer, error, failures, trying)
            problem = f"HTTP {answer.status}: {answer.message}" if answer else _words(error)
            self._count(table, retries=1)
            log.warning(f"{subject(table)}: {problem} from {url}; retry {failures} in {wait:.1f}s")
            self._pause(table, wait, stop)

    def _attempt(self, table, url, header, limit) -> tuple[_Answer | None, Exception | None]:
        """One request: its answer, or (None, the network error that stopped it)."""
        started = self._clock()
        self._count(table, requests=1)
        timeout = self._settings.request_timeout
        try:
            # verify on each request: requests lets REQUESTS_CA_BUNDLE override session.verify
            with self._session.get(
                url,
                headers={"Authorization": header},
                timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
                verify=self._settings.verify,
                stream=True,
            ) as response:
                self._read_clock(response)
                body = _read_body(table, url, response, limit)
        except requests.exceptions.SSLError as error:
            raise ActUnavailable(_tls_failure(table, url, error, self._settings.verify)) from None
        except (
            requests.ConnectionError,
            requests.Timeout,
            # The connection dropped after the headers: the body arrived cut off.
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as error:
            return None, error
        finally:
            self._count(table, network=self._clock() - started)
        return _Answer(response, body), None

    def _heard(self, status: int) -> None:
        """An answer came: the server is reached, and up unless the answer is an error."""
        with self._stats_lock:
            self._reached = True
            if status not in RETRYABLE_STATUSES:
                self._failing_since = None

    def _failing(self, now: float) -> float:
        """For how long every request has failed (this failure included)."""
        with self._stats_lock:
            if self._failing_since is None:
                self._failing_since = now
            return now - self._failing_since

    def _give_up(self, table, url, verdict, answer, error, failures: int, seconds: float):
        tries = f"{failures} attempt(s) in {seconds:.0f}s"
        if answer is not None and answer.status == 429:
            raise ActUnavailable(
                f"{subject(table)}: Act! kept answering 429 (too many requests) for {url}, "
                f"{tries}: {answer.message.rstrip('.')}. Raise rate_limit_pause or sync less "
                "often."
            )
        if verdict == "down":
            last = f"HTTP {answer.status}: {answer.message}" if answer else _words(error)
            raise ActUnavailable(
                f"{subject(table)}: Act! has answered no request but with errors for "
                f"{self._policy.down_seconds:g}s, so the server is down (the last: {last}, "
                f"from {url}). The next sync resumes from the last checkpoint."
            )
        if answer is not None:  # this request alone, while Act! answered others
            raise ActHttpError(table, answer.status, url, answer.message)
        if verdict == "unreached":
            raise ActUnavailable(
                f"{subject(table)}: could not reach Act! at {url}, {failures} attempt(s): "
                + _unreached(error, self._settings.request_timeout)
            )
        raise ActUnavailable(
            f"{subject(table)}: {_words(error)} from {url}, {tries}, while Act! answered other "
            "requests. Check for a proxy or firewall between that drops some connections."
        )

    # -- pacing and the server's clock
    def _note_rate_limit(self, table: str, response: requests.Response, stop) -> None:
        """With X-RateLimit-Remaining at 0 on a success, wait for the reset instead of a 429."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None or remaining.strip() != "0":
            return
        wait = reset_delay(response.headers.get("X-RateLimit-Reset"))
        if wait is None:  # used up, and no word of when it resets: pace from now on
            self._throttled = True
        elif wait:
            log.warning(f"Act! rate limit used up; waiting {wait:.1f}s for it to reset")
            self._pause(table, wait, stop)

    def _read_clock(self, response: requests.Response) -> None:
        header = response.headers.get("Date")
        if header is None:
            return
        moment = server_clock(header)
        if moment is not None:
            self.server_time = moment
        elif not self._unreadable_date_said:
            self._unreadable_date_said = True
            log.warning(
                f"Act! sent a Date header that is not a date ({header[:80]!r}); its clock is "
                "ignored and this machine's clock bounds the sync instead"
            )

    def _count(self, table: str, **deltas) -> None:
        """Adds to a table's costs; threads syncing tables side by side share the stats."""
        with self._stats_lock:
            cost = self.stats.of(table)
            for name, delta in deltas.items():
                setattr(cost, name, getattr(cost, name) + delta)

    def _pause(self, table: str, seconds: float, stop: threading.Event | None = None) -> None:
        self._count(table, paused=seconds)
        if stop is None:
            self._sleep(seconds)
        elif stop.wait(seconds):
            raise Cancelled("request abandoned while waiting to retry")


def answer_limit(params: dict[str, str]) -> int:
    """The most bytes an answer to this query may hold, from the records it asks for."""
    top = params.get("$top", "")
    records = int(top) if top.isdigit() else MAX_ANSWER_BYTES // ANSWER_BYTES_PER_RECORD
    return min(MAX_ANSWER_BYTES, max(MIN_ANSWER_BYTES, records * ANSWER_BYTES_PER_RECORD))


def _read_body(table: str, url: str, response: requests.Response, limit: int) -> bytes:
    """The body, read in chunks and refused (before it is all in memory) past `limit` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge(table, url, int(declared), limit)
    chunks, size = [], 0
    for chunk in response.iter_content(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(table, url, size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def told_wait(response: requests.Response | None) -> float | None:
    """The seconds a 429's or 503's Retry-After (else X-RateLimit-Reset) tells to wait; None
    when it tells none."""
    if response is None or response.status_code not in TOLD_TO_WAIT_STATUSES:
        return None
    told = retry_after(response.headers.get("Retry-After"))
    return told if told is not None else reset_delay(response.headers.get("X-RateLimit-Reset"))


def backoff_delay(attempt: int, policy: RetryPolicy = DEFAULT_POLICY) -> float:
    """Exponential backoff with full jitter in its upper half, so that retries spread out."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
    return ceiling * (0.5 + random.random() / 2)


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds to wait: a number of seconds, or an HTTP date."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    moment = server_clock(text)
    return None if moment is None else max(0.0, (moment - _utc_now()).total_seconds())


def reset_delay(reset: str | None) -> float | None:
    """X-RateLimit-Reset as seconds to wait: servers send either epoch seconds or a delta."""
    if not reset:
        return None
    try:
        value = float(reset)
    except ValueError:
        return None
    if value > 1_000_000_000:  # an epoch time, not a number of seconds
        value -= time.time()
    return max(0.0, value)


def server_clock(header: str) -> datetime | None:
    """The moment a Date header gives, read defensively; None when it holds no date.

    A date without a zone (or RFC 5322's "-0000", "zone unknown") is UTC, as HTTP dates are. Two
    dates joined by a proxy give the earlier, the safer upper bound for a sync.
    """
    moments = []
    for text in HTTP_DATE.findall(header) or [header]:
        try:
            moment = parsedate_to_datetime(text.strip())
        except (TypeError, ValueError, IndexError):
            continue
        moments.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return min(moments) if moments else None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def server_message(response: requests.Response, body: bytes | None = None) -> str:
    """The server's own words: ASP.NET's JSON error body, or the text of an IIS HTML page."""
    raw = response.content if body is None else body
    text = (raw or b"").decode(response.encoding or "utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        parts = []
        code = parsed.get("code", parsed.get("errorCode"))
        if code is not None:
            parts.append(f"code {code}")
        for key in ("message", "Message", "exceptionMessage", "ExceptionMessage", "error"):
            value = parsed.get(key)
            if isinstance(value, str) and value.strip() and value.strip() not in parts:
                parts.append(value.strip())
        if parts:
            return _clip(": ".join(parts))
    if "<" in text:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        stripped = re.sub(r"<script.*?</script>|<style.*?</style>", " ", text, flags=re.DOTALL)
        stripped = re.sub(r"<[^>]+>", " ", stripped)
        text = title.group(1) if title and title.group(1).strip() else stripped
    text = " ".join(text.split())
    return _clip(text) if text else f"no message (HTTP {response.status_code} {response.reason})"


def _clip(text: str) -> str:
    return text if len(text) <= SERVER_MESSAGE_LIMIT else text[:SERVER_MESSAGE_LIMIT] + "…"


def _rows(table: str, url: str, answer: _Answer) -> tuple[list, str]:
    try:
        body = json.loads(answer.body)  # json decodes the bytes itself: no text of it is kept
    except ValueError:
        raise ActHttpError(
            table, answer.status, url, "the answer was not JSON: " + answer.message
        ) from None
    rows = body.get("value") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise ActHttpError(table, answer.status, url, "the answer held no list of records")
    return rows, "odata" if isinstance(body, dict) else "array"


# The short causes urllib3 and ssl bury in nested reprs, most telling first.
_CAUSES = (
    r"\[Errno -?\d+\] [^\"')(]+",
    r"certificate verify failed: [^\"')(]+",
    r"\[SSL: \w+\] [^\"')(]+",
    r"Read timed out",
    r"Connection broken: \w+",
    r"Remote end closed connection without response",
)
# What OpenSSL says when the other end answers a TLS handshake in plain HTTP.
_PLAIN_HTTP = re.compile(
    r"wrong.version.number|record layer failure|packet length too long|http request", re.I
)


def _reason(error: Exception) -> str:
    """The cause of a network error in a few words, without urllib3's nested reprs (and so
    without their parentheses, which would open in one message and close in none)."""
    text = str(error)
    for cause in _CAUSES:
        found = re.search(cause, text)
        if found:
            return found.group(0).strip()
    return " ".join(re.sub(r"[()'\"]", " ", text).split())[:200]


def _words(error: Exception | None) -> str:
    """A network failure in words: its kind and cause."""
    return f"{type(error).__name__}: {_reason(error)}"


def _unreached(error: Exception | None, timeout: float) -> str:
    """Why a server that never answered could not be reached, and what to check: a refused
    connection, a name that does not resolve and a silent host each have their own fix."""
    text = str(error).lower()
    if isinstance(error, requests.ConnectTimeout):
        return (
            f"no connection within {min(CONNECT_TIMEOUT, timeout):g}s, so the host does not "
            "answer on that port. Check hostname, port and any firewall between."
        )
    if "refused" in text:
        return (
            "the connection was refused, so nothing listens on that port. Check hostname and "
            "port (and protocol)."
        )
    if "resolve" in text or "name or service not known" in text or "[errno -" in text:
        return "the host name does not resolve. Check hostname."
    if isinstance(error, requests.Timeout):
        return (
            f"the connection was accepted but no answer came within {timeout:g}s. Check that "
            "the port is the Web API's, or raise request_timeout_seconds."
        )
    return f"{_words(error)}. Check hostname, port and that the server is up."


def _tls_failure(table: str, url: str, error: Exception, verify) -> str:
    """A TLS failure in words that name its fix: plain HTTP on an https setting wants
    protocol=http, an untrusted certificate wants ca_bundle, and with verify_tls=false no
    certificate is to blame."""
    reason = _reason(error)
    if _PLAIN_HTTP.search(str(error)):
        return (
            f"{subject(table)}: Act! at {url} answered in plain HTTP, not TLS: set protocol to "
            "http (or port to the one its HTTPS listens on)."
        )
    if verify is False:
        return (
            f"{subject(table)}: the TLS handshake with {url} failed: {reason}. Certificates "
            "are not checked (verify_tls is false), so this is the server's TLS set-up or a "
            "proxy between: check protocol and port."
        )
    if "certificate verify failed" in str(error):
        return (
            f"{subject(table)}: TLS verification failed for {url}: {reason}. If the server "
            "uses its own certificate, set ca_bundle to it."
        )
    return (
        f"{subject(table)}: the TLS handshake with {url} failed: {reason}. Check protocol and "
        "port."
    )
