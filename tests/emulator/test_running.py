"""Running it: state persists across restarts, the CLI command object, python -m."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
import requests

from hub.builtin.quickbooks.emulator.cli import command
from hub.builtin.quickbooks.emulator.testing import start_emulator

from .conftest import Api

ROOT = Path(__file__).resolve().parents[2]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "qbo.json"
    first = start_emulator(state_file=str(state_file))
    token = first.connect()
    api = Api(first, token["access_token"])
    created = api.post("customer", {"DisplayName": "Still Here Tomorrow"}).json()["Customer"]
    api.http.close()
    first.stop()
    assert json.loads(state_file.read_text())["companies"][first.realm_id]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".qbo-emulator-")], "no temp left"

    second = start_emulator(state_file=str(state_file))
    try:
        # The tokens persisted too: the demo keeps its connection across restarts.
        api = Api(second, token["access_token"])
        again = api.get(f"customer/{created['Id']}").json()["Customer"]
        assert again["DisplayName"] == "Still Here Tomorrow"
        api.http.close()
    finally:
        second.stop()


def test_unknown_options_are_refused() -> None:
    with pytest.raises(TypeError):
        start_emulator(no_such_option=True)


def test_cli_command_object() -> None:
    assert isinstance(command, click.Command)
    names = {param.name for param in command.params}
    assert {"host", "port", "state_file"} <= names


@pytest.mark.slow
def test_python_dash_m(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.builtin.quickbooks.emulator",
            "--port",
            "0",
            "--state",
            str(tmp_path / "state.json"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        doc = requests.get(url + "/.well-known/openid_configuration", timeout=5).json()
        assert doc["token_endpoint"] == url + "/oauth2/v1/tokens/bearer"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
    assert (tmp_path / "state.json").exists()
