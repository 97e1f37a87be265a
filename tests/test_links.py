"""Link tables (links.py): a row per member of an array each parent embeds, written as the
parent is, and deleted as soon as the parent loses it or is deleted."""

from __future__ import annotations

from tests.conftest import emulator_sync


def links_in(records: list[dict], array: str) -> dict[str, int]:
    """The links the emulator's records hold: "parent|related" -> position."""
    return {
        f"{record['id']}|{related['id']}": position
        for record in records
        for position, related in enumerate(record[array])
    }


def live_links(operations, table: str) -> dict[str, int]:
    """Live links and their positions; deleting a link that is not live fails the test."""
    live = {}
    for event in operations.events:
        if event[0] == "upsert" and event[1] == table:
            live[event[2]["id"]] = event[2]["position"]
        elif event[0] == "delete" and event[1] == table:
            live.pop(event[2]["id"])
    return live


def test_link_tables_land_every_link_and_delete_only_what_a_parent_lost(emulator, catalog):
    tables = "opportunities,opportunity_contacts,opportunity_companies"
    first = emulator_sync(emulator, catalog, tables=tables, lookback_minutes="0")
    truth = emulator.store.truth("opportunities")
    assert live_links(first, "opportunity_contacts") == links_in(truth, "contacts")
    assert live_links(first, "opportunity_companies") == links_in(truth, "companies")
    row = first.rows("opportunity_contacts")[0]
    assert set(row) == {"id", "opportunity_id", "contact_id", "position"}
    assert row["id"] == f"{row['opportunity_id']}|{row['contact_id']}"

    record = next(r for r in emulator.store.tables["opportunities"].values() if r["contacts"])
    lost = f"{record['id']}|{record['contacts'][0]['id']}"
    record["contacts"] = record["contacts"][1:]
    emulator.store.edit("opportunities", ids=[record["id"]])
    emulator.advance_clock(1.1)  # edits in the server's current second wait for the next sync
    second = emulator_sync(emulator, catalog, first.checkpoints[-1], tables=tables,
                           lookback_minutes="0")  # fmt: skip
    links = [
        event
        for event in second.events
        if event[0] != "checkpoint" and event[1] != "opportunities"
    ]
    moved = [f"{record['id']}|{c['id']}" for c in record["contacts"]]  # each one place earlier
    assert ("delete", "opportunity_contacts", {"id": lost}) in links
    assert sorted(e[2]["id"] for e in links if e[0] == "upsert") == sorted(moved)
    assert len(links) == 1 + len(moved)  # nothing else: the other links are unchanged


def test_a_parent_deleted_in_act_takes_its_links_with_it(emulator, catalog):
    tables = "opportunities,opportunity_contacts"
    changes = {"tables": tables, "lookback_minutes": "0", "reconcile_interval_hours": "0"}
    first = emulator_sync(emulator, catalog, **changes)
    gone = next(r for r in emulator.store.tables["opportunities"].values() if r["contacts"])
    emulator.store.delete("opportunities", ids=[gone["id"]])
    second = emulator_sync(emulator, catalog, first.checkpoints[-1], **changes)
    assert ("delete", "opportunities", {"id": gone["id"]}) in second.events  # reconciliation
    deleted = [e[2]["id"] for e in second.events if e[:2] == ("delete", "opportunity_contacts")]
    assert sorted(deleted) == sorted(f"{gone['id']}|{c['id']}" for c in gone["contacts"])


def test_a_link_table_past_the_sets_limit_keeps_its_parent_incremental(
    emulator, catalog, monkeypatch
):
    """A link table that outgrew the remembered set used to fail every sync, and then to make
    its parent read from scratch every time (its state was dropped as if it were new)."""
    monkeypatch.setattr("act_connector.emitter.KNOWN_LIMIT", 5)
    tables = {"tables": "opportunities,opportunity_contacts", "lookback_minutes": "0"}
    first = emulator_sync(emulator, catalog, **tables)
    truth = emulator.store.truth("opportunities")
    assert live_links(first, "opportunity_contacts") == links_in(truth, "contacts")
    assert any("opportunity_contacts" in warning for warning in first.warnings)
    second = emulator_sync(emulator, catalog, first.checkpoints[-1], **tables)
    assert ("truncate", "opportunities") not in second.events
    assert second.rows("opportunities") == [] and second.rows("opportunity_contacts") == []
