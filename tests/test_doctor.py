"""The server doctor and the state explainer, as a user runs them: against the emulator over HTTP,
reading what they print and their exit status."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from act_connector.catalog import load_catalog
from act_connector.config import validate_configuration
from act_connector.metadata import for_this_server
from act_connector.sync import run_sync
from emulator import server as emulator_server
from tests.conftest import emulator_configuration
from tests.helpers import RecordingOperations
from tools import doctor, server_check
from tools.server_check import clock_skew, count_bounds, timestamp_forms

PROJECT = Path(__file__).resolve().parent.parent
SECRETS_LINE = (
    "This report holds neither the password nor the token: paste it into a support request as "
    "it is."
)


def table_line(lines: list[str], name: str, path: str, access: str, chosen: bool = True) -> bool:
    """A table's line of the report, whatever width its columns are padded to."""
    mark = r"\*" if chosen else " "
    line = re.compile(rf"  {mark} {re.escape(name)} +{re.escape(path)} +{re.escape(access)}")
    return any(line.fullmatch(text) for text in lines)


def run_doctor(tmp_path, capsys, configuration: dict, *flags: str) -> tuple[int, str, str]:
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(configuration), encoding="utf-8")
    status = doctor.main(["--configuration", str(path), *flags])
    printed = capsys.readouterr()
    return status, printed.out, printed.err


def text_report(tmp_path, capsys, server, **changes) -> tuple[int, str]:
    status, out, _ = run_doctor(tmp_path, capsys, emulator_configuration(server, **changes))
    return status, out


def json_report(tmp_path, capsys, server, **changes) -> tuple[int, dict]:
    configuration = emulator_configuration(server, **changes)
    status, out, _ = run_doctor(tmp_path, capsys, configuration, "--json")
    return status, json.loads(out)  # standard output holds the JSON object alone


