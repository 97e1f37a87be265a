"""Link and line-item tables (a parent's followers) across syncs: the tables chosen change, a
sync fails part way, a parent is read from scratch; the destination still ends as Act! has it."""

from __future__ import annotations

import time

import pytest

from act_connector.config import validate_configuration
from act_connector.errors import ActHttpError, TablesFailed
from act_connector.listing import Lister
from act_connector.per_parent import PerParentTable
from act_connector.sync import run_sync
from tests.conftest import emulator_configuration
from tests.helpers import RecordingOperations, as_in_a_new_process

LINKS = "opportunities,opportunity_contacts"
LINE_ITEMS = "opportunities,opportunity_products"
BOTH = "opportunities,opportunity_contacts,opportunity_products"


def sync_into(server, catalog, destination, state=None, **changes) -> dict:
    """One sync into a destination shared by several; the state it leaves (the last it sent,
    or the one it started with)."""
    settings = validate_configuration(emulator_configuration(server, **changes), catalog)
    as_in_a_new_process()
    sent = len(destination.checkpoints)
    run_sync(settings, catalog, state, destination)
    return destination.checkpoints[-1] if len(destination.checkpoints) > sent else state


def links_in(records: list[dict], array: str) -> set[str]:
    return {f"{record['id']}|{related['id']}" for record in records for related in record[array]}


def line_items(store) -> set[str]:
    return {item["id"] for item in store.truth("opportunity_products")}


def assert_followers_as_act_has_them(destination, store) -> None:
    truth = links_in(store.truth("opportunities"), "contacts")
    assert set(destination.live("opportunity_contacts")) == truth
    assert set(destination.live("opportunity_products")) == line_items(store)


@pytest.mark.parametrize("left_out", ["opportunity_contacts", "opportunity_products"])
def test_a_follower_left_out_of_a_sync_catches_up_when_chosen_again(emulator, catalog, left_out):
    """Its parent moved on without it (an opportunity lost a contact and a line item in
    between): chosen again, it is read afresh, not resumed from what it last had."""
    destination, store = RecordingOperations(), emulator.store
    state = sync_into(emulator, catalog, destination, tables=BOTH, lookback_minutes="0")
    record = next(r for r in store.tables["opportunities"].values() if len(r["contacts"]) > 1)
    record["contacts"] = record["contacts"][1:]
    store.edit("opportunities", ids=[record["id"]])
    store.delete("opportunity_products", ids=[store.truth("opportunity_products")[0]["id"]])
    time.sleep(1.1)
    without = ",".join(name for name in BOTH.split(",") if name != left_out)
    state = sync_into(emulator, catalog, destination, state, tables=without, lookback_minutes="0")
    time.sleep(1.1)
    sync_into(emulator, catalog, destination, state, tables=BOTH, lookback_minutes="0")
    assert_followers_as_act_has_them(destination, store)


@pytest.mark.parametrize("first", [LINKS, LINE_ITEMS])
def test_a_parent_read_from_scratch_for_a_new_follower_renews_the_others(emulator, catalog, first):
    """A follower added reads its parent from scratch, which marks a parent deleted in Act!
    deleted; the followers it already had drop that parent's rows too."""
    destination, store = RecordingOperations(), emulator.store
    state = sync_into(emulator, catalog, destination, tables=first)
    gone = next(
        item["opportunityID"]
        for item in store.truth("opportunity_products")
        if store.tables["opportunities"][item["opportunityID"]]["contacts"]
    )
    store.delete("opportunities", ids=[gone])
    state = sync_into(emulator, catalog, destination, state, tables=BOTH)
    assert gone not in destination.live("opportunities")
    sync_into(emulator, catalog, destination, state, tables=BOTH, reconcile_interval_hours="0")
    assert_followers_as_act_has_them(destination, store)


@pytest.mark.parametrize("lookback", ["0", "10"])
def test_a_line_item_lost_before_a_failed_sync_is_deleted(
    emulator, catalog, monkeypatch, lookback
):
    """The walk writes the opportunity (its line item deleted) and checkpoints past it, then the
    sync fails (its reconciliation listing answers 503): the next sync starts after it, yet the
    line item goes."""
    destination, store = RecordingOperations(), emulator.store
    tables = {"tables": LINE_ITEMS, "lookback_minutes": lookback}
    state = sync_into(emulator, catalog, destination, **tables)
    lost = store.truth("opportunity_products")[0]["id"]
    store.delete("opportunity_products", ids=[lost])  # moves its opportunity's edit time
    time.sleep(1.1)

    def refused(self, table, path, after, stop=None):
        raise ActHttpError(table.name, 503, path, "Service Unavailable")

    with monkeypatch.context() as patch:
        patch.setattr(Lister, "page", refused)
        with pytest.raises(TablesFailed):
            sync_into(
                emulator, catalog, destination, state, reconcile_interval_hours="0", **tables
            )
    time.sleep(1.1)
    sync_into(emulator, catalog, destination, destination.checkpoints[-1], **tables)
    assert lost not in destination.live("opportunity_products")
    assert set(destination.live("opportunity_products")) == line_items(store)


def test_the_line_items_of_a_parent_reconciliation_deleted_go_even_if_the_sync_then_dies(
    emulator, catalog, monkeypatch
):
    """Reconciliation deletes an opportunity and checkpoints; the sync is killed before its
    line items' table ends. Later syncs never see the opportunity again: its line items went
    with it."""
    destination, store = RecordingOperations(), emulator.store
    tables = {"tables": LINE_ITEMS, "reconcile_interval_hours": "0"}
    state = sync_into(emulator, catalog, destination, **tables)
    store.delete("opportunities", ids=[store.truth("opportunity_products")[0]["opportunityID"]])

    def killed(self, reconciled=None):
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(PerParentTable, "finish", killed)
        with pytest.raises(RuntimeError):
            sync_into(emulator, catalog, destination, state, **tables)
    sync_into(emulator, catalog, destination, destination.checkpoints[-1], **tables)
    assert set(destination.live("opportunity_products")) == line_items(store)


def test_a_follower_left_out_while_its_parent_stood_still_resumes_as_it_was(emulator, catalog):
    """Another table moved, the opportunities did not: chosen again, the link table goes on from
    what it had, and neither it nor its parent is written again."""
    destination, store = RecordingOperations(), emulator.store
    every = "contacts,opportunities,opportunity_contacts"
    settings = {"lookback_minutes": "0", "reconcile_interval_hours": "off"}
    state = sync_into(emulator, catalog, destination, tables=every, **settings)
    time.sleep(1.1)
    store.edit("contacts", ids=[next(iter(store.tables["contacts"]))])
    time.sleep(1.1)
    state = sync_into(
        emulator, catalog, destination, state, tables="contacts,opportunities", **settings
    )
    assert "opportunity_contacts" in state["tables"]
    again = RecordingOperations()
    sync_into(emulator, catalog, again, state, tables=every, **settings)
    assert again.rows("opportunities") == [] and again.rows("opportunity_contacts") == []
