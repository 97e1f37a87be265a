import json
import time
from datetime import datetime, timezone

import pytest

from act_connector import progress as progress_module
from act_connector.config import validate_configuration
from act_connector.progress import Progress, progress_line, window_share
from act_connector.sync import run_sync
from tests.conftest import emulator_configuration
from tests.helpers import RecordingOperations

UNTIL = datetime(2026, 1, 1, tzinfo=timezone.utc)
SHORT_LINE = 200  # characters: a sync's last line reads at a glance


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def info_lines(capsys) -> list[str]:
    """The messages the SDK's logger printed at INFO (outside `fivetran debug`, one JSON each)."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return [line["message"] for line in lines if line["level"] == "INFO"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_walk_shorter_than_the_interval_logs_nothing(capsys):
    clock = FakeClock()
    progress = Progress("contacts", "2025-01-01T00:00:00Z", UNTIL, clock)
    for second in range(30):
        clock.now = 1000.0 + second
        progress.page(100 * (second + 1), "2025-06-01T00:00:00Z")
    assert info_lines(capsys) == []


def test_a_long_walk_logs_one_line_every_30_seconds_at_most(capsys):
    clock = FakeClock()
    progress = Progress("contacts", "2025-01-01T00:00:00Z", UNTIL, clock)
    pages = [(5, "2025-01-01T00:00:00Z"), (30, "2025-07-02T12:00:00Z"),
             (31, "2025-08-01T00:00:00Z"), (59, "2025-09-01T00:00:00Z"),
             (60, "2025-10-01T00:00:00Z"), (75, "2025-11-01T00:00:00Z")]  # fmt: skip
    for records, (second, cursor) in enumerate(pages, start=1):
        clock.now = 1000.0 + second
        progress.page(records * 2000, cursor)
    assert info_lines(capsys) == [
        "Table 'contacts': 4,000 records so far (133 a second), up to 2025-07-02T12:00:00Z: "
        "about 50% of the time from 2025-01-01T00:00:00Z to 2026-01-01T00:00:00Z (an "
        "estimate: records are seldom spread evenly over time)",
        "Table 'contacts': 10,000 records so far (167 a second), up to 2025-10-01T00:00:00Z: "
        "about 75% of the time from 2025-01-01T00:00:00Z to 2026-01-01T00:00:00Z (an "
        "estimate: records are seldom spread evenly over time)",
    ]


def test_the_window_starts_where_the_first_page_ended_when_that_is_later(capsys):
    """From the default start date, a century without records would count as done."""
    clock = FakeClock()
    progress = Progress("contacts", "1900-01-01T00:00:00Z", UNTIL, clock)
    progress.page(2000, "2024-01-01T00:00:00Z")
    clock.now += 30
    progress.page(4000, "2025-01-01T00:00:00Z")
    (line,) = info_lines(capsys)
    assert "up to 2025-01-01T00:00:00Z: about 50% of the time from 2024-01-01T00:00:00Z" in line


@pytest.mark.parametrize(
    ("reached", "share"),
    [
        ("2025-01-01T00:00:00Z", 0.0),
        ("2025-07-02T12:00:00Z", 0.5),
        ("2026-06-01T00:00:00Z", 1.0),  # a walk on past the bound (edits made meanwhile)
        ("2024-06-01T00:00:00Z", 0.0),
    ],
)
def test_the_share_of_the_window(reached, share):
    assert window_share(moment("2025-01-01T00:00:00Z"), moment(reached), UNTIL) == share


def test_an_empty_window_has_no_share():
    assert window_share(UNTIL, UNTIL, UNTIL) is None
    line = progress_line("Table 'contacts'", 10, 0.0, UNTIL, (UNTIL, UNTIL))
    assert line == "Table 'contacts': 10 records so far (0 a second), up to 2026-01-01T00:00:00Z"


def test_a_slow_sync_logs_progress_and_a_short_summary(emulator, catalog, capsys, monkeypatch):
    """Through the real sync: a walk longer than the (shortened) interval logs progress."""
    monkeypatch.setattr(progress_module, "PROGRESS_INTERVAL_SECONDS", 0.2)
    emulator.configure(delay=0.05)
    configuration = emulator_configuration(emulator, tables="contacts", batch_size="20")
    settings = validate_configuration(configuration, catalog)
    started = time.monotonic()
    run_sync(settings, catalog, None, RecordingOperations())
    seconds = time.monotonic() - started
    lines = info_lines(capsys)
    progress_lines = [line for line in lines if "records so far" in line]
    assert progress_lines, lines
    assert all(line.startswith("Table 'contacts': ") for line in progress_lines)
    assert "of the time from 2024-" in progress_lines[0]
    assert "(an estimate: records are seldom spread evenly over time)" in progress_lines[0]
    # 12 pages of 20, a line at most every 0.2 s of the walk (however long a loaded machine
    # makes it), not one a page
    assert len(progress_lines) <= min(seconds / 0.2, 11)
    (summary,) = [line for line in lines if line.startswith("Sync finished")]
    assert ": 1 table(s), read 230, written 230, deleted 0; " in summary
    assert len(summary) < SHORT_LINE
