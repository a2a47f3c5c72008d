"""QuickBooks → host: imports, webhooks, changes made in QuickBooks told once, no echoes and
no loops. Against the emulator, with its webhooks posted to the hub over a real socket."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from hub.builtin.quickbooks import connect, links, mirror
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.webhooks import signature
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY, serving
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def told(host: Recorder, kind: str) -> list[dict[str, Any]]:
    return [m for hook, m, _ in host.calls if hook == "on_host_event" and m["type"] == kind]


def sweep(hub: Hub) -> None:
    from hub.clock import utcnow
    fire(hub, hub.jobs()["quickbooks.sweep"], utcnow())
    run_due(hub)


@pytest.fixture
def served_hub(connected: Hub) -> Iterator[str]:
    with serving(create_app(connected)) as url:
        yield url


def send_invoice(hub: Hub, event_type: str, event_id: str, **changes: Any) -> None:
    data = copy.deepcopy(DATA["invoice.sent"])
    data["contact"] = {**data["contact"], "email": "parent@example.com"}
    data.update(changes)
    body = {**event(event_type, event_id), "data": data}
    answer = create_app(hub).test_client().post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    run_due(hub)


def test_connecting_imports_every_customer_once(qbo_hub: Hub, emulator: Emulator,
                                                host: Recorder) -> None:
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(qbo_hub), grant["realmId"], grant["refresh_token"])
    run_due(qbo_hub)  # the first import, queued by connecting
    imported = told(host, "contact.imported")
    in_qbo = emulator.objects("Customer")
    assert {m["data"]["external_id"] for m in imported} == {f"qbo:{c['Id']}" for c in in_qbo}
    assert all(m["data"]["name"] for m in imported)
    sweep(qbo_hub)
    assert len(told(host, "contact.imported")) == len(imported)  # nothing twice


def test_a_customer_added_in_quickbooks_arrives_by_webhook(
    connected: Hub, emulator: Emulator, host: Recorder, served_hub: str
) -> None:
    sweep(connected)
    before = len(told(host, "contact.imported"))
    for n, fmt in enumerate(("cloudevents", "legacy"), start=1):
        emulator.configure_webhooks(url=f"{served_hub}/quickbooks/webhooks", format=fmt)
        added = emulator.add_customer(DisplayName=f"Webhook {fmt}",
                                      PrimaryEmailAddr={"Address": f"{fmt}@example.com"})
        emulator.wait_for_webhooks(n)  # counts every attempt so far
        attempts = emulator.webhook_attempts()
        assert attempts[-1]["status"] == 200, attempts[-1]
        run_due(connected)
        new = told(host, "contact.imported")[before:]
        assert new[-1]["data"]["external_id"] == f"qbo:{added['Id']}"
        assert new[-1]["data"]["email"] == f"{fmt}@example.com"
        before = len(told(host, "contact.imported"))
        emulator.configure_webhooks(url=None)


def test_a_forged_webhook_is_refused(connected: Hub, served_hub: str,
                                     emulator: Emulator) -> None:
    body = json.dumps({"eventNotifications": [{"realmId": emulator.realm_id}]}).encode()
    wrong = requests.post(f"{served_hub}/quickbooks/webhooks", data=body,
                          headers={"intuit-signature": signature("not-the-token", body)},
                          timeout=5)
    assert wrong.status_code == 401
    right = requests.post(f"{served_hub}/quickbooks/webhooks", data=body, timeout=5,
                          headers={"intuit-signature": signature(emulator.verifier_token,
                                                                 body)})
    assert right.status_code == 200 and right.json() == {"queued": True}


def test_a_payment_made_in_quickbooks_is_told_once_and_reaches_the_other_plugins(
    connected: Hub, emulator: Emulator, host: Recorder
) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    sweep(connected)
    qbo_id = links.get(qbo_ctx(connected), "invoice", "inv-1")["qbo_id"]
    emulator.record_payment(qbo_id, amount=100)  # a person records a cheque in QuickBooks
    sweep(connected)
    [update] = told(host, "invoice.payment_updated")
    assert update["data"]["external_id"] == "inv-1"
    assert update["data"]["status"] == "partially_paid"
    assert update["data"]["amount_paid"] == "100.00"
    paid = [(v, ctx) for hook, v, ctx in host.calls if hook == "on_invoice_paid"]
    assert len(paid) == 1 and paid[0][1].source == "quickbooks"
    assert paid[0][0].balance == Decimal("89.98")
    sweep(connected)
    assert len(told(host, "invoice.payment_updated")) == 1  # once
    found = mirror.balances(qbo_ctx(connected), "parent@example.com")
    assert found is not None and found["outstanding"] == Decimal("89.98")
    owed = connected.customer_balance("Parent@Example.com ")
    assert owed is not None and owed.outstanding == Decimal("89.98") and not owed.stale
    from datetime import timedelta

    from freezegun import freeze_time

    from hub.clock import utcnow
    with freeze_time(utcnow() + timedelta(minutes=11)):  # two 5-minute sweeps missed
        assert connected.customer_balance("parent@example.com").stale


def test_the_hubs_own_payments_are_not_echoed(connected: Hub, emulator: Emulator,
                                              host: Recorder) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    sweep(connected)
    send_invoice(connected, "invoice.paid", "evt_2", status="paid", amount_paid="189.98")
    sweep(connected)
    assert told(host, "invoice.payment_updated") == []
    assert told(host, "contact.imported") == [m for m in told(host, "contact.imported")
                                              if m["data"]["email"] != "parent@example.com"]


def test_historical_invoices_are_imported_and_never_pushed_back(
    connected: Hub, emulator: Emulator, host: Recorder
) -> None:
    connected.states.update_settings("quickbooks", {"import_invoices": "true"})
    sweep(connected)
    imported = told(host, "invoice.imported")
    assert {m["data"]["external_id"] for m in imported} == {
        f"qbo:{i['Id']}" for i in emulator.objects("Invoice")}
    one = imported[0]["data"]
    assert Decimal(one["lines"][0]["unit_price"]) >= 0 and one["contact"]["external_id"]
    # The host edits an imported invoice and sends it back: it is not written to QuickBooks.
    before = emulator.get("Invoice", one["external_id"].removeprefix("qbo:"))
    body = {**event("invoice.updated", "evt_9"), "data": {**one, "due_date": "2031-01-01"}}
    create_app(connected).test_client().post("/api/v1/events", json=body, headers=AUTH)
    run_due(connected)
    [qb] = [d for d in connected.event("evt_9")["deliveries"] if d["plugin"] == "quickbooks"]
    assert qb["status"] == "skipped" and "not pushed back" in qb["result"]
    assert emulator.get("Invoice", before["Id"])["SyncToken"] == before["SyncToken"]


def test_a_change_of_company_settings_in_quickbooks_is_followed(
    connected: Hub, emulator: Emulator, served_hub: str
) -> None:
    from hub.builtin.quickbooks import connection
    from tests.emulator.conftest import make_client

    before = connection.status(qbo_ctx(connected))["company"]["allow_discount"]
    emulator.configure_webhooks(url=f"{served_hub}/quickbooks/webhooks", format="cloudevents")
    # Someone switches discounts in QuickBooks (Account and settings → Sales).
    token = connected.crypto.decrypt(connection.row(qbo_ctx(connected))["access_token"])
    qb = make_client(emulator, token)
    prefs = qb.query("SELECT * FROM Preferences")["QueryResponse"]["Preferences"][0]
    qb.update_object("Preferences", json.dumps({
        "SyncToken": prefs["SyncToken"], "sparse": True,
        "SalesFormsPrefs": {"AllowDiscount": not before}}))
    qb.session.close()
    emulator.wait_for_webhooks(1)
    run_due(connected)
    assert connection.status(qbo_ctx(connected))["company"]["allow_discount"] is (not before)
