"""Undo in QuickBooks: what the hub wrote for one event is taken back (an invoice voided after
the hub's payments on it are deleted, a sales receipt voided, a customer it created made
inactive), and refused with the reason when someone changed it in QuickBooks since. Against the
emulator, through the events API, the command line and the Activity page in a real browser."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import EVENTS
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.undo import request_undo
from hub.web.app import create_app
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.quickbooks.test_connect_browser import site_and_hub  # noqa: F401  (a fixture)
from tests.quickbooks.test_invoices import delivery, invoice_data, post, qbo_invoice
from tests.samples import DATA
from tests.ui.conftest import PASSWORD, shot


def _undo(hub: Hub, event_id: str) -> dict[str, Any]:
    """Asks for the undo of the QuickBooks plugin's delivery, runs it, returns how it went."""
    request_undo(hub, event_id, "quickbooks")
    run_due(hub)
    return _undo_state(hub, event_id)


def _undo_state(hub: Hub, event_id: str) -> dict[str, Any]:
    view = hub.event(f"undo:{_pk(hub, event_id)}:quickbooks", source="operator")
    assert view is not None, "no undo was stored"
    [state] = view["deliveries"]
    return state  # type: ignore[no-any-return]


def _pk(hub: Hub, event_id: str) -> int:
    """The event's row, as Activity's addresses and the undo's key name it."""
    with reading(hub.engine) as conn:
        return int(conn.execute(select(EVENTS.c.pk).where(
            EVENTS.c.source == "host", EVENTS.c.key == event_id)).scalar_one())


