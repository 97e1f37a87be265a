"""A section of the README that a tool draws: the text between two markers, printed or rewritten.

A test compares each such section with what its tool draws, so that the README cannot drift from
what it is drawn from (the catalogue, the settings).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_with(readme: str, block: str, start: str, end: str) -> str:
    """The README text with the block between the markers replaced."""
    head, found_start, rest = readme.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"README.md has no '{start}' … '{end}' section")
    return f"{head}{start}\n{block}\n{end}{tail}"


def main(argv: list[str] | None, doc: str, draw: Callable[[], str], start: str, end: str) -> int:
    """Prints the section `draw` makes, or with --write rewrites it in README.md."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the section in README.md")
    arguments = parser.parse_args(argv)
    block = draw()
    if not arguments.write:
        print(block)
        return 0
    README.write_text(
        readme_with(README.read_text(encoding="utf-8"), block, start, end), encoding="utf-8"
    )
    return 0
