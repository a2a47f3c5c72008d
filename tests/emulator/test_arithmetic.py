"""The emulator's own arithmetic: line amounts, discounts, subtotal, tax, totals, balances."""

from __future__ import annotations

from typing import Any

from hub.builtin.quickbooks.emulator.testing import Emulator

from .conftest import Api


def line(
    amount: float, qty: float | None = None, price: float | None = None, tax: str | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    if tax:
        detail["TaxCodeRef"] = {"value": tax}
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}


def first_customer(api: Api) -> str:
    return str(api.query("select * from Customer").json()["QueryResponse"]["Customer"][0]["Id"])


def fault_code(response: Any) -> str:
    return str(response.json()["Fault"]["Error"][0]["code"])


def test_qty_times_price_must_equal_amount(api: Api) -> None:
    answer = api.post(
        "invoice",
        {"CustomerRef": {"value": first_customer(api)}, "Line": [line(100.0, qty=3, price=30.0)]},
    )
    assert answer.status_code == 400
    assert fault_code(answer) == "6070"
    assert answer.json()["Fault"]["type"] == "ValidationFault"


def test_amount_is_required(api: Api) -> None:
    answer = api.post(
        "invoice",
        {
            "CustomerRef": {"value": first_customer(api)},
            "Line": [{"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {}}],
        },
    )
    assert fault_code(answer) == "2020"


def test_subtotal_discounts_and_us_tax(api: Api) -> None:
    body = {
        "CustomerRef": {"value": first_customer(api)},
        "Line": [
            line(100.0, qty=2, price=50.0, tax="TAX"),
            line(50.0, qty=1, price=50.0, tax="NON"),
            {
                "DetailType": "DiscountLineDetail",
                "Amount": 0,
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
            },
        ],
        "TxnTaxDetail": {"TxnTaxCodeRef": {"value": "2"}},
    }
    invoice = api.post("invoice", body).json()["Invoice"]
    kinds = [entry["DetailType"] for entry in invoice["Line"]]
    assert kinds == [
        "SalesItemLineDetail",
        "SalesItemLineDetail",
        "SubTotalLineDetail",
        "DiscountLineDetail",
    ]
    subtotal = invoice["Line"][2]["Amount"]
    discount = invoice["Line"][3]["Amount"]
    assert (subtotal, discount) == (150.0, 15.0)
    # 8% on the taxable line only, before the discount (ApplyTaxAfterDiscount is off).
    assert invoice["TxnTaxDetail"]["TotalTax"] == 8.0
    assert invoice["TotalAmt"] == 143.0 == invoice["Balance"]
    assert "GlobalTaxCalculation" not in invoice


def test_fixed_discount_and_sent_total_tax(api: Api) -> None:
    body = {
        "CustomerRef": {"value": first_customer(api)},
        "Line": [
            line(80.0),
            {
                "DetailType": "DiscountLineDetail",
                "Amount": 5.5,
                "DiscountLineDetail": {"PercentBased": False},
            },
        ],
        "TxnTaxDetail": {"TotalTax": 2.25},
    }
    invoice = api.post("invoice", body).json()["Invoice"]
    assert invoice["TotalAmt"] == 76.75


def test_discounts_need_the_company_preference(api: Api) -> None:
    prefs = api.get("preferences").json()["Preferences"]
    turned_off = api.post(
        "preferences",
        {
            "SyncToken": prefs["SyncToken"],
            "sparse": True,
            "SalesFormsPrefs": {"AllowDiscount": False},
        },
    )
    assert turned_off.json()["Preferences"]["SalesFormsPrefs"]["AllowDeposit"] is True
    answer = api.post(
        "invoice",
        {
            "CustomerRef": {"value": first_customer(api)},
            "Line": [
                line(10.0),
                {"DetailType": "DiscountLineDetail", "Amount": 1.0, "DiscountLineDetail": {}},
            ],
        },
    )
    assert answer.status_code == 400 and fault_code(answer) == "6000"


def test_global_tax_outside_the_us(emulator: Emulator) -> None:
    emulator.add_company("4620816365000000000", "Tea Shop Ltd", country="GB", currency="GBP")
    token = emulator.connect(realm="4620816365000000000")
    api = Api(emulator, token["access_token"], realm="4620816365000000000")
    customer = api.post("customer", {"DisplayName": "Ms Marple"}).json()["Customer"]
    lines = [line(100.0, qty=1, price=100.0, tax="2"), line(50.0, tax="4")]

    excluded = api.post(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": lines,
            "GlobalTaxCalculation": "TaxExcluded",
        },
    ).json()["Invoice"]
    assert excluded["TxnTaxDetail"]["TotalTax"] == 20.0 and excluded["TotalAmt"] == 170.0
    assert excluded["CurrencyRef"]["value"] == "GBP"

    inclusive = api.post(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [line(120.0, tax="2")],
            "GlobalTaxCalculation": "TaxInclusive",
        },
    ).json()["Invoice"]
    assert inclusive["TxnTaxDetail"]["TotalTax"] == 20.0 and inclusive["TotalAmt"] == 120.0

    none = api.post(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": lines,
            "GlobalTaxCalculation": "NotApplicable",
        },
    ).json()["Invoice"]
    assert none["TxnTaxDetail"]["TotalTax"] == 0 and none["TotalAmt"] == 150.0
    api.http.close()


def test_currency_mismatch_is_refused(api: Api) -> None:
    answer = api.post(
        "invoice",
        {
            "CustomerRef": {"value": first_customer(api)},
            "CurrencyRef": {"value": "EUR"},
            "Line": [line(10.0)],
        },
    )
    assert fault_code(answer) == "6000"


def test_payments_move_invoice_and_customer_balances(api: Api) -> None:
    customer = api.post("customer", {"DisplayName": "Balance Watcher"}).json()["Customer"]
    invoice = api.post(
        "invoice",
        {"CustomerRef": {"value": customer["Id"]}, "Line": [line(90.0, qty=3, price=30.0)]},
    ).json()["Invoice"]
    payment = api.post(
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 100.0,
            "Line": [
                {"Amount": 90.0, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    ).json()["Payment"]
    assert payment["UnappliedAmt"] == 10.0
    paid = api.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert paid["Balance"] == 0 and paid["SyncToken"] == "1"
    assert paid["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    # Open balance 0 less 10 unapplied credit.
    assert api.get(f"customer/{customer['Id']}").json()["Customer"]["Balance"] == -10.0

    # Voiding the invoice leaves the payment as unapplied credit.
    api.post("invoice", {"Id": paid["Id"], "SyncToken": paid["SyncToken"]}, operation="void")
    left = api.get(f"payment/{payment['Id']}").json()["Payment"]
    assert left["UnappliedAmt"] == 100.0 and left["Line"] == []


def test_seeded_demo_company(api: Api) -> None:
    invoices = api.query("select * from Invoice").json()["QueryResponse"]["Invoice"]
    assert len(invoices) >= 3
    assert any(0 < inv["Balance"] < inv["TotalAmt"] for inv in invoices), "one is partly paid"
    customers = api.query("select * from Customer").json()["QueryResponse"]["Customer"]
    assert all(c["PrimaryEmailAddr"]["Address"] for c in customers)
    accounts = api.query("select * from Account where Name = 'Sales of Product Income'").json()
    assert accounts["QueryResponse"]["Account"][0]["AccountType"] == "Income"
