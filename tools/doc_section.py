"""A section of a document that a tool draws: the text between two markers, printed or rewritten.

README.md and docs/*.md hold such sections (the settings table, the schema diagrams). A test
compares each with what its tool draws, so that no document can drift from what it is drawn from
(the catalogue, the settings).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
README = PROJECT / "README.md"
DOCS = PROJECT / "docs"


def with_block(text: str, block: str, start: str, end: str) -> str:
    """The document's text with the block between the markers replaced."""
    head, found_start, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"the document has no '{start}' … '{end}' section")
    return f"{head}{start}\n{block}\n{end}{tail}"


@dataclass(frozen=True)
class Section:
    """What a tool draws, and where: the document and the markers around it."""

    document: Path
    start: str
    end: str
    draw: Callable[[], str]

    def rewritten(self, text: str) -> str:
        """The document's text with this section drawn anew."""
        return with_block(text, self.draw(), self.start, self.end)

    def is_current(self) -> bool:
        """Whether the document holds what the tool draws now."""
        text = self.document.read_text(encoding="utf-8")
        return self.rewritten(text) == text

    def name(self) -> str:
        return str(self.document.relative_to(PROJECT))


def main(argv: list[str] | None, doc: str, sections: list[Section]) -> int:
    """Prints the sections drawn, or with --write rewrites each in its document."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    where = ", ".join(dict.fromkeys(section.name() for section in sections))
    parser.add_argument("--write", action="store_true", help=f"rewrite it in {where}")
    arguments = parser.parse_args(argv)
    for section in sections:
        if not arguments.write:
            print(f"{section.name()}:\n{section.draw()}" if len(sections) > 1 else section.draw())
            continue
        text = section.document.read_text(encoding="utf-8")
        section.document.write_text(section.rewritten(text), encoding="utf-8")
    return 0
