"""The README's picture of the destination schema, drawn from fields.json.

A Mermaid `erDiagram` (GitHub renders it): every table of the catalogue with its primary key and
the columns that join it to another table, and one line per join. The README holds it between two
markers; a test fails when it differs from what this script draws, so the picture cannot drift
from the catalogue.

    python tools/schema_diagram.py            # prints the diagram
    python tools/schema_diagram.py --write    # rewrites it in README.md
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from act_connector.catalog import Catalog, load_catalog
from tools import readme_section
from tools.readme_section import README

__all__ = ["END", "README", "START", "diagram", "readme_with"]
START = "<!-- schema diagram: drawn by tools/schema_diagram.py from fields.json -->"
END = "<!-- end of schema diagram -->"


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


def readme_with(readme: str, block: str) -> str:
    """The README text with the diagram between the markers replaced."""
    return readme_section.readme_with(readme, block, START, END)


def main(argv: list[str] | None = None) -> int:
    return readme_section.main(argv, __doc__, lambda: diagram(load_catalog()), START, END)


if __name__ == "__main__":
    sys.exit(main())
