"""What README.md and docs/*.md show to be run: their fenced code blocks and inline commands.

The doc-tests (tests/test_doc_commands.py, tests/e2e/test_docs.py) take whatever the documents
hold, so that a section added later is run too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DOCUMENTS = (PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md")))
FENCE = re.compile(r"( *)```(\w*)\s*")
COMMENT = re.compile(r"<!--.*-->")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


@dataclass
class Block:
    """A fenced code block: where it is, its language, its text and what comes with it."""

    path: Path
    line: int  # of its opening fence, from 1
    language: str
    text: str
    # The HTML comment on the line before its fence ("<!-- … -->"), or "": a marker other tests
    # and scripts find the block by.
    marker: str = ""
    # For a `sql` block: the text of the `text` block that follows it (what the query gives).
    result: str | None = None

    def __str__(self) -> str:
        return f"{self.path.relative_to(PROJECT)}:{self.line}"


def blocks(documents=DOCUMENTS) -> list[Block]:
    """Every fenced block of the documents; a `text` block after a `sql` block is its result."""
    found: list[Block] = []
    for path in documents:
        lines = path.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            fence = FENCE.fullmatch(lines[index])
            if not fence:
                index += 1
                continue
            indent, language = fence.groups()
            end = next(
                i for i in range(index + 1, len(lines)) if lines[i].strip() == "```"
            )  # an unclosed block is a broken document: StopIteration says so
            text = "\n".join(line.removeprefix(indent) for line in lines[index + 1 : end])
            before = lines[index - 1].strip() if index else ""
            block = Block(
                path, index + 1, language, text, before if COMMENT.fullmatch(before) else ""
            )
            previous = found[-1] if found and found[-1].path == path else None
            if language == "text" and previous and previous.language == "sql":
                previous.result = text
            found.append(block)
            index = end + 1
    return found


def inline_code(documents=DOCUMENTS) -> list[tuple[str, str]]:
    """Every inline code span outside fenced blocks: (where its paragraph starts, its text). A
    span may run over a line's end, so spans are found in whole paragraphs."""
    spans = []
    for path in documents:
        paragraph: list[str] = []
        start, inside = 0, False
        for number, line in enumerate([*path.read_text(encoding="utf-8").splitlines(), ""], 1):
            fence = FENCE.fullmatch(line)
            if fence or inside or not line.strip():
                text = " ".join(paragraph)
                where = f"{path.relative_to(PROJECT)}:{start}"
                spans += [(where, " ".join(span.split())) for span in INLINE_CODE.findall(text)]
                paragraph = []
                inside = inside != bool(fence)
                continue
            if not paragraph:
                start = number
            paragraph.append(line.strip())
    return spans
