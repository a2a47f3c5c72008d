"""End to end with the real QuickBooks plugin and its emulator: a debt made in QuickBooks
refuses the client after a sweep, and a payment recorded in QuickBooks lifts it within one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from hub.builtin import booking_gate
from hub.builtin import quickbooks as quickbooks_plugin
from hub.builtin.quickbooks import connect
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.config import load_config
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.booking_gate.conftest import check, qbo_env
from tests.plugins.recorder import Recorder


def sweep(hub: Hub) -> None:
    fire(hub, hub.jobs()["quickbooks.sweep"], utcnow())
    run_due(hub)


@pytest.fixture
def qbo_gate(tmp_path: Path, emulator: Emulator, host: Recorder,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator speaks plain http
    hub = Hub(load_config(qbo_env(tmp_path, emulator), dotenv=False), entrypoints=False,
              plugins=[("quickbooks", quickbooks_plugin),
                       ("booking_gate", booking_gate), ("host", host)])
    try:
        grant = emulator.connect()
        connect.with_refresh_token(hub.context("quickbooks", "test", "-"), grant["realmId"],
                                   grant["refresh_token"])
        hub.states.set_enabled("booking_gate", True)
        hub.states.update_settings("booking_gate", {"threshold": "50.00", "currency": "USD"})
        yield hub
    finally:
        hub.close()


def test_a_debt_in_quickbooks_refuses_and_its_payment_lifts_the_refusal(
        qbo_gate: Hub, emulator: Emulator) -> None:
    # The emulator's demo company: Amy's Bird Sanctuary owes one invoice, due yesterday.
    [amy] = [c for c in emulator.objects("Customer")
             if c.get("PrimaryEmailAddr", {}).get("Address") == "birds@example.com"]
    [invoice] = [i for i in emulator.objects("Invoice")
                 if i["CustomerRef"]["value"] == amy["Id"] and i["Balance"] > 0]
    owed = f"{invoice['Balance']:.2f}"
    client = create_app(qbo_gate).test_client()

    sweep(qbo_gate)
    answer = check(client, "Birds@Example.com")
    assert answer["allowed"] is False and answer["stale"] is False
    assert answer["balance"] == owed and answer["threshold"] == "50.00"
    assert answer["reason"].startswith(f"Outstanding balance ${owed} exceeds the $50.00 limit")
    assert check(client, "cars@example.com")["allowed"] is True  # owes nothing

    # The reason speaks the books' currency even when the operator never set one; a
    # threshold set in another currency is not compared with the books' figures.
    qbo_gate.states.update_settings("booking_gate", {"currency": ""})
    assert check(client, "birds@example.com")["reason"].startswith(f"Outstanding balance ${owed}")
    qbo_gate.states.update_settings("booking_gate", {"currency": "EUR"})
    assert check(client, "birds@example.com")["stale"] is True
    qbo_gate.states.update_settings("booking_gate", {"currency": "USD"})

    emulator.record_payment(invoice["Id"], invoice["Balance"])
    sweep(qbo_gate)
    answer = check(client, "birds@example.com")
    assert answer == {"allowed": True, "reason": None, "balance": "0.00",
                      "threshold": "50.00", "stale": False}

    # Two sweeps missed (QuickBooks unreachable): the mirror is stale, and by default the
    # gate lets the client book, saying so; an operator who prefers it can refuse instead.
    assert check(client, "diner@example.com")["allowed"] is False
    with freeze_time(utcnow() + timedelta(minutes=11)):
        answer = check(client, "diner@example.com")
        assert answer["allowed"] is True and answer["stale"] is True
        qbo_gate.states.update_settings("booking_gate", {"when_stale": "refuse"})
        answer = check(client, "diner@example.com")
        assert answer["allowed"] is False and answer["stale"] is True


def test_a_refused_booking_is_never_billed(qbo_gate: Hub, emulator: Emulator) -> None:
    from tests.conftest import API_KEY
    from tests.samples import DATA, event

    auth = {"Authorization": f"Bearer {API_KEY}"}
    client = create_app(qbo_gate).test_client()
    sweep(qbo_gate)
    booking = {**DATA["booking"], "external_id": "bk-amy",
               "contact": {"external_id": "c-amy", "name": "Amy",
                           "email": "birds@example.com"}}

    def send(event_id: str, status: str) -> None:
        body = {**event("booking", event_id), "data": {**booking, "status": status}}
        assert client.post("/api/v1/events", json=body, headers=auth).status_code == 202
        run_due(qbo_gate)

    send("evt_booked", "booked")  # Amy owes more than the limit: refused
    invoices_before = len(emulator.objects("Invoice"))
    send("evt_done", "completed")  # the host lets the session happen anyway
    [billing] = [d for d in qbo_gate.event("evt_done")["deliveries"]
                 if d["plugin"] == "quickbooks"]
    assert billing["status"] == "skipped"
    assert billing["result"].startswith("not billed: the booking gate refused this booking")
    assert len(emulator.objects("Invoice")) == invoices_before


def test_just_connected_every_balance_is_stale_until_the_first_import_which_starts_at_once(
        qbo_gate: Hub, emulator: Emulator) -> None:
    # Seen: after connecting, the gate said {"allowed": true, "balance": "0.00", "stale":
    # false} for a client owing 130.00, until the next poll slot brought the first import.
    client = create_app(qbo_gate).test_client()
    for email in ("birds@example.com", "nobody@example.com"):
        answer = check(client, email)
        assert answer["stale"] is True and answer["allowed"] is True, (email, answer)
    qbo_gate.states.update_settings("booking_gate", {"when_stale": "refuse"})
    assert check(client, "birds@example.com")["allowed"] is False
    # Connecting queued the first import: the workers run it now, no clock needed.
    assert run_due(qbo_gate) >= 1
    answer = check(client, "birds@example.com")
    assert answer["stale"] is False and answer["allowed"] is False
    assert check(client, "nobody@example.com") == {
        "allowed": True, "reason": None, "balance": "0.00", "threshold": "50.00",
        "stale": False}
