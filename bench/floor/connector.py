"""The floor: the least any connector can cost. It emits the very rows the Act! connector's
tables hold (values as Act! sends them, read one by one from a JSON-lines file of
`[table, row]` lines, bench/floor_rows.py) through the same SDK into the same DuckDB, with the
connector's own declared schema, checkpointing as often. Its time and memory are the SDK
writer's own.

With `state_chars_per_row`, each checkpoint also carries text of that many characters for each
row emitted so far: a state growing as the connector's does with its remembered set, so that the
SDK's own cost of checkpointing a state that size (it copies the whole state several times at
each checkpoint) can be told from the connector's."""

import json

from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Operations as op


def schema(configuration: dict):
    with open(configuration["schema_file"], encoding="utf-8") as handle:
        return json.load(handle)


def update(configuration: dict, state: dict):
    batch = int(configuration["batch_size"])
    per_row = float(configuration.get("state_chars_per_row", "0"))
    count = 0
    with open(configuration["rows_file"], encoding="utf-8") as rows:
        for line in rows:
            table, row = json.loads(line)
            op.upsert(table, row)
            count += 1
            if count % batch == 0:
                op.checkpoint(floor_state(count, per_row))
    op.checkpoint(floor_state(count, per_row))


def floor_state(rows: int, chars_per_row: float) -> dict:
    """The floor's state after `rows` rows: their count, and as much text as asked for."""
    return {"rows": rows, "remembered": "A" * round(rows * chars_per_row)}


connector = Connector(update=update, schema=schema)
