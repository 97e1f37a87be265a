"""tools/doc_samples.py without a run: what it keeps of the demo, a log and a state, what it sets
aside when it compares, and the documents' samples holding no secret (tests/e2e/test_docs.py
makes them)."""

import pytest

from emulator.server import Settings
from tools.doc_samples import (
    DEMO_TABLES,
    README,
    SAMPLES,
    WHERE,
    connector_log,
    demo_excerpt,
    differences,
    shown,
    state_excerpt,
    with_samples,
)

LOG = (
    "15:04:26.101 INFO     ⚡ sdk       calling update()\n"
    "15:04:26.102 INFO     ⚡ connector Syncing 2 table(s) from http://127.0.0.1:8731/act.web.api\n"
    "15:04:26.200 DEBUG    ⚡ connector Table 'contacts': page 1, 6 records"
    "15:04:26.201 INFO     ⚡ connector Table 'users': 4 records in 1 page(s), 1.2s\n"
    '                                   {"version": 2}\n'
    "15:04:27.300 WARNING  ⚡ connector Table 'contacts': 1 value(s) did not fit\n"
    "15:04:28.400 INFO     ⚡ sdk       SYNC SUCCEEDED — total elapsed 00:00:02.299\n"
)


def test_the_log_keeps_the_connectors_lines_and_the_syncs_end_glued_lines_apart():
    assert connector_log(LOG).splitlines() == [
        "15:04:26.102 INFO     ⚡ connector Syncing 2 table(s) from http://127.0.0.1:8731/act.web.api",
        "15:04:26.201 INFO     ⚡ connector Table 'users': 4 records in 1 page(s), 1.2s",
        "15:04:27.300 WARNING  ⚡ connector Table 'contacts': 1 value(s) did not fit",
        "15:04:28.400 INFO     ⚡ sdk       SYNC SUCCEEDED — total elapsed 00:00:02.299",
    ]


def test_the_state_is_shown_for_one_table_of_each_kind_and_what_concerns_them_all():
    explained = "\n".join(
        [
            "State version 2 (this connector writes version 2).",
            "",
            "contacts: the next sync reads records whose edited is after …",
            "    remembers the 503 record(s) it has live",
            "companies: the next sync reads …",
            "    remembers the 84 record(s)",
            "opportunities: the next sync reads …",
            "users: read whole, in one request, every sync",
            "Not synced unless the configuration's tables names them: notes",
            "",
            "A re-sync empties this state",
        ]
    )
    assert state_excerpt(explained).splitlines() == [
        "State version 2 (this connector writes version 2).",
        "",
        "contacts: the next sync reads records whose edited is after …",
        "    remembers the 503 record(s) it has live",
        "…",
        "users: read whole, in one request, every sync",
        "Not synced unless the configuration's tables names them: notes",
        "",
        "A re-sync empties this state",
    ]


def test_what_a_run_varies_is_set_aside_and_nothing_else():
    documented = {
        "log": "15:04:26.201 INFO Table 'users': 4 records in 1 page(s), 1.2s\n"
        "15:04:26.300 INFO Table 'groups': 6 records in 1 page(s), 0.6s",
        "demo": "  15:04:29 Table 'opportunities': 12 records in 1 page(s), 3.7s (10 read again "
        "unchanged, not writ…",
        "doctor": "Time per page   0.09 s for 502 contacts\nFirst sync      about 2 s to read",
    }
    another_run = {  # other times, the tables in another order, a time's width moving a wrap
        "log": "15:09:00.001 INFO Table 'groups': 6 records in 1 page(s), 12.6s\n"
        "15:09:00.002 INFO Table 'users': 4 records in 1 page(s), 0.2s",
        "demo": "  15:09:01 Table 'opportunities': 12 records in 1 page(s), 12.6s (10 read again "
        "unchanged, not wri…",
        "doctor": "Time per page 0.1 s for\n502 contacts\nFirst sync   under a second to read",
    }
    assert differences(documented, another_run) == {}
    changed = {**another_run, "log": another_run["log"].replace("4 records", "5 records")}
    assert list(differences(documented, changed)) == ["log"]
    assert "+15:09:00.002" not in differences(documented, changed)["log"]  # times set aside
    assert "5 records" in differences(documented, changed)["log"]
    assert differences(documented, changed)["log"].startswith("--- docs/logs.md\n")


def test_the_demo_shows_the_rows_of_its_tables_and_a_line_for_each_run_of_the_others():
    printed = "\n".join(
        [
            "Incremental sync: 30 tables in build/demo/files/warehouse.db, schema tester",
            "  table                             read  written  deleted  live rows",
            "  activities                          12        6        0        304",
            "  activity_companies                   7        3        0        316",
            "  activity_types                      12        4        0         12",
            "  companies                           12        6        0         84",
            "  company_contacts                     —        0        0        410",
            "  teams                                3        0        0          3",
            "  read: as the connector's log says; —: it gives no count (links, per-parent rows)",
            "  created  Ahmed da Silva                  edited 2026-12-07 16:08:30",
        ]
    )
    kept = demo_excerpt(printed).splitlines()
    assert kept == [
        *printed.splitlines()[:3],
        "  …",
        *printed.splitlines()[5:7],
        "  …",
        *printed.splitlines()[8:],
    ]
    assert {"contacts", "users"} <= set(DEMO_TABLES)


def test_each_document_holds_its_samples_and_no_secret():
    documented = shown()
    assert set(documented) == set(SAMPLES) and all(documented.values())
    assert WHERE["demo"] == README
    for path in set(WHERE.values()):
        text = path.read_text(encoding="utf-8")
        assert with_samples(text, {n: documented[n] for n in SAMPLES if WHERE[n] == path}) == text
        assert Settings().password not in text  # the emulator's, which configuration.json holds


def test_a_document_without_a_samples_markers_is_refused():
    with pytest.raises(ValueError, match="no '<!-- sample demo"):
        with_samples("# A README\n", {"demo": "text"})
