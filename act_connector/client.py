"""The HTTP client for the Act! Web API: authorization, retries, throttling and error messages.

One persistent session serves the whole sync. Every request has a timeout. Secrets (the
password and the token) live only in request headers: never in a URL, a log line or an exception.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from itertools import count
from urllib.parse import quote, urlencode

import requests
from fivetran_connector_sdk import Logging as log

from act_connector.config import Settings
from act_connector.errors import (
    AUTHORIZATION,
    ActHttpError,
    ActUnavailable,
    CredentialsRefused,
    subject,
)

# Act! tokens live about 65 minutes on self-hosted servers and an hour in the cloud, with no `exp`
# claim to read: refresh well before either runs out.
TOKEN_REFRESH_SECONDS = 45 * 60
# Attempts per request for 5xx answers, timeouts and dropped connections (the first one included).
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
# 429s are the server pacing us, not failing: wait as told, but give up after this many in a row.
MAX_THROTTLE_WAITS = 20
# Never sleep longer than this on one throttle signal, whatever the server's headers say.
MAX_THROTTLE_SLEEP_SECONDS = 900.0
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# Characters OData needs to see as they are; everything else in a query is percent-encoded.
ODATA_SAFE = "$',():"
SERVER_MESSAGE_LIMIT = 500


@dataclass
class Page:
    """One answer of a collection: its records, and how the server sent them."""

    rows: list
    envelope: str  # "array" (a bare JSON array) or "odata" ({"value": [...]})
    headers: dict[str, str]
    seconds: float  # from sending the request to having the answer parsed


@dataclass
class RequestStats:
    """What the sync cost: the summary logs it and the benchmark reads it."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    token_refreshes: int = 0
    sleep_seconds: float = 0.0
    wait_seconds: float = 0.0  # time spent waiting on the network


class ActClient:
    """Talks to one Act! database. Not for concurrent use: one request at a time."""

    def __init__(self, settings: Settings, sleep=None, clock=None, attempts=MAX_ATTEMPTS):
        self._settings = settings
        self._attempts = attempts
        self.base_url = settings.base_url
        self._sleep = sleep or time.sleep
        self._clock = clock or time.monotonic
        self._session = requests.Session()
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
        self._throttled = False  # once the server pushes back, keep the configured pause
        # The server's clock, from the Date header of its latest answer.
        self.server_time: datetime | None = None
        self.stats = RequestStats()

    def close(self) -> None:
        self._session.close()

    def authorize(self) -> None:
        """Exchanges the user name and password for a token at /authorize."""
        url = f"{self._settings.base_url}/authorize"
        credentials = f"{self._settings.username}:{self._settings.password}".encode()
        basic = "Basic " + base64.b64encode(credentials).decode("ascii")
        response = self._send(AUTHORIZATION, url, {"Authorization": basic})
        if response.status_code == 401:
            raise CredentialsRefused(
                f"Act! refused the user name, password or database name (HTTP 401 from {url}). "
                "Check username (the Act! display name, spaces included), password and "
                "database_name."
            )
        if response.status_code != 200:
            raise ActHttpError(AUTHORIZATION, response.status_code, url, server_message(response))
        token = response.text.strip().strip('"')
        if not token:
            raise ActHttpError(AUTHORIZATION, 200, url, "the server sent an empty token")
        self._token = token
        self._token_time = self._clock()
        self.stats.token_refreshes += 1

    def get_rows(self, table: str, path: str, params: dict[str, str]) -> list[dict]:
        """One page of a collection: the rows, from a bare array or an OData {"value": [...]}."""
        return self.get_page(table, path, params).rows

    def get_page(self, table: str, path: str, params: dict[str, str]) -> Page:
        """One page of a collection, with the envelope and headers it came in."""
        started = self._clock()
        url = f"{self._settings.base_url}/api/{path}"
        query = urlencode(params, quote_via=quote, safe=ODATA_SAFE)
        full_url = f"{url}?{query}" if query else url
        refreshed = False
        throttle_waits = 0
        while True:
            if self._token is None or self._clock() - self._token_time > TOKEN_REFRESH_SECONDS:
                self.authorize()
            if self._throttled and self._settings.rate_limit_pause:
                self._pause(self._settings.rate_limit_pause)
            response = self._send(table, full_url, {"Authorization": f"Bearer {self._token}"})
            status = response.status_code
            if status == 200:
                self._note_rate_limit(response)
                rows, envelope = _rows(table, full_url, response)
                return Page(rows, envelope, dict(response.headers), self._clock() - started)
            if status == 401 and not refreshed:
                log.info(f"Table '{table}': the Act! token expired; authorizing again")
                refreshed = True
                self.authorize()
                continue
            if status == 401:
                raise CredentialsRefused(
                    f"Table '{table}': Act! refused a freshly issued token (HTTP 401 from "
                    f"{full_url}); the user may have lost access to the database."
                )
            if status == 429:
                throttle_waits += 1
                if throttle_waits > MAX_THROTTLE_WAITS:
                    raise ActUnavailable(
                        f"Table '{table}': Act! kept answering 429 (too many requests) "
                        f"{MAX_THROTTLE_WAITS} times in a row for {full_url}; raise "
                        "rate_limit_pause or sync less often."
                    )
                self._throttled = True
                self.stats.throttled += 1
                wait = throttle_delay(response, self._settings.rate_limit_pause, throttle_waits)
                log.warning(f"Table '{table}': Act! is throttling (HTTP 429); waiting {wait:.1f}s")
                self._pause(wait)
                continue
            raise ActHttpError(table, status, full_url, server_message(response))

    def _send(self, table: str, url: str, headers: dict) -> requests.Response:
        """A GET with a timeout, retried with backoff on 5xx, timeouts and dropped connections."""
        for attempt in count(1):
            started = self._clock()
            self.stats.requests += 1
            try:
                # verify on each request: requests lets REQUESTS_CA_BUNDLE override session.verify
                response = self._session.get(
                    url,
                    headers=headers,
                    timeout=self._settings.request_timeout,
                    verify=self._settings.verify,
                )
            except requests.exceptions.SSLError as error:
                raise ActUnavailable(
                    f"{subject(table)}: TLS verification failed for {url}: {_reason(error)}. "
                    "If the server uses its own certificate, set ca_bundle to it."
                ) from None
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"{type(error).__name__}: {_reason(error)}"
                status = None
            else:
                self.server_time = _date_header(response) or self.server_time
                if response.status_code not in RETRYABLE_STATUSES:
                    self.stats.wait_seconds += self._clock() - started
                    return response
                problem = f"HTTP {response.status_code}: {server_message(response)}"
                status = response.status_code
            self.stats.wait_seconds += self._clock() - started
            if attempt == self._attempts:
                if status is not None:
                    raise ActHttpError(table, status, url, server_message(response))
                raise ActUnavailable(
                    f"{subject(table)}: could not reach Act! at {url} after {attempt} "
                    f"attempt(s) ({problem}). Check hostname, port and that the server is up."
                )
            delay = backoff_delay(attempt)
            self.stats.retries += 1
            log.warning(
                f"{subject(table)}: {problem} from {url}; retry {attempt} of "
                f"{self._attempts - 1} in {delay:.1f}s"
            )
            self._pause(delay)

    def _note_rate_limit(self, response: requests.Response) -> None:
        """With X-RateLimit-Remaining at 0 on a success, wait for the reset instead of a 429.

        (A 429 says itself how long to wait: throttle_delay reads it.)
        """
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None or remaining.strip() != "0":
            return
        self._throttled = True
        wait = reset_delay(response.headers.get("X-RateLimit-Reset"))
        if wait:
            log.warning(f"Act! rate limit used up; waiting {wait:.1f}s for it to reset")
            self._pause(wait)

    def _pause(self, seconds: float) -> None:
        self.stats.sleep_seconds += seconds
        self._sleep(seconds)


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with full jitter in its upper half, so that retries spread out."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return ceiling * (0.5 + random.random() / 2)


