"""Per-parent tables (per_parent.py): only what changed is written, and what a parent lost goes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from act_connector.catalog import load_catalog
from act_connector.errors import ActHttpError, PagingError
from act_connector.listing import parent_ids
from act_connector.per_parent import PerParentTable
from act_connector.state import SyncState
from tests.helpers import RecordingOperations, follower

CATALOG = load_catalog()
LINE_ITEMS = CATALOG.tables["opportunity_products"]
MEMBERS = CATALOG.tables["group_contacts"]
PARENTS = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(4)]


class Page:
    def __init__(self, rows):
        self.rows = rows


class ServedChildren:
    """A stand-in client: each parent's children as Act! holds them now; 404 for a gone one."""

    def __init__(self, children: dict[str, list[dict]]):
        self.children = children
        self.asked: list[str] = []

    def get_page(self, table, path, params, stop=None):
        parent_id = path.split("/")[1] if "/" in path else path  # a collection: itself
        self.asked.append(parent_id)
        if parent_id not in self.children:
            raise ActHttpError(table, 404, path, "No record matches.")
        return Page(keyset_page(self.children[parent_id], params))


def keyset_page(records: list[dict], params: dict) -> list[dict]:
    """A list's page as Act! serves it for the connector's keyset query (list_query)."""
    after = params.get("$filter", "").removeprefix("id gt '").removesuffix("'")
    ordered = sorted(records, key=lambda record: record["id"])
    rows = [dict(record) for record in ordered if not after or record["id"] > after]
    return rows[: int(params["$top"])] if "$top" in params else rows


def sync_once(spec, state, operations, client, parents, every_parent: bool) -> PerParentTable:
    table = follower(PerParentTable, spec, state, operations, client)
    table.start()
    if every_parent:
        table.read_every_parent(iter([parents]))
    else:
        table.emitted([{"id": parent} for parent in parents], "id")
        table.checkpoint()
    table.finish()
    return table


def item(parent: str, number: int, quantity: int) -> dict:
    """A line item of `parent`: Act! never moves one to another opportunity."""
    item_id = f"item-{parent[-1]}-{number}"
    return {"id": item_id, "quantity": float(quantity), "name": f"Item {number}"}


# A sync's changes: for each parent, its line items now (numbers 0-5, each with a quantity).
CHILDREN = st.dictionaries(
    st.sampled_from(PARENTS),
    st.dictionaries(st.integers(0, 5), st.integers(1, 3), max_size=4),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CHILDREN, min_size=1, max_size=2), min_size=1, max_size=5))
def test_line_items_converge_and_only_changes_are_written(syncs):
    """Random line items added, changed, moved and removed between syncs, and within one (a
    parent written twice in a sync, edited while it ran): after each sync the live rows are
    exactly what Act! serves for every parent, and each writing writes only rows that are new
    or changed."""
    state, operations = SyncState({}), RecordingOperations()
    served: dict[str, list[dict]] = {}
    for rounds in syncs:
        table = follower(PerParentTable, LINE_ITEMS, state, operations, ServedChildren(served))
        table.start()
        for changes in rounds:
            for parent, items in changes.items():
                served[parent] = [item(parent, n, quantity) for n, quantity in items.items()]
            # Each parent changed is written again (its edit time moved).
            before = dict(operations.live("opportunity_products"))
            written = len(operations.rows("opportunity_products"))
            table.emitted([{"id": parent} for parent in sorted(changes)], "id")
            table.settle()
            new_rows = operations.rows("opportunity_products")[written:]
            assert all(before.get(row["id"]) != row for row in new_rows)
        table.finish()
        expected = {
            child["id"]: {**child, "opportunityID": parent}
            for parent, children in served.items()
            for child in children
        }
        assert operations.live("opportunity_products") == expected


def test_members_of_a_group_gone_or_left_show_deleted_after_the_read():
    state, operations = SyncState({}), RecordingOperations()
    contacts = [{"id": f"contact-{n}"} for n in range(3)]
    client = ServedChildren({PARENTS[0]: contacts, PARENTS[1]: contacts[:1]})
    sync_once(MEMBERS, state, operations, client, PARENTS[:2], every_parent=True)
    assert set(operations.live("group_contacts")) == {
        f"{PARENTS[0]}|contact-0",
        f"{PARENTS[0]}|contact-1",
        f"{PARENTS[0]}|contact-2",
        f"{PARENTS[1]}|contact-0",
    }
    # Contact 2 left the first group; the second group was deleted (no longer listed).
    client = ServedChildren({PARENTS[0]: contacts[:2]})
    table = sync_once(MEMBERS, state, operations, client, PARENTS[:1], every_parent=True)
    assert set(operations.live("group_contacts")) == {
        f"{PARENTS[0]}|contact-0",
        f"{PARENTS[0]}|contact-1",
    }
    assert table.emitter.upserted == 0 and table.emitter.deleted == 2


