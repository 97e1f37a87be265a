"""The README's picture of the destination schema, drawn from fields.json.

A Mermaid `erDiagram` (GitHub renders it): every table of the catalogue with its primary key and
the columns that join it to another table, and one line per join. The README holds it between two
markers; a test fails when it differs from what this script draws, so the picture cannot drift
from the catalogue.

    python tools/schema_diagram.py            # prints the diagram
    python tools/schema_diagram.py --write    # rewrites it in README.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from act_connector.catalog import Catalog, load_catalog

README = Path(__file__).resolve().parent.parent / "README.md"
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
    """The README text with the block between the markers replaced."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README.md has no '{START}' … '{END}' section")
    return f"{head}{START}\n{block}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the diagram in README.md")
    arguments = parser.parse_args(argv)
    block = diagram(load_catalog())
    if not arguments.write:
        print(block)
        return 0
    README.write_text(readme_with(README.read_text(encoding="utf-8"), block), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
