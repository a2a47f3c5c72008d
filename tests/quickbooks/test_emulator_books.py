"""The emulator's books page: what the hub wrote, seen without an Intuit account, as a page and
as JSON, over real HTTP and with no token."""

from __future__ import annotations

import re

import requests

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_invoices import delivery, invoice_data, post


def test_the_books_show_the_invoice_the_hub_wrote_newest_first(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    post(client, "payment", "evt_2", {
        "external_id": "pay-1", "contact": invoice_data()["contact"], "amount": "49.00",
        "currency": "USD", "paid_at": "2026-03-28T15:04:05Z", "method": "card",
        "source": "membership"})
    run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done"
    link = links.get(qbo_ctx(connected), "invoice", "inv-1")
    assert link
    emulator.record_payment(link["qbo_id"], 100.0)  # a person in QuickBooks, after the hub

    answer = requests.get(emulator.base_url + "/_emulator/books.json", timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/json"
    books = answer.json()
    assert (books["realm"], books["name"]) == (emulator.realm_id, "Ledgerline Demo Landscaping")
    newest = books["invoices"][0]
    assert newest == newest | {
        "id": link["qbo_id"], "number": "1001", "date": "2026-03-28", "total": 189.98,
        "balance": 89.98, "void": False, "marker": "ledgerline:inv-1",
        "customer": {"id": newest["customer"]["id"], "name": "Dana Whitfield"}}
    assert [i["marker"] for i in books["invoices"][1:]] == [None, None, None]  # the seeded
    assert books["customers"][0]["name"] == "Dana Whitfield"
    assert books["customers"][0]["marker"] == "ledgerline:c-1"
    assert books["payments"][0]["total"] == 100.0
    assert books["payments"][0]["invoices"] == [link["qbo_id"]]
    assert books["sales_receipts"][0]["total"] == 49.0
    assert books["sales_receipts"][0]["customer"]["name"] == "Dana Whitfield"

    page = requests.get(emulator.base_url + "/_emulator/books", timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<script" not in html and 'name="viewport"' in html
    invoices = html.split('id="invoices"', 1)[1].split("</section>", 1)[0]
    first = re.search(r"<tbody>(.*?)</tr>", invoices, re.S)
    assert first is not None
    row = first.group(1)
    for shown in ("1001", "Dana Whitfield", "2026-03-28", "189.98", "89.98",
                  "ledgerline:inv-1"):
        assert shown in row, shown
    assert "Sales receipts (1)" in html and "Payments (2)" in html


def test_another_company_by_realm_and_a_void_invoice(connected: Hub,
                                                     emulator: Emulator) -> None:
    emulator.add_company("4620816365", "Second Shop")
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    post(client, "invoice.updated", "evt_2", invoice_data(status="void"))
    run_due(connected)
    assert delivery(connected, "evt_2")["status"] == "done", delivery(connected, "evt_2")
    books = requests.get(emulator.base_url + "/_emulator/books.json", timeout=5).json()
    assert books["invoices"][0]["void"] is True and books["invoices"][0]["total"] == 0
    assert [c["realm"] for c in books["companies"]] == sorted(
        ["4620816365", emulator.realm_id])
    page = requests.get(emulator.base_url + "/_emulator/books", timeout=5).text
    assert '<tr class="void"' in page and "?realm=4620816365" in page

    other = requests.get(emulator.base_url + "/_emulator/books.json",
                         params={"realm": "4620816365"}, timeout=5).json()
    assert other["name"] == "Second Shop" and other["invoices"] == other["customers"] == []
    assert "Second Shop" in requests.get(emulator.base_url + "/_emulator/books",
                                         params={"realm": "4620816365"}, timeout=5).text
    missing = requests.get(emulator.base_url + "/_emulator/books", params={"realm": "1"},
                           timeout=5)
    assert missing.status_code == 404 and "No company 1" in missing.text
    assert requests.get(emulator.base_url + "/_emulator/books.json", params={"realm": "1"},
                        timeout=5).status_code == 404
