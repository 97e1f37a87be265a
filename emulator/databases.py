"""The emulated server's other databases: an Act! server hosts several under one login.

A client names the database it means in the Act-Database-Name header, at /authorize and on every
call; the server's main database is `store` (settings.database), the others are added here, each
with its own records, custom fields and custom table. A variant says how one differs:

- "standard": the main database's kind of data, from a seed of its own (or the main one's seed:
  a copy, as an archive beside the live database);
- "regional": other custom fields (contacts have a Region where the others have a Spouse,
  user4) and a custom table of the same name, `projects`, with other columns (a phase and
  hours where the others have a budget and a due date);
- "no_custom_table": no custom table at all.

Records created later (Store.create) are made as the standard variant makes them.
"""

from __future__ import annotations

from emulator.data import Generator, generate
from emulator.related import CUSTOM_TABLE
from emulator.server import ActEmulator, Store

# A seed of its own for what a variant changes, beside the seed's streams data.py draws from.
VARIANT_STREAM = 7919
REGIONS = ["North", "South", "East", "West"]
PHASES = ["Planning", "Build", "Handover"]
CUSTOM_ROWS = f"custom_{CUSTOM_TABLE}"


def add_database(
    emulator: ActEmulator,
    name: str,
    seed: int,
    sizes: dict[str, int] | None = None,
    variant: str = "standard",
) -> Store:
    """Adds a database named `name` to the server, its records from `seed`; returns its store."""
    data = generate(seed, sizes or {})
    VARIANTS[variant](data, Generator(seed + VARIANT_STREAM))
    store = Store(data, seed, emulator.settings, emulator.clock)  # one server, one clock
    emulator.databases[name] = store
    return store


def add_databases(emulator: ActEmulator, specs: list[str], seed: int, sizes: dict) -> None:
    """Adds a database per spec, `NAME` or `NAME=VARIANT` (python -m emulator --database), each
    from a seed of its own after `seed`, with the main database's sizes."""
    for number, spec in enumerate(specs, 1):
        name, _, variant = spec.partition("=")
        if variant and variant not in VARIANTS:
            raise ValueError(f"unknown variant '{variant}': one of {', '.join(VARIANTS)}")
        add_database(emulator, name.strip(), seed + number, sizes, variant or "standard")


def _standard(data: dict, make: Generator) -> None:
    """As data.py makes it."""


def _regional(data: dict, make: Generator) -> None:
    spouse = next(f for f in data["fields"] if f["isCustom"] and f["name"] == "user4")
    region = {**spouse, "id": spouse["id"][:-4] + "9999", "name": "region"}
    region.update(columnName="region", displayName="Region", picklist=None)
    data["fields"] = [f for f in data["fields"] if f is not spouse] + [region]
    for contact in data["contacts"]:
        contact["customFields"].pop("user4", None)
        contact["customFields"]["region"] = make.rng.choice(REGIONS)
    for row in data[CUSTOM_ROWS]:
        del row["budget"], row["dueDate"]
        row["phase"] = make.rng.choice(PHASES)
        row["hours"] = make.rng.randrange(1, 400)


def _no_custom_table(data: dict, make: Generator) -> None:
    data["entities"] = []
    data[CUSTOM_ROWS] = []


VARIANTS = {"standard": _standard, "regional": _regional, "no_custom_table": _no_custom_table}
