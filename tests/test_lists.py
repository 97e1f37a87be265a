"""Lists read whole (listing.read_list): a parent's members and line items, the field
definitions. A server that caps its answers caps these lists too; none loses a record."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from act_connector.config import validate_configuration
from act_connector.listing import LIST_TOP, PageCap, read_list
from act_connector.sync import run_sync
from tests.conftest import emulator_configuration
from tests.helpers import RecordingOperations, as_in_a_new_process


class Page:
    def __init__(self, rows):
        self.rows = rows


class CappedLists:
    """A server holding several lists under one path each, serving at most `cap` records a
    page (0: none) for the connector's keyset query, or ignoring the query altogether."""

    def __init__(self, lists: dict[str, list[str]], cap: int, ignores_query: bool = False):
        self.lists, self.cap, self.ignores_query = lists, cap, ignores_query
        self.requests = 0

    def get_page(self, name, path, query, stop=None):
        self.requests += 1
        records = [{"id": record_id} for record_id in sorted(self.lists[path])]
        if self.ignores_query:
            return Page(records)
        after = query.get("$filter", "").removeprefix("id gt '").removesuffix("'")
        records = [record for record in records if not after or record["id"] > after]
        top = min(int(query["$top"]), self.cap or LIST_TOP)
        return Page(records[:top])


LISTS = st.dictionaries(
    st.sampled_from([f"parent{n}" for n in range(8)]),
    st.sets(st.integers(0, 40).map(lambda n: f"{n:04d}"), max_size=40).map(sorted),
    min_size=1,
)


@settings(max_examples=200, deadline=None)
@given(LISTS, st.sampled_from([0, 1, 3, 7, 20]), st.booleans())
def test_every_record_of_every_list_is_read_once_whatever_the_cap(lists, cap, ignores_query):
    """Lists of random lengths read in a random order against a server capping at random
    (or not at all, or ignoring the query): each comes back whole, each record once."""
    server = CappedLists(lists, cap if not ignores_query else 0, ignores_query)
    learned = PageCap("members")
    for path, records in lists.items():
        read = read_list(server, "members", path, "id", learned)
        assert [row["id"] for row in read] == records
    if cap and not ignores_query and any(len(records) > cap for records in lists.values()):
        assert learned.cap == cap  # met, and learned
    # At most one request more than the pages a list needs, per list.
    pages = sum(len(records) // (cap or LIST_TOP) + 1 for records in lists.values())
    assert server.requests <= pages + len(lists)


def test_a_page_shorter_than_the_longest_seen_ends_its_list_at_once():
    server = CappedLists({"a": [f"{n:02d}" for n in range(10)], "b": ["01", "02"]}, cap=0)
    learned = PageCap("members")
    read_list(server, "members", "a", "id", learned)  # 10 records, then an empty page
    asked = server.requests
    assert [row["id"] for row in read_list(server, "members", "b", "id", learned)] == ["01", "02"]
    assert server.requests == asked + 1  # no cap can cut 2 records when 10 came in one page


def test_a_capped_server_loses_no_member_line_item_or_definition(emulator, catalog, capsys):
    """Capped below a group's and a company's membership, an opportunity's line items and the
    field definitions: every one lands, and the log says where the cap was met."""
    store = emulator.store
    group = next(iter(store.tables["groups"]))
    for contact in list(store.tables["contacts"])[:12]:  # one group larger than the cap
        store.tables["group_contacts"][f"{group}{contact}"] = {
            "id": f"{group}{contact}",
            "groupID": group,
            "contactID": contact,
        }
    store.version["group_contacts"] += 1
    emulator.configure(page_cap=3)
    tables = "opportunities,opportunity_products,groups,group_contacts,companies,"
    tables += "company_contacts,fields"
    settings = validate_configuration(emulator_configuration(emulator, tables=tables), catalog)
    operations = RecordingOperations()
    as_in_a_new_process()
    run_sync(settings, catalog, None, operations)

    members = {f"{link['groupID']}|{link['contactID']}" for link in store.truth("group_contacts")}
    assert set(operations.live("group_contacts")) == members
    assert max(sum(m.startswith(g) for m in members) for g in store.tables["groups"]) > 3
    employees = {f"{c['companyID']}|{c['id']}" for c in store.truth("contacts") if c["companyID"]}
    assert set(operations.live("company_contacts")) == employees
    items = {item["id"] for item in store.truth("opportunity_products")}
    assert set(operations.live("opportunity_products")) == items
    definitions = {field["id"] for field in store.truth("fields")}
    assert len(definitions) > 3 and set(operations.live("fields")) == definitions
    out = capsys.readouterr().out
    for table in ("group_contacts", "company_contacts", "fields"):
        assert f"Table '{table}': Act! serves at most 3 records a page here" in out
