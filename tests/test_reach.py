"""Reaching Act!: a wrong host or port fails in seconds, and every network or TLS failure says
what it is and names its fix: a refused connection, a name that does not resolve, a host that
never answers, plain HTTP on an https setting, a TLS failure with certificate checks off. (The
setup test's own wrong port: tests/test_form.py.)

Over real sockets on 127.0.0.1 where the operating system's own answer matters, with
`responses` where the failure cannot be made locally (a silent host, an unresolvable name).
"""

import socket
import time

import pytest
import requests
import responses

from act_connector.client import ActClient
from act_connector.config import validate_configuration
from act_connector.errors import ActUnavailable
from tests.conftest import emulator_configuration
from tests.helpers import BASE_URL, configuration

AUTHORIZE = f"{BASE_URL}/authorize"


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def failure_of(settings) -> tuple[str, list[float]]:
    """The message of the client's first request failing, and the waits before it did."""
    slept = []
    client = ActClient(settings, sleep=slept.append)
    with pytest.raises(ActUnavailable) as raised:
        client.authorize()
    message = str(raised.value)
    assert message.count("(") == message.count(")")
    return message, slept


def test_a_wrong_port_fails_in_seconds_after_three_attempts(catalog):
    port = free_port()
    settings = validate_configuration(configuration(hostname="127.0.0.1", port=str(port)), catalog)
    started = time.monotonic()
    client = ActClient(settings)  # sleeping for real: the time to fail is what is tested
    with pytest.raises(ActUnavailable) as raised:
        client.authorize()
    assert time.monotonic() - started < 5
    assert str(raised.value) == (
        f"Authorization: could not reach Act! at http://127.0.0.1:{port}/act.web.api/authorize, "
        "3 attempt(s): the connection was refused, so nothing listens on that port. Check "
        "hostname and port (and protocol)."
    )
    assert client.stats.tables["authorization"].requests == 3


@responses.activate
@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            requests.ConnectTimeout("Connection to act.test timed out. (connect timeout=10)"),
            "no connection within 10s, so the host does not answer on that port. Check "
            "hostname, port and any firewall between.",
        ),
        (
            requests.ConnectionError(
                "HTTPConnectionPool(host='act.test', port=80): Max retries exceeded with url: "
                '/act.web.api/authorize (Caused by NameResolutionError("<urllib3.connection.'
                "HTTPConnection object at 0x7f>: Failed to resolve 'act.test' ([Errno -2] Name "
                'or service not known)"))'
            ),
            "the host name does not resolve. Check hostname.",
        ),
        (
            requests.ReadTimeout(
                "HTTPConnectionPool(host='act.test', port=80): Read timed out. (read timeout=60)"
            ),
            "the connection was accepted but no answer came within 60s. Check that the port is "
            "the Web API's, or raise request_timeout_seconds.",
        ),
    ],
)
def test_a_server_never_reached_is_named_by_what_went_wrong(catalog, error, words):
    responses.get(AUTHORIZE, body=error)
    message, slept = failure_of(validate_configuration(configuration(), catalog))
    assert message == f"Authorization: could not reach Act! at {AUTHORIZE}, 3 attempt(s): {words}"
    assert len(slept) == 2 and sum(slept) <= 3


@pytest.mark.parametrize("verify_tls", ["true", "false"])
def test_https_against_a_plain_http_server_says_to_use_http(emulator, catalog, verify_tls):
    settings = validate_configuration(
        emulator_configuration(emulator, protocol="https", verify_tls=verify_tls), catalog
    )
    message, slept = failure_of(settings)
    assert message == (
        f"Authorization: Act! at https://127.0.0.1:{emulator.port}/act.web.api/authorize "
        "answered in plain HTTP, not TLS: set protocol to http (or port to the one its HTTPS "
        "listens on)."
    )
    assert slept == []  # no retry: waiting cures nothing


@responses.activate
def test_a_tls_failure_with_certificate_checks_off_does_not_blame_the_certificate(catalog):
    url = "https://act.test/act.web.api/authorize"
    handshake = requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='act.test', port=443): Max retries exceeded with url: "
        "/act.web.api/authorize (Caused by SSLError(SSLError(1, '[SSL: "
        "SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1000)')))"
    )
    responses.get(url, body=handshake)
    settings = validate_configuration(configuration(protocol="https", verify_tls="false"), catalog)
    message, _ = failure_of(settings)
    assert message == (
        f"Authorization: the TLS handshake with {url} failed: [SSL: "
        "SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure. Certificates are not "
        "checked (verify_tls is false), so this is the server's TLS set-up or a proxy between: "
        "check protocol and port."
    )
    assert "ca_bundle" not in message
