"""README's configuration table is the one the declared settings make, and every declared
setting (and the example configuration.json) is one its own parser reads."""

import json

import pytest

from act_connector.config import KNOWN_KEYS, SETTINGS, validate_configuration
from tools.doc_section import README
from tools.settings_table import SECTION, cell, settings_table

EXAMPLE = README.with_name("configuration.json")


def test_the_readmes_table_is_the_one_the_settings_make():
    assert SECTION.is_current(), (
        "README.md's configuration table differs from act_connector/config.py's SETTINGS: run "
        "`python tools/settings_table.py --write`"
    )


def test_the_table_has_a_row_per_setting_in_order():
    rows = settings_table().splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [f"| `{s.key}`" for s in SETTINGS]
    assert "| `protocol` | required | `http` or `https` |" in rows
    assert "| `port` | 80 / 443 | optional; 1 to 65535 |" in rows
    assert any(row.startswith("| `batch_size` | `2000` | ") for row in rows)


def test_a_bar_in_a_cell_does_not_end_it():
    assert cell("`a|b`") == "`a\\|b`"


def test_each_key_is_declared_once():
    assert len(KNOWN_KEYS) == len(SETTINGS)


@pytest.mark.parametrize("setting", [s for s in SETTINGS if not s.required], ids=lambda s: s.key)
def test_each_default_is_one_its_parser_reads(setting):
    setting.parse(setting.key, setting.default)


def test_the_example_configuration_holds_declared_keys_its_parsers_read(catalog):
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(example) <= KNOWN_KEYS
    for setting in SETTINGS:
        if setting.key in example:
            setting.parse(setting.key, example[setting.key])
    validate_configuration(example, catalog)
