"""The README's configuration table, made from the settings config.py declares.

A row per setting, in the order the setup form asks for them: its key, its default ("required"
for one the user must fill in) and what it means. The README holds it between two markers; a test
fails when it differs from what this script makes, so the table cannot drift from the settings.

    python tools/settings_table.py            # prints the table
    python tools/settings_table.py --write    # rewrites it in README.md
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from act_connector.config import SETTINGS, Setting
from tools.doc_section import README, Section
from tools.doc_section import main as section_main

START = "<!-- settings table: made by tools/settings_table.py from act_connector/config.py -->"
END = "<!-- end of settings table -->"


def default_shown(setting: Setting) -> str:
    """The default column: 'required', the default in words, or its text as code."""
    if setting.required:
        return "required"
    return setting.default_words or f"`{setting.default}`"


def cell(text: str) -> str:
    """Text as a Markdown table cell holds it: a bar in it would end the cell."""
    return text.replace("|", "\\|")


def settings_table() -> str:
    """The Markdown table: a row per declared setting, in their order."""
    rows = [
        f"| `{setting.key}` | {cell(default_shown(setting))} | {cell(setting.meaning)} |"
        for setting in SETTINGS
    ]
    return "\n".join(["| key | default | meaning |", "| --- | --- | --- |", *rows])


SECTION = Section(README, START, END, settings_table)


def main(argv: list[str] | None = None) -> int:
    return section_main(argv, __doc__, [SECTION])


if __name__ == "__main__":
    sys.exit(main())
