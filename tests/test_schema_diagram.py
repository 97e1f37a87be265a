"""The README's schema diagram is the one fields.json draws, and references are checked."""

import json

import pytest

from act_connector.catalog import load_catalog
from tools.schema_diagram import END, README, START, diagram, readme_with


def test_the_readmes_diagram_is_the_one_the_catalogue_draws(catalog):
    readme = README.read_text(encoding="utf-8")
    assert readme_with(readme, diagram(catalog)) == readme, (
        "README.md's schema diagram differs from fields.json: run "
        "`python tools/schema_diagram.py --write`"
    )


def test_the_diagram_shows_every_table_its_key_and_each_join(catalog):
    block = diagram(catalog)
    assert block.startswith("```mermaid\nerDiagram\n") and block.endswith("```")
    for name, table in catalog.tables.items():
        key = table.primary_key
        assert f"    {name} {{\n        {table.columns[key]} {key} PK\n" in block
    assert '    opportunity_stages ||--o{ opportunities : "stage_id"' in block
    assert '    users ||--o{ opportunities : "recordManagerID"' in block
    assert '    opportunity_processes ||--o{ opportunity_stages : "process_id"' in block


def test_a_readme_without_the_markers_is_refused():
    with pytest.raises(ValueError, match=r"no .* section"):
        readme_with("# A README\n", "```mermaid\n```")
    assert readme_with(f"a\n{START}\nold\n{END}\nb", "new") == f"a\n{START}\nnew\n{END}\nb"


@pytest.mark.parametrize(
    "references", [{"nope": "companies"}, {"companyID": "nowhere"}], ids=["column", "table"]
)
def test_a_reference_to_nothing_is_refused(tmp_path, references):
    entries = json.loads(README.with_name("fields.json").read_text(encoding="utf-8"))
    entries["tables"]["contacts"]["references"] = references
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match="table 'contacts' references"):
        load_catalog(path)


@pytest.mark.parametrize(
    ("table", "change"),
    [("contacts", {"cursor": None}), ("users", {"cursor": "edited"})],
    ids=["keyset without a cursor", "whole with a cursor"],
)
def test_a_cursor_only_a_keyset_table_has(tmp_path, table, change):
    """A table without an edit time is read whole; one with an edit time is walked by it."""
    entries = json.loads(README.with_name("fields.json").read_text(encoding="utf-8"))
    entries["tables"][table].update(change)
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match=f"table '{table}' reads .* only a 'keyset' table has"):
        load_catalog(path)
