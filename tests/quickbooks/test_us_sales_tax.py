"""US sales tax, two ways (quickbooks.us_sales_tax). in_prices, the default, folds the host's tax
into the line prices, as the CRM seed describes: QuickBooks books it as income. as_tax makes the
lines taxable and writes the host's tax as TxnTaxDetail.TotalTax, which automated sales tax
honours: QuickBooks records sales tax owed. QuickBooks' total is the host's either way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hub.builtin.quickbooks import connection
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_invoices import delivery, invoice_data, post, qbo_invoice


def items(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [x for x in invoice["Line"] if x.get("DetailType") == "SalesItemLineDetail"]


@pytest.mark.parametrize("mode", ["in_prices", "as_tax"])
def test_the_total_is_the_hosts_whichever_way_the_tax_is_written(
        connected: Hub, emulator: Emulator, mode: str) -> None:
    connected.states.update_settings("quickbooks", {"us_sales_tax": mode})
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())  # 10 % off, 8.25 % tax: 189.98
    run_due(connected)
    assert delivery(connected, "evt_1")["status"] == "done"
    qbo = qbo_invoice(connected, emulator)
    assert Decimal(str(qbo["TotalAmt"])) == Decimal("189.98")
    tax = Decimal(str(qbo["TxnTaxDetail"].get("TotalTax", 0)))
    codes = {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(qbo)}
    if mode == "in_prices":
        assert tax == 0 and codes == {"NON"}  # the tax is in the prices: income
    else:
        # 175.50 after the discount, 14.48 of sales tax owed: a liability, not income.
        assert tax == Decimal("14.48") and codes == {"TAX"}
        assert sum(Decimal(str(x["Amount"])) for x in items(qbo)) == Decimal("175.50")
        assert "tax of 14.48 written as sales tax" in qbo["PrivateNote"]


def test_as_tax_in_a_company_without_sales_tax_is_parked_with_the_fix(
        connected: Hub, emulator: Emulator) -> None:
    connected.states.update_settings("quickbooks", {"us_sales_tax": "as_tax"})
    with emulator.state.store.lock:
        company = emulator.state.store.company(emulator.realm_id)
        company["entities"]["Preferences"]["1"]["TaxPrefs"]["UsingSalesTax"] = False
    connection.refresh_company(qbo_ctx(connected), force=True)
    client = create_app(connected).test_client()
    post(client, "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    state = delivery(connected, "evt_1")
    assert state["status"] == "dead"
    assert "set up sales tax in QuickBooks" in state["last_error"]
    assert "us_sales_tax to in_prices" in state["last_error"]