def test_a_membership_read_writes_and_checkpoints_as_it_goes(monkeypatch):
    """Members are written a batch of groups at a time and checkpointed every few batches, not
    held until every group is read: memory stays flat, a failure keeps what was read, and the
    state (every table's remembered set) is not sent for each batch."""
    monkeypatch.setattr("act_connector.per_parent.PARENTS_PER_READ", 10)
    monkeypatch.setattr("act_connector.per_parent.PARENTS_PER_CHECKPOINT", 30)
    groups = [f"00000000-0000-4000-8000-{n:012d}" for n in range(100)]
    members = {group: [{"id": f"contact-{n}"} for n in range(2)] for group in groups}
    state, operations = SyncState({}), RecordingOperations()
    sync_once(MEMBERS, state, operations, ServedChildren(members), groups, every_parent=True)
    claimed, written = [], 0
    for event in operations.events:
        written += event[:2] == ("upsert", "group_contacts")
        if event[0] == "checkpoint":
            count = event[1]["tables"]["group_contacts"]["known"]["count"]
            assert count == written  # a checkpoint claims exactly the rows written before it
            claimed.append(count)
    assert claimed == [2 * 30, 2 * 60, 2 * 90, 2 * 100]


def test_a_line_item_moved_to_another_opportunity_in_one_sync_stays_live():
    state, operations = SyncState({}), RecordingOperations()
    moved = item(PARENTS[0], 1, 1)
    client = ServedChildren({PARENTS[0]: [moved], PARENTS[1]: []})
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[:2], every_parent=False)
    client = ServedChildren({PARENTS[0]: [], PARENTS[1]: [moved]})
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[:2], every_parent=False)
    assert operations.live("opportunity_products") == {
        moved["id"]: {**moved, "opportunityID": PARENTS[1]}
    }


def test_a_line_item_moved_across_two_syncs_stays_live():
    """The new opportunity is read in one sync, the old one (which lost the item) only in the
    next: the item stays live, its new opportunity holds it."""
    state, operations = SyncState({}), RecordingOperations()
    moved = item(PARENTS[0], 1, 1)
    client = ServedChildren({PARENTS[0]: [moved], PARENTS[1]: []})
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[:2], every_parent=False)
    client = ServedChildren({PARENTS[0]: [], PARENTS[1]: [moved]})
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[1:2], every_parent=False)
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[:1], every_parent=False)
    assert operations.live("opportunity_products") == {
        moved["id"]: {**moved, "opportunityID": PARENTS[1]}
    }


def test_a_parent_deleted_after_it_was_listed_has_no_children_left():
    state, operations = SyncState({}), RecordingOperations()
    client = ServedChildren({PARENTS[0]: [item(PARENTS[0], 1, 1)]})
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[:1], every_parent=False)
    client = ServedChildren({})  # 404: the opportunity is gone
    sync_once(LINE_ITEMS, state, operations, client, PARENTS[:1], every_parent=False)
    assert operations.live("opportunity_products") == {}


class RepeatingListing:
    """A listing that ignores $filter: the same page of group ids, again and again."""

    def page(self, table, path, after, stop=None):
        return [{"id": PARENTS[0]}, {"id": PARENTS[1]}]


def test_a_listing_that_ignores_its_filter_stops_the_membership_read():
    """Read forever, or taken as complete, it would delete the members of every other group."""
    groups = CATALOG.tables["groups"]
    client = ServedChildren({"groups": []})  # the path is found with one record asked for
    listing = parent_ids(client, RepeatingListing(), groups)
    assert next(listing) == PARENTS[:2]
    with pytest.raises(PagingError, match=r"listed the same page twice .* its members cannot all"):
        next(listing)


def test_a_parent_read_twice_in_a_sync_keeps_only_the_children_it_has_last():
    """An opportunity written again in the same sync (edited while the sync ran) has its line
    items read again: one it lost in between is deleted."""
    state, operations = SyncState({}), RecordingOperations()
    kept, lost = item(PARENTS[0], 1, 1), item(PARENTS[0], 2, 1)
    client = ServedChildren({PARENTS[0]: [kept, lost]})
    table = follower(PerParentTable, LINE_ITEMS, state, operations, client)
    table.start()
    table.emitted([{"id": PARENTS[0]}], "id")
    table.settle()
    client.children[PARENTS[0]] = [kept]
    table.emitted([{"id": PARENTS[0]}], "id")
    table.finish()
    assert operations.live("opportunity_products") == {
        kept["id"]: {**kept, "opportunityID": PARENTS[0]}
    }


def test_a_table_past_the_sets_limit_is_no_new_table_next_sync():
    """Else its parent would be read from scratch at every sync, every row written again."""
    saved = {"version": 2, "tables": {"opportunity_products": {"too_large": True}}}
    state, operations = SyncState.load(saved, CATALOG), RecordingOperations()
    table = follower(PerParentTable, LINE_ITEMS, state, operations, ServedChildren({}))
    table.start()
    assert not table.afresh and ("truncate", "opportunity_products") not in operations.events
    assert any("opportunity_products" in warning for warning in operations.warnings)


def test_a_parent_read_and_then_deleted_in_one_sync_takes_its_children_with_it():
    """An opportunity written by the walk and found deleted by the same sync's reconciliation:
    its line items, read and noted as held, are deleted with it (and forgotten)."""
    state, operations = SyncState({}), RecordingOperations()
    client = ServedChildren({PARENTS[0]: [item(PARENTS[0], 1, 1)], PARENTS[1]: []})
    table = follower(PerParentTable, LINE_ITEMS, state, operations, client)
    table.start()
    table.emitted([{"id": PARENTS[0]}, {"id": PARENTS[1]}], "id")
    table.deleted([PARENTS[0]])
    table.finish()
    assert operations.live("opportunity_products") == {}
    assert len(table.emitter.known) == 0
