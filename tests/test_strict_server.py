"""A strict Act! server, end to end: a first sync that never fails for what retries cure, and what
the retries cost, in all in the sync's last log line, per table in a line each, and in the
doctor's report.

The server is bench/soak.py's (tokens that live 0.3 s here, a third of data requests refused
with a 429, a 503 or a dropped connection, every other /authorize throttled), smaller and with
shorter waits; `make bench` runs ten such syncs at full size.
"""

import json
import re

import pytest

from act_connector.catalog import load_catalog
from bench.soak import first_sync, strict_server
from tests.test_doctor import line_of, text_report

# Tens of parents: a request each for their members and line items.
SIZES = {
    "contacts": 150,
    "companies": 30,
    "opportunities": 30,
    "groups": 8,
    "activities": 40,
    "products": 10,
}


@pytest.fixture
def server():
    # Tokens short enough to expire within any run of the sync: it takes 2 s and more, and with
    # a token of 1 s one run in several never saw one expire (a dropped connection's retry at
    # once made it quicker).
    emulator = strict_server(SIZES, token_ttl=0.3, retry_after=0.2)
    yield emulator
    emulator.stop()


def messages(printed: str) -> list[str]:
    """The log lines, as the SDK's Logging printed them."""
    return [json.loads(line)["message"] for line in printed.splitlines() if line.startswith("{")]


def summary_line(lines: list[str]) -> str:
    """The sync's last log line."""
    return next(line for line in reversed(lines) if line.startswith("Sync finished"))


def test_a_first_sync_from_a_strict_server_lands_every_row_and_counts_the_cost(server, capsys):
    run = first_sync(server, load_catalog(), rate_limit_pause="0.05")
    assert run["failure"] is None
    assert run["differences"] == {}  # every table it wrote equals the emulator's truth
    assert server.stats["faults"] > 10 and server.stats["authorizations"] >= 2
    lines = messages(capsys.readouterr().out)
    line = summary_line(lines)
    totals = re.search(
        r"(\d+) requests, (\d+) retries, (\d+) throttled, [\d.]+s paused, (\d+) token renewals",
        line,
    )
    assert totals, line
    assert [int(n) for n in totals.groups()] == [
        run["requests"], run["retries"], run["throttled"], run["token_renewals"]
    ]  # fmt: skip
    assert run["retries"] > 10 and run["token_renewals"] >= 2
    # The per-parent tables made most requests, so drew most refusals: a line each says so.
    cost = r"Table 'company_contacts': \d+ requests, \d+ retries, "
    assert any(re.match(cost + r".*\d\.\ds waited$", each) for each in lines), lines
    assert any(re.match(r"Authorization: \d+ requests, ", each) for each in lines)  # throttled


def test_the_doctor_reports_what_its_retries_cost(emulator, tmp_path, capsys):
    emulator.configure(throttle_every=4, retry_after=0.05, authorize_throttle_every=2)
    status, report = text_report(tmp_path, capsys, emulator, rate_limit_pause="0")
    assert status == 0
    words = line_of(report, "Retries")
    assert re.fullmatch(
        r"(\d+) retries, 1 token renewals, [\d.]+s waited, of \d+ requests; by table: .+", words
    ), words
    assert "authorization 1 retries, 1 throttled, 1 token renewals, 1.0s waited" in words
    assert re.search(r"contacts \d+ retries, \d+ throttled, [\d.]+s waited", words), words
