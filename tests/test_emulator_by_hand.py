"""The README's "The emulator by hand", followed as written in a fresh clone. Seen: the emulator's
command crashed (FileNotFoundError) because nothing had made `.hub/` yet, and the settings table
said to set AUTHLIB_INSECURE_TRANSPORT "for the emulator only", when it is the hub's processes,
talking to the emulator over plain http, that need it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import ROOT, Lines, free_port, running, subprocess_env

SECTION = ROOT.joinpath("README.md").read_text().split("## The emulator by hand", 1)[1]
SECTION = SECTION.split("\n## ", 1)[0]
DEMO_REALM = "9341453050298134"


def emulator_command(port: int) -> list[str]:
    """The README's command, on ``port`` instead of 9000, with this venv's python."""
    block = SECTION.split("```sh\n", 1)[1].split("```", 1)[0]
    words = shlex.split(block.replace("\\\n", " "))
    assert words[:3] == [".venv/bin/hub", "quickbooks", "emulator"], words
    words = [str(port) if word == "9000" else word.replace(":9000", f":{port}")
             for word in words[1:]]
    return [sys.executable, "-m", "hub", *words]


def settings_table(emulator: str) -> dict[str, str]:
    """The table of what `hub serve` and `hub quickbooks connect` are given, for ``emulator``."""
    settings = {}
    for row in re.findall(r"^\| `[A-Z_]+`.*\|$", SECTION, flags=re.M):
        names_cell, value_cell = row.strip("|").split("|")[:2]
        names = re.findall(r"`([A-Z_]+)`", names_cell)
        values = re.findall(r"`([^`]*)`", value_cell)[:len(names)]
        for name, value in zip(names, values, strict=False):
            if "PORT" not in value:  # QBO_REDIRECT_URI: only when the hub is not on 8000
                settings[name] = value.replace("http://127.0.0.1:9000", emulator)
    return settings


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    clone.mkdir()
    return clone


@pytest.fixture
def emulator(fresh_clone: Path) -> Iterator[tuple[str, Lines]]:
    """The emulator as the README starts it, given none of the table's settings."""
    port = free_port()
    env = {k: v for k, v in subprocess_env(fresh_clone).items()
           if "INSECURE_TRANSPORT" not in k}
    with running(emulator_command(port), env, cwd=fresh_clone) as (_process, said):
        said.wait_for("QuickBooks Online emulator on")
        yield f"http://127.0.0.1:{port}", said


def test_the_readmes_emulator_command_runs_in_a_fresh_clone(
        fresh_clone: Path, emulator: tuple[str, Lines]) -> None:
    base, _said = emulator
    assert (fresh_clone / ".hub" / "emulator.json").is_file()  # its folder made for it
    answer = requests.get(f"{base}/.well-known/openid_configuration", timeout=10)
    assert answer.status_code == 200


def refresh_token(base: str) -> str:
    """The README's two curl lines: the consent form posted, the code exchanged."""
    callback = "http://127.0.0.1:8000/quickbooks/callback"
    consent = requests.post(f"{base}/connect/oauth2", allow_redirects=False, timeout=10, data={
        "client_id": "ledgerline-emulator-client", "redirect_uri": callback,
        "response_type": "code", "scope": "com.intuit.quickbooks.accounting",
        "realmId": DEMO_REALM, "decision": "connect"})
    [code] = parse_qs(urlsplit(consent.headers["Location"]).query)["code"]
    tokens = requests.post(f"{base}/oauth2/v1/tokens/bearer", timeout=10,
                           auth=("ledgerline-emulator-client", "ledgerline-emulator-secret"),
                           data={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": callback})
    return str(tokens.json()["refresh_token"])


def test_the_tables_settings_go_to_the_hub_and_connect_it(
        fresh_clone: Path, emulator: tuple[str, Lines]) -> None:
    """The emulator never reads AUTHLIB_INSECURE_TRANSPORT (it does not use authlib): the
    hub's processes do, and the README's row says so. authlib 1.9's client checks no
    transport itself, so no run here fails without it; the row is held to its words."""
    base, _said = emulator
    [row] = [line for line in SECTION.splitlines() if line.startswith("| `AUTHLIB_INSECURE")]
    assert "emulator only" not in row and "hub processes" in row, row
    table = settings_table(base)
    assert table["AUTHLIB_INSECURE_TRANSPORT"] == "1"
    hub_env = {k: v for k, v in subprocess_env(fresh_clone).items()
               if "INSECURE_TRANSPORT" not in k}
    connect = [sys.executable, "-m", "hub", "quickbooks", "connect", "--realm-id", DEMO_REALM]
    done = subprocess.run(connect, cwd=fresh_clone, capture_output=True, text=True,
                          timeout=60, env=hub_env | table
                          | {"QBO_REFRESH_TOKEN": refresh_token(base)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("QuickBooks connected: Ledgerline Demo"), done.stdout
