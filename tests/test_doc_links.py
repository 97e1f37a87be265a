"""Every relative link of README.md and docs/*.md leads somewhere: its file exists, and its
#anchor is a heading of that file, made as GitHub makes a heading's anchor. A section moved to
another document cannot leave a link to it behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.doc_blocks import DOCUMENTS, FENCE, PROJECT

LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")  # [text](target), an image's too
INLINE_CODE = re.compile(r"`[^`\n]+`")
HEADING = re.compile(r"(#{1,6}) +(.+?) *#*")
EXTERNAL = re.compile(r"[a-z][a-z+.-]*:", re.IGNORECASE)  # https:, mailto:
# Where other documents of the project link to these too.
LINKING = (*DOCUMENTS, PROJECT / "dbt" / "README.md")


def prose(text: str) -> list[str]:
    """The document's lines outside fenced code blocks, with inline code left out."""
    lines, inside = [], False
    for line in text.splitlines():
        if FENCE.fullmatch(line) or (inside and line.strip() == "```"):
            inside = not inside
            continue
        if not inside:
            lines.append(INLINE_CODE.sub("", line))
    return lines


def anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: its text (a link's text, no markup) in lower
    case, every character but letters, digits, '_', '-' and spaces dropped, spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor, a repeated one numbered as GitHub numbers it ('-1', '-2')."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose(path.read_text(encoding="utf-8")):
        heading = HEADING.fullmatch(line)
        if not heading:
            continue
        name = anchor(heading[2])
        found.add(f"{name}-{seen[name]}" if name in seen else name)
        seen[name] = seen.get(name, 0) + 1
    return found


def links(path: Path) -> list[str]:
    return [
        target
        for line in prose(path.read_text(encoding="utf-8"))
        for target in LINK.findall(line)
        if not EXTERNAL.match(target)
    ]


def broken(path: Path, target: str) -> str | None:
    """What is wrong with a relative link of the document at `path`, or None."""
    file, _, fragment = target.partition("#")
    linked = (path.parent / file).resolve() if file else path
    if not linked.exists():
        return f"{file}: no such file"
    if fragment and (linked.suffix != ".md" or fragment not in anchors(linked)):
        return f"{linked.name} has no heading whose anchor is #{fragment}"
    return None


LINKS = [(path, target) for path in LINKING for target in links(path)]


@pytest.mark.parametrize(
    ("path", "target"), LINKS, ids=[f"{p.relative_to(PROJECT)} {t}" for p, t in LINKS]
)
def test_a_link_of_the_docs_leads_to_a_file_and_heading_that_exist(path, target):
    assert not broken(path, target), f"{path.relative_to(PROJECT)}: ({target}) is broken"


def test_links_are_found_in_every_document_the_settings_ones_among_them():
    readme = PROJECT / "README.md"
    assert (readme, "#several-databases-in-one-connection") in LINKS  # the settings table's
    assert (readme, "docs/design.md#deletions") in LINKS
    assert {path.name for path, _ in LINKS} >= {"README.md", "design.md", "tables.md"}


def test_an_anchor_is_made_as_github_makes_it():
    assert anchor("Checking your Act! server") == "checking-your-act-server"
    assert anchor("What fails a sync, and what never does") == (
        "what-fails-a-sync-and-what-never-does"
    )
    assert anchor("`tables` and [links](x.md)") == "tables-and-links"
    assert anchor("Several databases in one connection") == "several-databases-in-one-connection"


def test_a_broken_link_is_found(tmp_path):
    document = tmp_path / "a.md"
    document.write_text("# Title\n\n## Title\n\n```\n## Not a heading\n```\n", encoding="utf-8")
    assert anchors(document) == {"title", "title-1"}
    assert broken(document, "#title-1") is None
    assert "no heading" in broken(document, "#not-a-heading")
    assert "no such file" in broken(document, "b.md")
