"""Extraction alone, in a process of its own: the connector's update() with the SDK's operations
replaced by a counter. `python -m bench.extraction PORT BATCH` prints its figures as JSON; the
process's peak RSS is then the connector's own memory, with no SDK writer in it."""

from __future__ import annotations

import json
import sys
import time

from fivetran_connector_sdk import Logging

from act_connector.catalog import load_catalog
from act_connector.config import validate_configuration
from act_connector.sync import run_sync
from emulator.server import Settings


class CountingOperations:
    """The SDK's operations replaced by a counter: what is left is the connector's own work."""

    def __init__(self):
        self.rows = 0
        self.checkpoints = 0

    def upsert(self, table, data):
        self.rows += 1

    def delete(self, table, keys):
        pass

    def truncate(self, table):
        pass

    def checkpoint(self, state):
        self.checkpoints += 1

    def warning(self, message):
        pass


def connector_configuration(port: int, batch_size: int, tables: str = "contacts") -> dict:
    """The connector's configuration against the emulator at `port`; `tables` "" syncs the
    default catalogue."""
    s = Settings()
    return {
        "protocol": "http", "hostname": "127.0.0.1", "port": str(port), "api_path": s.base_path,
        "username": s.username, "password": s.password, "database_name": s.database,
        "tables": tables, "batch_size": str(batch_size),
    }  # fmt: skip


def main(port: int, batch_size: int) -> dict:
    Logging.LOG_LEVEL = Logging.Level.WARNING  # outside `fivetran debug` the SDK sets no level
    catalog = load_catalog()
    settings = validate_configuration(connector_configuration(port, batch_size), catalog)
    counter = CountingOperations()
    started = time.perf_counter()
    stats = run_sync(settings, catalog, {}, counter).stats
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "records": counter.rows,
        "records_per_second": round(counter.rows / seconds),
        "requests": stats.requests,
        "checkpoints": counter.checkpoints,
        "sleep_seconds": round(stats.sleep_seconds, 3),
        "network_wait_seconds": round(stats.wait_seconds, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
