"""Tables read per parent on the membership schedule (per_parent.py): a contact's campaign
e-mails and secondary contacts, a group's subgroups; each lands as Act! lists it, and what a
parent no longer lists shows deleted."""

from __future__ import annotations

from tests.conftest import emulator_sync


def campaign_truth(emulator) -> dict[str, dict]:
    """contact_campaigns as the emulator says: each campaign e-mail with its contact's id."""
    return {
        sent["id"]: {**sent, "contact_id": contact}
        for sent in emulator.store.truth("contact_campaigns")
        for contact in sent["contacts"]
        if contact in emulator.store.tables["contacts"]
    }


def test_contact_campaigns_land_read_per_contact_on_the_membership_schedule(emulator, catalog):
    emulator.configure(page_cap=1)  # a contact's e-mails come a page of one at a time
    first = emulator_sync(emulator, catalog, tables="contact_campaigns")
    expected = campaign_truth(emulator)
    assert len(expected) > len({row["contact_id"] for row in expected.values()})  # 2 for some
    landed = first.live("contact_campaigns")
    assert landed.keys() == expected.keys()
    for key, row in landed.items():
        assert row["contact_id"] == expected[key]["contact_id"]
        assert row["campaignName"] == expected[key]["campaignName"]
        assert row["opens"] is expected[key]["opens"]
    # A request per contact: the contacts listed, then each one's e-mails asked for.
    contacts = len(emulator.store.tables["contacts"])
    assert emulator.stats["answers_by_table"]["contact_campaigns"] >= contacts
    # Between membership reads nothing is asked for.
    asked = emulator.stats["answers_by_table"]["contact_campaigns"]
    emulator_sync(emulator, catalog, first.checkpoints[-1], tables="contact_campaigns")
    assert emulator.stats["answers_by_table"]["contact_campaigns"] == asked


def secondary_truth(emulator) -> dict[str, dict]:
    """secondary_contacts as the emulator says: each with its primary contact's id."""
    store = emulator.store
    secondary = {record["id"]: record for record in store.truth("secondary_contacts")}
    return {
        link["secondaryID"]: {**secondary[link["secondaryID"]], "primary_contact_id": primary}
        for link in store.truth("contact_secondaries")
        if (primary := link["contactID"]) in store.tables["contacts"]
    }


def test_secondary_contacts_land_read_per_contact_and_a_removed_one_shows_deleted(
    emulator, catalog
):
    first = emulator_sync(emulator, catalog, tables="secondary_contacts")
    expected = secondary_truth(emulator)
    assert expected and first.live("secondary_contacts").keys() == expected.keys()
    for key, row in first.live("secondary_contacts").items():
        assert row["primary_contact_id"] == expected[key]["primary_contact_id"]
        assert row["fullName"] == expected[key]["fullName"]
    gone = emulator.store.delete("contact_secondaries", 1)[0].split("|")[1]
    second = emulator_sync(
        emulator, catalog, first.checkpoints[-1], tables="secondary_contacts",
        membership_interval_hours="0",
    )  # fmt: skip
    assert second.deleted("secondary_contacts") == [gone]
    assert second.rows("secondary_contacts") == []  # the others unchanged: none written again


def subgroup_truth(emulator) -> dict[str, dict]:
    """group_subgroups as the emulator's groups say: a row per group under another."""
    groups = emulator.store.tables["groups"]
    return {
        f"{group['parentID']}|{group['id']}": {
            "id": f"{group['parentID']}|{group['id']}",
            "group_id": group["parentID"],
            "subgroup_id": group["id"],
        }
        for group in groups.values()
        if group["parentID"] in groups
    }


def test_subgroups_land_as_act_lists_them_and_a_moved_one_shows_deleted(emulator, catalog):
    first = emulator_sync(emulator, catalog, tables="group_subgroups")
    expected = subgroup_truth(emulator)
    assert expected and first.live("group_subgroups") == expected
    # A subgroup moved under another group: its old row goes at the next membership read.
    groups = emulator.store.tables["groups"]
    moved = next(group for group in groups.values() if group["parentID"])
    old = f"{moved['parentID']}|{moved['id']}"
    moved["parentID"] = next(g["id"] for g in groups.values() if g["id"] != moved["parentID"])
    emulator.store.edit("groups", ids=[moved["id"]])
    second = emulator_sync(
        emulator, catalog, first.checkpoints[-1], tables="group_subgroups",
        membership_interval_hours="0",
    )  # fmt: skip
    # Only what changed: the moved subgroup's new row written, its old one deleted.
    new = f"{moved['parentID']}|{moved['id']}"
    assert second.rows("group_subgroups") == [subgroup_truth(emulator)[new]]
    assert second.deleted("group_subgroups") == [old]


# -- link tables, written from their parent's embedded arrays
