"""The floor: the least any connector can cost. It emits the very rows the Act! connector emits
(already flattened, read one by one from a JSON-lines file) through the same SDK into the same
DuckDB, checkpointing as often. Its time and memory are the SDK writer's own."""

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
            op.upsert("contacts", json.loads(line))
            count += 1
            if count % batch == 0:
                op.checkpoint({"rows": count})
    op.checkpoint({"rows": count})


connector = Connector(update=update, schema=schema)
