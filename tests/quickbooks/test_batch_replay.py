"""A QuickBooks that answers a resent request with a fault instead of its first answer (the
emulator's hostile ``replay_faults`` mode; Intuit documents the opposite, one report saw it):
an invoice it wrote before the answer was lost is found by its marker and linked, never billed
or created a second time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun import freeze_time
from sqlalchemy import select

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.models import QboBookingSession
from hub.clock import utcnow
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_batch_close import (
    MONTH,
    book_monthly,
    client_customer,
    close,
    monthly_invoices,
    set_active,
)
from tests.quickbooks.test_invoices import invoice_data
from tests.samples import event

SESSIONS = QboBookingSession.__table__


def sessions(hub: Hub) -> dict[str, tuple[str, str | None]]:
    """Each booking's session: its status and the invoice it went on."""
    with reading(hub.engine) as conn:
        rows = conn.execute(select(SESSIONS.c.booking_id, SESSIONS.c.status,
                                   SESSIONS.c.invoice_external_id)).all()
    return {booking: (status, invoice) for booking, status, invoice in rows}


def external_id(n: int) -> str:
    return f"monthly:{MONTH}:client{n}@example.com"


def test_a_resent_batch_answered_with_faults_bills_each_client_once(
    connected: Hub, emulator: Emulator
) -> None:
    book_monthly(connected, 3)
    emulator.drop_next(1, only="batch")  # QuickBooks writes the batch; the answer is lost
    first = close(connected)
    assert all("sent again on the next close" in str(r.error) for r in first)
    written = monthly_invoices(emulator)
    assert len(written) == 3 and set(written.values()) == {1}
    ids = {found: i["Id"] for i in emulator.objects("Invoice")
           if (found := links.marked(i.get("PrivateNote"))) in written}

    emulator.replay_faults()  # the resend is answered with fault 6000 on every item
    emulator.reset_calls()
    resent = close(connected)
    calls = emulator.calls()
    again = close(connected)
    assert monthly_invoices(emulator) == written  # still one invoice each
    assert again == []  # nothing left to bill
    assert [(r.client, r.error) for r in resent] == [
        (f"client{n}@example.com", None) for n in range(3)]
    assert all(any("found by its marker" in note for note in r.notes) for r in resent)
    assert calls["POST batch"] == 1  # the same batch once more, nothing new planned
    assert calls.get("POST invoice", 0) == 0
    for n in range(3):
        link = links.get(qbo_ctx(connected), "invoice", external_id(n))
        assert link and link["qbo_id"] == ids[external_id(n)]
        assert link["digest"] and link["balance"] == "65.00"  # as a created one is linked
    assert sessions(connected) == {f"bk-{n}": ("billed", external_id(n)) for n in range(3)}


def test_an_item_refused_the_first_time_is_still_billed_once_after_a_faulted_resend(
    connected: Hub, emulator: Emulator
) -> None:
    book_monthly(connected, 3)
    customer_id = client_customer(connected, 1)
    # QuickBooks refuses client1's invoice in the first send.
    set_active(connected, customer_id, False)
    emulator.drop_next(1, only="batch")
    close(connected)
    assert set(monthly_invoices(emulator)) == {external_id(0), external_id(2)}

    emulator.replay_faults()
    results = {r.client: r for r in close(connected)}
    between = sessions(connected)
    emulator.replay_faults(False)
    set_active(connected, customer_id, True)
    last = close(connected)
    counted = monthly_invoices(emulator)
    assert len(counted) == 3 and set(counted.values()) == {1}
    assert results["client0@example.com"].error is None
    assert results["client2@example.com"].error is None
    # Not in QuickBooks: a refusal, its session free for the next close.
    refused = results["client1@example.com"].error
    assert refused and "(code 6000)" in refused
    assert between["bk-1"] == ("pending", None)
    assert [(r.client, r.error) for r in last] == [("client1@example.com", None)]
    assert sessions(connected) == {f"bk-{n}": ("billed", external_id(n)) for n in range(3)}


def marked(emulator: Emulator, external: str) -> list[str]:
    return [i["Id"] for i in emulator.objects("Invoice")
            if links.marked(i.get("PrivateNote")) == external]


def test_a_single_create_answered_with_a_fault_on_its_retry_is_linked_not_made_again(
    connected: Hub, emulator: Emulator
) -> None:
    client = create_app(connected).test_client()

    def send(event_type: str, event_id: str, data: dict[str, Any]) -> dict[str, Any]:
        body = {**event(event_type, event_id), "data": data}
        assert client.post("/api/v1/events", json=body,
                           headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 202
        run_due(connected)
        [found] = [d for d in connected.event(event_id)["deliveries"]
                   if d["plugin"] == "quickbooks"]
        return found

    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1, only="invoice")  # the create is written, its answer lost
        state = send("invoice.sent", "evt_1", invoice_data())
        assert state["status"] == "pending", state
        [qbo_id] = marked(emulator, "inv-1")
        emulator.replay_faults()  # the retry's repeated requestid is answered with 6000
        clock.tick(timedelta(minutes=5))
        run_due(connected)
        [retried] = [d for d in connected.event("evt_1")["deliveries"]
                     if d["plugin"] == "quickbooks"]
        link = links.get(qbo_ctx(connected), "invoice", "inv-1")
        # The host changes the invoice: the one invoice is updated, no second one created.
        emulator.replay_faults(False)
        updated = send("invoice.updated", "evt_2", invoice_data(due_date="2026-04-11"))
    assert marked(emulator, "inv-1") == [qbo_id]
    assert retried["status"] == "done", retried
    assert "found by its marker" in retried["result"]
    assert link and link["qbo_id"] == qbo_id
    assert updated["status"] == "done", updated
    invoice = emulator.get("Invoice", qbo_id)
    assert invoice and invoice["DueDate"] == "2026-04-11"