def line_of(report: str, label: str) -> str:
    """A finding's words, its wrapped lines joined."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(label))
    words = [lines[start][len(label) :].strip()]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * server_check.LABEL_WIDTH):
            break
        words.append(line.strip())
    return " ".join(words)


# -- a healthy server


def test_a_healthy_server_in_plain_words(emulator, tmp_path, capsys):
    status, report = text_report(tmp_path, capsys, emulator)
    assert status == 0
    lines = report.splitlines()
    assert lines[0] == (
        f"Act! server doctor: {emulator.base_url}, database 'ActDemo', user 'John Hollo'"
    )
    assert line_of(report, "Authorization").startswith("works (")
    assert table_line(lines, "contacts", "/api/contacts", "readable, a bare JSON array")
    assert table_line(lines, "activities", "/api/tasks", "readable, a bare JSON array")
    assert table_line(lines, "notes", "/api/notes", "readable, a bare JSON array", chosen=False)
    assert line_of(report, "$select") == "accepted (only 'id' came back)"
    assert line_of(report, "$orderby") == "two keys (edited asc,id asc) accepted"
    assert line_of(report, "Keyset clause").startswith("accepted: (edited gt ")
    assert line_of(report, "Rate limits") == "none sent"
    assert line_of(report, "Page cap") == (
        "none seen: asked for 10,000 ids of contacts, got 230, all that contacts holds, so no "
        "cap up to 230"
    )
    assert line_of(report, "Time stamps").startswith("offset +00:00, whole seconds (e.g. ")
    assert "Verdict: this server can be synced with this configuration." in lines
    assert lines[-1] == SECRETS_LINE


def test_the_json_report_holds_every_finding(emulator, tmp_path, capsys):
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0
    assert report["authorized"] is True
    assert report["tables"]["contacts"]["path"] == "/api/contacts"
    assert report["tables"]["contacts"]["readable"] is True
    assert report["tables"]["activity_types"]["path"] == "/api/task-types"
    assert set(report["tables"]) == {
        "contacts", "companies", "opportunities", "activities", "activity_types", "products",
        "groups", "notes", "history", "users", "opportunity_processes", "opportunity_stages",
        "history_types", "recurring_activities", "fields", "opportunity_products",
        "group_contacts", "company_contacts", "custom_projects", "entities",
        "activity_priorities", "teams", "group_subgroups", "documents", "contact_campaigns",
        "secondary_contacts",
    }  # fmt: skip
    assert report["tables"]["opportunity_products"] == {
        "path": "/api/opportunities/{id}/products",
        "readable": True,
        "chosen": True,
        "status": "readable, a request per opportunities record",
        "envelope": "array",
        "timestamps": None,
        "first_sync_records": None,
    }
    assert report["page_cap"] is None
    assert report["select_supported"] is True
    assert report["orderby_supported"] is True
    assert report["keyset_supported"] is True
    assert abs(report["clock_skew_seconds"]) <= 1
    assert report["rate_limit"] is None
    assert report["syncable"] is True
    assert report["problems"] == []
    assert list(report)[-1] == "secrets"
    assert report["secrets"] == SECRETS_LINE


def test_neither_report_holds_the_password_or_a_token(emulator, tmp_path, capsys):
    _, text = text_report(tmp_path, capsys, emulator)
    _, report = json_report(tmp_path, capsys, emulator)
    tokens = list(emulator.tokens)
    assert len(tokens) >= 2  # one authorization a run, at least
    for output in (text, json.dumps(report, ensure_ascii=False)):
        assert emulator.settings.password not in output
        for token in tokens:
            assert token not in output
            assert token.split(".")[1] not in output  # not even the claims part


# -- what fails, and the exit status that says so


def test_refused_credentials(emulator, tmp_path, capsys):
    status, report = text_report(tmp_path, capsys, emulator, password="Wrong-pässword")
    assert status == 1
    assert line_of(report, "Authorization").startswith(
        "fails: Act! refused the user name, password or database name (HTTP 401"
    )
    assert "Verdict: this server cannot be synced with this configuration:" in report
    assert "Wrong-pässword" not in report and emulator.settings.password not in report
    assert report.splitlines()[-1] == SECRETS_LINE
    status, data = json_report(tmp_path, capsys, emulator, password="Wrong-pässword")
    assert (status, data["authorized"], data["syncable"]) == (1, False, False)


def test_an_unreachable_server(emulator, tmp_path, capsys):
    configuration = emulator_configuration(emulator)
    emulator.stop()
    status, out, _ = run_doctor(tmp_path, capsys, configuration, "--json")
    report = json.loads(out)
    assert status == 1
    assert report["authorized"] is False
    assert "could not reach Act!" in report["problems"][0]


def test_an_invalid_configuration_is_named_before_any_request(emulator, tmp_path, capsys):
    status, out, err = run_doctor(
        tmp_path, capsys, emulator_configuration(emulator, port="70000"), "--json"
    )
    assert (status, out) == (2, "")
    assert err == "Configuration: Port must be between 1 and 65535, got 70000.\n"
    assert emulator.stats["requests"] == 0


def test_a_missing_configuration_file(tmp_path, capsys):
    status = doctor.main(["--configuration", str(tmp_path / "nowhere.json")])
    assert status == 2
    assert capsys.readouterr().err.startswith("Configuration: [Errno 2] No such file")


# -- each finding, from the emulator setting that produces it


@pytest.mark.parametrize(
    ("build", "activities", "activity_types"),
    [("legacy", "/api/activities", "/api/activitytypes"),
     ("seed", "/api/activities", "/api/activity-types")],
)  # fmt: skip
def test_the_path_each_build_answers_on(
    emulator, tmp_path, capsys, build, activities, activity_types
):
    emulator.configure(build=build)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0
    assert report["tables"]["activities"]["path"] == activities
    assert report["tables"]["activity_types"]["path"] == activity_types


def test_a_table_this_build_lacks(emulator, tmp_path, capsys, monkeypatch):
    without_history = {
        path: table
        for path, table in emulator_server.BUILDS["current"].items()
        if table != "history"
    }
    monkeypatch.setitem(emulator_server.BUILDS, "no-history", without_history)
    emulator.configure(build="no-history")
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0  # history is not chosen: only reported
    assert report["tables"]["history"] == {
        "path": None,
        "readable": False,
        "chosen": False,
        "status": "not on this build (tried /api/History)",
        "envelope": None,
        "timestamps": None,
        "first_sync_records": None,
    }
    status, text = text_report(tmp_path, capsys, emulator, tables="contacts,history")
    assert status == 1
    assert table_line(text.splitlines(), "history", "-", "not on this build (tried /api/History)")
    assert "  - Table 'history': not on this build (tried /api/History)" in text


def test_a_table_this_user_may_not_read(emulator, tmp_path, capsys):
    emulator.configure(forbidden_tables="products,notes")
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 1  # products is chosen; notes is not, and alone would not fail the check
    assert report["tables"]["products"]["path"] == "/api/Products"
    assert report["tables"]["products"]["readable"] is False
    assert report["tables"]["products"]["status"] == (
        "this user may not read it: HTTP 403, The user does not have permission to read "
        "Products.Product."
    )
    assert report["tables"]["notes"]["readable"] is False
    assert report["problems"] == [f"Table 'products': {report['tables']['products']['status']}"]
    status, _ = json_report(tmp_path, capsys, emulator, tables="contacts,companies")
    assert status == 0


def test_the_odata_envelope(emulator, tmp_path, capsys):
    emulator.configure(envelope="odata")
    status, text = text_report(tmp_path, capsys, emulator)
    assert status == 0
    assert table_line(
        text.splitlines(), "contacts", "/api/contacts", 'readable, OData {"value": [...]}'
    )
    _, report = json_report(tmp_path, capsys, emulator)
    assert {table["envelope"] for table in report["tables"].values()} == {"odata"}


def test_a_page_cap(emulator, tmp_path, capsys):
    emulator.configure(page_cap=50)
    status, text = text_report(tmp_path, capsys, emulator)
    assert status == 0
    assert line_of(text, "Page cap") == (
        "50 records a request: asked for 10,000 ids of contacts, got 50; the sync asks for "
        "2,000 (batch_size) and so reads pages of 50: more requests, no record lost"
    )
    _, report = json_report(tmp_path, capsys, emulator, batch_size="40")
    assert report["page_cap"] == 50
    assert report["findings"]["page cap"].endswith("no effect at batch_size 40")


def test_a_server_refusing_select_still_shows_its_page_cap(emulator, tmp_path, capsys):
    emulator.configure(select_supported=False, page_cap=50)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0  # the sync does not use $select
    assert report["select_supported"] is False
    assert report["findings"]["$select"].startswith("refused (HTTP 400, ")
    assert "The query parameter '$select' is not supported." in report["findings"]["$select"]
    assert report["findings"]["$select"].endswith(
        "the sync does not use it, but the page cap below had to be read from whole records"
    )
    assert report["page_cap"] == 50
    assert "asked for 10,000 whole records of contacts, got 50" in report["findings"]["page cap"]


def test_a_server_refusing_a_two_key_orderby_cannot_be_synced(emulator, tmp_path, capsys):
    emulator.configure(max_orderby_keys=1)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 1
    assert report["orderby_supported"] is False
    assert report["findings"]["$orderby"].startswith(
        "two keys (edited asc,id asc) refused (HTTP 400, "
    )
    assert "The server refuses the sync's $orderby=edited asc,id asc." in report["problems"]
    assert report["keyset_supported"] is True  # the clause, tried alone, is accepted
    assert report["findings"]["keyset clause"].startswith(
        "accepted (tried without the $orderby refused above): (edited gt "
    )
    assert report["findings"]["first sync"] == (
        "not estimated: no page of the sync's query was timed"
    )
    assert report["findings"]["time per page"] == (
        "not measured: the server refuses the sync's $orderby"
    )


def test_a_server_refusing_the_keyset_clause_cannot_be_synced(emulator, tmp_path, capsys):
    emulator.configure(or_supported=False)
    status, text = text_report(tmp_path, capsys, emulator)
    assert status == 1
    keyset = line_of(text, "Keyset clause")
    assert keyset.startswith("refused (HTTP 400, ")
    assert "The binary operator 'Or' is not supported." in keyset
    assert "): (edited gt " in keyset
    assert "  - The server refuses the keyset clause the sync pages with." in text
    _, report = json_report(tmp_path, capsys, emulator)
    assert (report["keyset_supported"], report["orderby_supported"]) == (False, True)


def test_a_server_clock_ten_minutes_behind(emulator, tmp_path, capsys):
    emulator.configure(clock_offset_seconds=-600)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0  # the sync bounds its reads by the server's own clock
    assert -601 <= report["clock_skew_seconds"] <= -599
    _, text = text_report(tmp_path, capsys, emulator)
    assert line_of(text, "Clock").startswith("600 s (10 min) behind this machine's")


def test_a_clock_in_step(emulator, tmp_path, capsys):
    _, text = text_report(tmp_path, capsys, emulator)
    assert line_of(text, "Clock") in {
        f"in step with this machine's ({skew} s, read from the Date header)"
        for skew in ("+0", "-1", "+1")
    }


@pytest.mark.parametrize("date_header", ["none", "garbage"])
def test_a_server_without_a_readable_date_header(emulator, tmp_path, capsys, date_header):
    emulator.configure(date_header=date_header)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0
    assert report["clock_skew_seconds"] is None
    assert report["findings"]["clock"] == (
        "unknown: the server sends no readable Date header, so the sync bounds its reads by "
        "this machine's clock instead; keep it right"
    )


def test_rate_limit_headers(emulator, tmp_path, capsys):
    emulator.configure(rate_limit_headers=True)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0
    assert set(report["rate_limit"]) == {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    }
    assert report["rate_limit"]["X-RateLimit-Limit"] == "600"
    assert report["findings"]["rate limits"].startswith(
        "X-RateLimit-Limit: 600, X-RateLimit-Remaining: 599, X-RateLimit-Reset: "
    )


def test_a_throttling_server_is_ridden_out_and_reported(emulator, tmp_path, capsys):
    emulator.configure(throttle_every=4, retry_after=0.05)
    status, text = text_report(tmp_path, capsys, emulator, rate_limit_pause="0")
    assert status == 0
    assert emulator.stats["faults"] > 0
    assert line_of(text, "Throttling") == (
        f"the server answered {emulator.stats['faults']} of the doctor's requests with HTTP 429"
    )


def test_a_throttled_authorization_is_ridden_out(emulator, tmp_path, capsys):
    emulator.configure(authorize_throttle_every=2)
    status, report = json_report(tmp_path, capsys, emulator, rate_limit_pause="0")
    assert (status, report["authorized"], report["throttled_requests"]) == (0, True, 1)


def test_dotnet_time_stamps(emulator, tmp_path, capsys):
    emulator.configure(fraction_digits=7)
    for table in ("contacts", "products"):  # stamped anew, as .NET writes them
        emulator.store.edit(table, len(emulator.store.tables[table]), ago=5)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0
    contacts = report["tables"]["contacts"]["timestamps"]
    assert contacts["field"] == "edited"
    assert (contacts["offsets"], contacts["fraction_digits"]) == (["+00:00"], [7])
    assert report["tables"]["products"]["timestamps"]["field"] == "editDate"
    assert report["findings"]["time stamps"].startswith(
        "offset +00:00, 7 fractional digits (e.g. "
    )
    assert report["tables"]["activity_types"]["timestamps"] is None  # no cursor: read whole


def test_the_time_per_page_and_a_first_sync_estimate(emulator, tmp_path, capsys):
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 0
    assert report["page"]["table"] == "contacts"
    assert report["page"]["records"] == 230
    assert report["page"]["seconds"] > 0
    counts = {name: table["first_sync_records"] for name, table in report["tables"].items()}
    assert counts["contacts"] == {"at_least": 230, "at_most": 230}
    assert counts["activity_types"] == {"at_least": 12, "at_most": 12}
    assert counts["notes"] is None  # not chosen
    assert counts["users"] == {"at_least": 6, "at_most": 6}
    # seven tables (groups and custom_projects too) of one page each and the empty page that
    # ends each, nine tables read whole
    assert report["first_sync_read_seconds"] == round(23 * report["page"]["seconds"], 1)
    # 230+40+…+25, 15 groups, 12 activity types, 6 users, 2 processes, 8 stages, 12 history
    # types, 13 field definitions, 1 custom table definition, 20 projects, 3 activity
    # priorities and 3 teams
    assert report["first_sync_records"] == {"at_least": 540, "at_most": 540}
    estimate = report["findings"]["first sync"]
    assert "contacts 230 records, 2 page(s); companies 40 records, 2 page(s);" in estimate
    assert "users 6 records, 1 page(s)" in estimate
    assert "Act! has no documented $count" in report["findings"]["first sync"]


def test_tables_larger_than_a_page_are_counted_with_skip_probes(emulator, tmp_path, capsys):
    emulator.configure(page_cap=20)
    _, report = json_report(tmp_path, capsys, emulator, tables="contacts")
    counted = report["tables"]["contacts"]["first_sync_records"]
    assert counted["at_least"] <= 230 <= counted["at_most"]
    assert counted["at_most"] - counted["at_least"] <= 23  # within a page or 10%
    estimate = report["findings"]["first sync"]
    low, high = counted["at_least"], counted["at_most"]
    assert re.match(
        rf"(under a second|about \d+ s) to read {low} to {high} records from Act! \(\d+ pages at ",
        estimate,
    )
    assert f"contacts {low} to {high} records, " in estimate
    assert estimate.endswith("on this project's 2-core machine (docs/performance.md).")


def test_a_slow_server_gets_a_report_within_the_doctors_time(
    emulator, tmp_path, capsys, monkeypatch
):
    """No check starts once the budget is spent; the report says what was left out."""
    monkeypatch.setattr(server_check, "DOCTOR_BUDGET_SECONDS", 0.5)
    emulator.configure(delay=0.2)
    status, report = json_report(tmp_path, capsys, emulator)
    assert status == 1
    assert report["authorized"] is True
    assert report["problems"][-1] == (
        "The checks did not finish within 0.5 s (the server is slow or throttling); what is "
        "missing above was not checked."
    )
    assert emulator.stats["data_requests"] <= 4  # 0.5 s of 0.2 s answers, and the one running


def test_the_command_line_as_a_user_runs_it(emulator, tmp_path):
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(emulator_configuration(emulator)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "tools/doctor.py", "--configuration", str(path), "--json"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["keyset_supported"] is True


# -- the pure parts


def test_counting_stays_cheap_on_any_size():
    for count in (0, 1, 1999, 2000, 2001, 123_457, 10_000_000):
        probes = []

        def more_than(n, count=count, probes=probes):
            probes.append(n)
            return count > n

        low, high = count_bounds(more_than, 2000)
        assert low <= count <= high
        assert high - low <= max(2000, low * 0.1)
        assert len(probes) <= 20  # log2(10,000,000 / 2,000) doublings, then a few halvings


def test_counting_gives_up_beyond_its_limit():
    low, high = count_bounds(lambda n: True, 1000, limit=64_000)
    assert (low, high) == (64_001, None)


@pytest.mark.parametrize(
    ("server", "local", "skew"),
    [
        ("2026-01-01T12:00:00", "2026-01-01T12:00:00.700", 0.0),  # the header truncates
        ("2026-01-01T12:00:00", "2026-01-01T12:00:00.200", 0.0),
        ("2026-01-01T11:50:00", "2026-01-01T12:00:00.400", -600.0),
        ("2026-01-01T12:00:05", "2026-01-01T12:00:00.000", 6.0),
    ],
)
def test_the_clock_difference_from_a_date_header(server, local, skew):
    from datetime import datetime, timezone

    def utc(text):
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    assert clock_skew(utc(server), utc(local)) == skew
    assert clock_skew(None, utc(local)) is None


def test_time_stamp_forms():
    rows = [
        {"edited": "2025-07-26T18:46:00.1234567+00:00"},
        {"edited": "2025-07-26T18:46:01"},
        {"edited": None},
    ]
    assert timestamp_forms("edited", rows) == {
        "field": "edited",
        "offsets": ["+00:00", "none"],
        "fraction_digits": [0, 7],
        "example": "2025-07-26T18:46:00.1234567+00:00",
    }
    assert timestamp_forms("edited", [{"id": 1}]) is None


# -- the state explained


def explain(tmp_path, capsys, state) -> tuple[int, list[str]]:
    """The exit status, and the explanation's lines with their wrapped continuations joined."""
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    status = doctor.main(["--state", str(path)])
    printed = capsys.readouterr().out.splitlines()
    assert max(map(len, printed)) <= 99
    lines: list[str] = []
    for line in printed:
        if line.startswith(" " * 6):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return status, lines


