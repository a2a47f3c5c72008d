"""The ``hub`` command's arguments, tried as a careless or hostile operator would: each junk value
is refused in one line naming the argument and the fix, exit code 2 (click's usage error) or
1, and never a traceback. A lone surrogate stands for what a shell passes for bytes that are not
UTF-8 (``$'\\xff'``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hub.builtin.quickbooks.emulator.testing import Emulator, start_emulator
from hub.roles.cli import build_cli
from tests.conftest import ROOT, base_env, subprocess_env


@pytest.fixture
def run(tmp_path: Path) -> Any:
    command = build_cli()

    def invoke(*args: str, **env: str) -> Any:
        return CliRunner().invoke(command, list(args), env={**base_env(tmp_path), **env})

    return invoke


def refused(result: Any, code: int, *said: str) -> str:
    """The one-line refusal, checked: the exit code, no traceback, nothing raw on the
    terminal, and what it says."""
    assert result.exit_code == code, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    last = result.output.rstrip("\n").splitlines()[-1]
    assert last.startswith("Error: "), result.output
    assert all(c.isprintable() for c in last), last  # no NUL, escape or surrogate echoed
    assert len(last) < 400, last  # a 100,000-character value is not repeated
    for part in said:
        assert part in last, last
    return last


MONTHS = {
    "0000-13": "write the month as YYYY-MM, e.g. 2026-03",
    "2026-3": "write the month as YYYY-MM",
    "": "write the month as YYYY-MM",
    "2026-03\n": "write the month as YYYY-MM",
    "٢٠٢٦-03": "write the month as YYYY-MM",  # Arabic-Indic digits: int() reads them as 2026
    "0000-01": "the month must be from 1900-01 to 2199-12",
    "9999-12": "the month must be from 1900-01 to 2199-12",
}


@pytest.mark.parametrize("month", list(MONTHS), ids=[repr(m) for m in MONTHS])
def test_close_month_refuses_a_month_no_business_means(run: Any, month: str) -> None:
    refused(run("billing", "close-month", month), 2, "Invalid value for 'YYYY-MM'",
            MONTHS[month])


EVENT_IDS = ["\x00", "\ud800", "x" * 100_000, "evt 1", "", "évt_1"]


@pytest.mark.parametrize("event_id", EVENT_IDS, ids=["nul", "surrogate", "long", "space",
                                                     "empty", "accent"])
def test_events_show_and_retry_refuse_what_is_no_event_id(run: Any, event_id: str) -> None:
    # A lone surrogate was a UnicodeEncodeError from the database driver, a traceback.
    for command in ("show", "retry"):
        refused(run("events", command, event_id), 2, "Invalid value for",
                "is not an event id: the host's ids are 1 to 255 printable ASCII characters")


def test_events_show_of_an_unknown_id_says_where_to_look(run: Any) -> None:
    refused(run("events", "show", "evt_0"), 1, "no event 'evt_0'", "hub events failed")


@pytest.mark.parametrize("number", [str(10**30), "0", "-1", "1.5", "one"])
def test_events_retry_refuses_a_delivery_number_there_cannot_be(run: Any, number: str) -> None:
    # 10**30 was an OverflowError from SQLite: a traceback.
    refused(run("events", "retry", "--delivery", number), 2, "Invalid value for '--delivery'")


@pytest.mark.parametrize("job_id", ["nope", "\x00", "x" * 5000, "\ud800"])
def test_jobs_run_of_an_unknown_job_names_the_known_ones(run: Any, job_id: str) -> None:
    refused(run("jobs", "run", job_id), 1, "no job ", "quickbooks.sweep", "hub jobs list")


@pytest.mark.parametrize("name", ["quickbook", "\x1b[2J", "\ud800", "x" * 5000])
def test_plugin_commands_refuse_an_unknown_plugin(run: Any, name: str) -> None:
    for command in ("enable", "disable", "show"):
        refused(run("plugins", command, name), 1, "no plugin named")


@pytest.mark.parametrize(("args", "said"), [
    (["--port", "99999"], "Invalid value for '--port': 99999 is not in the range 1<=x<=65535"),
    (["--port", "-5"], "Invalid value for '--port'"),
    (["--port", "http"], "Invalid value for '--port'"),
    (["--host", "localhost"], "is not an IP address: give 127.0.0.1"),
    (["--host", "256.1.1.1"], "is not an IP address"),
    (["--host", "\x00"], "'\\x00' is not an IP address"),
])
def test_serve_and_web_refuse_an_address_they_cannot_listen_on(run: Any, args: list[str],
                                                               said: str) -> None:
    # Each was an OverflowError or ValueError from the server, after the hub was built.
    for command in ("serve", "web"):
        refused(run(command, *args), 2, said)


EMAILS = {
    "": "give the address to send the test to",  # was a TypeError from the Email type
    "   ": "give the address to send the test to",
    "not-an-email": "'not-an-email' is not an email address: write one such as",
    "a@b.co\r\nBcc: x@y.z": "is not an email address",
    "a" * 300 + "@example.com": "(312 characters)' is not an email address",
    "\ud800@example.com": "is not an email address",
}


@pytest.mark.parametrize("email", list(EMAILS), ids=[repr(e)[:20] for e in EMAILS])
def test_review_requests_test_refuses_what_is_no_address(run: Any, email: str) -> None:
    refused(run("review-requests", "test", email), 2, "Invalid value for 'EMAIL'",
            EMAILS[email])


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = start_emulator(retry_scale=0.001)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--realm-id", "{}", "'{}' is not a company id: it is a number (digits 0-9)"),
    ("--realm-id", "١٢٣", "is not a company id"),  # str.isdigit() said yes, and Intuit was asked
    ("--realm-id", "1" * 100_000, "(100,000 characters)' is not a company id"),
    ("--realm-id", "\ud800", "is not a company id"),
    ("--refresh-token", "tok\x00en", "is not a refresh token: one is letters and digits"),
    ("--refresh-token", "\ud800", "is not a refresh token"),
    ("--refresh-token", "two words", "is not a refresh token"),
    ("--refresh-token", "t" * 5000, "is not a refresh token"),
])
def test_quickbooks_connect_refuses_junk_before_asking_intuit(
        run: Any, emulator: Emulator, tmp_path: Path, option: str, value: str,
        said: str) -> None:
    from tests.quickbooks.conftest import qbo_env

    grant = emulator.connect()
    good = {"--realm-id": grant["realmId"], "--refresh-token": grant["refresh_token"]}
    args = [x for k, v in {**good, option: value}.items() for x in (k, v)]
    result = run("quickbooks", "connect", *args, **qbo_env(tmp_path, emulator))
    refused(result, 2, f"Invalid value for '{option}'", said)
    assert "not connected" in run("quickbooks", "status", **qbo_env(tmp_path, emulator)).output


def test_a_real_shell_byte_that_is_not_utf8_is_one_line_too(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "hub", "events", "show", b"evt_\xff"],
                          env=subprocess_env(tmp_path), capture_output=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().splitlines()[-1] == (
        "Error: Invalid value for 'EVENT_ID': 'evt_\\udcff' is not an event id: the host's ids "
        "are 1 to 255 printable ASCII characters without spaces (see `hub events failed`)")
