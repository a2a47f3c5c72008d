"""How long the hub waits for QuickBooks: a write longer than Intuit runs one (120 s), so a slow
write is never sent again beside itself; a read not as long. The timeouts here are a
hundredth of the real ones (1.3 s and 0.3 s), QuickBooks' slowness too."""

from __future__ import annotations

from typing import Any

import pytest

from hub.builtin.quickbooks import client
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.samples import event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "WRITE_TIMEOUT", client.WRITE_TIMEOUT / 100)
    monkeypatch.setattr(client, "READ_TIMEOUT", client.READ_TIMEOUT / 100)


def contact(hub: Hub, event_id: str, **data: Any) -> dict[str, Any]:
    body = event("contact", event_id)
    body["data"] = data
    assert create_app(hub).test_client().post("/api/v1/events", json=body,
                                               headers=AUTH).status_code == 202
    run_due(hub)
    [found] = [d for d in hub.event(event_id)["deliveries"] if d["plugin"] == "quickbooks"]
    return found


def test_a_slow_write_is_waited_for_not_sent_again_and_a_slow_read_is_given_up(
    connected: Hub, emulator: Emulator, scaled: None,
) -> None:
    run_due(connected)  # the first import, out of the way
    emulator.reset_calls()
    # QuickBooks takes a minute over the write (0.6 s here): longer than a read is waited
    # for, well inside Intuit's 120 s.
    emulator.delay_next(0.6, only="customer")
    state = contact(connected, "evt_1", external_id="c-slow", name="Sam Slow")  # no email:
    assert state["status"] == "done", state["last_error"]                      # one write
    assert emulator.calls() == {"POST customer": 1}
    assert [c["DisplayName"] for c in emulator.objects("Customer")
            if c["DisplayName"].startswith("Sam Slow")] == ["Sam Slow"]
    # A read as slow is given up at its own timeout and asked again later.
    emulator.delay_next(0.6, only="query")  # the lookup of the contact's email
    state = contact(connected, "evt_2", external_id="c-read", name="Rae Read",
                    email="rae@example.com")
    assert state["status"] == "pending" and state["attempts"] == 1
    assert "QuickBooks did not answer (ReadTimeout)" in state["last_error"]
