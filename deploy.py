"""Deploy the connector with `fivetran deploy`, from a folder holding its runtime files only.

    FIVETRAN_API_KEY=<base64 key:secret> python deploy.py --destination <name> \
        --connection act_crm [--configuration configuration.json] [--python-version 3.12] \
        [--dry-run]

The staging folder holds connector.py, the act_connector package, fields.json and requirements.txt:
never the tests, the emulator, the benchmarks or local state, so that Fivetran's requirements scan
sees only what runs in production. The configuration is validated by the connector's own rules
before anything is uploaded. The API key stays in the environment, where `fivetran deploy` reads
it too: it is never printed and never on a command line (where `ps` would show it).
"""

from __future__ import annotations

import argparse
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


def stage(destination: Path) -> list[str]:
    """Copies the runtime files into `destination`; returns their relative paths, sorted."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copy2(PROJECT / name, destination / name)
    for package in RUNTIME_PACKAGES:
        shutil.copytree(
            PROJECT / package,
            destination / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
    return sorted(
        str(path.relative_to(destination)) for path in destination.rglob("*") if path.is_file()
    )


def deploy_command(args: argparse.Namespace, staged: Path) -> list[str]:
    return [
        "fivetran", "deploy", str(staged),
        "--destination", args.destination,
        "--connection", args.connection,
        "--configuration", str(Path(args.configuration).resolve()),
        "--python-version", args.python_version,
    ]  # fmt: skip


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
    if not environ.get(API_KEY_VARIABLE, "").strip() and not args.dry_run:
        raise SystemExit(
            f"Set {API_KEY_VARIABLE} to your Fivetran API key (base64 of key:secret); it is "
            "read from the environment so that it never lands in your shell history."
        )


def main(argv: list[str], environ=os.environ, run=subprocess.run) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destination", required=True, help="Fivetran destination (group) name")
    parser.add_argument("--connection", required=True, help="connection name, e.g. act_crm")
    parser.add_argument("--configuration", default="configuration.json")
    parser.add_argument(
        "--python-version", default=DEFAULT_PYTHON_VERSION, choices=PYTHON_VERSIONS
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show the files and the command; upload nothing"
    )
    args = parser.parse_args(argv)
    check(args, environ)
    with tempfile.TemporaryDirectory(prefix="act-connector-deploy-") as folder:
        staged = Path(folder)
        files = stage(staged)
        command = deploy_command(args, staged)
        print(f"Files to upload from {staged}:")
        for name in files:
            print(f"  {name}")
        key_shown = "****" if environ.get(API_KEY_VARIABLE, "").strip() else "<not set>"
        print(f"Command: {API_KEY_VARIABLE}={key_shown} {' '.join(command)}")
        if args.dry_run:
            print("Dry run: nothing uploaded.")
            return 0
        return run(command, check=False, env=dict(environ)).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
