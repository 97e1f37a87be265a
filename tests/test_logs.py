"""The connector's log lines stay whole when threads log at once (act_connector/logs.py)."""

import json
import sys
import threading
from functools import partial

from fivetran_connector_sdk_common.constants import SDK_LOGGING_PREFIX
from fivetran_connector_sdk_common.helpers import print_library_log
from fivetran_connector_sdk_common.logger import Logging

from act_connector.emitter import Emitter
from act_connector.logs import log
from act_connector.paging import Position
from act_connector.state import SyncState

THREADS = 8
LINES_EACH = 3000
# Threads take turns far more often than by default, so that two prints meet within a test.
SWITCH_SECONDS = 1e-6
LINE_START = '{"level":'  # how the SDK's Logging starts a line outside `fivetran debug`


def at_once(jobs) -> None:
    """Runs the jobs on threads of their own, all at once, taking turns very often."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_SECONDS)
    try:
        threads = [threading.Thread(target=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)


class PrintingOperations:
    """Operations whose warning() prints as the SDK's does (the core's logger)."""

    def warning(self, message: str) -> None:
        print_library_log(message, Logging.Level.WARNING)


def test_lines_logged_from_many_threads_at_once_never_interleave(capfd):
    """Through the SDK's real Logging, which prints a line's text and its newline apart, to
    the process's standard output (a file, as when `fivetran debug` is piped)."""
    start, operations = threading.Barrier(THREADS), PrintingOperations()
    writers = (log.info, log.warning, lambda message: log.report(operations, message))

    def write(thread: int) -> None:
        start.wait()
        for line in range(LINES_EACH):
            writers[line % len(writers)](f"Table 't{thread}': line {line}, 0.4s")

    at_once([partial(write, thread) for thread in range(THREADS)])
    printed = capfd.readouterr().out.splitlines()
    glued = [line for line in printed if line.count(LINE_START) != 1]
    assert glued == []
    messages = [json.loads(line)["message"].removeprefix(SDK_LOGGING_PREFIX) for line in printed]
    assert len(messages) == THREADS * LINES_EACH
    assert sorted(messages) == sorted(
        f"Table 't{thread}': line {line}, 0.4s"
        for thread in range(THREADS)
        for line in range(LINES_EACH)
    )


class CheckpointPrinting:
    """Operations whose checkpoint prints the whole state, as `fivetran debug` does ("checkpoint
    recorded: {…}"), a piece at a time as a long text reaches a pipe."""

    def checkpoint(self, state: dict) -> None:
        text = "checkpoint recorded: " + json.dumps(state)
        for at in range(0, len(text), 16):
            sys.stdout.write(text[at : at + 16])
        sys.stdout.write("\n")

    def truncate(self, table: str) -> None:
        print(f"table truncated: {table}")


def test_a_checkpoint_the_sdk_prints_never_lands_inside_a_line(capfd, catalog):
    """Tables checkpoint while others log: the state the SDK prints takes the output's turn."""
    state, operations = SyncState.load(None, catalog), CheckpointPrinting()
    names = ("contacts", "companies", "opportunities", "activities")
    start = threading.Barrier(len(names) * 2)

    def checkpoints(name: str) -> None:
        emitter = Emitter(catalog.tables[name], state, operations, remember=False)
        start.wait()
        emitter.truncate()
        for second in range(200):
            emitter.checkpoint(Position(f"2025-01-01T00:00:{second % 60:02d}Z", str(second)))

    def lines(name: str) -> None:
        start.wait()
        for line in range(600):
            log.info(f"Table '{name}': line {line}, 0.4s")

    at_once([partial(job, name) for name in names for job in (checkpoints, lines)])
    printed = capfd.readouterr().out.splitlines()
    ours = [line for line in printed if LINE_START in line]
    assert len(ours) == len(names) * 600
    assert all(line.startswith(LINE_START) and line.count(LINE_START) == 1 for line in ours)
    assert all(
        line.startswith(("checkpoint recorded: {", "table truncated: "))
        for line in printed
        if LINE_START not in line
    )
