"""Deploy the connector with `fivetran deploy`, from a folder holding its runtime files only.

    FIVETRAN_API_KEY=<base64 key:secret> python deploy.py --destination <name> \
        --connection act_crm [--configuration configuration.json] [--python-version 3.12] \
        [--dry-run] [--force]
    python deploy.py --stage-only build/connector

The staging folder holds connector.py, the act_connector package, fields.json and requirements.txt:
never the tests, the emulator, the benchmarks or local state, so that Fivetran's requirements scan
sees only what runs in production (`--stage-only` builds that folder for `fivetran debug` to run
in, see `make connector-dir`). The configuration is validated by the connector's own rules
before anything is uploaded, and one that points at this machine (a loopback host such as
127.0.0.1, which Fivetran's servers cannot reach) is refused unless --force says it is meant. The
API key stays in the environment, where `fivetran deploy` reads it too: it is never printed and
never on a command line (where `ps` would show it).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from act_connector.catalog import load_catalog
from act_connector.config import unknown_keys, validate_configuration
from act_connector.errors import ConfigurationError

PROJECT = Path(__file__).resolve().parent
RUNTIME_FILES = ("connector.py", "fields.json", "requirements.txt")
RUNTIME_PACKAGES = ("act_connector",)
# Fivetran's rule for a connection (destination schema) name.
CONNECTION_NAME = re.compile(r"[_a-z][_a-z0-9]*")
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
DEFAULT_PYTHON_VERSION = "3.12"
API_KEY_VARIABLE = "FIVETRAN_API_KEY"
TELEMETRY_OFF = "DO_NOT_TRACK"  # the fivetran command's switch for its usage telemetry
# Host names that always mean the machine itself (RFC 6761 reserves localhost and its
# subdomains); addresses are judged by ipaddress.is_loopback (127.0.0.0/8, ::1).
LOOPBACK_NAMES = ("localhost", ".localhost")
EXAMPLE_CONFIGURATION = "configuration.json"
EPILOG = f"""\
The API key is read from the environment variable {API_KEY_VARIABLE} (your Fivetran API key, base64
of key:secret), never from the command line, and never printed; a run without it, a dry run
included, is an error. New connections start paused in Fivetran.