def _sent_and_paid(hub: Hub, emulator: Emulator) -> tuple[dict[str, Any], dict[str, Any]]:
    """inv-1 sent (evt_1) and paid in full (evt_2) through the hub: (invoice, its payment)."""
    client = create_app(hub).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    post(client, "invoice.paid", "evt_2", invoice_data(status="paid", amount_paid="189.98"))
    run_due(hub)
    invoice = qbo_invoice(hub, emulator)
    [payment] = [p for p in emulator.objects("Payment")
                 if p["Line"] and p["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]]
    return invoice, payment


def test_undoing_a_sent_and_paid_invoice_deletes_its_payment_and_voids_it(
        connected: Hub, emulator: Emulator) -> None:
    invoice, payment = _sent_and_paid(connected, emulator)
    client = create_app(connected).test_client()

    state = _undo(connected, "evt_1")

    assert state["status"] == "done", state
    assert f"Payment {payment['Id']} deleted" in state["result"]
    assert f"Invoice {invoice['Id']} voided" in state["result"]
    assert emulator.get("Payment", payment["Id"]) is None
    voided = emulator.get("Invoice", invoice["Id"])
    assert voided is not None and Decimal(str(voided["TotalAmt"])) == 0
    # Later news of the invoice is skipped, saying how to sync it again.
    post(client, "invoice.updated", "evt_3", invoice_data(due_date="2026-12-31"))
    run_due(connected)
    later = delivery(connected, "evt_3")
    assert later["status"] == "skipped"
    assert "undone by the operator; `hub events retry evt_3`" in later["result"]
    # Synced again by the operator: the host's invoice gets a new QuickBooks invoice (the
    # voided one cannot change), once, and the voided one stays void.
    assert connected.retry_event("evt_3") == 1
    run_due(connected)
    assert delivery(connected, "evt_3")["status"] == "done", delivery(connected, "evt_3")
    again = qbo_invoice(connected, emulator)
    assert again["Id"] != invoice["Id"] and Decimal(str(again["TotalAmt"])) == Decimal("189.98")
    assert Decimal(str(emulator.get("Invoice", invoice["Id"])["TotalAmt"])) == 0  # type: ignore[index]
    # Asked again (a double click, a second operator): nothing more happens in QuickBooks.
    before = [(o["Id"], o["SyncToken"]) for o in emulator.objects("Invoice")]
    assert "already asked for" in request_undo(connected, "evt_1", "quickbooks")
    run_due(connected)
    assert [(o["Id"], o["SyncToken"]) for o in emulator.objects("Invoice")] == before


def test_a_payment_recorded_by_hand_refuses_the_undo_and_writes_nothing(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    invoice = qbo_invoice(connected, emulator)
    emulator.record_payment(invoice["Id"], 50.0)
    held = qbo_invoice(connected, emulator)

    state = _undo(connected, "evt_1")

    assert state["status"] == "skipped", state
    assert "was recorded in QuickBooks, not by the hub" in state["result"]
    assert qbo_invoice(connected, emulator)["SyncToken"] == held["SyncToken"]
    # Nothing marked: the invoice still syncs.
    post(client, "invoice.updated", "evt_2", invoice_data())
    run_due(connected)
    assert delivery(connected, "evt_2")["status"] == "done"


def test_an_invoice_edited_by_hand_is_not_voided(connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    invoice = qbo_invoice(connected, emulator)
    emulator.hand_edit("Invoice", invoice["Id"], CustomerMemo={"value": "call first"})

    state = _undo(connected, "evt_1")

    assert state["status"] == "skipped", state
    assert (f"Invoice {invoice['Id']} was changed in QuickBooks since the hub wrote it"
            in state["result"])
    assert Decimal(str(qbo_invoice(connected, emulator)["TotalAmt"])) == Decimal("189.98")


def test_a_payment_events_sales_receipt_is_voided(connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    data = copy.deepcopy(DATA["payment"])
    data["contact"] = {**data["contact"], "email": "parent@example.com"}
    post(client, "payment", "evt_1", data)
    run_due(connected)
    link = links.get(qbo_ctx(connected), "sales_receipt", data["external_id"])
    assert link is not None

    state = _undo(connected, "evt_1")

    assert state["status"] == "done", state
    assert f"Sales receipt {link['qbo_id']} voided" in state["result"]
    receipt = emulator.get("SalesReceipt", link["qbo_id"])
    assert receipt is not None and Decimal(str(receipt["TotalAmt"])) == 0


def test_a_created_customer_is_made_inactive_only_while_nothing_uses_it(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    lone = {**DATA["contact"], "external_id": "c-lone", "email": "lone@example.com",
            "name": "Lone Client"}
    post(client, "contact", "evt_1", lone)
    busy = invoice_data()
    busy["contact"] = {**busy["contact"], "external_id": "c-busy", "email": "busy@example.com",
                       "name": "Busy Client"}
    post(client, "contact", "evt_2", busy["contact"])
    post(client, "invoice.sent", "evt_3", busy)
    run_due(connected)
    ctx = qbo_ctx(connected)
    lone_id = links.get(ctx, "customer", "c-lone")["qbo_id"]  # type: ignore[index]
    busy_id = links.get(ctx, "customer", "c-busy")["qbo_id"]  # type: ignore[index]

    assert _undo(connected, "evt_1")["status"] == "done"
    assert emulator.get("Customer", lone_id)["Active"] is False  # type: ignore[index]

    refused = _undo(connected, "evt_2")
    assert refused["status"] == "skipped"
    assert f"Customer {busy_id} is used by a Invoice in QuickBooks" in refused["result"]
    assert emulator.get("Customer", busy_id)["Active"] is True  # type: ignore[index]


def test_a_customer_the_hub_only_found_is_left_alone(connected: Hub,
                                                     emulator: Emulator) -> None:
    there = emulator.add_customer(DisplayName="Already There",
                                  PrimaryEmailAddr={"Address": "there@example.com"})
    client = create_app(connected).test_client()
    post(client, "contact", "evt_1", {**DATA["contact"], "external_id": "c-there",
                                      "email": "there@example.com", "name": "Already There"})
    run_due(connected)
    assert links.get(qbo_ctx(connected), "customer", "c-there")["qbo_id"] == there["Id"]  # type: ignore[index]

    state = _undo(connected, "evt_1")

    assert state["status"] == "skipped"
    assert "was in QuickBooks before the hub linked it" in state["result"]
    assert emulator.get("Customer", there["Id"])["Active"] is True  # type: ignore[index]


def test_hub_events_undo_takes_the_invoice_back(connected: Hub, emulator: Emulator,
                                                tmp_path: Path) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    invoice = qbo_invoice(connected, emulator)

    said = CliRunner().invoke(build_cli(), ["events", "undo", "evt_1", "--plugin",
                                            "quickbooks"], env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 0, said.output
    assert "The undo of evt_1 in quickbooks is queued" in said.output
    run_due(connected)

    voided = emulator.get("Invoice", invoice["Id"])
    assert voided is not None and Decimal(str(voided["TotalAmt"])) == 0


def test_undo_in_quickbooks_from_the_activity_page(browser: Any, site_and_hub: Any,  # noqa: F811
                                                   emulator: Emulator) -> None:
    from hub.builtin.quickbooks import connect

    site, hub = site_and_hub
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
    run_due(hub)
    post(create_app(hub).test_client(), "invoice.sent", "evt_1", invoice_data())
    run_due(hub)
    invoice = qbo_invoice(hub, emulator)
    page = browser.new_page()
    try:
        page.goto(f"{site}/activity/events/{_pk(hub, 'evt_1')}")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.click("summary:has-text('Undo in QuickBooks')")
        page.click("button:has-text('Undo in QuickBooks')")
        page.wait_for_selector("text=The undo of evt_1 in quickbooks is queued")
        shot(page, "undo-in-quickbooks")
    finally:
        page.close()
    run_due(hub)
    voided = emulator.get("Invoice", invoice["Id"])
    assert voided is not None and Decimal(str(voided["TotalAmt"])) == 0


def _paid_then_deleted_by_hand(hub: Hub, emulator: Emulator) -> tuple[dict[str, Any],
                                                                        dict[str, Any]]:
    """inv-1 paid in full through the hub, then deleted by hand: its payment stays, as credit."""
    invoice, payment = _sent_and_paid(hub, emulator)
    emulator.delete("Invoice", invoice["Id"])
    return invoice, payment


def test_undo_deletes_the_hubs_payment_left_as_credit_by_a_deleted_invoice(
        connected: Hub, emulator: Emulator) -> None:
    invoice, payment = _paid_then_deleted_by_hand(connected, emulator)
    state = _undo(connected, "evt_1")
    assert state["status"] == "done", state
    assert f"Payment {payment['Id']} deleted" in state["result"]
    assert "deleted in QuickBooks: no invoice to void" in state["result"]
    assert emulator.get("Payment", payment["Id"]) is None


def test_undo_after_a_reconcile_fix_takes_back_every_payment_of_the_hubs(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    from tests.quickbooks.test_reconcile import fix_and_check_again, marked

    invoice, payment = _paid_then_deleted_by_hand(connected, emulator)
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [again] = marked(emulator)
    state = _undo(connected, "evt_1")
    assert state["status"] == "done", state
    assert f"Invoice {again['Id']} voided" in state["result"]
    customer = invoice["CustomerRef"]["value"]
    assert [p for p in emulator.objects("Payment") if not p.get("_deleted")
            and p["CustomerRef"]["value"] == customer] == []
    books = emulator.get("Customer", customer)
    assert books is not None and Decimal(str(books["Balance"])) == 0
