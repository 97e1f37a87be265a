import os
from datetime import timedelta

import pytest
import responses

import connector
from act_connector import metadata
from act_connector.config import DEFAULT_START_DATE, unknown_keys, validate_configuration
from act_connector.errors import ConfigurationError
from tests.helpers import (
    BASE_URL,
    DEFAULT_LINKS,
    DEFAULT_PER_PARENT,
    DEFAULT_TABLES,
    PASSWORD,
    configuration,
)


@pytest.mark.parametrize(
    ("protocol", "hostname", "port", "expected"),
    [
        # the brief's four examples
        ("http", "192.168.7.27", "8080", "http://192.168.7.27:8080/act.web.api"),
        ("http", "192.168.7.27", "", "http://192.168.7.27/act.web.api"),
        ("https", "192.168.7.27", "8443", "https://192.168.7.27:8443/act.web.api"),
        ("https", "192.168.7.27", "", "https://192.168.7.27/act.web.api"),
        # IPv6 addresses and server names make valid URLs too
        ("https", "::1", "8443", "https://[::1]:8443/act.web.api"),
        ("https", "[2001:db8::7]", "", "https://[2001:db8::7]/act.web.api"),
        ("https", "fe80::1%eth0", "", "https://[fe80::1%25eth0]/act.web.api"),
        ("https", "ACT_SERVER01", "", "https://ACT_SERVER01/act.web.api"),
        ("https", " apius.act.com ", "443", "https://apius.act.com/act.web.api"),
    ],
)
def test_base_url_is_built_as_the_brief_shows(catalog, protocol, hostname, port, expected):
    settings = validate_configuration(
        configuration(protocol=protocol, hostname=hostname, port=port), catalog
    )
    assert settings.base_url == expected


def test_default_port_and_slashes_are_normalised(catalog):
    settings = validate_configuration(
        configuration(
            protocol="HTTPS", hostname="apius.act.com", port="443", api_path="x-api/act.web.api/"
        ),
        catalog,
    )
    assert settings.base_url == "https://apius.act.com/x-api/act.web.api"


def test_the_largest_page_is_the_briefs_default(catalog):
    assert validate_configuration(configuration(batch_size="10000"), catalog).batch_size == 10000


def test_defaults(catalog):
    settings = validate_configuration(configuration(), catalog)
    assert settings.batch_size == 2000
    assert settings.rate_limit_pause == 0.25
    assert settings.default_start_date == DEFAULT_START_DATE
    assert settings.tables == DEFAULT_TABLES + DEFAULT_PER_PARENT + DEFAULT_LINKS
    assert settings.request_timeout == 60
    assert settings.verify is True
    assert settings.lookback == timedelta(minutes=10)
    assert settings.reconcile_interval == timedelta(hours=24)
    assert settings.membership_interval == timedelta(hours=24)


