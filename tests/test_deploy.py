"""deploy.py, with the call to `fivetran` replaced: no network, nothing uploaded."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import deploy
from tests.helpers import PASSWORD, configuration

PROJECT = Path(__file__).resolve().parent.parent

API_KEY = "a2V5OnNlY3JldC1kby1ub3Qtc2hvdw=="


class FakeRun:
    def __init__(self, returncode=0):
        self.calls, self.returncode = [], returncode
        self.staged_files = None

    def __call__(self, command, check, env):
        self.calls.append(command)
        self.env = env
        staged = Path(command[2])
        self.staged_files = sorted(
            str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()
        )
        return subprocess.CompletedProcess(command, self.returncode)


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(configuration()), encoding="utf-8")
    return path


def args(config_file, *extra):
    return ["--destination", "Warehouse", "--connection", "act_crm",
            "--configuration", str(config_file), *extra]  # fmt: skip


def test_staging_holds_the_runtime_files_only(tmp_path):
    files = deploy.stage(tmp_path)
    assert {"connector.py", "fields.json", "requirements.txt"} <= set(files)
    assert "act_connector/sync.py" in files
    assert not [
        f for f in files if f.split("/")[0] in ("tests", "emulator", "bench", "tools", "files")
    ]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_staging_again_drops_modules_the_package_no_longer_has(tmp_path):
    (tmp_path / "act_connector").mkdir()
    (tmp_path / "act_connector" / "removed_since.py").write_text("import duckdb\n")
    assert "act_connector/removed_since.py" not in deploy.stage(tmp_path)


def test_the_staged_connector_imports_only_what_fivetran_provides(tmp_path):
    deploy.stage(tmp_path)
    found = subprocess.run(
        [sys.executable, "-m", "pipreqs.pipreqs", "--use-local", "--print", str(tmp_path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    names = {line.split("==")[0].lower() for line in found.split()}
    assert names <= {"fivetran_connector_sdk", "requests"}, names


def test_dry_run_lists_files_and_never_shows_the_key(config_file, capsys):
    run = FakeRun()
    code = deploy.main(args(config_file, "--dry-run"), {"FIVETRAN_API_KEY": API_KEY}, run)
    out = capsys.readouterr().out
    assert code == 0 and run.calls == []
    assert "  connector.py" in out and "  act_connector/client.py" in out
    assert "deploy" in out and "--destination Warehouse --connection act_crm" in out
    assert "--api-key" not in out
    assert "--python-version 3.12" in out
    assert "Command: FIVETRAN_API_KEY=**** fivetran deploy " in out  # found, and masked
    assert API_KEY not in out and PASSWORD not in out


def run_deploy(*argv: str, environ: dict | None = None) -> subprocess.CompletedProcess:
    """deploy.py as a user runs it: its exit status and what it printed."""
    return subprocess.run(
        [sys.executable, str(PROJECT / "deploy.py"), *argv],
        capture_output=True, text=True, cwd=PROJECT, env=environ or {"PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_a_dry_run_without_the_key_is_an_error_naming_it(config_file):
    done = run_deploy(*args(config_file, "--dry-run"))
    assert done.returncode != 0
    assert "Set FIVETRAN_API_KEY to your Fivetran API key" in done.stderr
    assert "<not set>" not in done.stdout + done.stderr and "Command:" not in done.stdout


def test_help_explains_every_option():
    shown = " ".join(run_deploy("--help").stdout.split())  # argparse wraps to the terminal
    for action in deploy.build_parser()._actions:
        assert action.help and len(action.help.split()) >= 5, action.option_strings
        assert " ".join(action.help.split()[:4]) in shown
    assert "--configuration FILE the connection's settings" in shown
    assert "--python-version VERSION the Python Fivetran runs the connector on" in shown
    assert "3.10, 3.11, 3.12, 3.13, 3.14" in shown
    assert "FIVETRAN_API_KEY" in shown and "a dry run included, is an error" in shown


@pytest.mark.parametrize(
    "hostname", ["127.0.0.1", "127.0.1.1", " localhost ", "LOCALHOST.", "act.localhost", "::1",
                 "[::1]"],
)  # fmt: skip
def test_a_loopback_host_is_refused_without_force(tmp_path, hostname):
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(configuration(hostname=hostname)), encoding="utf-8")
    run = FakeRun()
    with pytest.raises(SystemExit, match=r"is this machine .*or add --force"):
        deploy.main(args(path), {"FIVETRAN_API_KEY": API_KEY}, run)
    assert run.calls == []
    assert deploy.main(args(path, "--force"), {"FIVETRAN_API_KEY": API_KEY}, run) == 0
    assert len(run.calls) == 1


def test_the_example_configuration_is_refused_as_it_points_at_the_emulator():
    done = run_deploy(
        "--destination", "W", "--connection", "act_crm", "--dry-run",
        environ={"PATH": "/usr/bin:/bin", "FIVETRAN_API_KEY": API_KEY},
    )  # fmt: skip
    assert done.returncode != 0
    assert "configuration.json: hostname '127.0.0.1' is this machine" in done.stderr
    assert API_KEY not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "hostname", ["act.example.com", "10.0.0.5", "fe80::1", "localhost.example"]
)
def test_other_hosts_are_deployed(tmp_path, hostname):
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(configuration(hostname=hostname)), encoding="utf-8")
    assert deploy.main(args(path), {"FIVETRAN_API_KEY": API_KEY}, FakeRun()) == 0


def test_stage_only_builds_a_folder_to_run_fivetran_debug_in(tmp_path):
    folder = tmp_path / "connector"
    done = run_deploy("--stage-only", str(folder))
    assert done.returncode == 0, done.stderr
    assert "Run `fivetran debug --configuration configuration.json` there." in done.stdout
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert {"connector.py", "fields.json", "configuration.json", "act_connector/sync.py"} <= files
    assert not [f for f in files if f.split("/")[0] in ("tests", "emulator", "bench", "tools")]
    (folder / "configuration.json").write_text('{"hostname": "mine"}', encoding="utf-8")
    assert run_deploy("--stage-only", str(folder)).returncode == 0
    assert (folder / "configuration.json").read_text(encoding="utf-8") == '{"hostname": "mine"}'


def test_deploying_needs_a_destination_and_a_connection():
    done = run_deploy("--dry-run")
    assert done.returncode == 2
    assert "--destination and --connection are required to deploy" in done.stderr


def test_deploy_runs_fivetran_from_the_staging_folder(config_file, capsys):
    run = FakeRun(returncode=0)
    code = deploy.main(
        args(config_file, "--python-version", "3.11"), {"FIVETRAN_API_KEY": API_KEY}, run
    )
    assert code == 0
    (command,) = run.calls
    assert command[:2] == ["fivetran", "deploy"]
    assert API_KEY not in command and "--api-key" not in command  # `ps` would show it
    assert run.env["FIVETRAN_API_KEY"] == API_KEY  # fivetran deploy reads it from there
    assert run.env["DO_NOT_TRACK"] == "1"  # no usage telemetry unless the user wants it
    assert command[command.index("--configuration") + 1] == str(config_file.resolve())
    assert command[command.index("--python-version") + 1] == "3.11"
    assert "connector.py" in run.staged_files and "tests/conftest.py" not in run.staged_files
    assert API_KEY not in capsys.readouterr().out


def test_a_users_own_telemetry_choice_is_kept(config_file):
    run = FakeRun()
    deploy.main(args(config_file), {"FIVETRAN_API_KEY": API_KEY, "DO_NOT_TRACK": "0"}, run)
    assert run.env["DO_NOT_TRACK"] == "0"


def test_a_failed_upload_returns_its_status(config_file):
    assert (
        deploy.main(args(config_file), {"FIVETRAN_API_KEY": API_KEY}, FakeRun(returncode=3)) == 3
    )


@pytest.mark.parametrize("name", ["Act-CRM", "1act", "act crm", ""])
def test_connection_names_follow_fivetrans_rule(config_file, name):
    argv = ["--destination", "W", "--connection", name, "--configuration", str(config_file)]
    with pytest.raises(SystemExit, match="is not a valid Fivetran connection name"):
        deploy.main(argv, {"FIVETRAN_API_KEY": API_KEY}, FakeRun())


def test_the_configuration_is_validated_before_upload(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(configuration(port="70000")), encoding="utf-8")
    run = FakeRun()
    with pytest.raises(SystemExit, match="Port must be between 1 and 65535"):
        deploy.main(args(bad), {"FIVETRAN_API_KEY": API_KEY}, run)
    assert run.calls == []


def test_an_unreadable_configuration_is_named(tmp_path):
    with pytest.raises(SystemExit, match="Cannot read --configuration"):
        deploy.main(args(tmp_path / "missing.json"), {"FIVETRAN_API_KEY": API_KEY}, FakeRun())


def test_the_api_key_comes_from_the_environment_only(config_file):
    with pytest.raises(SystemExit, match="Set FIVETRAN_API_KEY"):
        deploy.main(args(config_file), {}, FakeRun())
    with pytest.raises(SystemExit):  # there is no option to pass it on the command line
        deploy.main(args(config_file, "--api-key", API_KEY), {}, FakeRun())
