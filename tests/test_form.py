import socket
import subprocess
import time

import pytest
import responses
from fivetran_connector_sdk import form_field

from act_connector.config import KNOWN_KEYS, REQUIRED_KEYS
from act_connector.form import configuration_form, connect_to_act
from emulator.server import ActEmulator
from tests.conftest import emulator_configuration
from tests.helpers import BASE_URL, PASSWORD, configuration, mock_definitions


def test_the_form_offers_every_setting():
    fields = {field.name: field for field in configuration_form().to_response().fields}
    assert set(fields) == KNOWN_KEYS
    assert {name for name, field in fields.items() if field.required} == set(REQUIRED_KEYS)
    assert fields["password"].text_field == form_field.PASSWORD
    assert [option.value for option in fields["protocol"].dropdown_options] == ["https", "http"]
    # a dropdown left unset arrives empty and means "verify"; a toggle could arrive as "false"
    assert [option.value for option in fields["verify_tls"].dropdown_options] == ["true", "false"]
    assert not fields["verify_tls"].required
    for name in set(KNOWN_KEYS) - set(REQUIRED_KEYS):
        assert fields[name].description.startswith("Optional"), name


def test_the_form_registers_the_connection_test():
    tests = configuration_form().to_response().tests
    assert [(t.name, t.label) for t in tests] == [("connect_to_act", "Connect to Act!")]


def test_success_against_the_emulator(emulator, capsys):
    result = connect_to_act(emulator_configuration(emulator))
    assert result.success and result.failure is None
    assert "readable: contacts (/api/contacts)" in capsys.readouterr().out


def test_each_setup_test_authorizes_though_the_process_holds_a_token(emulator):
    configuration = emulator_configuration(emulator, tables="users")
    assert connect_to_act(configuration).success and connect_to_act(configuration).success
    assert emulator.stats["authorizations"] == 2  # the test is of the credentials


def test_a_table_read_whole_is_read_once_without_a_query(emulator, capsys):
    before = emulator.stats["data_requests"]
    result = connect_to_act(emulator_configuration(emulator, tables="users,history_types"))
    assert result.success
    assert emulator.stats["data_requests"] - before == 2
    assert "readable: users (/api/users)" in capsys.readouterr().out


def test_a_build_refusing_the_keyset_clause_fails_at_setup_naming_each_table(emulator):
    emulator.configure(or_supported=False)
    result = connect_to_act(emulator_configuration(emulator, tables="contacts,activity_types"))
    assert not result.success
    assert result.failure.startswith("Table 'contacts': Act! answered HTTP 400")
    assert "The binary operator 'Or' is not supported." in result.failure
    assert "readable: activity_types (/api/task-types)" in result.failure  # read whole, no query


def test_the_setup_test_pages_an_integer_key_as_an_integer(emulator):
    emulator.configure(ids_as_text=True)
    assert connect_to_act(emulator_configuration(emulator, tables="activity_types")).success


def test_refused_credentials(emulator):
    result = connect_to_act(emulator_configuration(emulator, password=PASSWORD))
    assert "Act! refused the user name, password or database name" in result.failure
    assert PASSWORD not in result.failure


def test_an_older_builds_path_is_found(emulator):
    emulator.configure(build="legacy")
    assert connect_to_act(emulator_configuration(emulator, tables="contacts,activities")).success


@responses.activate
def test_a_missing_endpoint_names_the_table():
    responses.get(f"{BASE_URL}/authorize", body="token", content_type="text/html")
    responses.get(f"{BASE_URL}/api/contacts", json=[])
    mock_definitions(responses)
    for path in ("task-types", "activitytypes", "activity-types"):
        responses.get(f"{BASE_URL}/api/{path}", status=404)
    result = connect_to_act(configuration(tables="contacts,activity_types"))
    assert result.failure.startswith("Table 'activity_types': Act! answered HTTP 404")
    assert "none of /api/task-types, /api/activitytypes, /api/activity-types exists" in (
        result.failure
    )


@responses.activate
def test_a_permission_error_shows_acts_code():
    responses.get(f"{BASE_URL}/authorize", body="token", content_type="text/html")
    responses.get(
        f"{BASE_URL}/api/contacts",
        status=403,
        json={"code": 4032, "message": "The user does not have the Web API Access permission."},
    )
    responses.get(f"{BASE_URL}/api/companies", json=[{"id": "c1"}])
    responses.get(f"{BASE_URL}/api/Products", status=404)
    mock_definitions(responses)
    result = connect_to_act(configuration(tables="contacts,companies,products"))
    assert result.failure.startswith("Table 'contacts': Act! answered HTTP 403")
    assert "code 4032: The user does not have the Web API Access permission." in result.failure
    assert "needs the 'Web API Access' permission" in result.failure
    # every table is tried: one run of the test lists each table that needs attention
    assert " | Table 'products': Act! answered HTTP 404" in result.failure
    assert result.failure.endswith("(readable: companies (/api/companies))")


def test_an_unreachable_host_fails_in_seconds_after_the_syncs_three_attempts():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = connect_to_act(configuration(hostname="127.0.0.1", port=str(port)))
    assert time.monotonic() - started < 5
    assert result.failure.startswith("Authorization: could not reach Act! at http://127.0.0.1:")
    assert "3 attempt(s): the connection was refused, so nothing listens on that port" in (
        result.failure
    )


def test_a_bad_configuration_is_named():
    result = connect_to_act(configuration(port="99999"))
    assert result.failure == "Configuration: Port must be between 1 and 65535, got 99999."


@pytest.fixture
def tls_emulator(tmp_path):
    certificate, key = tmp_path / "act.pem", tmp_path / "act.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ActEmulator(seed=2, sizes={"contacts": 5})
    server.start(tls=(str(certificate), str(key)))
    yield server, certificate
    server.stop()


def test_a_self_signed_server_fails_until_its_certificate_is_given(tls_emulator, capsys):
    server, certificate = tls_emulator
    settings = emulator_configuration(server, protocol="https", tables="contacts")
    failure = connect_to_act(settings).failure
    assert failure.startswith("Authorization: TLS verification failed for https://127.0.0.1:")
    assert "certificate verify failed: self-signed certificate" in failure
    assert "set ca_bundle to it" in failure
    assert connect_to_act({**settings, "ca_bundle": str(certificate)}).success
    assert connect_to_act({**settings, "ca_bundle": certificate.read_text()}).success
    # pasted into a one-line field, its line breaks become spaces or vanish: it still works
    one_line = " ".join(certificate.read_text().split())
    assert connect_to_act({**settings, "ca_bundle": one_line}).success
    no_breaks = certificate.read_text().replace("\n", "")
    assert connect_to_act({**settings, "ca_bundle": no_breaks}).success
    assert connect_to_act({**settings, "verify_tls": "false"}).success
    captured = capsys.readouterr()
    assert "verify_tls is 'false': the server's certificate is not checked" in captured.out
    assert "Unverified HTTPS request" not in captured.err
