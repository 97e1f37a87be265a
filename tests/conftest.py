import threading
from collections.abc import Callable

import pytest
import responses
from fivetran_connector_sdk import Logging

from act_connector.catalog import load_catalog
from act_connector.client import ActClient
from act_connector.config import validate_configuration
from act_connector.sync import run_sync
from emulator.server import ActEmulator
from tests.helpers import BASE_URL, TOKEN, RecordingOperations, as_in_a_new_process


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


class Unwaited:
    """A request's stop event whose waits are handed on, not waited: each returns at once,
    saying whether the request was stopped (which still ends it as a wait would)."""

    def __init__(self, stop: threading.Event, on_pause: Callable[[float], None]):
        self.stop, self.on_pause = stop, on_pause

    def wait(self, seconds: float) -> bool:
        self.on_pause(seconds)
        return self.stop.is_set()


def hand_on_pauses(monkeypatch, on_pause: Callable[[float], None]) -> None:
    """The client's pauses (its sleeps, and its waits on a request's stop event, which a page
    fetched ahead waits on) go to on_pause instead of being waited out; they count as before."""
    monkeypatch.setattr("act_connector.client.time.sleep", on_pause)
    pause = ActClient._pause

    def handed_on(client, table, seconds, stop=None):
        pause(client, table, seconds, None if stop is None else Unwaited(stop, on_pause))

    monkeypatch.setattr(ActClient, "_pause", handed_on)


@pytest.fixture
def no_sleep(monkeypatch):
    """Records the pauses the client asks for instead of waiting them out."""
    slept: list[float] = []
    hand_on_pauses(monkeypatch, slept.append)
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


def emulator_sync(server, catalog, state=None, **changes):
    """A sync (update()'s work, operations recorded) against the emulator over real HTTP."""
    settings = validate_configuration(emulator_configuration(server, **changes), catalog)
    operations = RecordingOperations()
    as_in_a_new_process()  # each sync its own run: a second's wait is then enough for the next
    run_sync(settings, catalog, state, operations)
    return operations


@pytest.fixture
def act():
    """A mocked Act! (`responses`) that authorizes with TOKEN at a fixed server time; tests add
    the answers of its collections."""
    with responses.RequestsMock() as mock:
        mock.get(
            f"{BASE_URL}/authorize",
            body=TOKEN,
            content_type="text/html",
            headers={"Date": "Wed, 01 Oct 2025 12:00:00 GMT"},
        )
        yield mock
