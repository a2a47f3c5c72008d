"""An invoice an earlier attempt created but never linked is found by its marker, not created
again: when QuickBooks no longer remembers the requestid (how long it does is not documented),
and when a later event for the invoice comes after an attempt that left no link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import DELIVERIES, EVENTS
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_batch_replay import marked
from tests.quickbooks.test_invoices import invoice_data
from tests.samples import DATA, event


def send(client: FlaskClient, hub: Hub, event_type: str, event_id: str,
         data: dict[str, Any]) -> dict[str, Any]:
    body = {**event(event_type, event_id), "data": data}
    assert client.post("/api/v1/events", json=body,
                       headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 202
    run_due(hub)
    return delivery(hub, event_id)


def delivery(hub: Hub, event_id: str) -> dict[str, Any]:
    view = hub.event(event_id)
    assert view is not None
    [found] = [d for d in view["deliveries"] if d["plugin"] == "quickbooks"]
    return found  # type: ignore[no-any-return]


def test_a_retry_after_quickbooks_forgot_the_requestid_links_the_invoice_it_wrote(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1, only="invoice")  # written in QuickBooks, the answer lost
        assert send(client, connected, "invoice.sent", "evt_1", invoice_data())["status"] \
            == "pending"
        [qbo_id] = marked(emulator, "inv-1")
        emulator.forget_requestids()  # the retry's requestid would now write again
        clock.tick(timedelta(minutes=5))
        run_due(connected)
    retried = delivery(connected, "evt_1")
    assert retried["status"] == "done", retried
    assert "found by its marker" in retried["result"]
    assert marked(emulator, "inv-1") == [qbo_id]
    link = links.get(qbo_ctx(connected), "invoice", "inv-1")
    assert link is not None and link["qbo_id"] == qbo_id


def test_a_later_event_after_an_attempt_that_left_no_link_updates_the_one_invoice(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    emulator.drop_next(1, only="invoice")
    first = send(client, connected, "invoice.sent", "evt_1", invoice_data())
    [qbo_id] = marked(emulator, "inv-1")
    # The operator gives up on the first delivery; the host then changes the invoice.
    assert first["status"] == "pending"
    connected.dismiss([delivery_pk(connected, "evt_1")])
    later = send(client, connected, "invoice.updated", "evt_2",
                 invoice_data(due_date="2026-04-11"))
    assert later["status"] == "done", later
    assert marked(emulator, "inv-1") == [qbo_id]
    held = emulator.get("Invoice", qbo_id)
    assert held is not None and held["DueDate"] == "2026-04-11"


def delivery_pk(hub: Hub, event_id: str) -> int:
    with reading(hub.engine) as conn:
        return int(conn.execute(
            select(DELIVERIES.c.pk).join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
            .where(EVENTS.c.key == event_id, DELIVERIES.c.plugin == "quickbooks")).scalar_one())


def test_a_payment_retried_after_quickbooks_forgot_the_requestid_is_one_receipt(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1, only="salesreceipt")  # money recorded, the answer lost
        assert send(client, connected, "payment", "evt_1", DATA["payment"])["status"] \
            == "pending"
        emulator.forget_requestids()
        clock.tick(timedelta(minutes=5))
        run_due(connected)
    retried = delivery(connected, "evt_1")
    assert retried["status"] == "done", retried
    assert "found by its note" in retried["result"]
    receipts = [r for r in emulator.objects("SalesReceipt")
                if "pay-1" in str(r.get("PrivateNote"))]
    assert len(receipts) == 1
