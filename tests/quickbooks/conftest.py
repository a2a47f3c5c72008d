"""A hub with the QuickBooks plugin, pointed at a bundled emulator on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import Context
from hub.builtin import quickbooks as quickbooks_plugin
from hub.builtin.quickbooks import connect
from hub.builtin.quickbooks.emulator.consent import approve
from hub.builtin.quickbooks.emulator.testing import Emulator, start_emulator
from hub.config import load_config
from hub.hub import Hub
from hub.queue.worker import run_due
from tests.conftest import base_env
from tests.plugins.recorder import Recorder


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = start_emulator(retry_scale=0.001)
    try:
        yield emu
    finally:
        emu.stop()


def qbo_env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    return {
        **base_env(tmp_path),
        "QBO_CLIENT_ID": emulator.client_id,
        "QBO_CLIENT_SECRET": emulator.client_secret,
        "QBO_API_BASE": emulator.api_base,
        "QBO_DISCOVERY_URL": emulator.discovery_url,
        "QBO_WEBHOOK_VERIFIER_TOKEN": emulator.verifier_token,
    }


@pytest.fixture
def host() -> Recorder:
    """Stands in for the host application: records the messages the hub sends it."""
    return Recorder()


@pytest.fixture
def make_qbo_hub(tmp_path: Path, emulator: Emulator, host: Recorder,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    made: list[Hub] = []

    def make(**extra_env: str) -> Hub:
        env = {**qbo_env(tmp_path, emulator), **extra_env}
        hub = Hub(load_config(env, dotenv=False), entrypoints=False,
                  plugins=[("quickbooks", quickbooks_plugin), ("host", host)])
        made.append(hub)
        return hub

    yield make
    for hub in made:
        hub.close()


@pytest.fixture
def qbo_hub(make_qbo_hub: Any) -> Hub:
    return make_qbo_hub()  # type: ignore[no-any-return]


@pytest.fixture
def connected(qbo_hub: Hub, emulator: Emulator, host: Recorder) -> Hub:
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(qbo_hub), grant["realmId"], grant["refresh_token"])
    # Connecting queues the first import: tests start after it, from a quiet hub and host.
    run_due(qbo_hub)
    host.calls.clear()
    return qbo_hub


def consent(authorize_url: str, decision: str = "connect") -> dict[str, str]:
    """Do what the operator does on Intuit's consent page; returns the callback's query."""
    return approve(authorize_url, decision)


def qbo_ctx(hub: Hub) -> Context:
    """The QuickBooks plugin's context on ``hub``, as the plugin's functions are called with."""
    return hub.context("quickbooks", "test", "-")
