"""Host contacts become QuickBooks customers: found by email, updated, created, never
duplicated — through the events API, against the emulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from freezegun import freeze_time

from hub.builtin.quickbooks import connect, connection, links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import CONTACT, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def send(client: FlaskClient, event_id: str, **contact: Any) -> None:
    body = event("contact", event_id)
    body["data"] = {**CONTACT, **contact}
    answer = client.post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()


def delivery(hub: Hub, event_id: str) -> dict[str, Any]:
    [found] = [d for d in hub.event(event_id)["deliveries"] if d["plugin"] == "quickbooks"]
    return found


def customers(emulator: Emulator, email: str) -> list[dict[str, Any]]:
    return [c for c in emulator.objects("Customer")
            if (c.get("PrimaryEmailAddr") or {}).get("Address", "").lower() == email.lower()]


def test_a_new_contact_becomes_a_customer_once(connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    send(client, "evt_1", email="new.parent@example.com", name="Pat Newcomer")
    run_due(connected)
    [customer] = customers(emulator, "new.parent@example.com")
    assert customer["DisplayName"] == "Pat Newcomer"
    assert customer["PrimaryPhone"]["FreeFormNumber"] == "+1 555 0100"
    assert customer["BillAddr"]["City"] == "Springfield"
    assert delivery(connected, "evt_1")["result"] == f"Customer {customer['Id']} created"
    # The same contact again, unchanged: the link answers, QuickBooks is not called.
    send(client, "evt_2", email="new.parent@example.com", name="Pat Newcomer")
    run_due(connected)
    assert delivery(connected, "evt_2")["status"] == "done"
    assert delivery(connected, "evt_2")["result"] is None
    assert emulator.get("Customer", customer["Id"])["SyncToken"] == customer["SyncToken"]
    # Changed: updated in place.
    send(client, "evt_3", email="new.parent@example.com", name="Pat Newcomer",
         phone="+1 555 0199")
    run_due(connected)
    [customer] = customers(emulator, "new.parent@example.com")
    assert customer["PrimaryPhone"]["FreeFormNumber"] == "+1 555 0199"


def test_an_existing_customer_is_found_by_email_in_any_case(connected: Hub,
                                                            emulator: Emulator) -> None:
    existing = emulator.add_customer(DisplayName="Morgan Existing",
                                     PrimaryEmailAddr={"Address": "Morgan@Example.com"})
    before = len(emulator.objects("Customer"))
    client = create_app(connected).test_client()
    send(client, "evt_1", external_id="c-77", name="Morgan Existing-Smith",
         email="  morgan@example.COM ")
    run_due(connected)
    assert len(emulator.objects("Customer")) == before
    updated = emulator.get("Customer", existing["Id"])
    assert updated["DisplayName"] == "Morgan Existing-Smith"
    assert links.get(qbo_ctx(connected), "customer", "c-77")["qbo_id"] == existing["Id"]


def test_an_inactive_customer_is_reactivated_not_duplicated(connected: Hub,
                                                            emulator: Emulator) -> None:
    gone = emulator.add_customer(DisplayName="Sam Dormant", Active=False,
                                 PrimaryEmailAddr={"Address": "sam@example.com"})
    client = create_app(connected).test_client()
    send(client, "evt_1", name="Sam Dormant", email="sam@example.com")
    run_due(connected)
    [customer] = customers(emulator, "sam@example.com")
    assert customer["Id"] == gone["Id"] and customer["Active"] is True


def test_a_taken_display_name_gets_a_disambiguated_one(connected: Hub,
                                                       emulator: Emulator) -> None:
    emulator.add_customer(DisplayName="Chris Lee",
                          PrimaryEmailAddr={"Address": "chris.one@example.com"})
    client = create_app(connected).test_client()
    send(client, "evt_1", external_id="c-2", name="Chris Lee", email="chris.two@example.com")
    run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done"
    [customer] = customers(emulator, "chris.two@example.com")
    assert customer["DisplayName"] == "Chris Lee (chris.two@example.com)"


def test_a_lost_answer_is_retried_without_a_second_customer(connected: Hub,
                                                             emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    body = event("contact", "evt_1")
    body["data"] = {"external_id": "c-lost", "name": "Lou Lost"}  # no email: no lookup
    assert client.post("/api/v1/events", json=body, headers=AUTH).status_code == 202
    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1)  # the create is committed in QuickBooks, its answer lost
        run_due(connected)
        state = delivery(connected, "evt_1")
        assert state["status"] == "pending" and "did not answer" in state["last_error"]
        assert lous(emulator) == ["Lou Lost"]
        clock.tick(timedelta(minutes=5))
        run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done"
    # The retry carried the same requestid: QuickBooks answered with the first customer.
    assert lous(emulator) == ["Lou Lost"]


def lous(emulator: Emulator) -> list[str]:
    return [c["DisplayName"] for c in emulator.objects("Customer")
            if c["DisplayName"].startswith("Lou Lost")]


def test_throttling_is_waited_out(connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    send(client, "evt_1", name="Tia Throttle", email="tia@example.com")
    emulator.set_limits(per_minute=0)
    with freeze_time(utcnow()) as clock:
        run_due(connected)
        state = delivery(connected, "evt_1")
        assert state["status"] == "pending" and "throttled" in state["last_error"]
        emulator.set_limits(per_minute=500)
        clock.tick(timedelta(seconds=59))
        assert run_due(connected) == 0  # Intuit says wait a minute
        clock.tick(timedelta(seconds=2))
        run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done"


def test_not_connected_skips_with_the_reason(qbo_hub: Hub) -> None:
    client = create_app(qbo_hub).test_client()
    send(client, "evt_1")
    run_due(qbo_hub)
    state = delivery(qbo_hub, "evt_1")
    assert state["status"] == "skipped" and "QuickBooks is not connected" in state["result"]


def test_needs_reconnect_holds_work_tells_the_host_once_and_reconnect_runs_it(
    connected: Hub, emulator: Emulator, host: Recorder
) -> None:
    emulator.revoke(connected.crypto.decrypt(connection.row(qbo_ctx(connected))["refresh_token"]))
    emulator.expire_tokens()  # the access token lapses too: the next call must refresh
    client = create_app(connected).test_client()
    send(client, "evt_1", external_id="c-1", name="Held One", email="held1@example.com")
    send(client, "evt_2", external_id="c-2", name="Held Two", email="held2@example.com")
    with freeze_time(utcnow() + timedelta(hours=2)):
        run_due(connected)
        for event_id in ("evt_1", "evt_2"):
            state = delivery(connected, event_id)
            assert state["status"] == "waiting", state
            assert "needs reconnecting" in state["last_error"]
        told = [m["type"] for hook, m, _ in host.calls if hook == "on_host_event"]
        assert told == ["sync.failed"]  # once, not per event
        grant = emulator.connect()
        connect.with_refresh_token(qbo_ctx(connected), grant["realmId"], grant["refresh_token"])
        run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done"
    assert delivery(connected, "evt_2")["status"] == "done"
    assert len(customers(emulator, "held1@example.com")) == 1


def test_the_hub_keeps_under_the_per_minute_limit_itself(
    connected: Hub, emulator: Emulator, monkeypatch: Any
) -> None:
    from hub.builtin.quickbooks import limits

    monkeypatch.setattr(limits, "PER_MINUTE", 4)
    limits.reset(qbo_ctx(connected))
    emulator.set_limits(per_minute=4)  # QuickBooks would answer 429 past this
    client = create_app(connected).test_client()
    for n in range(3):  # each new contact costs a lookup and a create: 6 calls
        send(client, f"evt_{n}", external_id=f"c-{n}", name=f"Pat {n}",
             email=f"pat{n}@example.com")
    with freeze_time(utcnow()) as clock:
        run_due(connected)
        states = [delivery(connected, f"evt_{n}") for n in range(3)]
        assert [s["status"] for s in states] == ["done", "done", "pending"]
        assert "waiting for QuickBooks' limit of 4 requests a minute" in states[2]["last_error"]
        clock.tick(timedelta(seconds=61))
        emulator.set_limits(per_minute=4)  # a fresh minute at QuickBooks too
        run_due(connected)
    assert delivery(connected, "evt_2")["status"] == "done"
    assert all(len(customers(emulator, f"pat{n}@example.com")) == 1 for n in range(3))