def throttle_delay(response: requests.Response, pause: float, attempt: int) -> float:
    """How long a 429 asks us to wait: Retry-After, else X-RateLimit-Reset, else backoff."""
    retry_after = response.headers.get("Retry-After", "").strip()
    wait = None
    if retry_after:
        if retry_after.replace(".", "", 1).isdigit():
            wait = float(retry_after)
        else:
            try:
                moment = parsedate_to_datetime(retry_after)
                wait = (moment - datetime.now(timezone.utc)).total_seconds()
            except (TypeError, ValueError):
                wait = None
    if wait is None:
        wait = reset_delay(response.headers.get("X-RateLimit-Reset"))
    if wait is None:
        wait = backoff_delay(attempt)
    return min(MAX_THROTTLE_SLEEP_SECONDS, max(wait, pause))


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
    return min(MAX_THROTTLE_SLEEP_SECONDS, max(0.0, value))


def server_message(response: requests.Response) -> str:
    """The server's own words: ASP.NET's JSON error body, or the text of an IIS HTML page."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = []
        code = body.get("code", body.get("errorCode"))
        if code is not None:
            parts.append(f"code {code}")
        for key in ("message", "Message", "exceptionMessage", "ExceptionMessage", "error"):
            value = body.get(key)
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


def _rows(table: str, url: str, response: requests.Response) -> tuple[list, str]:
    try:
        body = json.loads(response.content)  # from the bytes: no decoded copy of a large page
    except ValueError:
        raise ActHttpError(
            table,
            response.status_code,
            url,
            "the answer was not JSON: " + server_message(response),
        ) from None
    rows = body.get("value") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise ActHttpError(table, response.status_code, url, "the answer held no list of records")
    return rows, "odata" if isinstance(body, dict) else "array"


def _date_header(response: requests.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return None


def _reason(error: Exception) -> str:
    """The cause of a network error in a few words, without urllib3's nested reprs."""
    text = str(error)
    errno = re.search(r"\[Errno -?\d+\] [^\"')(]+", text)
    if errno:
        return errno.group(0).strip()
    verify = re.search(r"certificate verify failed: [^\"')(]+", text)
    return verify.group(0).strip() if verify else text[:200]
