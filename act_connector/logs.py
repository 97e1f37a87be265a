"""The connector's log lines: the SDK's Logging, one whole line at a time.

Tables sync side by side (sync.TABLE_WORKERS) and their line items on threads of their own, and
the SDK's Logging prints each line with print(), which writes the text and then its newline: two
threads logging at once could write "line one" "line two" "\n" "\n", two lines glued into one.
Every module of the connector logs through `log` here, which lets one thread print at a time,
and hands its warnings for Fivetran's dashboard (operations.warning, which the SDK prints too)
through it as well.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fivetran_connector_sdk import Logging


class SerialLog:
    """The SDK's Logging, one call at a time across the connector's threads."""

    def __init__(self):
        self._lock = threading.Lock()

    def debug(self, message: str) -> None:
        with self._lock:
            Logging.debug(message)

    def info(self, message: str) -> None:
        with self._lock:
            Logging.info(message)

    def warning(self, message: str) -> None:
        with self._lock:
            Logging.warning(message)

    def error(self, message: str) -> None:
        with self._lock:
            Logging.error(message)

    def report(self, operations, message: str) -> None:
        """A warning for Fivetran's dashboard: `operations` is the SDK's Operations (or a
        stand-in), whose warning() the SDK also prints."""
        with self._lock:
            operations.warning(message)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """The output to one thread: around an SDK operation that prints (a checkpoint prints
        the whole state, a truncate says so), so that its text never lands inside a line of the
        connector's. It costs the other threads nothing they would not wait for anyway: the SDK
        runs its operations one at a time."""
        with self._lock:
            yield


log = SerialLog()
