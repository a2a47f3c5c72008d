"""An update never goes out without the object's current SyncToken. Seen: an invoice create
committed in QuickBooks and its answer lost; the change sweep found the invoice by its marker
and restored the link without a SyncToken; the retry sent ``"SyncToken": null``, QuickBooks
answered 2020, and the event was parked dead. A link restored without its token is read first,
and a fault about the token is repaired by one read, not parked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun import freeze_time

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_batch_replay import marked
from tests.quickbooks.test_from_quickbooks import sweep
from tests.quickbooks.test_invoices import invoice_data
from tests.quickbooks.test_written_before import delivery, send


def test_a_lost_create_seen_by_the_sweep_before_the_retry_ends_done_not_parked(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1, only="invoice")  # written in QuickBooks, the answer lost
        assert send(client, connected, "invoice.sent", "evt_1", invoice_data())["status"] \
            == "pending"
        [qbo_id] = marked(emulator, "inv-1")
        sweep(connected)  # finds it by the marker and links it, before the retry
        clock.tick(timedelta(minutes=5))
        run_due(connected)
    retried = delivery(connected, "evt_1")
    assert retried["status"] == "done", retried
    assert marked(emulator, "inv-1") == [qbo_id]  # not made twice
    link = links.get(qbo_ctx(connected), "invoice", "inv-1")
    assert link is not None and link["sync_token"] == emulator.get("Invoice", qbo_id)["SyncToken"]


def test_an_update_after_the_sweep_linked_a_customer_reads_its_token_first(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    with freeze_time(utcnow()) as clock:
        emulator.drop_next(1, only="customer")  # the customer made, the answer lost
        assert send(client, connected, "invoice.sent", "evt_1", invoice_data())["status"] \
            == "pending"
        sweep(connected)
        clock.tick(timedelta(minutes=5))
        run_due(connected)
        assert delivery(connected, "evt_1")["status"] == "done"
        renamed: dict[str, Any] = invoice_data(external_id="inv-2", number="1002")
        renamed["contact"] = {**renamed["contact"], "name": "Dana W. Whitfield"}
        assert send(client, connected, "invoice.sent", "evt_2", renamed)["status"] == "done"
    names = [c["DisplayName"] for c in emulator.objects("Customer")
             if (c.get("PrimaryEmailAddr") or {}).get("Address") == "parent@example.com"]
    assert names == ["Dana W. Whitfield"]
