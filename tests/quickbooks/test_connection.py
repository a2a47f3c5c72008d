"""Connect once, stay connected, disconnect cleanly — against the bundled emulator."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from hub.builtin.quickbooks import connect, connection
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import consent, qbo_ctx, qbo_env


def test_browser_connect_checks_state_and_uses_pkce(qbo_hub: Hub, emulator: Emulator) -> None:
    url = connect.start_browser(qbo_ctx(qbo_hub))
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    assert "scope=com.intuit.quickbooks.accounting" in url
    back = consent(url)
    message = connect.finish_browser(qbo_ctx(qbo_hub), state=back["state"], code=back["code"],
                                     realm_id=back["realmId"])
    assert message.startswith("QuickBooks connected: ") and "(sandbox)" in message
    status = connection.status(qbo_ctx(qbo_hub))
    assert status["status"] == "connected" and status["realm_id"] == emulator.realm_id
    assert status["company"]["home_currency"] == "USD" and status["company"]["country"]


def test_a_forged_or_replayed_state_is_refused(qbo_hub: Hub) -> None:
    url = connect.start_browser(qbo_ctx(qbo_hub))
    back = consent(url)
    with pytest.raises(connect.ConnectError, match="not one this hub started"):
        connect.finish_browser(qbo_ctx(qbo_hub), state="forged", code=back["code"],
                               realm_id=back["realmId"])
    connect.finish_browser(qbo_ctx(qbo_hub), state=back["state"], code=back["code"],
                           realm_id=back["realmId"])
    with pytest.raises(connect.ConnectError, match="not one this hub started"):
        connect.finish_browser(qbo_ctx(qbo_hub), state=back["state"], code=back["code"],
                               realm_id=back["realmId"])


def test_a_stale_state_is_refused(qbo_hub: Hub) -> None:
    with freeze_time(utcnow()) as clock:
        url = connect.start_browser(qbo_ctx(qbo_hub))
        clock.tick(timedelta(minutes=16))
        state = url.split("state=", 1)[1].split("&", 1)[0]
        with pytest.raises(connect.ConnectError, match="15 minutes"):
            connect.finish_browser(qbo_ctx(qbo_hub), state=state, code="x", realm_id="1")


def test_declining_on_the_consent_page_says_so(qbo_hub: Hub) -> None:
    back = consent(connect.start_browser(qbo_ctx(qbo_hub)), decision="cancel")
    with pytest.raises(connect.ConnectError, match="not approved"):
        connect.finish_browser(qbo_ctx(qbo_hub), state=back.get("state"), code=None, realm_id=None,
                               error=back.get("error"))


def test_cli_connect_status_and_a_refused_token(tmp_path: Path, emulator: Emulator,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    env = qbo_env(tmp_path, emulator)
    cli = build_cli()
    grant = emulator.connect()
    runner = CliRunner()
    bad = runner.invoke(cli, ["quickbooks", "connect", "--realm-id", grant["realmId"],
                              "--refresh-token", "not-a-token"], env=env)
    assert bad.exit_code == 1 and "Intuit refused the refresh token" in bad.output
    assert "not connected" in runner.invoke(cli, ["quickbooks", "status"], env=env).output
    ok = runner.invoke(cli, ["quickbooks", "connect", "--realm-id", grant["realmId"],
                             "--refresh-token", grant["refresh_token"]], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("QuickBooks connected: ")
    status = runner.invoke(cli, ["quickbooks", "status"], env=env).output
    assert "QuickBooks: connected" in status and "environment      sandbox" in status
    assert "expires in 59 min" in status or "expires in 60 min" in status
    assert "last sync        never" in status
    run = runner.invoke(cli, ["jobs", "run", "quickbooks.sweep"], env=env)
    assert run.exit_code == 0, run.output
    synced = runner.invoke(cli, ["quickbooks", "status"], env=env).output
    # As a person reads a time: to the minute, with its zone, never with microseconds.
    assert re.search(r"last sync        \d{4}-\d\d-\d\d \d\d:\d\d UTC\n", synced), synced
    # No token, whole, anywhere the operator looks or in the database file.
    assert grant["refresh_token"] not in status
    db = b"".join(p.read_bytes() for p in tmp_path.glob("hub.db*"))
    assert grant["refresh_token"].encode() not in db


def test_the_token_is_refreshed_in_the_background_before_it_lapses(
    connected: Hub, emulator: Emulator
) -> None:
    job = connected.jobs()["quickbooks.refresh-token"]
    with freeze_time(utcnow()) as clock:
        first = connection.row(qbo_ctx(connected))
        fire(connected, job, utcnow())
        run_due(connected)
        assert connection.row(qbo_ctx(connected))["access_token"] == first["access_token"]  # fresh
        clock.tick(timedelta(minutes=50))  # 10 minutes left: inside the 15-minute margin
        fire(connected, job, utcnow())
        run_due(connected)
        second = connection.row(qbo_ctx(connected))
        assert second["access_token"] != first["access_token"]

        assert second["refresh_token"] != first["refresh_token"]  # rotated, and saved
        assert second["access_expires_at"] > utcnow() + timedelta(minutes=55)
        assert connection.refresh_company(qbo_ctx(connected)) is False  # read at connect, today
        clock.tick(timedelta(hours=25))  # a day on: the company's facts are read again
        assert connection.refresh_company(qbo_ctx(connected)) is True


def test_the_rotated_token_survives_a_restart(make_qbo_hub, emulator: Emulator) -> None:
    hub = make_qbo_hub()
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
    assert connection.refresh(qbo_ctx(hub), force=True) == "refreshed"
    hub.close()
    with freeze_time(utcnow() + timedelta(hours=25)):  # the previous token is dead by now
        again = make_qbo_hub()  # a new process on the same database
        assert connection.refresh(qbo_ctx(again)) == "refreshed"
        assert connection.status(qbo_ctx(again))["status"] == "connected"


def test_two_workers_asking_at_once_cause_one_refresh(make_qbo_hub, emulator: Emulator,
                                                      database_url: str) -> None:
    one = make_qbo_hub(HUB_DATABASE_URL=database_url)
    two = make_qbo_hub(HUB_DATABASE_URL=database_url)
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(one), grant["realmId"], grant["refresh_token"])
    emulator.delay_next(1.0, only="token")  # the first refresh stays in flight a second
    outcomes: list[str] = []

    def ask(hub: Hub) -> None:
        outcomes.append(connection.refresh(qbo_ctx(hub), force=True))

    with freeze_time(utcnow() + timedelta(minutes=50), tick=True):
        first = threading.Thread(target=ask, args=(one,))
        first.start()
        # The second asks while the first holds the lease, not merely "at the same time": a
        # thread started late on a busy machine would otherwise ask after the first finished,
        # and a forced refresh then is rightly a second one (CI saw exactly that).
        deadline = time.monotonic() + 5
        while connection.row(qbo_ctx(two))["refreshing_until"] is None:
            assert time.monotonic() < deadline, "the first refresh never took its lease"
        outcomes.append(connection.refresh(qbo_ctx(two), force=True))
        first.join()
    assert sorted(outcomes) == ["busy", "refreshed"]
    # the saved token still works
    assert connection.refresh(qbo_ctx(two), force=True) == "refreshed"


def test_a_refused_refresh_holds_work_until_reconnect(connected: Hub, emulator: Emulator,
                                                      host: Recorder) -> None:
    current = connected.crypto.decrypt(connection.row(qbo_ctx(connected))["refresh_token"])
    emulator.revoke(current)  # the app was disconnected in QuickBooks
    assert connection.refresh(qbo_ctx(connected), force=True) == "refused"
    status = connection.status(qbo_ctx(connected))
    assert status["status"] == "needs_reconnect" and "invalid_grant" in status["last_error"]
    with pytest.raises(Exception, match="needs reconnecting"):
        connection.require(qbo_ctx(connected))
    run_due(connected)
    told = [m for hook, m, _ in host.calls if hook == "on_host_event"]
    assert [m["type"] for m in told] == ["sync.failed"]
    assert "needs reconnecting" in told[0]["data"]["error"]
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(connected), grant["realmId"], grant["refresh_token"])
    assert connection.status(qbo_ctx(connected))["status"] == "connected"


def test_disconnect_revokes_and_removes_the_tokens(connected: Hub, emulator: Emulator) -> None:
    token = connected.crypto.decrypt(connection.row(qbo_ctx(connected))["refresh_token"])
    message = connection.disconnect(qbo_ctx(connected))
    assert message.startswith("QuickBooks disconnected: tokens revoked at Intuit")
    row = connection.row(qbo_ctx(connected))
    assert row["status"] == "disconnected"
    assert row["access_token"] is None and row["refresh_token"] is None
    # Revoked at Intuit: the old refresh token is refused there.
    from hub.builtin.quickbooks import oauth
    with pytest.raises(oauth.OAuthFailure) as refused:
        oauth.refresh(connected.config, "sandbox", token)
    assert refused.value.code == "invalid_grant"
    with pytest.raises(Exception, match="not connected"):
        connection.require(qbo_ctx(connected))


def test_expiry_warnings_fourteen_days_ahead(connected: Hub) -> None:
    row = connection.row(qbo_ctx(connected))
    assert connection.status(qbo_ctx(connected))["warnings"] == []
    with freeze_time(row["refresh_expires_at"] - timedelta(days=13)):
        [warning] = connection.status(qbo_ctx(connected))["warnings"]
        assert "100 days unused" in warning and "reconnect before then" in warning


def test_keys_rotate_reencrypts_the_tokens(tmp_path: Path, emulator: Emulator,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    env = qbo_env(tmp_path, emulator)
    cli = build_cli()
    grant = emulator.connect()
    runner = CliRunner()
    assert runner.invoke(cli, ["quickbooks", "connect", "--realm-id", grant["realmId"],
                               "--refresh-token", grant["refresh_token"]],
                         env=env).exit_code == 0
    new_key = Fernet.generate_key().decode()
    rotated = runner.invoke(cli, ["keys", "rotate"], env={**env, "HUB_ENCRYPTION_KEYS": new_key})
    assert rotated.exit_code == 0, rotated.output
    assert "quickbooks: re-encrypted 2 stored secrets" in rotated.output
    # Readable with the new key alone: the old one (derived from HUB_SECRET_KEY) can go.
    only_new = {**env, "HUB_ENCRYPTION_KEYS": new_key, "HUB_SECRET_KEY": "another-secret"}
    status = runner.invoke(cli, ["quickbooks", "status"], env=only_new)
    assert "QuickBooks: connected" in status.output
    from hub.config import load_config
    hub = Hub(load_config(only_new, dotenv=False))
    assert connection.refresh(qbo_ctx(hub), force=True) == "refreshed"
    hub.close()


def test_no_token_reaches_the_logs(make_qbo_hub, emulator: Emulator,
                                   caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    hub = make_qbo_hub()
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
    connection.refresh(qbo_ctx(hub), force=True)
    current = connection.row(qbo_ctx(hub))
    secrets = [grant["refresh_token"], grant["access_token"],
               hub.crypto.decrypt(current["refresh_token"]),
               hub.crypto.decrypt(current["access_token"])]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # something was logged: the check below is not vacuous
    assert not any(secret in logged for secret in secrets)


def test_a_company_from_the_other_environment_is_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from hub.builtin.quickbooks import oauth
    from hub.builtin.quickbooks.emulator.testing import start_emulator
    from hub.config import load_config

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    sandbox = start_emulator(state_file=str(tmp_path / "sandbox.json"))
    try:
        sandbox.add_company("4620816365000000", name="Real Books Ltd")
        grant = sandbox.connect(realm="4620816365000000")
        shutil.copy(tmp_path / "sandbox.json", tmp_path / "production.json")
        production = start_emulator(state_file=str(tmp_path / "production.json"))
        sandbox.reset()  # the company is not in the sandbox
        try:
            monkeypatch.setattr(oauth, "API_BASE", {"sandbox": sandbox.api_base,
                                                    "production": production.api_base})
            env = {**qbo_env(tmp_path, production), "QBO_ENVIRONMENT": "sandbox"}
            del env["QBO_API_BASE"]  # Intuit's two bases, as without the emulator
            hub = Hub(load_config(env, dotenv=False), entrypoints=False,
                      plugins=[("quickbooks", __import__("hub.builtin.quickbooks",
                                                         fromlist=["_"]))])
            with pytest.raises(connect.ConnectError) as refused:
                connect.with_refresh_token(qbo_ctx(hub), "4620816365000000", grant["refresh_token"])
            assert ("is a production company, but the hub is set to sandbox: set "
                    "QBO_ENVIRONMENT=production and connect again") in str(refused.value)
            # nothing half-saved
            assert connection.status(qbo_ctx(hub))["status"] == "not_connected"
            hub.close()
        finally:
            production.stop()
    finally:
        sandbox.stop()


def test_the_five_year_limit_is_asked_for_and_warned_of(qbo_hub: Hub, emulator: Emulator) -> None:
    # Intuit tells it only to a token call carrying x-include-refresh-token-hard-expires-in;
    # without it the warning before the hard limit could never fire.
    back = consent(connect.start_browser(qbo_ctx(qbo_hub)))  # the code exchange
    connect.finish_browser(qbo_ctx(qbo_hub), state=back["state"], code=back["code"],
                           realm_id=back["realmId"])
    first = connection.row(qbo_ctx(qbo_hub))["refresh_hard_expires_at"]
    assert first is not None and first - utcnow() > timedelta(days=5 * 365 - 1)
    grant = emulator.connect()  # and a refresh
    connect.with_refresh_token(qbo_ctx(qbo_hub), grant["realmId"], grant["refresh_token"])
    hard = connection.row(qbo_ctx(qbo_hub))["refresh_hard_expires_at"]
    assert hard is not None
    with freeze_time(hard - timedelta(days=13)):
        warnings = connection.status(qbo_ctx(qbo_hub))["warnings"]
        assert any("5-year limit" in w and "reconnect before then" in w for w in warnings)


@pytest.mark.parametrize("realm", ["١٢٣", "12 3", "123abc"])
def test_a_callback_with_a_company_id_that_is_no_number_connects_nothing(
        qbo_hub: Hub, realm: str) -> None:
    back = consent(connect.start_browser(qbo_ctx(qbo_hub)))
    with pytest.raises(connect.ConnectError, match="not a number"):
        connect.finish_browser(qbo_ctx(qbo_hub), state=back["state"], code=back["code"],
                               realm_id=realm)
    assert connection.status(qbo_ctx(qbo_hub))["status"] == "not_connected"


@pytest.mark.parametrize("state", ["a\x00b", "\ud800", "x" * 5000])
def test_a_callback_state_no_connect_could_have_is_refused_on_any_database(
        make_qbo_hub: Any, database_url: str, state: str) -> None:
    # Seen: ?state=%00 was a 500 on PostgreSQL, which refuses a NUL in a query.
    hub = make_qbo_hub(HUB_DATABASE_URL=database_url)
    with pytest.raises(connect.ConnectError, match="not one this hub started"):
        connect.finish_browser(qbo_ctx(hub), state=state, code="c", realm_id="123")