@pytest.mark.parametrize(("text", "hours"), [("0", 0), ("168", 168), (" 2 ", 2)])
def test_the_membership_interval(catalog, text, hours):
    settings = validate_configuration(configuration(membership_interval_hours=text), catalog)
    assert settings.membership_interval == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("text", "interval"),
    [("0", timedelta(0)), ("6", timedelta(hours=6)), ("off", None), (" OFF ", None)],
)
def test_the_reconciliation_interval(catalog, text, interval):
    settings = validate_configuration(configuration(reconcile_interval_hours=text), catalog)
    assert settings.reconcile_interval == interval


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": "70000"}, "Port must be between 1 and 65535"),
        ({"port": "0"}, "Port must be between 1 and 65535"),
        ({"port": "http"}, "Port must be a whole number"),
        ({"protocol": "ftp"}, "protocol must be 'http' or 'https', got 'ftp'"),
        ({"hostname": "https://act.example.com"}, "hostname must be a host name or IP address"),
        ({"hostname": "-act-"}, "hostname must be a host name or IP address"),
        ({"hostname": "999.1.1.1"}, "hostname must be a host name or IP address"),
        (
            {"hostname": "act.example.com:8080"},
            "hostname must not include a port, got 'act.example.com:8080': put "
            "'act.example.com' in hostname and '8080' in port.",
        ),
        ({"api_path": "/"}, "api_path must be the path of the Act! Web API"),
        ({"api_path": "https://act.example.com/act.web.api"}, "(put the server in 'hostname')"),
        ({"api_path": "/act.web.api?x=1"}, "api_path must be the path of the Act! Web API"),
        ({"default_start_date": "last tuesday"}, "default_start_date must be an ISO 8601"),
        ({"default_start_date": "2024-13-01"}, "default_start_date must be an ISO 8601"),
        (
            {"default_start_date": "2999-01-01"},
            "default_start_date must not be in the future, got '2999-01-01'",
        ),
        ({"batch_size": "0"}, "batch_size must be a positive whole number, got '0'"),
        ({"batch_size": "10001"}, "batch_size must be at most 10,000, got '10001'"),
        ({"batch_size": "ten"}, "batch_size must be a positive whole number, got 'ten'"),
        ({"rate_limit_pause": "-1"}, "rate_limit_pause must be a number of at least 0"),
        (
            {"request_timeout_seconds": "0"},
            "request_timeout_seconds must be a number of at least 1",
        ),
        ({"lookback_minutes": "-5"}, "lookback_minutes must be a whole number of 0 or more"),
        *(
            (
                {"reconcile_interval_hours": text},
                "reconcile_interval_hours must be a whole number of hours from 0 (every sync) "
                f"to 8,760 (a year), or 'off', got '{text}'.",
            )
            for text in ("-1", "1.5", "never", "8761")
        ),
        *(
            (
                {"membership_interval_hours": text},
                "membership_interval_hours must be a whole number of hours from 0 (every sync) "
                f"to 8,760 (a year), got '{text}'.",
            )
            for text in ("-1", "off", "8761")
        ),
        (
            {"tables": "contacts,deals"},
            "tables names unknown table(s) deals; choose from: contacts",
        ),
        ({"verify_tls": "maybe"}, "verify_tls must be 'true' or 'false'"),
        ({"ca_bundle": "/no/such/file.pem"}, "ca_bundle must be a PEM certificate"),
        (
            {"ca_bundle": "-----BEGIN CERTIFICATE-----\nMIIB"},
            "ca_bundle starts like a PEM certificate but has no '-----END CERTIFICATE-----'",
        ),
        (
            {"ca_bundle": "-----BEGIN CERTIFICATE----- not base64! -----END CERTIFICATE-----"},
            "ca_bundle holds a certificate whose body is not base64",
        ),
        ({"verify_tls": "false", "ca_bundle": "/etc/hosts"}, "ca_bundle is set but verify_tls"),
        ({"username": "  "}, "Missing required configuration value(s): username"),
        ({"username": "Hollo: John"}, "username must not contain ':', got 'Hollo: John'"),
        (
            {"database_name": "東京データ"},
            "database_name can hold only Latin-1 characters (it is sent as an HTTP header,",
        ),
        ({"batch_size": 100}, "Configuration value 'batch_size' must be a string"),
    ],
)
def test_each_bad_value_is_named(catalog, changes, message):
    with pytest.raises(ConfigurationError) as raised:
        validate_configuration(configuration(**changes), catalog)
    assert message in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_missing_keys_are_listed_together(catalog):
    with pytest.raises(ConfigurationError, match="protocol, hostname, password"):
        validate_configuration({"api_path": "/a", "username": "u", "database_name": "d"}, catalog)


def test_a_non_string_password_is_not_echoed(catalog):
    with pytest.raises(ConfigurationError) as raised:
        validate_configuration(configuration(password=12345678), catalog)
    assert "12345678" not in str(raised.value)


def test_tables_are_chosen_in_order_once(catalog):
    settings = validate_configuration(configuration(tables=" Products, notes,products "), catalog)
    assert settings.tables == ("products", "notes")


def test_start_date_accepts_dates_and_offsets(catalog):
    for text, expected in [
        ("2024-01-01", "2024-01-01T00:00:00Z"),
        ("2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z"),
    ]:
        assert (
            validate_configuration(
                configuration(default_start_date=text), catalog
            ).default_start_date
            == expected
        )


