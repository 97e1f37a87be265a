"""The pictures of the destination schema, drawn from fields.json.

Mermaid `erDiagram`s (GitHub renders them). The full one, in docs/tables.md: every table of the
catalogue with its primary key and the columns that join it to another table, and one line per
join. The core one, in README.md: the default tables only, without their columns, a link or
membership table drawn as the line it makes between the two tables it joins. Each sits between
two markers; a test fails when one differs from what this script draws, so that no picture can
drift from the catalogue.

    python tools/schema_diagram.py            # prints both
    python tools/schema_diagram.py --write    # rewrites them in README.md and docs/tables.md
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from act_connector.catalog import Catalog, TableSpec, load_catalog
from tools.doc_section import DOCS, README, Section
from tools.doc_section import main as section_main

__all__ = ["CORE", "FULL", "core_diagram", "diagram"]


def diagram(catalog: Catalog) -> str:
    """The Mermaid block: tables in catalogue order, each join read 'one to zero or more'."""
    lines = ["```mermaid", "erDiagram"]
    for name, table in catalog.tables.items():
        for column, target in table.references.items():
            lines.append(f'    {target} ||--o{{ {name} : "{column}"')
    for name, table in catalog.tables.items():
        lines.append(f"    {name} {{")
        lines.append(f"        {table.columns[table.primary_key]} {table.primary_key} PK")
        for column in table.references:
            lines.append(f"        {table.columns[column]} {column} FK")
        lines.append("    }")
    lines.append("```")
    return "\n".join(lines)


def joins_two(table: TableSpec) -> tuple[str, str] | None:
    """The two tables a link or membership table joins (its parent, then the related one), or
    None for a table with rows of its own."""
    if table.links:
        return table.links.parent, table.references[table.links.related_column]
    membership = table.per_parent
    if membership and membership.related_column:
        return membership.parent, table.references[membership.related_column]
    return None


def core_diagram(catalog: Catalog) -> str:
    """The Mermaid block of the default tables: each join of a table with rows of its own read
    'one to zero or more', each link or membership table as a 'many to many' line named after
    it; tables that join none are left out."""
    lines = ["```mermaid", "erDiagram"]
    for name in catalog.default_tables:
        table = catalog.tables[name]
        pair = joins_two(table)
        if pair:
            lines.append(f'    {pair[0]} }}o--o{{ {pair[1]} : "{name}"')
            continue
        for column, target in table.references.items():
            lines.append(f'    {target} ||--o{{ {name} : "{column}"')
    lines.append("```")
    return "\n".join(lines)


FULL = Section(
    DOCS / "tables.md",
    "<!-- schema diagram: drawn by tools/schema_diagram.py from fields.json -->",
    "<!-- end of schema diagram -->",
    lambda: diagram(load_catalog()),
)
CORE = Section(
    README,
    "<!-- core schema diagram: drawn by tools/schema_diagram.py from fields.json -->",
    "<!-- end of core schema diagram -->",
    lambda: core_diagram(load_catalog()),
)


def main(argv: list[str] | None = None) -> int:
    return section_main(argv, __doc__, [CORE, FULL])


if __name__ == "__main__":
    sys.exit(main())
