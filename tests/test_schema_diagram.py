"""The schema diagrams (README's core one, docs/tables.md's full one) are those fields.json
draws, and references are checked."""

import json

import pytest

from act_connector.catalog import load_catalog
from tools.doc_section import PROJECT, with_block
from tools.schema_diagram import CORE, FULL, core_diagram, diagram


@pytest.mark.parametrize("section", [CORE, FULL], ids=lambda section: section.name())
def test_each_diagram_is_the_one_the_catalogue_draws(section):
    assert section.is_current(), (
        f"{section.name()}'s schema diagram differs from fields.json: run "
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


def test_the_core_diagram_draws_the_default_tables_a_link_table_as_one_line(catalog):
    block = core_diagram(catalog)
    assert block.startswith("```mermaid\nerDiagram\n") and block.endswith("```")
    assert '    opportunity_stages ||--o{ opportunities : "stage_id"' in block
    assert '    opportunities }o--o{ contacts : "opportunity_contacts"' in block
    assert '    groups }o--o{ contacts : "group_contacts"' in block  # membership, too
    assert '    opportunities ||--o{ opportunity_products : "opportunityID"' in block
    assert "PK" not in block and "notes" not in block  # no columns; no table off by default
    assert "opportunity_contacts ||" not in block and "o{ opportunity_contacts" not in block


def test_a_document_without_the_markers_is_refused():
    start, end = FULL.start, FULL.end
    with pytest.raises(ValueError, match=r"no .* section"):
        with_block("# A README\n", "```mermaid\n```", start, end)
    assert with_block(f"a\n{start}\nold\n{end}\nb", "new", start, end) == (
        f"a\n{start}\nnew\n{end}\nb"
    )


@pytest.mark.parametrize(
    "references", [{"nope": "companies"}, {"companyID": "nowhere"}], ids=["column", "table"]
)
def test_a_reference_to_nothing_is_refused(tmp_path, references):
    entries = json.loads((PROJECT / "fields.json").read_text(encoding="utf-8"))
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
    entries = json.loads((PROJECT / "fields.json").read_text(encoding="utf-8"))
    entries["tables"][table].update(change)
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match=f"table '{table}' reads .* only a 'keyset' table has"):
        load_catalog(path)
