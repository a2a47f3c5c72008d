"""The token refresh's writes are fenced by its lease and the connection's status: a refresh
that finishes after Disconnect, or after its lease ran out and another refresh took over,
writes nothing back; ``hub keys rotate`` takes the same lease.

The refresh is held in flight, deterministically, at a door on the way to the emulator's token
endpoint: a real HTTP server on loopback that the hub finds through the discovery document."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from cryptography.fernet import Fernet
from freezegun import freeze_time

from hub.builtin.quickbooks import connect, connection
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.config import load_config
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from tests.conftest import loopback_http
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx, qbo_env

FORWARDED = ("authorization", "content-type", "accept",
             "x-include-refresh-token-hard-expires-in")


class TokenDoor:
    """Serves the emulator's discovery document naming itself as the token endpoint, and
    passes each token call on to the emulator's; ``hold`` keeps the next one (its request, or
    its answer) until ``let_go``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.holding: str | None = None
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.url = ""

    def hold(self, what: str) -> None:
        assert what in ("request", "answer")
        self.holding = what
        self.arrived.clear()
        self.released.clear()

    def let_go(self) -> None:
        self.released.set()

    def _wait(self) -> None:
        self.arrived.set()
        assert self.released.wait(10), "the test never let the token call go"

    def discovery(self) -> bytes:
        document = requests.get(self.emulator.discovery_url, timeout=10).json()
        document["token_endpoint"] = self.url + "/token"
        return json.dumps(document).encode()

    def token(self, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
        holding, self.holding = self.holding, None
        if holding == "request":
            self._wait()
        endpoint = requests.get(self.emulator.discovery_url, timeout=10).json()
        answer = requests.post(endpoint["token_endpoint"], data=body, timeout=10,
                               headers={k: v for k, v in headers.items() if k in FORWARDED})
        if holding == "answer":
            self._wait()
        return answer.status_code, answer.headers.get("content-type", ""), answer.content


@pytest.fixture
def door(emulator: Emulator) -> Iterator[TokenDoor]:
    door = TokenDoor(emulator)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's names)
            self._send(200, "application/json", door.discovery())

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            self._send(*door.token(body, {k.lower(): v for k, v in self.headers.items()}))

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    with loopback_http(Handler) as door.url:
        try:
            yield door
        finally:
            door.let_go()


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator, door: TokenDoor,
        monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    return {**qbo_env(tmp_path, emulator), "QBO_DISCOVERY_URL": door.url + "/discovery"}


@pytest.fixture
def hub(env: dict[str, str], emulator: Emulator, host: Recorder) -> Iterator[Hub]:
    from hub.builtin import quickbooks as quickbooks_plugin

    made = Hub(load_config(env, dotenv=False), entrypoints=False,
               plugins=[("quickbooks", quickbooks_plugin), ("host", host)])
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(made), grant["realmId"], grant["refresh_token"])
    yield made
    made.close()


def in_flight(door: TokenDoor, hub: Hub, hold: str) -> tuple[threading.Thread, list[str]]:
    """A refresh started in another thread and held at the door."""
    door.hold(hold)
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(
        connection.refresh(qbo_ctx(hub), force=True)))
    thread.start()
    assert door.arrived.wait(10), "the refresh never reached the token endpoint"
    return thread, outcome


def finish(door: TokenDoor, thread: threading.Thread) -> None:
    door.let_go()
    thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize("hold", ["answer", "request"])
def test_a_refresh_finishing_after_disconnect_writes_nothing_back(
        hub: Hub, door: TokenDoor, host: Recorder, hold: str) -> None:
    # "answer": Intuit rotated the tokens before Disconnect revoked them; "request": Intuit
    # sees the refresh after the revocation and refuses it (invalid_grant).
    thread, outcome = in_flight(door, hub, hold)
    assert connection.disconnect(qbo_ctx(hub)).startswith("QuickBooks disconnected: tokens revoked")
    finish(door, thread)
    assert outcome == ["superseded"]
    row = connection.row(qbo_ctx(hub))
    assert row is not None and row["status"] == "disconnected"
    assert row["access_token"] is None and row["refresh_token"] is None
    assert row["access_expires_at"] is None and row["refreshing_until"] is None
    run_due(hub)
    assert [m for hook, m, _ in host.calls if hook == "on_host_event"] == []  # no news


def test_a_refresh_whose_lease_ran_out_leaves_its_successors_tokens(
        hub: Hub, door: TokenDoor) -> None:
    with freeze_time(utcnow()) as clock:
        thread, outcome = in_flight(door, hub, "answer")
        clock.tick(connection.LEASE + timedelta(seconds=1))  # the first refresh went silent
        assert connection.refresh(qbo_ctx(hub), force=True) == "refreshed"  # another took over
        successor = connection.row(qbo_ctx(hub))
        finish(door, thread)
    assert outcome == ["superseded"]
    row = connection.row(qbo_ctx(hub))
    assert row is not None and successor is not None
    assert row["access_token"] == successor["access_token"]
    assert row["refresh_token"] == successor["refresh_token"]


def test_keys_rotate_takes_the_refresh_lease(hub: Hub, door: TokenDoor,
                                             env: dict[str, str]) -> None:
    cli = build_cli()
    new_key = Fernet.generate_key().decode()
    rotate: Callable[[], Any] = lambda: CliRunner().invoke(  # noqa: E731
        cli, ["keys", "rotate"], env={**env, "HUB_ENCRYPTION_KEYS": new_key})
    thread, outcome = in_flight(door, hub, "answer")
    before = connection.row(qbo_ctx(hub))
    refused = rotate()
    assert refused.exit_code == 1
    assert "quickbooks: not re-encrypted yet: a QuickBooks token refresh is under way" \
        in refused.output
    assert connection.row(qbo_ctx(hub)) == before  # nothing written under the refresh's lease
    finish(door, thread)
    assert outcome == ["refreshed"]
    again = rotate()
    assert again.exit_code == 0, again.output
    assert "quickbooks: re-encrypted 2 stored secrets" in again.output
    # The refreshed tokens, under the new key alone: the old one can go.
    only_new = load_config({**env, "HUB_ENCRYPTION_KEYS": new_key,
                            "HUB_SECRET_KEY": "another-secret"}, dotenv=False)
    fresh = Hub(only_new)
    try:
        assert connection.refresh(qbo_ctx(fresh), force=True) == "refreshed"
    finally:
        fresh.close()
