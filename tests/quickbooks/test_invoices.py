"""Invoices sent, updated, voided and paid in the host reach QuickBooks once and stay in step;
standalone payments become sales receipts. Through the events API, against the emulator."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(client: FlaskClient, event_type: str, event_id: str, data: dict[str, Any]) -> None:
    body = event(event_type, event_id)
    body["data"] = data
    answer = client.post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()


def invoice_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DATA["invoice.sent"])
    data["contact"] = {**data["contact"], "email": "parent@example.com"}
    data.update(changes)
    return data


def delivery(hub: Hub, event_id: str) -> dict[str, Any]:
    [found] = [d for d in hub.event(event_id)["deliveries"] if d["plugin"] == "quickbooks"]
    return found


def qbo_invoice(hub: Hub, emulator: Emulator, external_id: str = "inv-1") -> dict[str, Any]:
    link = links.get(qbo_ctx(hub), "invoice", external_id)
    assert link, "no QuickBooks invoice linked"
    found = emulator.get("Invoice", link["qbo_id"])
    assert found is not None
    return found


def test_a_sent_invoice_is_created_with_the_hosts_total(connected: Hub,
                                                        emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    before = len(emulator.objects("Invoice"))
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    state = delivery(connected, "evt_1")
    assert state["status"] == "done", state
    assert "DRIFT" not in state["result"]
    qbo = qbo_invoice(connected, emulator)
    assert len(emulator.objects("Invoice")) == before + 1
    assert Decimal(str(qbo["TotalAmt"])) == Decimal("189.98")  # 10 % off, 8.25 % tax, folded
    assert qbo["DocNumber"] == "1001" and qbo["TxnDate"] == "2026-03-28"
    assert qbo["DueDate"] == "2026-04-04"
    assert qbo["BillEmail"]["Address"] == "parent@example.com"
    items = [line for line in qbo["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    assert [line["Description"] for line in items] == ["March 28, 2026", "March 28, 2026"]
    assert items[0]["SalesItemLineDetail"]["ItemRef"]["name"] == "Services"  # default_item
    assert items[1]["SalesItemLineDetail"]["ServiceDate"] == "2026-03-29"
    customer = emulator.get("Customer", qbo["CustomerRef"]["value"])
    assert customer["PrimaryEmailAddr"]["Address"] == "parent@example.com"
    # Replayed and re-delivered: still one invoice.
    client.post("/api/v1/events", json={**event("invoice.sent", "evt_1"),
                                         "data": invoice_data()}, headers=AUTH)
    assert connected.retry([]) == 0
    run_due(connected)
    assert len(emulator.objects("Invoice")) == before + 1


def test_updates_keep_the_same_invoice_in_step(connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    first = qbo_invoice(connected, emulator)
    # Someone edits the invoice in QuickBooks meanwhile: the hub's SyncToken goes stale.
    emulator.edit_invoice(first["Id"], CustomerMemo={"value": "edited in QuickBooks"})
    lines = invoice_data()["lines"] + [{"item": "Workbook", "unit_price": "12.00"}]
    post(client, "invoice.updated", "evt_2",
         invoice_data(due_date="2026-04-11", lines=lines, total=None))
    run_due(connected)
    assert delivery(connected, "evt_2")["status"] == "done", delivery(connected, "evt_2")
    second = qbo_invoice(connected, emulator)
    assert second["Id"] == first["Id"] and int(second["SyncToken"]) > int(first["SyncToken"])
    assert second["DueDate"] == "2026-04-11"
    expected = (Decimal("195") + Decimal("12")) * Decimal("0.9")
    expected = (expected + (expected * Decimal("0.0825")).quantize(Decimal("0.01"))
                ).quantize(Decimal("0.01"))
    assert Decimal(str(second["TotalAmt"])) == expected


def test_a_void_voids_it(connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    post(client, "invoice.updated", "evt_2", invoice_data(status="void"))
    run_due(connected)
    assert delivery(connected, "evt_2")["result"].endswith("voided")
    voided = qbo_invoice(connected, emulator)
    assert Decimal(str(voided["TotalAmt"])) == 0 and Decimal(str(voided["Balance"])) == 0


def test_paid_in_the_host_records_one_linked_payment(connected: Hub,
                                                     emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    payments_before = len(emulator.objects("Payment"))
    # The invoicing seed's path: "paid" is the first the hub hears of this invoice.
    post(client, "invoice.paid", "evt_1",
         invoice_data(status="partially_paid", amount_paid="89.98"))
    run_due(connected)
    qbo = qbo_invoice(connected, emulator)
    assert Decimal(str(qbo["Balance"])) == Decimal("100.00")
    post(client, "invoice.paid", "evt_2", invoice_data(status="paid", amount_paid="189.98"))
    run_due(connected)
    qbo = qbo_invoice(connected, emulator)
    assert Decimal(str(qbo["Balance"])) == 0
    payments = emulator.objects("Payment")[payments_before:]
    assert [Decimal(str(p["TotalAmt"])) for p in payments] == [Decimal("89.98"),
                                                               Decimal("100.00")]
    assert payments[0]["Line"][0]["LinkedTxn"][0]["TxnId"] == qbo["Id"]
    # The same news again (a retry, a second path) pays nothing more.
    post(client, "invoice.paid", "evt_3", invoice_data(status="paid", amount_paid="189.98"))
    run_due(connected)
    assert len(emulator.objects("Payment")) == payments_before + 2


def test_a_missing_email_is_parked_with_the_fix(connected: Hub) -> None:
    client = create_app(connected).test_client()
    data = invoice_data()
    data["contact"] = {"external_id": "c-9", "name": "No Email"}
    post(client, "invoice.sent", "evt_1", data)
    run_due(connected)
    state = delivery(connected, "evt_1")
    assert state["status"] == "dead" and state["attempts"] == 1
    assert state["last_error"].startswith("set the client's email before sending the invoice")


def test_a_currency_the_company_cannot_take_is_parked_with_the_fix(connected: Hub) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data(currency="CAD"))
    run_due(connected)
    state = delivery(connected, "evt_1")
    assert state["status"] == "dead"
    assert "in CAD but the QuickBooks company keeps its books in USD" in state["last_error"]


def test_missing_items_are_created_only_when_asked(connected: Hub, emulator: Emulator) -> None:
    connected.states.update_settings("quickbooks", {"create_missing_items": "true"})
    client = create_app(connected).test_client()
    lines = [{"item": "Chess Lesson", "unit_price": "40.00"},
             {"item": "chess lesson", "unit_price": "40.00", "quantity": "2"}]
    post(client, "invoice.sent", "evt_1", invoice_data(lines=lines, discount=None, tax=None,
                                                       total="120.00"))
    run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done", delivery(connected, "evt_1")
    made = [i for i in emulator.objects("Item") if i["Name"].casefold() == "chess lesson"]
    assert len(made) == 1 and made[0]["Type"] == "Service"


def test_send_invoices_asks_quickbooks_to_email_it(connected: Hub, emulator: Emulator) -> None:
    connected.states.update_settings("quickbooks", {"send_invoices": "true"})
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    assert qbo_invoice(connected, emulator).get("EmailStatus") == "EmailSent"


def test_a_standalone_payment_becomes_one_sales_receipt(connected: Hub,
                                                        emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    data = {**DATA["payment"], "contact": {**DATA["payment"]["contact"],
                                           "email": "member@example.com"}}
    post(client, "payment", "evt_1", data)
    run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done", delivery(connected, "evt_1")
    [receipt] = emulator.objects("SalesReceipt")[-1:]
    assert Decimal(str(receipt["TotalAmt"])) == Decimal("49.00")
    assert receipt["TxnDate"] == "2026-03-28"
    assert "membership checkout pay-1" in receipt["PrivateNote"]
    count = len(emulator.objects("SalesReceipt"))
    post(client, "payment", "evt_2", data)  # the same payment under another event id
    run_due(connected)
    assert len(emulator.objects("SalesReceipt")) == count


def test_an_invoice_to_a_known_customer_costs_one_call(connected: Hub, emulator: Emulator,
                                                        monkeypatch: Any) -> None:
    from hub.builtin.quickbooks import client

    made: list[str] = []
    original = client.TokenSession.request

    def counting(self: Any, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(f"{method} {url}")
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(client.TokenSession, "request", counting)
    api = create_app(connected).test_client()
    post(api, "invoice.sent", "evt_1", invoice_data())  # new customer, unknown item
    run_due(connected)
    assert len(made) > 1
    made.clear()
    post(api, "invoice.sent", "evt_2", invoice_data(external_id="inv-2", number="1002"))
    run_due(connected)
    assert len(made) == 1 and made[0].startswith("POST") and "/invoice" in made[0]
    made.clear()
    post(api, "invoice.updated", "evt_3", invoice_data(external_id="inv-2", number="1002"))
    run_due(connected)
    assert made == []  # unchanged: nothing to say to QuickBooks


def test_a_void_costs_no_read_and_an_edit_in_quickbooks_costs_one(
        connected: Hub, emulator: Emulator) -> None:
    # Reads are metered (Intuit's CorePlus): the link's SyncToken serves; a stale one costs one.
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    post(client, "invoice.sent", "evt_2", invoice_data(external_id="inv-2", number="1002"))
    run_due(connected)
    emulator.reset_calls()
    post(client, "invoice.updated", "evt_3", invoice_data(status="void"))
    run_due(connected)
    assert delivery(connected, "evt_3")["status"] == "done"
    assert not any(call.startswith("GET") for call in emulator.calls()), emulator.calls()
    edited = qbo_invoice(connected, emulator, "inv-2")
    emulator.edit_invoice(edited["Id"], DueDate="2026-05-01")  # by hand: its SyncToken moves
    post(client, "invoice.updated", "evt_4",
         invoice_data(external_id="inv-2", number="1002", status="void"))
    run_due(connected)
    assert delivery(connected, "evt_4")["status"] == "done", delivery(connected, "evt_4")
    assert Decimal(str(qbo_invoice(connected, emulator, "inv-2")["TotalAmt"])) == 0
