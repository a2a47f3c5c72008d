"""The host API's figures are QuickBooks' as last seen. Seen: ``GET /api/v1/invoices/{id}``
still said ``balance 80.00, quickbooks_void false`` after the invoice was voided in QuickBooks
and the host told of it; a contact's ``outstanding`` (and the booking gate's balance) summed
open invoices and ignored a payment standing as credit, saying 130.00 where QuickBooks'
customer Balance was 100.00; then ``outstanding "55.00"`` beside ``overdue "85.00"``, the
overdue figure not netting that credit; and ``"due_date": "Thu, 30 Apr 2026 00:00:00 GMT"``,
Flask's HTTP date, where the OpenAPI document says ``format: date``."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.web.app import create_app
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_from_quickbooks import AUTH, send_invoice, sweep, told


def _send(hub: Hub, external_id: str, amount: str, event_id: str, **changes: Any) -> str:
    send_invoice(hub, "invoice.sent", event_id, external_id=external_id, number=None,
                 lines=[{"item": "Tutoring", "unit_price": amount}], discount=None, tax=None,
                 total=None, **changes)
    link = links.get(qbo_ctx(hub), "invoice", external_id)
    assert link is not None
    return str(link["qbo_id"])


def _get(hub: Hub, path: str) -> dict[str, Any]:
    answer = create_app(hub).test_client().get(path, headers=AUTH)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def test_an_invoice_voided_in_quickbooks_reads_void_with_quickbooks_balance(
        connected: Hub, emulator: Emulator, host: Recorder) -> None:
    qbo_id = _send(connected, "inv-1", "80.00", "evt_1")
    sweep(connected)
    before = _get(connected, "/api/v1/invoices/inv-1")
    assert before["balance"] == "80.00" and before["quickbooks_void"] is False
    assert before["quickbooks_balance"] == "80.00"

    emulator.void("Invoice", qbo_id)  # by hand, in QuickBooks
    sweep(connected)
    assert [m["data"]["status"] for m in told(host, "invoice.payment_updated")] == ["void"]

    after = _get(connected, "/api/v1/invoices/inv-1")
    assert after["quickbooks_void"] is True and after["status"] == "void"
    assert after["balance"] == "0.00" and after["quickbooks_balance"] == "0.00"
    assert after["amount_paid"] == "0.00" and after["quickbooks_seen_at"].endswith("Z")


def test_an_invoice_deleted_in_quickbooks_reads_deleted_until_made_again(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    """Seen: after a delete by hand, the API still named QuickBooks invoice 132, not void, as
    if it stood, while the host had been told invoice.deleted_in_quickbooks."""
    from tests.quickbooks.test_reconcile import fix_and_check_again

    qbo_id = _send(connected, "inv-1", "80.00", "evt_1")
    sweep(connected)
    assert "quickbooks_deleted" not in _get(connected, "/api/v1/invoices/inv-1")
    emulator.delete("Invoice", qbo_id)  # by hand, in QuickBooks
    sweep(connected)
    gone = _get(connected, "/api/v1/invoices/inv-1")
    assert gone["quickbooks_deleted"] is True and gone["quickbooks_id"] == qbo_id
    assert "quickbooks_balance" not in gone and gone["balance"] == "80.00"  # the host's

    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    sweep(connected)
    again = _get(connected, "/api/v1/invoices/inv-1")
    assert "quickbooks_deleted" not in again and again["quickbooks_id"] != qbo_id
    assert again["quickbooks_balance"] == "80.00"


def test_a_payment_in_quickbooks_shows_in_the_invoices_balance(
        connected: Hub, emulator: Emulator) -> None:
    qbo_id = _send(connected, "inv-1", "80.00", "evt_1")
    sweep(connected)
    emulator.record_payment(qbo_id, 30)  # by hand, in QuickBooks
    sweep(connected)
    invoice = _get(connected, "/api/v1/invoices/inv-1")
    assert invoice["balance"] == "50.00" and invoice["quickbooks_balance"] == "50.00"
    assert invoice["quickbooks_void"] is False


def test_outstanding_is_quickbooks_customer_balance_less_unapplied_credit(
        connected: Hub, emulator: Emulator) -> None:
    _send(connected, "inv-1", "100.00", "evt_1")
    _send(connected, "inv-2", "30.00", "evt_2")
    paid = _send(connected, "inv-3", "30.00", "evt_3")
    sweep(connected)
    emulator.record_payment(paid, 30)
    # Voiding the paid invoice leaves its payment of 30 unapplied: a credit in QuickBooks.
    emulator.void("Invoice", paid)
    sweep(connected)
    link = links.get(qbo_ctx(connected), "customer", "c-1")
    assert link is not None
    assert emulator.get("Customer", link["qbo_id"])["Balance"] == 100.0  # type: ignore[index]

    contact = _get(connected, "/api/v1/contacts/c-1")
    assert contact["outstanding"] == "100.00"  # open invoices 130.00, less the credit of 30
    balance = connected.customer_balance("parent@example.com")
    assert balance is not None and balance.outstanding == 100
    assert balance.open_invoices == 2


def test_a_payment_left_unapplied_later_lowers_outstanding(
        connected: Hub, emulator: Emulator) -> None:
    """The credit comes after the invoices were swept: QuickBooks shows no change of the
    customer, only of the payment and the invoice."""
    _send(connected, "inv-1", "100.00", "evt_1")
    sweep(connected)
    assert _get(connected, "/api/v1/contacts/c-1")["outstanding"] == "100.00"
    paid = _send(connected, "inv-2", "40.00", "evt_2")
    sweep(connected)
    assert _get(connected, "/api/v1/contacts/c-1")["outstanding"] == "140.00"
    emulator.record_payment(paid, 40)
    emulator.void("Invoice", paid)
    sweep(connected)
    assert _get(connected, "/api/v1/contacts/c-1")["outstanding"] == "60.00"


def test_an_invoice_answers_its_due_date_and_instants_in_iso_8601(
        connected: Hub) -> None:
    _send(connected, "inv-1", "80.00", "evt_1", due_date="2026-04-30")
    sweep(connected)
    invoice = _get(connected, "/api/v1/invoices/inv-1")
    assert invoice["due_date"] == "2026-04-30"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
                        invoice["quickbooks_seen_at"]), invoice["quickbooks_seen_at"]
    doc = _get(connected, "/api/v1/openapi.json")["components"]["schemas"]["InvoiceView"]
    assert doc["properties"]["due_date"]["format"] == "date"
    # Whatever a plugin's facts hold, the app writes dates as the contract does: a naive
    # instant is UTC, as the hub stores them; an aware one is said in UTC.
    app = create_app(connected)
    assert app.json.loads(app.json.dumps({
        "day": datetime(2026, 4, 30).date(), "naive": datetime(2026, 4, 30, 9, 15),
        "aware": datetime.fromisoformat("2026-04-30T09:15:00-05:00")})) == {
        "day": "2026-04-30", "naive": "2026-04-30T09:15:00Z",
        "aware": "2026-04-30T14:15:00Z"}


def test_overdue_nets_the_customers_credit_and_never_exceeds_outstanding(
        connected: Hub, emulator: Emulator) -> None:
    """85.00 past due, 40.00 not yet due, and a payment of 30.00 left as credit (its invoice
    voided in QuickBooks): QuickBooks' Balance is 95.00, and the credit pays the oldest
    invoice first, so 55.00 is overdue, not 85.00."""
    dated = {"issue_date": "2026-03-28"}
    _send(connected, "inv-1", "85.00", "evt_1", due_date="2026-04-04", **dated)
    _send(connected, "inv-2", "40.00", "evt_2", due_date="2026-05-30", **dated)
    paid = _send(connected, "inv-3", "30.00", "evt_3", due_date="2026-04-04", **dated)
    sweep(connected)
    emulator.record_payment(paid, 30)
    emulator.void("Invoice", paid)  # its payment stands as credit
    sweep(connected)
    link = links.get(qbo_ctx(connected), "customer", "c-1")
    assert link is not None
    assert emulator.get("Customer", link["qbo_id"])["Balance"] == 95.0  # type: ignore[index]

    with freeze_time(datetime(2026, 4, 20, 12)):  # inv-1 overdue, inv-2 not yet due
        contact = _get(connected, "/api/v1/contacts/c-1")
        balance = connected.customer_balance("parent@example.com")
    assert (contact["outstanding"], contact["overdue"]) == ("95.00", "55.00")
    assert balance is not None and (balance.outstanding, balance.overdue) == (95, 55)
    assert (balance.open_invoices, balance.overdue_invoices) == (2, 1)
    # The Money page's list of who owes what says the same (seen: 125.00 and 85.00 there).
    with freeze_time(datetime(2026, 4, 20, 12)):
        report = connected.receivables()
    assert report is not None
    [client] = [c for c in report.clients if c.email == "parent@example.com"]
    assert (client.outstanding, client.overdue) == (95, 55)
    assert (client.open_invoices, client.overdue_invoices) == (2, 1)

    # More credit than is past due: nothing is overdue (never below zero), 25.00 outstanding.
    more = _send(connected, "inv-4", "70.00", "evt_4", due_date="2026-04-04", **dated)
    sweep(connected)
    emulator.record_payment(more, 70)
    emulator.void("Invoice", more)
    sweep(connected)
    with freeze_time(datetime(2026, 4, 20, 12)):
        contact = _get(connected, "/api/v1/contacts/c-1")
        balance = connected.customer_balance("parent@example.com")
    assert (contact["outstanding"], contact["overdue"]) == ("25.00", "0.00")
    assert balance is not None and balance.overdue == Decimal("0")
    assert balance.overdue_invoices == 0 and balance.open_invoices == 2


def test_the_openapi_document_names_the_new_fields(connected: Hub) -> None:
    doc = _get(connected, "/api/v1/openapi.json")
    invoice = doc["components"]["schemas"]["InvoiceView"]["properties"]
    assert {"quickbooks_void", "quickbooks_balance", "quickbooks_seen_at"} <= set(invoice)
    answer = doc["paths"]["/api/v1/contacts/{external_id}"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/ContactView")
    overdue = doc["components"]["schemas"]["ContactView"]["properties"]["overdue"]
    assert "credit" in overdue["description"] and "outstanding" in overdue["description"]
