"""deploy.py, with the call to `fivetran` replaced: no network, nothing uploaded."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import deploy
from tests.helpers import PASSWORD, configuration

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


def test_dry_run_says_when_the_key_is_missing(config_file, capsys):
    assert deploy.main(args(config_file, "--dry-run"), {}, FakeRun()) == 0
    assert "Command: FIVETRAN_API_KEY=<not set> fivetran deploy " in capsys.readouterr().out


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
    assert command[command.index("--configuration") + 1] == str(config_file.resolve())
    assert command[command.index("--python-version") + 1] == "3.11"
    assert "connector.py" in run.staged_files and "tests/conftest.py" not in run.staged_files
    assert API_KEY not in capsys.readouterr().out


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
