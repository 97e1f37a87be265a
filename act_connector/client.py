"""The HTTP client for the Act! Web API: authorization, one retry policy, pacing, error messages.

One persistent session serves the whole sync, and every request has a timeout. Every request,
/authorize included, goes through one loop (`_request`) under one `RetryPolicy`, which decides
what is retried, how long to wait and when to give up. A 401 on a data call renews the token once.
The clients of one account share a token within the process, so that schema() and update() of
one sync authorize once. Secrets (the password and the token) live only in request headers and
memory: never in a URL, a log line or an exception.
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
from fivetran_connector_sdk import Logging as log

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

# Act! tokens live about 65 minutes on self-hosted servers and an hour in the cloud, with no `exp`
# claim to read: refresh well before either runs out.
TOKEN_REFRESH_SECONDS = 45 * 60
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
    bodies cut off mid-transfer all count against the same attempts, so that one page can never
    cost more than `attempts` requests (plus one token renewal).
    """

    # A sync makes thousands of requests, four or more at once (line items: one an opportunity):
    # a server failing one request in four for a while must still get each one through, and 8
    # attempts give up on a server that is down after about a minute and a half of backoff.
    attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    # Never sleep longer than this on one signal, whatever the server's headers say.
    wait_cap: float = 900.0

    def delay(self, attempt: int, response: requests.Response | None, pause: float) -> float:
        """The wait before the next attempt: what the server asked for, else backoff."""
        told = None
        if response is not None and response.status_code in TOLD_TO_WAIT_STATUSES:
            told = retry_after(response.headers.get("Retry-After"))
            if told is None:
                told = reset_delay(response.headers.get("X-RateLimit-Reset"))
        wait = told if told is not None else backoff_delay(attempt, self)
        if response is not None and response.status_code == 429:
            wait = max(wait, pause)
        return min(self.wait_cap, wait)


DEFAULT_POLICY = RetryPolicy()


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


