"""The floor: the least any connector can cost. It emits the very rows the Act! connector's
tables hold (values as Act! sends them, read one by one from a JSON-lines file of
`[table, row]` lines, bench/floor_rows.py) through the same SDK into the same DuckDB, with the
connector's own declared schema, checkpointing as often. Its time and memory are the SDK
writer's own."""

import json

from fivetran_connector_sdk import Connector
from fivetran_connector_sdk import Operations as op


def schema(configuration: dict):
    with open(configuration["schema_file"], encoding="utf-8") as handle:
        return json.load(handle)


def update(configuration: dict, state: dict):
    batch = int(configuration["batch_size"])
    count = 0
    with open(configuration["rows_file"], encoding="utf-8") as rows:
        for line in rows:
            table, row = json.loads(line)
            op.upsert(table, row)
            count += 1
            if count % batch == 0:
                op.checkpoint({"rows": count})
    op.checkpoint({"rows": count})


connector = Connector(update=update, schema=schema)
