"""The Act! server doctor: what kind of server a configuration points at, or what a state means.

    python tools/doctor.py --configuration configuration.json [--json]
    python tools/doctor.py --state files/state.json

With --configuration it validates the configuration as the connector does, then reports in plain
words (or, with --json, as one JSON object) what this server offers and whether it can be synced,
within a minute on a database of any size (see tools/server_check.py). With --state it explains a
state (files/state.json, or one copied from Fivetran's dashboard) table by table, each kind in
its own words (incremental, read whole, link, line items, membership, custom; see
tools/state_explainer.py). Neither report holds the password or the token.

Exit status: 0 the server can be synced (or the state was explained), 1 it cannot (the report
says why), 2 the configuration or state file cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))  # run as `python tools/doctor.py`: the project's packages

from fivetran_connector_sdk import Logging  # noqa: E402 - after the project is on the path

from act_connector.catalog import load_catalog  # noqa: E402
from act_connector.config import validate_configuration  # noqa: E402
from tools.server_check import examine, render  # noqa: E402
from tools.state_explainer import explain_state  # noqa: E402

EXIT_SYNCABLE = 0
EXIT_NOT_SYNCABLE = 1
EXIT_UNUSABLE_INPUT = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python tools/doctor.py", description=__doc__.splitlines()[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--configuration", type=Path, help="check the server it points at")
    source.add_argument("--state", type=Path, help="explain this state")
    parser.add_argument("--json", action="store_true", help="the server report as one JSON object")
    args = parser.parse_args(argv)
    if args.json and args.state:
        parser.error("--json goes with --configuration")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # The connector's modules log through the SDK's logger; here the report says what matters,
    # and standard output must hold the report alone (one JSON object with --json).
    Logging.LOG_LEVEL = Logging.Level.CRITICAL
    catalog = load_catalog()
    source = args.state or args.configuration
    try:
        loaded = json.loads(source.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise ValueError(f"{source} holds no JSON object")
        settings = None if args.state else validate_configuration(loaded, catalog)
    except (OSError, ValueError) as error:  # ConfigurationError is a ValueError
        print(f"{'State' if args.state else 'Configuration'}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    if args.state:
        print(explain_state(loaded, catalog))
        return EXIT_SYNCABLE
    report = examine(settings, catalog, loaded)
    print(
        json.dumps(report.to_json(), indent=2, ensure_ascii=False) if args.json else render(report)
    )
    return EXIT_SYNCABLE if report.syncable else EXIT_NOT_SYNCABLE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