def test_a_state_explained_table_by_table(tmp_path, capsys):
    state = {
        "version": 2,
        "tables": {
            "contacts": {"cursor": "2025-08-22T15:08:37Z", "id": "fe405fb3-aaaa"},
            "companies": {"cursor": "2025-08-22T15:08:37+02:00", "skip": 2},
            "activity_types": {"id": 7},
            "products": {"cursor": "yesterday"},
            "users": {"known": {"format": 2, "count": 0}},
        },
    }
    status, lines = explain(tmp_path, capsys, state)
    assert status == 0
    assert lines[0] == "State version 2 (this connector writes version 2)."
    assert paragraph(lines, "users") == [
        "users: read whole, in one request, every sync; no position, edit time or look-back: what "
        "changed is told by its remembered rows.",
        "    remembers its 0 row(s), each id with a digest of its content (25 bytes of this "
        "state): the next sync writes only the rows that are new or changed, and deletes those "
        "Act! no longer lists.",
    ]
    assert paragraph(lines, "history_types") == [
        "history_types: read whole, in one request, every sync; nothing saved, so the next sync "
        "marks its rows deleted, then writes them all."
    ]
    assert (
        "contacts: the next sync reads records whose edited is after 2025-08-22T15:08:37Z, or "
        "equal to it with an id after 'fe405fb3-aaaa' (less lookback_minutes, 10 by default), up "
        "to the server's present."
    ) in lines
    assert (
        "companies: the next sync reads records whose edited is from 2025-08-22T15:08:37+02:00 on "
        "(less lookback_minutes, 10 by default); saved without an id, so the records of that "
        "second are read again, harmlessly; the 2 record(s) after it whose edited Act! sent "
        "empty are passed over, read already."
    ) in lines
    assert (  # an older version's position in a pass by id: read whole, it is not used
        "activity_types: read whole, in one request, every sync; nothing remembered, so the next "
        "sync marks its rows deleted, then writes them all."
    ) in lines
    assert (
        "products: nothing usable saved: its next sync reads it from scratch, first marking its "
        "rows deleted, then every record whose editDate is from default_start_date on (the "
        'saved position {"cursor": "yesterday"} cannot be read).'
    ) in lines
    assert (
        "opportunities: nothing saved: if it is synced, its first sync reads it from scratch, "
        "first marking its rows deleted, then every record whose edited is from "
        "default_start_date on."
    ) in lines
    assert (
        "opportunity_contacts: nothing saved: if it is synced, its first sync reads "
        "opportunities from scratch, so that it is written for every record of opportunities."
    ) in lines
    assert lines[-1] == (
        "A re-sync (Fivetran's re-sync of the connection, or `fivetran reset` locally) empties "
        "this state: every table is then read from scratch (an incremental one from "
        "default_start_date), its rows first marked deleted so that what Act! no longer has "
        "shows as deleted."
    )


