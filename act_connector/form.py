"""The Fivetran setup form and its connection test.

`fivetran configuration` asks for each field; `fivetran configuration --test` (and Fivetran's setup
page) runs "Connect to Act!", which, in each database named, authorizes and reads a record of each
chosen table and the page after it (the keyset query every sync relies on), and says
in plain words which database and table failed and why.
"""

from __future__ import annotations

from fivetran_connector_sdk import ConfigurationForm, Test, form_field

from act_connector import config
from act_connector.catalog import Catalog, load_catalog
from act_connector.client import PROMPT_POLICY, ActClient
from act_connector.databases import databases_of
from act_connector.discovery import first_page, sync_until
from act_connector.errors import ActConnectorError
from act_connector.logs import log
from act_connector.metadata import for_this_server
from act_connector.paging import Position, cursor_moment, page_query, usable_rows
from act_connector.per_parent import probe_children
from act_connector.timestamps import format_utc
from act_connector.whole import refused_optional

# A setup test should answer in seconds: a wrong host or port fails after the sync's three
# attempts, and a server that errs or throttles gets seconds, not the sync's minutes.
SETUP_TEST_POLICY = PROMPT_POLICY


def configuration_form() -> ConfigurationForm:
    """The setup form: a field for each declared setting, in order, and the connection test."""
    catalog = load_catalog()
    form = ConfigurationForm()
    for setting in config.SETTINGS:
        form.add_field(_field(setting, catalog))
    form.add_test(label="Connect to Act!", func=connect_to_act)
    return form


def _field(setting: config.Setting, catalog: Catalog):
    """The form's field for a setting: a dropdown of its choices, or a text field."""
    description = config.with_catalog(setting.description, catalog)
    if setting.kind == config.CHOICE:
        return form_field.DropdownField(
            setting.key,
            setting.label,
            fields=[
                form_field.DropdownFieldParam(choice.value, choice.label, choice.description)
                for choice in setting.choices
            ],
            description=description,
            required=setting.required,
        )
    secret = setting.kind == config.SECRET
    return form_field.TextField(
        setting.key,
        setting.label,
        form_field.TextField.password if secret else form_field.TextField.plain_text,
        description=description,
        required=setting.required,
        placeholder=config.with_catalog(setting.example or setting.default, catalog) or None,
    )


def _read_two_pages(client: ActClient, table, start: Position, until: str) -> str:
    """A record of the table, then the page after it: the keyset query the sync relies on most
    (`(edited gt C or (edited eq C and id gt 'I'))`), so that a build refusing it fails here.
    A table read whole is read as the sync reads it: once, without a query."""
    if table.read == "whole":
        return first_page(client, table, {})[1]
    page, path = first_page(client, table, page_query(table, start, until, 1))
    rows, _ = usable_rows(table, page.rows)
    if rows and cursor_moment(table, rows[0]) is not None:
        after = Position(cursor=rows[0].get(table.cursor), id=rows[0][table.primary_key])
        client.get_page(table.name, path, page_query(table, after, until, 1))
    return path


def connect_to_act(configuration: dict):
    """Authorizes, then reads two pages of each chosen table, in each database; a failure names
    database, table and cause.

    Every database and every table is tried, so that one test run lists everything that needs
    attention; in a database, refused credentials, an unreachable server or a TLS failure end
    its test at once.
    """
    catalog = load_catalog()
    try:
        databases = databases_of(config.validate_configuration(configuration, catalog))
    except ActConnectorError as error:
        return Test.failure(f"Configuration: {error}")
    failures = []
    for database in databases:
        named = f"Database '{database.name}': " if database.schema else ""
        try:
            found, failed = _test_database(database.settings, catalog)
        except ActConnectorError as error:
            failures.append(f"{named}{error}")
            continue
        readable = f"readable: {', '.join(found)}" if found else "no table is readable"
        if failed:
            failures.append(named + " | ".join(failed) + f" ({readable})")
        else:
            log.info(f"{named}Connected to Act! at {database.settings.base_url}; {readable}")
    if failures:
        return Test.failure(" | ".join(failures))
    return Test.success()


def _test_database(settings: config.Settings, catalog) -> tuple[list[str], list[str]]:
    """The tables of one database that could be read (with their paths), and each failure of
    a table's own; an error that is not one table's is raised."""
    client = ActClient(settings, policy=SETUP_TEST_POLICY)
    found, failures = [], []
    try:
        client.authorize(reuse=False)  # the test is of the credentials: always asked
        settings, catalog = for_this_server(settings, catalog, client)
        until = format_utc(sync_until(client))
        for name in settings.tables:
            table = catalog.tables[name]
            if table.read == "links":
                continue  # no request of its own: written from its parent's records
            start = Position(cursor=settings.default_start_date)
            try:
                if table.per_parent:  # asked of the parent's first record
                    probe_children(client, table, catalog.tables[table.per_parent.parent])
                    path = table.paths[0]
                else:
                    path = _read_two_pages(client, table, start, until)
            except ActConnectorError as error:
                if not error.table_scoped:
                    raise
                if not refused_optional(table, error):  # the sync goes on without it
                    failures.append(str(error))
            else:
                found.append(f"{name} (/api/{path})")
    finally:
        client.close()
    return found, failures
