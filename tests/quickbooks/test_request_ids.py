"""One requestid, one request. QuickBooks answers a repeated requestid with its first answer
(the emulator does too), so a requestid reused for another request is an answer from the past:
stale pages for a read, a deleted payment for a new one."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from hub.builtin.quickbooks import paging
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_invoices import invoice_data, post, qbo_invoice


def test_reading_many_pages_twice_reads_the_books_as_they_are_now(
        connected: Hub, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of 100, so that three pages take 250 customers.
    monkeypatch.setattr(paging, "PAGE", 100)
    for n in range(250):
        emulator.add_customer(DisplayName=f"Client {n:04}",
                              PrimaryEmailAddr={"Address": f"client{n}@example.com"})
    with calling(qbo_ctx(connected)) as api:
        first = paging.every(api, "Customer")
    last = max(first, key=lambda c: int(c["Id"]))
    with emulator.state.store.lock:  # renamed by hand in QuickBooks; the count is the same
        company = emulator.state.store.company(emulator.realm_id)
        company["entities"]["Customer"][last["Id"]]["DisplayName"] = "Renamed By Hand"
    with calling(qbo_ctx(connected)) as api:
        again = paging.every(api, "Customer")
    assert len(again) == len(first)
    assert {c["Id"]: c["DisplayName"] for c in again}[last["Id"]] == "Renamed By Hand"


def test_a_payment_deleted_in_quickbooks_is_recorded_again_not_answered_from_memory(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.paid", "evt_1", invoice_data(status="paid", amount_paid="189.98"))
    run_due(connected)
    [payment] = [p for p in emulator.objects("Payment")
                 if p["Line"][0]["LinkedTxn"][0]["TxnId"] == qbo_invoice(connected, emulator)["Id"]]
    token = emulator.connect()["access_token"]
    deleted = requests.post(
        f"{emulator.api_base}/company/{emulator.realm_id}/payment?operation=delete",
        json={"Id": payment["Id"], "SyncToken": payment["SyncToken"]},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=5)
    assert deleted.status_code == 200, deleted.text
    assert Decimal(str(qbo_invoice(connected, emulator)["Balance"])) == Decimal("189.98")
    # The host says again that it is paid: the same balances as the first time.
    post(client, "invoice.paid", "evt_2", invoice_data(status="paid", amount_paid="189.98"))
    run_due(connected)
    assert Decimal(str(qbo_invoice(connected, emulator)["Balance"])) == 0


def test_a_requestid_is_the_hubs_write_key_and_what_it_always_was(connected: Hub) -> None:
    """QuickBooks' requestids come from the hub's one rule (ctx.write_key), and are the same
    bytes as before that was so: a write retried across the upgrade repeats its requestid,
    and is answered with its first result rather than made twice."""
    import hashlib

    ctx = qbo_ctx(connected)
    with calling(ctx) as api:
        made = api.request_id("invoice-create", "inv-1", "digest")
        realm = api.realm_id
    assert made == ctx.write_key(realm, "invoice-create", "inv-1", "digest")
    assert made == hashlib.sha256("\x1f".join(
        (realm, "invoice-create", "inv-1", "digest")).encode()).hexdigest()[:40]