@dataclass
class RequestStats:
    """What the sync cost: the summary logs it and the benchmark reads it."""

    requests: int = 0
    # Requests per table (or "authorization"): tables synced side by side share the client, and
    # each reports its own cost.
    by_table: Counter = field(default_factory=Counter)
    retries: int = 0
    throttled: int = 0
    token_refreshes: int = 0
    sleep_seconds: float = 0.0
    wait_seconds: float = 0.0  # time spent waiting on the network


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
        self._stats_lock = threading.Lock()
        self._throttled = False  # once the server pushes back, keep the configured pause
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
        Act! then refuses is renewed once, however it was got."""
        if not (reuse and self._adopt_shared()):
            self._exchange(stop)

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

    def _exchange(self, stop: threading.Event | None) -> None:
        """Exchanges the user name and password for a token at /authorize, and shares it."""
        url = f"{self.base_url}/authorize"
        credentials = f"{self._settings.username}:{self._settings.password}".encode()
        basic = "Basic " + base64.b64encode(credentials).decode("ascii")
        answer = self._request(
            AUTHORIZATION, url, lambda: basic, MAX_TOKEN_ANSWER_BYTES, stop, renew=False
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
        self._count(token_refreshes=1)
        _tokens[self._account] = SharedToken(token, time.monotonic(), self.server_time)

    def _bearer(self, stop: threading.Event | None) -> str:
        with self._token_lock:
            if self._token is None or self._clock() - self._token_time > TOKEN_REFRESH_SECONDS:
                self.authorize(stop)
            return f"Bearer {self._token}"

    def _renew(self, table: str, expired: str, stop: threading.Event | None) -> None:
        """After a 401: a new token, unless another thread already got one meanwhile."""
        with self._token_lock:
            if f"Bearer {self._token}" == expired:
                log.info(f"{subject(table)}: the Act! token expired; authorizing again")
                self._exchange(stop)

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
            table, full_url, lambda: self._bearer(stop), answer_limit(params), stop, renew=True
        )
        if answer.status == 401:
            raise CredentialsRefused(
                f"Table '{table}': Act! refused a freshly issued token (HTTP 401 from "
                f"{full_url}); the user may have lost access to the database."
            )
        if answer.status != 200:
            raise ActHttpError(table, answer.status, full_url, answer.message)
        self._note_rate_limit(answer.response, stop)
        rows, envelope = _rows(table, full_url, answer)
        seconds = self._clock() - started
        return Page(rows, envelope, dict(answer.response.headers), seconds, len(answer.body))

    # -- the one retry loop
    def _request(self, table, url, authorization, limit, stop, renew: bool) -> _Answer:
        """A GET under the retry policy; the answer is any status the policy does not retry."""
        renewals, just_renewed = 0, False
        attempt = 0
        while True:
            attempt += 1
            if stop is not None and stop.is_set():
                raise Cancelled(f"{subject(table)}: request abandoned")
            if self._throttled and self._settings.rate_limit_pause and table != AUTHORIZATION:
                self._pause(self._settings.rate_limit_pause, stop)
            header = authorization()
            answer, problem = self._attempt(table, url, header, limit)
            if answer is not None and answer.status == 401 and renew:
                # A token refused on its first use means the user lost access; one refused
                # after other retries may merely have expired meanwhile.
                if just_renewed or attempt >= self._policy.attempts:
                    return answer
                renewals += 1
                self._renew(table, header, stop)
                just_renewed = True
                if renewals == 1:
                    attempt -= 1  # a first renewal is no failure: the request keeps its attempts
                continue
            just_renewed = False
            if answer is not None and answer.status not in RETRYABLE_STATUSES:
                return answer
            if answer is not None:
                problem = f"HTTP {answer.status}: {answer.message}"
                if answer.status == 429:
                    self._throttled = True
                    self._count(throttled=1)
            if attempt >= self._policy.attempts:
                self._give_up(table, url, answer, problem, attempt)
            response = answer.response if answer is not None else None
            delay = self._policy.delay(attempt, response, self._settings.rate_limit_pause)
            self._count(retries=1)
            log.warning(
                f"{subject(table)}: {problem} from {url}; retry {attempt} of "
                f"{self._policy.attempts - 1} in {delay:.1f}s"
            )
            self._pause(delay, stop)

    def _attempt(self, table, url, header, limit) -> tuple[_Answer | None, str]:
        """One request: its answer, or (None, what went wrong on the network)."""
        started = self._clock()
        self._count(requests=1)
        with self._stats_lock:
            self.stats.by_table[table] += 1
        try:
            # verify on each request: requests lets REQUESTS_CA_BUNDLE override session.verify
            with self._session.get(
                url,
                headers={"Authorization": header},
                timeout=self._settings.request_timeout,
                verify=self._settings.verify,
                stream=True,
            ) as response:
                self._read_clock(response)
                body = _read_body(table, url, response, limit)
        except requests.exceptions.SSLError as error:
            raise ActUnavailable(
                f"{subject(table)}: TLS verification failed for {url}: {_reason(error)}. "
                "If the server uses its own certificate, set ca_bundle to it."
            ) from None
        except (
            requests.ConnectionError,
            requests.Timeout,
            # The connection dropped after the headers: the body arrived cut off.
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as error:
            return None, f"{type(error).__name__}: {_reason(error)}"
        finally:
            self._count(wait_seconds=self._clock() - started)
        return _Answer(response, body), ""

    def _give_up(self, table, url, answer: _Answer | None, problem: str, attempts: int):
        if answer is not None and answer.status == 429:
            raise ActUnavailable(
                f"{subject(table)}: Act! kept answering 429 (too many requests) {attempts} "
                f"times for {url}: {answer.message}. Raise rate_limit_pause or sync less often."
            )
        if answer is not None:
            raise ActHttpError(table, answer.status, url, answer.message)
        raise ActUnavailable(
            f"{subject(table)}: could not reach Act! at {url} after {attempts} attempt(s) "
            f"({problem}). Check hostname, port and that the server is up."
        )

    # -- pacing and the server's clock
    def _note_rate_limit(self, response: requests.Response, stop) -> None:
        """With X-RateLimit-Remaining at 0 on a success, wait for the reset instead of a 429."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None or remaining.strip() != "0":
            return
        self._throttled = True
        wait = reset_delay(response.headers.get("X-RateLimit-Reset"))
        if wait:
            log.warning(f"Act! rate limit used up; waiting {wait:.1f}s for it to reset")
            self._pause(wait, stop)

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

    def _count(self, **deltas) -> None:
        """Adds to the stats; threads syncing tables side by side share them."""
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    def _pause(self, seconds: float, stop: threading.Event | None = None) -> None:
        self._count(sleep_seconds=seconds)
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


def _reason(error: Exception) -> str:
    """The cause of a network error in a few words, without urllib3's nested reprs."""
    text = str(error)
    errno = re.search(r"\[Errno -?\d+\] [^\"')(]+", text)
    if errno:
        return errno.group(0).strip()
    verify = re.search(r"certificate verify failed: [^\"')(]+", text)
    return verify.group(0).strip() if verify else text[:200]
