"""The floor's rows: the benchmark's records as the connector's chosen tables hold them, with
every value as Act! sends it (time stamps as text), written to a JSON-lines file as they are made.

This is the leanest correct emitter a person would write by hand: a record is flattened once to
its table's declared columns (nested objects joined by "_"), and what is absent or null is left
out of its row (an upsert lands a column it does not carry as null); a link table gets one row
per member of its parent's array; a per-parent table gets the records its parent's path serves,
with the parent's id. Values are changed only where the SDK itself refuses them: "" in a column
that is not text is null (and so left out), and a float in a DECIMAL column becomes text.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from act_connector.catalog import Catalog, LinkSpec, PerParentSpec, TableSpec
from act_connector.metadata import DERIVED
from bench.act_data import records

KEY_SEPARATOR = "|"  # a link row's key: "parent id|related id", as the connector writes it
# What each parent-scoped path serves, as the emulator's Store.scoped does: the generated table
# its records come from, the key naming their parent, and the key naming the record itself.
CHILDREN = {
    "opportunities/{id}/products": ("opportunity_products", "opportunityID", "id"),
    "groups/{id}/associated-contacts": ("group_contacts", "groupID", "contactID"),
    "groups/{id}/associated-groups": ("groups", "parentID", "id"),
    "contacts/{id}/campaigns": ("contact_campaigns", "contacts", "id"),
    "contacts/{id}/secondary-contacts": ("contact_secondaries", "contactID", "secondaryID"),
    "companies/{id}/associated-contacts": ("contacts", "companyID", "id"),
}
Rows = Callable[[dict], list[dict]]  # a generated record -> the rows it makes in one table


def as_sent(kind: str, value):
    """A value as Act! sent it, or as little changed as the SDK needs to accept it."""
    if value == "" and kind != "STRING":
        return None
    if kind == "DECIMAL" and isinstance(value, float):
        return repr(value)
    return value


def flat(record: dict, columns: dict[str, str], prefix: str = "") -> dict:
    """The record's declared columns that hold a value: nested objects joined by "_", nulls and
    the rest left out."""
    row = {}
    for key, value in record.items():
        name = prefix + key
        if name in columns:
            sent = as_sent(columns[name], value)
            if sent is not None:
                row[name] = sent
        elif isinstance(value, dict):
            row.update(flat(value, columns, name + "_"))
    return row


def feeds(catalog: Catalog, tables: tuple[str, ...]) -> dict[str, list[tuple[str, Rows]]]:
    """For each generated table, the chosen tables its records make rows in, and how."""
    found: dict[str, list[tuple[str, Rows]]] = {}
    for name in tables:
        source, rows = feed(catalog.tables[name])
        found.setdefault(source, []).append((name, rows))
    return found


def feed(spec: TableSpec) -> tuple[str, Rows]:
    """The generated table a chosen table's rows come from, and the rows a record makes."""
    columns = spec.columns
    if spec.links:
        return spec.links.parent, lambda record: link_rows(spec.links, record)
    per_parent = spec.per_parent  # read per parent record (opportunity lines)
    if per_parent:
        source, parent_key, child_key = CHILDREN[spec.paths[0]]
        return source, lambda record: child_rows(per_parent, columns, record, parent_key,
                                                 child_key)  # fmt: skip
    derive = DERIVED[spec.derive] if spec.derive else None
    return spec.name, lambda record: [flat(derive(record) if derive else record, columns)]


def link_rows(links: LinkSpec, record: dict) -> list[dict]:
    parent_id = str(record["id"])
    return [
        {"id": f"{parent_id}{KEY_SEPARATOR}{member['id']}", links.parent_column: parent_id,
         links.related_column: str(member["id"]), "position": position}
        for position, member in enumerate(record.get(links.array) or [])
    ]  # fmt: skip


def child_rows(
    per_parent: PerParentSpec, columns: dict, record: dict, parent_key: str, child_key: str
):
    parent_id = record.get(parent_key)
    if isinstance(parent_id, list):  # a campaign e-mail's contacts: its row is read under one
        parent_id = parent_id[0] if parent_id else None
    if not parent_id:
        return []
    related = per_parent.related_column
    if related:
        child_id = record[child_key]
        return [{"id": f"{parent_id}{KEY_SEPARATOR}{child_id}",
                 per_parent.parent_column: parent_id, related: child_id}]  # fmt: skip
    return [{**flat(record, columns), per_parent.parent_column: parent_id}]


def write_rows(
    path: Path, seed: int, sizes: dict[str, int], catalog: Catalog, tables: tuple[str, ...]
) -> dict[str, int]:
    """Writes every row of the chosen tables to `path`, one `[table, row]` a line; the rows per
    table."""
    by_source, counts = feeds(catalog, tables), dict.fromkeys(tables, 0)
    with open(path, "w", encoding="utf-8") as out:
        for table, row in rows_of(records(seed, sizes), by_source):
            out.write(json.dumps([table, row], ensure_ascii=False) + "\n")
            counts[table] += 1
    return counts


def rows_of(generated, by_source: dict) -> Iterator[tuple[str, dict]]:
    for source, record in generated:
        for table, rows in by_source.get(source, ()):
            yield from ((table, row) for row in rows(record))


def interleave(path: Path, order: dict[str, list[int]]) -> None:
    """Puts the rows file in the order another run wrote the same tables: the k-th row of a
    table goes where that run wrote its k-th row (`order`: each table's write times, sorted);
    rows it did not write come last, as they are. A writer's cost depends on how the tables'
    rows interleave (each checkpoint writes every table with waiting rows), not on which row of a
    table comes first."""
    seen: dict[str, int] = {}
    placed = []  # (when, the line's offset): a few dozen bytes a row, in the bench's process
    with open(path, "rb") as rows:
        offset = 0
        for line in rows:
            table = json.loads(line)[0]
            k = seen[table] = seen.get(table, -1) + 1
            times = order.get(table, ())
            placed.append((times[k] if k < len(times) else float("inf"), offset))
            offset += len(line)
    placed.sort()
    ordered = path.with_suffix(".ordered")
    with open(path, "rb") as rows, open(ordered, "wb") as out:
        for _, offset in placed:
            rows.seek(offset)
            out.write(rows.readline())
    shutil.move(ordered, path)
