"""A hub with the booking gate on, a balance source the test fills, and a stand-in host."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.builtin import booking_gate
from hub.hub import Hub
from hub.web.app import create_app
from tests.booking_gate.ledger import Ledger
from tests.conftest import API_KEY
from tests.plugins.recorder import Recorder

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
def host() -> Recorder:
    """Stands in for the host application: records the messages the hub sends it."""
    return Recorder()


@pytest.fixture
def gate(make_hub: Any, ledger: Ledger, host: Recorder) -> Hub:
    hub: Hub = make_hub(("booking_gate", booking_gate), ("ledger", ledger),
                        ("host", host))
    hub.states.set_enabled("booking_gate", True)
    hub.states.update_settings("booking_gate", {"threshold": "100.00"})
    return hub


@pytest.fixture
def client(gate: Hub) -> FlaskClient:
    return create_app(gate).test_client()


def check(client: FlaskClient, email: str) -> dict[str, Any]:
    answer = client.post("/api/v1/bookings/check", json={"email": email}, headers=AUTH)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()  # type: ignore[no-any-return]


def told(host: Recorder, kind: str) -> list[dict[str, Any]]:
    return [m for hook, m, _ in host.calls if hook == "on_host_event" and m["type"] == kind]


# The QuickBooks emulator, for the end-to-end test with the real QuickBooks plugin.
from tests.quickbooks.conftest import emulator, qbo_env  # noqa: E402, F401