--stage-only FOLDER copies the runtime files (and, if FOLDER has none yet, the example
configuration.json) into FOLDER and stops: `fivetran debug` run there sees the connector's own
files only. `make connector-dir` does this for build/connector.
"""


def stage(destination: Path) -> list[str]:
    """Copies the runtime files into `destination`; returns their relative paths, sorted."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copy2(PROJECT / name, destination / name)
    for package in RUNTIME_PACKAGES:
        # A folder staged before (build/demo) loses the modules the package no longer has.
        shutil.rmtree(destination / package, ignore_errors=True)
        shutil.copytree(
            PROJECT / package,
            destination / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
    return sorted(
        str(path.relative_to(destination)) for path in destination.rglob("*") if path.is_file()
    )


def stage_for_debug(folder: Path) -> None:
    """A folder to run `fivetran debug` in: the runtime files, and a configuration to edit (the
    example one, unless the folder has its own already: a user's settings are never replaced)."""
    stage(folder)
    configuration = folder / EXAMPLE_CONFIGURATION
    if not configuration.exists():
        shutil.copy2(PROJECT / EXAMPLE_CONFIGURATION, configuration)
    print(
        f"{folder}: the connector's runtime files and {EXAMPLE_CONFIGURATION}. Run "
        f"`fivetran debug --configuration {EXAMPLE_CONFIGURATION}` there."
    )


def deploy_command(args: argparse.Namespace, staged: Path) -> list[str]:
    return [
        "fivetran", "deploy", str(staged),
        "--destination", args.destination,
        "--connection", args.connection,
        "--configuration", str(Path(args.configuration).resolve()),
        "--python-version", args.python_version,
    ]  # fmt: skip


def is_loopback(hostname: str) -> bool:
    """Whether the host is this machine, which Fivetran's servers would reach instead of Act!."""
    host = hostname.strip().lower().rstrip(".")
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return host == LOOPBACK_NAMES[0] or host.endswith(LOOPBACK_NAMES[1])


def check(args: argparse.Namespace, environ) -> None:
    """Everything that can be wrong before uploading."""
    if not CONNECTION_NAME.fullmatch(args.connection):
        raise SystemExit(
            f"--connection '{args.connection}' is not a valid Fivetran connection name: use "
            "lower-case letters, digits and underscores, not starting with a digit (act_crm)."
        )
    try:
        with open(args.configuration, encoding="utf-8") as handle:
            configuration = json.load(handle)
    except (OSError, ValueError) as error:
        raise SystemExit(f"Cannot read --configuration {args.configuration}: {error}") from None
    try:
        validate_configuration(configuration, load_catalog())
    except ConfigurationError as error:
        raise SystemExit(f"{args.configuration}: {error}") from None
    for key in unknown_keys(configuration):
        print(f"warning: {args.configuration}: '{key}' is not a setting of this connector")
    hostname = configuration["hostname"]
    if is_loopback(hostname) and not args.force:
        raise SystemExit(
            f"{args.configuration}: hostname '{hostname.strip()}' is this machine (as in the "
            "example configuration, for the local emulator): Fivetran's servers would look for "
            "Act! on themselves. Set hostname to your Act! server's public name, or add --force "
            "if Fivetran does reach Act! at this address."
        )
    if not environ.get(API_KEY_VARIABLE, "").strip():
        raise SystemExit(
            f"Set {API_KEY_VARIABLE} to your Fivetran API key (base64 of key:secret); it is "
            "read from the environment so that it never lands in your shell history."
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python deploy.py",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--destination",
        help="the Fivetran destination (its group name, as the dashboard shows it) to deploy to",
    )
    parser.add_argument(
        "--connection",
        help="the connection's name, which is also the destination schema its tables land in: "
        "lower-case letters, digits and underscores, e.g. act_crm",
    )
    parser.add_argument(
        "--configuration",
        default=EXAMPLE_CONFIGURATION,
        metavar="FILE",
        help="the connection's settings (a JSON object of strings, as `fivetran configuration` "
        "writes it), validated by the connector's own rules before upload; default: "
        "%(default)s",
    )
    parser.add_argument(
        "--python-version",
        default=DEFAULT_PYTHON_VERSION,
        choices=PYTHON_VERSIONS,
        metavar="VERSION",
        help="the Python Fivetran runs the connector on, one of %(choices)s (the connector "
        "supports them all); default: %(default)s",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and show the files and the command; upload nothing",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="deploy a configuration whose hostname is this machine (127.0.0.1, localhost, "
        "::1), refused otherwise",
    )
    parser.add_argument(
        "--stage-only",
        type=Path,
        metavar="FOLDER",
        help="only copy the runtime files into FOLDER, to run `fivetran debug` there (see below)",
    )
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.stage_only is None and None in (args.destination, args.connection):
        parser.error("--destination and --connection are required to deploy")
    return args


def main(argv: list[str], environ=os.environ, run=subprocess.run) -> int:
    args = parse_args(argv)
    if args.stage_only is not None:
        stage_for_debug(args.stage_only)
        return 0
    check(args, environ)
    with tempfile.TemporaryDirectory(prefix="act-connector-deploy-") as folder:
        staged = Path(folder)
        files = stage(staged)
        command = deploy_command(args, staged)
        print(f"Files to upload from {staged}:")
        for name in files:
            print(f"  {name}")
        print(f"Command: {API_KEY_VARIABLE}=**** {' '.join(command)}")
        if args.dry_run:
            print("Dry run: nothing uploaded.")
            return 0
        # The fivetran command's usage telemetry stays off unless the user turned it on.
        return run(command, check=False, env={TELEMETRY_OFF: "1", **environ}).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
