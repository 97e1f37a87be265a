"""What a sync asks of Act!: schema() and update() in one process (as `fivetran debug` and
Fivetran run them) authorize once, and the `fields` table lands the field definitions schema()
read instead of asking for them again."""

from urllib.parse import urlsplit

import pytest
import responses

import connector
from act_connector import metadata
from tests.helpers import (
    ANOTHER_ACCOUNT,
    BASE_URL,
    RecordingOperations,
    as_in_a_new_process,
    configuration,
)

TABLES = "contacts,fields"
DATE = {"Date": "Wed, 01 Oct 2025 12:00:00 GMT"}
FIELD = {"id": "f1", "recordType": "Contact", "name": "user1", "columnName": "user1",
         "type": "YesNo", "isCustom": True}  # fmt: skip
AUTHORIZE = "/authorize"
FIELDS = "/api/metadata/fields"
# The field definitions are read page by page (a capped server caps them too): a first page
# shorter than its $top is followed by one more, which tells its end from a server's page cap
# (here the server, which ignores the query, sends the same records again: the list was whole).
DEFINITIONS = [FIELDS, FIELDS]
ENTITIES = "/api/metadata/entities"
CONTACTS = "/api/contacts"


def serve(mock, base=BASE_URL, token="tok.en", fields=None):
    mock.get(f"{base}/authorize", body=token, content_type="text/html", headers=DATE)
    mock.get(f"{base}/api/metadata/fields", json=[FIELD] if fields is None else fields)
    mock.get(f"{base}/api/metadata/entities", json=[])


@pytest.fixture
def act():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def sync(monkeypatch, state=None, **changes) -> RecordingOperations:
    """A sync as Fivetran runs it: schema(), then update() in the same process."""
    operations = RecordingOperations()
    monkeypatch.setattr(connector, "op", operations)
    settings = configuration(tables=TABLES, **changes)
    connector.schema(settings)
    connector.update(settings, state)
    return operations


def asked(act, start=0, end=None) -> list[str]:
    """The paths asked for, in order, under the API's base path."""
    paths = [urlsplit(call.request.url).path.removeprefix("/act.web.api") for call in act.calls]
    return paths[start:end]


def test_a_quiet_sync_authorizes_once_and_reads_the_field_definitions_once(act, monkeypatch):
    serve(act)
    act.get(f"{BASE_URL}/api/contacts", json=[], headers=DATE)
    first = sync(monkeypatch)
    assert asked(act) == [AUTHORIZE, *DEFINITIONS, ENTITIES, CONTACTS]
    assert [row["landed_column"] for row in first.rows("fields")] == ["customFields_user1"]
    as_in_a_new_process()  # the next sync
    quiet = sync(monkeypatch, first.checkpoints[-1])
    assert asked(act, 5) == [AUTHORIZE, *DEFINITIONS, ENTITIES, CONTACTS]
    assert [event for event in quiet.events if event[0] != "checkpoint"] == []


def test_a_shared_token_act_refuses_is_renewed_and_the_sync_succeeds(act, monkeypatch, capsys):
    serve(act)
    act.get(f"{BASE_URL}/authorize", body="fresh", content_type="text/html", headers=DATE)
    act.get(f"{BASE_URL}/api/contacts", status=401)
    act.get(f"{BASE_URL}/api/contacts", json=[], headers=DATE)
    sync(monkeypatch)
    assert asked(act) == [AUTHORIZE, *DEFINITIONS, ENTITIES, CONTACTS, AUTHORIZE, CONTACTS]
    bearers = [call.request.headers["Authorization"] for call in act.calls[4::2]]
    assert bearers == ["Bearer tok.en", "Bearer fresh"]  # schema()'s, refused; then renewed
    assert "Table 'contacts': the Act! token expired; authorizing again" in capsys.readouterr().out


@pytest.mark.parametrize("change", ANOTHER_ACCOUNT)
def test_another_account_shares_neither_token_nor_definitions(act, monkeypatch, change):
    other = BASE_URL.replace("act.test", "other.test") if "hostname" in change else BASE_URL
    serve(act, fields=[])
    serve(act, other, token="other")
    act.get(f"{other}/api/contacts", json=[], headers=DATE)
    operations = RecordingOperations()
    monkeypatch.setattr(connector, "op", operations)
    connector.schema(configuration(tables=TABLES))
    connector.update(configuration(tables=TABLES, **change), None)
    # (no definitions at all: an empty first page is the list's end)
    assert asked(act) == [AUTHORIZE, FIELDS, ENTITIES, AUTHORIZE, *DEFINITIONS, ENTITIES, CONTACTS]
    assert act.calls[-1].request.headers["Authorization"] == "Bearer other"
    assert [row["id"] for row in operations.rows("fields")] == ["f1"]  # the other's definitions


def test_the_fields_table_asks_itself_when_the_definitions_could_not_be_read(act, monkeypatch):
    serve(act)
    act.replace(responses.GET, f"{BASE_URL}/api/metadata/fields", status=403, json={})
    act.get(f"{BASE_URL}/api/metadata/fields", json=[FIELD])
    act.get(f"{BASE_URL}/api/contacts", json=[], headers=DATE)
    operations = sync(monkeypatch)
    assert asked(act, 0, 3) == [AUTHORIZE, FIELDS, ENTITIES]
    assert sorted(asked(act, 3)) == [CONTACTS, *DEFINITIONS]  # the tables, side by side
    assert [row["id"] for row in operations.rows("fields")] == ["f1"]


def test_definitions_older_than_their_reuse_ask_again_with_the_shared_token(act, monkeypatch):
    monkeypatch.setattr(metadata, "REUSE_SECONDS", 0.0)
    serve(act)
    act.get(f"{BASE_URL}/api/contacts", json=[], headers=DATE)
    sync(monkeypatch)
    assert asked(act, 0, 7) == [AUTHORIZE, *DEFINITIONS, ENTITIES, *DEFINITIONS, ENTITIES]
    assert sorted(asked(act, 7)) == [CONTACTS, *DEFINITIONS]
