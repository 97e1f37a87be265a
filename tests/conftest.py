import pytest
from fivetran_connector_sdk import Logging

from act_connector.catalog import load_catalog
from emulator.server import ActEmulator
from tests.helpers import as_in_a_new_process


@pytest.fixture(autouse=True)
def fresh_definitions():
    """Act!'s definitions and tokens are kept for a sync's schema() and update(): not from test
    to test."""
    as_in_a_new_process()
    yield
    as_in_a_new_process()


@pytest.fixture(autouse=True)
def sdk_log_level():
    """Outside `fivetran debug` the SDK's logger has no level; tests read what it prints."""
    Logging.LOG_LEVEL = Logging.Level.DEBUG
    yield


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture
def no_sleep(monkeypatch):
    """Records the sleeps the client asks for instead of sleeping."""
    slept: list[float] = []
    monkeypatch.setattr("act_connector.client.time.sleep", slept.append)
    return slept


@pytest.fixture
def emulator():
    """A small Act! emulator on a free port on 127.0.0.1, stopped after the test."""
    server = ActEmulator(
        seed=11,
        sizes={
            "contacts": 230,
            "companies": 40,
            "opportunities": 60,
            "activities": 90,
            "products": 25,
        },
    )
    server.start()
    yield server
    server.stop()


def emulator_configuration(server, **changes) -> dict:
    s = server.settings
    return {
        "protocol": "http",
        "hostname": "127.0.0.1",
        "port": str(server.port),
        "api_path": s.base_path,
        "username": s.username,
        "password": s.password,
        "database_name": s.database,
        **changes,
    }
