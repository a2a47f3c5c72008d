"""``hub quickbooks connect`` without ``--refresh-token``: the token comes from
``QBO_REFRESH_TOKEN`` or standard input, so it never sits in ``ps`` or the shell's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.roles.cli import build_cli
from tests.quickbooks.conftest import qbo_env


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    monkeypatch.delenv("QBO_REFRESH_TOKEN", raising=False)
    return qbo_env(tmp_path, emulator)


def connect(env: dict[str, str], realm_id: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), ["quickbooks", "connect", "--realm-id", realm_id],
                                env=env, input=stdin)
    return result.exit_code, result.output


def test_the_token_from_the_environment(env: dict[str, str], emulator: Emulator) -> None:
    grant = emulator.connect()
    code, output = connect({**env, "QBO_REFRESH_TOKEN": grant["refresh_token"]},
                           grant["realmId"])
    assert code == 0, output
    assert output.startswith("QuickBooks connected: ")
    assert grant["refresh_token"] not in output


def test_the_token_from_a_dotenv_file(env: dict[str, str], emulator: Emulator,
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grant = emulator.connect()
    (tmp_path / ".env").write_text(f"QBO_REFRESH_TOKEN={grant['refresh_token']}\n")
    monkeypatch.chdir(tmp_path)
    code, output = connect(env, grant["realmId"])  # nothing on standard input
    assert code == 0, output
    assert output.startswith("QuickBooks connected: ")


def test_the_token_from_standard_input(env: dict[str, str], emulator: Emulator) -> None:
    grant = emulator.connect()
    code, output = connect(env, grant["realmId"], stdin=grant["refresh_token"] + "\n")
    assert code == 0, output
    assert "QuickBooks connected: " in output and grant["refresh_token"] not in output


def test_no_token_anywhere_says_where_to_put_one(env: dict[str, str],
                                                 emulator: Emulator) -> None:
    code, output = connect(env, emulator.realm_id)
    assert code == 2
    assert ("no refresh token: set QBO_REFRESH_TOKEN, pipe it on standard input, or give "
            "--refresh-token") in output


@pytest.mark.parametrize(("where", "stdin", "named"), [
    ({"QBO_REFRESH_TOKEN": "two words"}, "", "QBO_REFRESH_TOKEN is not a refresh token"),
    ({}, "tok\x00en\n", "standard input is not a refresh token"),
])
def test_a_token_that_is_not_one_is_refused_naming_where_it_came_from(
        env: dict[str, str], emulator: Emulator, where: dict[str, str], stdin: str,
        named: str) -> None:
    code, output = connect({**env, **where}, emulator.realm_id, stdin=stdin)
    assert code == 2 and named in output
    assert "two words" not in output
