"""The Fivetran setup form and its connection test.

`fivetran configuration` asks for each field; `fivetran configuration --test` (and Fivetran's setup
page) runs "Connect to Act!", which authorizes and reads a record of each chosen table and the page
after it (the keyset query every sync relies on), and says
in plain words which table failed and why.
"""

from __future__ import annotations

from fivetran_connector_sdk import ConfigurationForm, Test, form_field
from fivetran_connector_sdk import Logging as log

from act_connector import config
from act_connector.catalog import load_catalog
from act_connector.client import PROMPT_POLICY, ActClient
from act_connector.discovery import first_page, sync_until
from act_connector.errors import ActConnectorError
from act_connector.metadata import for_this_server
from act_connector.paging import Position, cursor_moment, page_query, usable_rows
from act_connector.per_parent import probe_children
from act_connector.timestamps import format_utc
from act_connector.whole import refused_optional

# A setup test should answer in seconds: a wrong host or port fails after the sync's three
# attempts, and a server that errs or throttles gets seconds, not the sync's minutes.
SETUP_TEST_POLICY = PROMPT_POLICY


def configuration_form() -> ConfigurationForm:
    catalog = load_catalog()
    text, secret = form_field.TextField.plain_text, form_field.TextField.password
    form = ConfigurationForm()
    form.add_field(
        _dropdown(
            "protocol",
            "Protocol",
            [("https", "HTTPS", "Act! cloud and most servers"),
             ("http", "HTTP", "A self-hosted server on a LAN")],
            "How to reach the Act! Web API.",
            required=True,
        )
    )  # fmt: skip
    fields = [
        (
            "hostname",
            "Host name",
            text,
            True,
            "apius.act.com",
            "Host name or IP address of the Act! Web API server, without http:// or a path.",
        ),
        (
            "port",
            "Port",
            text,
            False,
            "443",
            "Optional. Leave empty for 80 (HTTP) or 443 (HTTPS).",
        ),
        (
            "api_path",
            "API path",
            text,
            True,
            "/act.web.api",
            "Path of the Web API on the server: /act.web.api, or /{customer}-api/act.web.api.",
        ),
        (
            "username",
            "User name",
            text,
            True,
            "John Hollo",
            "The Act! user's display name, spaces included. The user needs 'Web API Access'.",
        ),
        ("password", "Password", secret, True, None, "The Act! user's password."),
        (
            "database_name",
            "Database name",
            text,
            True,
            "ActDemo",
            "The Act! database to sync (sent as the Act-Database-Name header).",
        ),
        (
            "tables",
            "Tables",
            text,
            False,
            ",".join(catalog.default_tables),
            "Optional. Comma-separated tables to sync; empty syncs the default ones and every "
            "custom table. Available: "
            + ", ".join(catalog.tables)
            + ", custom_<name> for each custom table.",
        ),
        (
            "default_start_date",
            "Start date",
            text,
            False,
            config.DEFAULT_START_DATE,
            "Optional. ISO 8601; the first sync reads records edited from then on.",
        ),
        (
            "batch_size",
            "Page size",
            text,
            False,
            str(config.DEFAULT_BATCH_SIZE),
            "Optional. Records asked for per request ($top); the server may send fewer.",
        ),
        (
            "rate_limit_pause",
            "Throttle pause (seconds)",
            text,
            False,
            str(config.DEFAULT_RATE_LIMIT_PAUSE),
            "Optional. Pause between requests once Act! has throttled this sync; none before.",
        ),
        (
            "request_timeout_seconds",
            "Request timeout (seconds)",
            text,
            False,
            f"{config.DEFAULT_REQUEST_TIMEOUT:g}",
            "Optional. A request that takes longer is retried.",
        ),
        (
            "lookback_minutes",
            "Look-back window (minutes)",
            text,
            False,
            str(config.DEFAULT_LOOKBACK_MINUTES),
            "Optional. Each sync re-reads records edited this long before the last one seen.",
        ),
        (
            "reconcile_interval_hours",
            "Reconciliation interval (hours)",
            text,
            False,
            str(config.DEFAULT_RECONCILE_INTERVAL_HOURS),
            "Optional. How often to compare each table with Act! to catch deleted records and "
            "records stamped in the past; 0 on every sync, 'off' never.",
        ),
        (
            "membership_interval_hours",
            "Membership interval (hours)",
            text,
            False,
            str(config.DEFAULT_MEMBERSHIP_INTERVAL_HOURS),
            "Optional. How often to read again who is in each group and company (a request "
            "per group or company); 0 on every sync.",
        ),
        (
            "ca_bundle",
            "CA certificate",
            text,
            False,
            config.PEM_MARKER,
            "Optional. PEM certificate (or file path) of a server with its own certificate.",
        ),
    ]
    for name, label, kind, required, placeholder, description in fields:
        form.add_field(
            form_field.TextField(
                name,
                label,
                kind,
                description=description,
                required=required,
                placeholder=placeholder,
            )
        )
    # A dropdown, not a toggle: a toggle nobody touched might arrive as "false" and turn
    # certificate checks off; an unset dropdown arrives empty, which means "true".
    form.add_field(
        _dropdown(
            "verify_tls",
            "Verify TLS certificate",
            [("true", "Yes", "Recommended; the default"),
             ("false", "No", "Only to test a self-signed server")],
            "Optional, yes by default. Prefer giving the server's CA certificate.",
            required=False,
        )
    )  # fmt: skip
    form.add_test(label="Connect to Act!", func=connect_to_act)
    return form


def _dropdown(name, label, options, description, required):
    """A dropdown of (value, label, description) options."""
    return form_field.DropdownField(
        name,
        label,
        fields=[form_field.DropdownFieldParam(*option) for option in options],
        description=description,
        required=required,
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
    """Authorizes, then reads two pages of each chosen table; a failure names table and cause.

    Every table is tried, so that one test run lists every table that needs attention; refused
    credentials, an unreachable server or a TLS failure end the test at once.
    """
    catalog = load_catalog()
    try:
        settings = config.validate_configuration(configuration, catalog)
    except ActConnectorError as error:
        return Test.failure(f"Configuration: {error}")
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
    except ActConnectorError as error:
        return Test.failure(str(error))
    finally:
        client.close()
    readable = f"readable: {', '.join(found)}" if found else "no table is readable"
    if failures:
        return Test.failure(" | ".join(failures) + f" ({readable})")
    log.info(f"Connected to Act! at {settings.base_url}; {readable}")
    return Test.success()
