"""Every command README.md and docs/*.md show is one of this project's, as written.

Taken from the documents' `bash`, `sh` and `console` blocks and from inline code that starts
with a command (`make demo`, `python tools/doctor.py --state …`), each is checked and its cheap
part run: a make target by `make -n` (it exists, and its recipe expands), a script or module by
its `--help` (it starts, and lists every option the document gives it), a `fivetran` command by
`fivetran <command> --help`. A command of another kind fails until this test learns to check it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.doc_blocks import DOCUMENTS, PROJECT, blocks, inline_code

SHELL_LANGUAGES = ("bash", "sh", "shell", "console")
PYTHON = re.compile(r"(\S*/)?python3?")
# The programs inline code is taken as a command for ("`make demo`", not "`make`" alone).
COMMAND_START = re.compile(r"(make|fivetran|(\S*/)?python3?) \S")
OPTION = re.compile(r"--?[\w-]+")
MAKEFILE = PROJECT / "Makefile"
# The virtual environments the Makefile builds (VENV := .venv): what a document may `source`.
VENV = re.compile(r"^VENV\w* := (\S+)$", re.MULTILINE)
SECONDS = 60  # a `--help` or `make -n` answers in a second or two; this is a hang
ENVIRONMENT = {**os.environ, "DO_NOT_TRACK": "1"}  # `fivetran` without its telemetry notice


def shell_lines(text: str, console: bool) -> list[str]:
    """The command lines of a block: continuations joined, a console's prompts only."""
    lines = text.replace("\\\n", " ").splitlines()
    if console:
        return [line[2:] for line in lines if line.startswith("$ ")]
    return [line for line in lines if line.strip()]


def documented_commands() -> list[tuple[str, list[str]]]:
    """(where, words) of every command the documents show, each once."""
    found: dict[tuple[str, ...], str] = {}
    for block in blocks():
        if block.language in SHELL_LANGUAGES:
            for line in shell_lines(block.text, block.language == "console"):
                found.setdefault(tuple(shlex.split(line, comments=True)), str(block))
    for where, span in inline_code():
        if COMMAND_START.match(span):
            found.setdefault(tuple(shlex.split(span)), where)
    return [(where, list(words)) for words, where in found.items() if words]


def folders_entered() -> list[Path]:
    """The project and every folder a document's commands `cd` into: where a relative script
    path (`python ../../tools/doctor.py`) may be meant from."""
    entered = [words[1] for _, words in documented_commands() if words[0] == "cd"]
    return [PROJECT, *(PROJECT / folder for folder in entered)]


@cache
def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=PROJECT,
        env=ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        stdin=subprocess.DEVNULL,
    )


def options(words: list[str]) -> list[str]:
    """The options a command gives (`--configuration`, not its value), placeholders aside."""
    return [OPTION.match(word)[0] for word in words if OPTION.match(word)]


def assert_help_lists(help_command: list[str], words: list[str]) -> None:
    done = run(*help_command)
    assert done.returncode == 0, f"{' '.join(help_command)}: {done.stdout}{done.stderr}"
    for option in options(words):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", done.stdout), (
            f"{' '.join(help_command)} lists no {option}:\n{done.stdout}"
        )


def check_python(words: list[str]) -> None:
    if words[1] == "-m":
        assert_help_lists([sys.executable, "-m", words[2], "--help"], words[3:])
        return
    scripts = [Path(os.path.normpath(folder / words[1])) for folder in folders_entered()]
    script = next((path for path in scripts if path.is_file()), None)
    assert script, f"no script {words[1]} in the project or a folder the documents enter"
    assert_help_lists([sys.executable, str(script), "--help"], words[2:])


def check_make(words: list[str]) -> None:
    done = run("make", "-n", *words[1:])
    assert done.returncode == 0, f"make -n {' '.join(words[1:])}: {done.stderr}"


def check_fivetran(words: list[str]) -> None:
    fivetran = str(Path(sys.executable).parent / "fivetran")
    command = words[1]
    assert command in run(fivetran, "--help").stdout.split(), f"fivetran has no {command}"
    assert_help_lists([fivetran, command, "--help"], words[2:])


def check_source(words: list[str]) -> None:
    venvs = VENV.findall(MAKEFILE.read_text(encoding="utf-8"))
    assert words[1] in [f"{venv}/bin/activate" for venv in venvs], (
        f"{words[1]} is not the activation of a virtual environment the Makefile builds"
    )


def check_cd(words: list[str]) -> None:
    assert words[1] in MAKEFILE.read_text(encoding="utf-8"), (
        f"{words[1]}: no make target makes this folder"
    )


def check_export(words: list[str]) -> None:
    name = words[1].partition("=")[0]
    readers = [MAKEFILE, *PROJECT.glob("*.py"), *PROJECT.glob("tools/*.py")]
    assert any(name in path.read_text(encoding="utf-8") for path in readers), (
        f"nothing of the project reads {name}"
    )


CHECKS = {
    "make": check_make,
    "fivetran": check_fivetran,
    "source": check_source,
    "cd": check_cd,
    "export": check_export,
}


COMMANDS = documented_commands()


@pytest.mark.parametrize(
    ("where", "words"),
    COMMANDS,
    ids=[f"{where} {' '.join(words)}"[:70] for where, words in COMMANDS],
)
def test_a_command_the_docs_show_is_the_projects(where, words):
    program = "python" if PYTHON.fullmatch(words[0]) else words[0]
    check = check_python if program == "python" else CHECKS.get(program)
    assert check, f"{where}: {' '.join(words)}: a command this test does not know how to check"
    check(words)


def test_the_commands_are_found_in_every_document():
    """Blocks and inline commands both, the Two commands' `make` lines among them."""
    commands = [words for _, words in COMMANDS]
    assert ["make", "demo"] in commands and ["make", "test"] in commands
    assert ["python", "tools/doctor.py", "--state", "files/state.json"] in commands
    assert ["fivetran", "configuration", "--test"] in commands  # inline, in a numbered step
    assert {path.name for path in DOCUMENTS} >= {"README.md", "glossary.md"}


@pytest.mark.parametrize(
    ("words", "wrong"),
    [
        (["make", "no-such-target"], "make -n no-such-target"),
        (["python", "tools/doctor.py", "--no-such-option"], "lists no --no-such-option"),
        (["python", "tools/no_such_tool.py"], "no script tools/no_such_tool.py"),
        (["fivetran", "debug", "--no-such-option"], "lists no --no-such-option"),
        (["fivetran", "no-such-command"], "fivetran has no no-such-command"),
        (["source", "venv/bin/activate"], "not the activation"),
        (["cd", "build/nowhere"], "no make target makes"),
        (["export", "NO_SUCH_VARIABLE=1"], "nothing of the project reads"),
    ],
)
def test_a_command_that_is_not_the_projects_fails(words, wrong):
    with pytest.raises(AssertionError, match=re.escape(wrong)):
        test_a_command_the_docs_show_is_the_projects("README.md:1", words)