def test_pasted_pem_certificate_becomes_a_bundle_file(catalog):
    body = "QUJD" * 20  # 80 base64 characters: PEM writes them as lines of 64
    pem = f"-----BEGIN CERTIFICATE-----\n{body[:64]}\n{body[64:]}\n-----END CERTIFICATE-----\n"
    settings = validate_configuration(configuration(ca_bundle=pem), catalog)
    assert os.path.isfile(settings.verify)
    with open(settings.verify, encoding="ascii") as bundle:
        assert bundle.read() == pem
    # a one-line form field turned the line breaks into spaces: the same file comes back
    one_line = " ".join(pem.split())
    assert validate_configuration(configuration(ca_bundle=one_line), catalog).verify == (
        settings.verify
    )
    # schema() and update() each validate: the same certificate makes no second file
    assert validate_configuration(configuration(ca_bundle=pem), catalog).verify == settings.verify


def test_settings_repr_holds_no_password(catalog):
    assert PASSWORD not in repr(validate_configuration(configuration(), catalog))


def test_unknown_keys_are_reported():
    assert unknown_keys(configuration(batchsize="5")) == ["batchsize"]


@responses.activate
def test_update_validates_before_any_request():
    with pytest.raises(ConfigurationError, match="Port must be between 1 and 65535"):
        connector.update(configuration(port="99999"), {})
    assert len(responses.calls) == 0


@responses.activate
def test_schema_declares_the_chosen_tables(catalog):
    metadata._read.clear()
    responses.get(f"{BASE_URL}/authorize", body="tok.en", content_type="text/html")
    custom = {
        "id": "c9",
        "name": "user9",
        "type": "YesNo",
        "isCustom": True,
        "recordType": "Contact",
    }
    responses.get(f"{BASE_URL}/api/metadata/fields", json=[custom])
    responses.get(f"{BASE_URL}/api/metadata/entities", json=[])
    tables = connector.schema(configuration(tables="contacts,activity_types"))
    assert contacts_custom(tables) == {"customFields_user9": "BOOLEAN"}
    assert [t["table"] for t in tables] == ["contacts", "activity_types"]
    contacts, types = tables
    assert contacts["primary_key"] == ["id"]
    assert contacts["columns"]["edited"] == "UTC_DATETIME"
    assert contacts["columns"]["businessAddress_city"] == "STRING"
    assert contacts["columns"]["businessAddress_latitude"] == "DOUBLE"
    assert contacts["columns"]["isFavorite"] == "BOOLEAN"
    assert types["columns"]["id"] == "INT"
    assert types["columns"]["historyTypes"] == "JSON"


def contacts_custom(tables: list[dict]) -> dict:
    return {k: v for k, v in tables[0]["columns"].items() if k.startswith("customFields_")}


def test_a_custom_table_may_be_named_before_act_lists_it(catalog):
    settings = validate_configuration(configuration(tables="contacts,custom_projects"), catalog)
    assert settings.tables == ("contacts", "custom_projects") and settings.tables_chosen
    assert not validate_configuration(configuration(), catalog).tables_chosen
    with pytest.raises(ConfigurationError, match=r"unknown table.*custom-projects"):
        validate_configuration(configuration(tables="custom-projects"), catalog)


def test_a_link_table_without_its_parent_is_named(catalog):
    with pytest.raises(
        ConfigurationError, match=r"without their parent: note_groups \(needs notes"
    ):
        validate_configuration(configuration(tables="contacts,note_groups"), catalog)
    settings = validate_configuration(configuration(tables="notes,note_groups"), catalog)
    assert settings.tables == ("notes", "note_groups")
    with pytest.raises(
        ConfigurationError,
        match=r"without their parent: opportunity_products \(needs opportunities",
    ):
        validate_configuration(configuration(tables="opportunity_products"), catalog)
    # Membership lists its groups itself: the groups table need not be synced.
    settings = validate_configuration(configuration(tables="group_contacts"), catalog)
    assert settings.tables == ("group_contacts",)