def paragraph(lines: list[str], table: str) -> list[str]:
    """A table's line and the lines under it (what its entry holds)."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{table}: "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), None)
    return lines[start:end]


def synced_state(server) -> dict:
    """The state a real sync of the emulator leaves, as connector.update makes it: every table
    of the default configuration, the custom ones Act! lists included."""
    catalog = load_catalog()
    settings = validate_configuration(emulator_configuration(server), catalog)
    settings, catalog = for_this_server(settings, catalog)
    operations = RecordingOperations()
    run_sync(settings, catalog, None, operations)
    return operations.checkpoints[-1]


def test_a_real_syncs_state_explained_for_every_kind_of_table(emulator, tmp_path, capsys):
    state = synced_state(emulator)
    capsys.readouterr()  # the sync's log
    tables = state["tables"]
    status, lines = explain(tmp_path, capsys, state)
    assert status == 0

    def size(name: str) -> str:
        return f"{len(json.dumps(tables[name]['known'])):,} bytes of this state"

    def count(name: str) -> int:
        return tables[name]["known"]["count"]

    contacts = tables["contacts"]
    assert paragraph(lines, "contacts") == [  # incremental
        "contacts: the next sync reads records whose edited is after "
        f"{contacts['cursor']}, or equal to it with an id after {contacts['id']!r} (less "
        "lookback_minutes, 10 by default), up to the server's present.",
        f"    its pages are asked for {contacts['top']:,} records at a time: as many records of "
        "the size its last pages held as fit in about 2 MB of answer (batch_size at most); its "
        "next walk asks its first page for that many.",
        f"    remembers the {count('contacts')} record(s) it has live, each id with the edit time "
        f"it was written with ({size('contacts')}): a reconciliation deletes what Act! no longer "
        "lists and reads what it lists with another edit time; a look-back skips what it reads "
        "again unchanged.",
        f"    last compared with what Act! holds at {contacts['reconciled']} (or, after a first "
        "sync, when the remembered set was built); the next reconciliation comes once "
        "reconcile_interval_hours (24 by default) have passed.",
    ]
    assert paragraph(lines, "users") == [  # read whole
        "users: read whole, in one request, every sync; no position, edit time or look-back: "
        "what changed is told by its remembered rows.",
        f"    remembers its {count('users')} row(s), each id with a digest of its content "
        f"({size('users')}): the next sync writes only the rows that are new or changed, and "
        "deletes those Act! no longer lists.",
    ]
    assert paragraph(lines, "activity_contacts") == [  # a link table
        "activity_contacts: written as activities is read: a row per member of the contacts "
        "array of each record of activities the sync writes, with no request; no position, edit "
        "time or look-back of its own.",
        f"    remembers its {count('activity_contacts')} link(s), each with its place in its "
        f"record's array ({size('activity_contacts')}): a record of activities written again "
        "writes only its new or moved links and deletes those it no longer has; a record deleted "
        "takes its links with it.",
    ]
    assert paragraph(lines, "opportunity_products") == [  # per parent: line items
        "opportunity_products: read as opportunities is read: a request for each record of "
        "opportunities the sync writes; no position, edit time or look-back of its own.",
        f"    remembers its {count('opportunity_products')} row(s), each by record of "
        f"opportunities with a digest of its content ({size('opportunity_products')}): a record "
        "of opportunities read again writes only its rows that are new or changed and deletes "
        "those it no longer has; a record deleted takes its rows with it.",
    ]
    assert paragraph(lines, "group_contacts") == [  # per parent: membership
        "group_contacts: read for every record of groups (a request each) when the sync finds "
        "membership_interval_hours (24 by default) passed since the last read (a first read at "
        "once); membership moves no edit time: no position, no look-back.",
        f"    remembers its {count('group_contacts')} membership(s), each by record of groups "
        f"with a digest ({size('group_contacts')}): a read writes only those new or changed, "
        "and deletes those gone (the members of the records of groups Act! no longer lists "
        "included).",
        f"    members last read at {tables['group_contacts']['reconciled']}: read again, for "
        "every record of groups, once membership_interval_hours (24 by default) have passed.",
    ]
    custom = tables["custom_projects"]
    assert paragraph(lines, "custom_projects")[0] == (  # a custom table: incremental
        "custom_projects: the next sync reads records whose edited is after "
        f"{custom['cursor']}, or equal to it with an id after {custom['id']!r} (less "
        "lookback_minutes, 10 by default), up to the server's present."
    )
    assert paragraph(lines, "custom_projects_contacts")[0] == (  # and its link tables
        "custom_projects_contacts: written as custom_projects is read: a row per member of the "
        "contacts array of each record of custom_projects the sync writes, with no request; no "
        "position, edit time or look-back of its own."
    )
    assert (  # tables the configuration did not choose are not said to be read from scratch
        "Not synced unless the configuration's tables names them, and nothing saved: "
        "notes, history, documents, recurring_activities, group_subgroups, "
        "contact_campaigns, secondary_contacts, note_contacts, note_companies, note_groups, "
        "note_opportunities, history_contacts, history_companies, history_groups, "
        "history_opportunities. The first sync that does reads each from scratch (a link "
        "table's parent with it)."
    ) in lines
    explained = {line.split(":")[0] for line in lines if re.match(r"[a-z_]+: ", line)}
    assert explained == set(tables)  # every table the state holds, and no other
    assert not [line for line in lines if "also saved" in line or "not a table of" in line]


def test_keys_the_explainer_does_not_know_are_shown_as_saved(tmp_path, capsys):
    """Reconciliation will remember more per table: shown plainly, never a crash."""
    state = {
        "version": 3,
        "tables": {
            "contacts": {
                "cursor": "2025-08-22T15:08:37Z",
                "id": "c1",
                "reconciled_at": "2026-11-01T00:00:00Z",
                "known_ids": ["c1", "c2", "c3"],
            },
            "tasks_old": {"cursor": "2025-01-01T00:00:00Z"},
        },
        "sync_started": {"at": "2026-11-23T00:00:00Z", "by": "x"},
    }
    status, lines = explain(tmp_path, capsys, state)
    assert status == 0
    assert lines[0] == "State version 3 (this connector writes version 2)."
    at = lines.index(next(line for line in lines if line.startswith("contacts: ")))
    assert lines[at + 1 : at + 3] == [
        '    also saved: reconciled_at = "2026-11-01T00:00:00Z"',
        "    also saved: known_ids = a list of 3 item(s)",
    ]
    assert "tasks_old: not a table of this connector; the sync ignores this entry." in lines
    assert "Also saved: sync_started = an object of 2 key(s): at, by" in lines


def test_what_reconciliation_remembers_is_put_in_words(tmp_path, capsys):
    state = {
        "version": 2,
        "tables": {
            "contacts": {
                "cursor": "2025-08-22T15:08:37+00:00",
                "id": "c1",
                "known": {"format": 2, "count": 504, "packed": "eAEB"},
                "reconciled": "2026-11-22T00:09:08Z",
            },
            "history": {"cursor": "2025-08-22T15:08:37+00:00", "too_large": True, "cap": 100},
        },
    }
    status, lines = explain(tmp_path, capsys, state)
    text = " ".join(line.strip() for line in lines)
    assert status == 0
    assert "Act! was seen to serve at most 100 records a page, fewer than asked for" in text
    assert "remembers the 504 record(s) it has live, each id with the edit time" in text
    assert "last compared with what Act! holds at 2026-11-22T00:09:08Z" in text
    assert "past the records the connector remembers: records deleted in Act! show as" in text
    assert "also saved" not in text


def test_the_older_state_layout(tmp_path, capsys):
    legacy = {"table_cursors": {"contacts": "2024-05-01T00:00:00Z"}}
    status, lines = explain(tmp_path, capsys, legacy)
    assert status == 0
    assert lines[0].startswith("State in the older layout (table_cursors): the next sync carries")
    assert any(line.startswith("contacts: the next sync reads records whose edited is from "
                               "2024-05-01T00:00:00Z on") for line in lines)  # fmt: skip


def test_an_empty_state(tmp_path, capsys):
    status, lines = explain(tmp_path, capsys, {})
    assert status == 0
    assert lines[0] == (
        "The state holds no table position: every table's next sync reads it from scratch."
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["not", "a", "state"]', "State: {path} holds no JSON object\n"),
        (
            "{",
            "State: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)\n",
        ),
    ],
)
def test_an_unusable_state_file(tmp_path, capsys, text, message):
    path = tmp_path / "state.json"
    path.write_text(text, encoding="utf-8")
    assert doctor.main(["--state", str(path)]) == 2
    printed = capsys.readouterr()
    assert (printed.out, printed.err) == ("", message.format(path=path))
