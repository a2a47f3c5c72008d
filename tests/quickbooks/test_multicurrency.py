"""A multicurrency QuickBooks company: an invoice, a payment or a sale in euros goes to the
contact's customer in euros (made once, then linked), at QuickBooks' own rate for its date, and
the balances the hub answers are sums in the home currency. Through the events API, against an
emulator company with multicurrency on."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from hub.builtin.quickbooks import billing, connect, connection, links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}
REALM = "4620816365000000042"
EMAIL = "dana@example.com"
EUR_RATE = Decimal("1.08")  # the emulator's fixed EUR → USD rate (docs/emulator.md)


@pytest.fixture
def books(make_qbo_hub: Any, emulator: Emulator) -> Hub:
    """A hub connected to a US company that keeps its books in dollars, multicurrency on."""
    emulator.add_company(REALM, "Globe Tutoring", country="US", currency="USD",
                         multicurrency=True)
    hub: Hub = make_qbo_hub()
    grant = emulator.connect(realm=REALM)
    connect.with_refresh_token(qbo_ctx(hub), REALM, grant["refresh_token"])
    assert connection.access(qbo_ctx(hub)).company["multicurrency"] is True
    return hub


def post(client: FlaskClient, event_type: str, event_id: str, data: dict[str, Any]) -> None:
    body = event(event_type, event_id)
    body["data"] = data
    answer = client.post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()


def invoice(external_id: str = "inv-1", currency: str = "EUR", **changes: Any) -> dict[str, Any]:
    """Dana's invoice of 195.00 (65 + 2 × 65) in ``currency``, no tax or discount."""
    data = copy.deepcopy(DATA["invoice.sent"])
    data.update(external_id=external_id, number=None, currency=currency, discount=None,
                tax=None, total=None, **changes)
    return {k: v for k, v in data.items() if v is not None}


def done(hub: Hub, event_id: str) -> dict[str, Any]:
    [found] = [d for d in hub.event(event_id)["deliveries"] if d["plugin"] == "quickbooks"]
    assert found["status"] == "done", found
    return found


def qbo(hub: Hub, emulator: Emulator, kind: str, external_id: str,
        entity: str = "Invoice") -> dict[str, Any]:
    link = links.get(qbo_ctx(hub), kind, external_id)
    assert link is not None, f"no {kind} {external_id} linked"
    found = emulator.get(entity, link["qbo_id"], realm=REALM)
    assert found is not None
    return found


def customers_of(emulator: Emulator, email: str = EMAIL) -> list[dict[str, Any]]:
    return [c for c in emulator.objects("Customer", realm=REALM)
            if (c.get("PrimaryEmailAddr") or {}).get("Address") == email]


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def sweep(hub: Hub) -> None:
    fire(hub, hub.jobs()["quickbooks.sweep"], utcnow())
    run_due(hub)


def test_a_euro_invoice_goes_to_the_contacts_euro_customer_made_once(
        books: Hub, emulator: Emulator) -> None:
    client = create_app(books).test_client()
    post(client, "invoice.sent", "evt_usd", invoice("inv-usd", currency="USD"))
    run_due(books)
    done(books, "evt_usd")
    [dollars] = customers_of(emulator)
    assert dollars["DisplayName"] == "Dana Whitfield"
    assert dollars["CurrencyRef"]["value"] == "USD"

    post(client, "invoice.sent", "evt_eur_1", invoice("inv-eur-1"))
    run_due(books)
    assert "created in EUR" in done(books, "evt_eur_1")["result"]
    first = qbo(books, emulator, "invoice", "inv-eur-1")
    euros = emulator.get("Customer", first["CustomerRef"]["value"], realm=REALM)
    assert euros is not None and euros["Id"] != dollars["Id"]
    assert euros["DisplayName"] == "Dana Whitfield (EUR)"
    assert euros["CurrencyRef"]["value"] == "EUR"
    assert euros["PrimaryEmailAddr"]["Address"] == EMAIL
    # The invoice is in euros at QuickBooks' own rate, not Intuit's default of 1.
    assert first["CurrencyRef"]["value"] == "EUR"
    assert Decimal(str(first["ExchangeRate"])) == EUR_RATE
    assert money(first["TotalAmt"]) == Decimal("195.00") == money(first["Balance"])
    assert money(first["HomeTotalAmt"]) == Decimal("210.60") == money(first["HomeBalance"])

    # The next euro invoice costs one call: the euro customer and the day's rate are known.
    emulator.reset_calls()
    post(client, "invoice.sent", "evt_eur_2", invoice("inv-eur-2"))
    run_due(books)
    done(books, "evt_eur_2")
    assert emulator.calls() == {"POST invoice": 1}
    second = qbo(books, emulator, "invoice", "inv-eur-2")
    assert second["CustomerRef"]["value"] == euros["Id"]
    assert len(customers_of(emulator)) == 2
    # And a dollar invoice still goes to the dollar customer, for one call as before.
    emulator.reset_calls()
    post(client, "invoice.sent", "evt_usd_2", invoice("inv-usd-2", currency="USD"))
    run_due(books)
    assert emulator.calls() == {"POST invoice": 1}
    usd = qbo(books, emulator, "invoice", "inv-usd-2")
    assert usd["CustomerRef"]["value"] == dollars["Id"]
    assert money(usd["HomeTotalAmt"]) == money(usd["TotalAmt"]) == Decimal("195.00")


def test_a_euro_customer_made_in_quickbooks_is_found_by_email_and_kept_for_euros(
        books: Hub, emulator: Emulator) -> None:
    made = emulator.add_customer(realm=REALM, DisplayName="Dana W. (euros)",
                                 PrimaryEmailAddr={"Address": "Dana@Example.com"},
                                 CurrencyRef={"value": "EUR"})
    client = create_app(books).test_client()
    post(client, "invoice.sent", "evt_1", invoice("inv-eur"))
    post(client, "invoice.sent", "evt_2", invoice("inv-usd", currency="USD"))
    run_due(books)
    done(books, "evt_1")
    done(books, "evt_2")
    assert qbo(books, emulator, "invoice", "inv-eur")["CustomerRef"]["value"] == made["Id"]
    # A dollar invoice never goes to the euro customer: a dollar one is made beside it.
    dollars = qbo(books, emulator, "invoice", "inv-usd")["CustomerRef"]["value"]
    assert dollars != made["Id"]
    assert emulator.get("Customer", dollars, realm=REALM)["CurrencyRef"]["value"] == "USD"
    assert emulator.get("Customer", made["Id"], realm=REALM)["CurrencyRef"]["value"] == "EUR"


def test_a_payment_in_euros_settles_the_euro_invoice(books: Hub, emulator: Emulator) -> None:
    client = create_app(books).test_client()
    post(client, "invoice.sent", "evt_1", invoice())
    run_due(books)
    post(client, "invoice.paid", "evt_2",
         invoice(status="paid", amount_paid="195.00"))
    run_due(books)
    assert "Payment" in done(books, "evt_2")["result"]
    paid = qbo(books, emulator, "invoice", "inv-1")
    assert money(paid["Balance"]) == 0 and money(paid["HomeBalance"]) == 0
    assert money(paid["HomeTotalAmt"]) == Decimal("210.60")
    [payment] = [p for p in emulator.objects("Payment", realm=REALM)
                 if p["Line"][0]["LinkedTxn"][0]["TxnId"] == paid["Id"]]
    assert payment["CurrencyRef"]["value"] == "EUR"
    assert money(payment["TotalAmt"]) == Decimal("195.00")
    assert Decimal(str(payment["ExchangeRate"])) == EUR_RATE
    assert payment["CustomerRef"]["value"] == paid["CustomerRef"]["value"]


def test_a_sale_in_euros_is_a_euro_sales_receipt(books: Hub, emulator: Emulator) -> None:
    client = create_app(books).test_client()
    post(client, "payment", "evt_1", {**DATA["payment"], "currency": "EUR"})
    run_due(books)
    done(books, "evt_1")
    receipt = qbo(books, emulator, "sales_receipt", "pay-1", "SalesReceipt")
    assert receipt["CurrencyRef"]["value"] == "EUR"
    assert money(receipt["TotalAmt"]) == Decimal("49.00")
    assert money(receipt["HomeTotalAmt"]) == Decimal("52.92")  # 49 × 1.08
    customer = emulator.get("Customer", receipt["CustomerRef"]["value"], realm=REALM)
    assert customer["DisplayName"] == "Dana Whitfield (EUR)"


def test_the_booking_gates_balance_is_in_dollars(books: Hub, emulator: Emulator) -> None:
    client = create_app(books).test_client()
    post(client, "invoice.sent", "evt_usd", invoice("inv-usd", currency="USD"))
    post(client, "invoice.sent", "evt_eur", invoice("inv-eur"))
    run_due(books)
    sweep(books)
    owed = books.customer_balance(EMAIL)
    assert owed is not None and owed.currency == "USD"
    # 195.00 USD and 195.00 EUR (210.60 USD): never 390 "dollars".
    assert owed.outstanding == Decimal("405.60") and owed.open_invoices == 2
    report = books.receivables()
    assert report is not None
    assert sum(c.outstanding for c in report.clients) == Decimal("405.60")
    assert sum(m.invoiced for m in report.months) == Decimal("405.60")
    # Half the euro invoice paid: the gate sees its dollar worth go down by half.
    post(client, "invoice.paid", "evt_paid",
         invoice("inv-eur", status="partially_paid", amount_paid="97.50"))
    run_due(books)
    sweep(books)
    assert books.customer_balance(EMAIL).outstanding == Decimal("300.30")  # 195 + 105.30


def test_without_multicurrency_a_foreign_invoice_is_refused_with_the_fix(
        connected: Hub, emulator: Emulator) -> None:
    client = create_app(connected).test_client()
    customers_before = len(emulator.objects("Customer"))
    emulator.reset_calls()
    post(client, "invoice.sent", "evt_1", invoice(currency="EUR"))
    run_due(connected)
    [state] = [d for d in connected.event("evt_1")["deliveries"]
               if d["plugin"] == "quickbooks"]
    assert state["status"] == "dead"
    assert "in EUR but the QuickBooks company keeps its books in USD with multicurrency " \
           "off" in state["last_error"]
    assert "turn multicurrency on in QuickBooks" in state["last_error"]
    # Refused before any call: no "(EUR)" customer was made on the way.
    assert emulator.calls() == {}
    assert len(emulator.objects("Customer")) == customers_before


def test_the_emulator_keeps_a_customers_currency_and_its_transactions_in_it(
        books: Hub, emulator: Emulator) -> None:
    """What Intuit documents, as the emulator answers it over the wire."""
    token = emulator.connect(realm=REALM)["access_token"]
    base = f"{emulator.api_base}/company/{REALM}"
    http = requests.Session()
    http.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def create(entity: str, body: dict[str, Any]) -> requests.Response:
        return http.post(f"{base}/{entity.lower()}", json=body, timeout=10)

    euro = create("Customer", {"DisplayName": "Zoe (EUR)", "CurrencyRef": {"value": "EUR"}})
    assert euro.status_code == 200, euro.text
    zoe = euro.json()["Customer"]
    assert zoe["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
    # Fixed at creation: an update to another currency is refused.
    changed = create("Customer", {"Id": zoe["Id"], "SyncToken": zoe["SyncToken"],
                                  "sparse": True, "CurrencyRef": {"value": "USD"}})
    assert changed.status_code == 400
    assert changed.json()["Fault"]["Error"][0]["code"] == "6000"
    line = {"DetailType": "SalesItemLineDetail", "Amount": 100,
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}
    # A transaction in another currency than its customer's is refused.
    dollars = create("Invoice", {"CustomerRef": {"value": zoe["Id"]}, "Line": [line],
                                 "CurrencyRef": {"value": "USD"}})
    assert dollars.status_code == 400
    assert dollars.json()["Fault"]["Error"][0]["code"] == "6000"
    # Without ExchangeRate, Intuit's default of 1: 100 EUR booked as 100 USD.
    bare = create("Invoice", {"CustomerRef": {"value": zoe["Id"]}, "Line": [line]})
    assert bare.status_code == 200, bare.text
    made = bare.json()["Invoice"]
    assert made["CurrencyRef"]["value"] == "EUR" and made["ExchangeRate"] == 1
    assert made["HomeTotalAmt"] == 100
    rate = http.get(f"{base}/exchangerate", params={"sourcecurrencycode": "EUR",
                                                    "asofdate": "2026-03-28"}, timeout=10)
    assert rate.status_code == 200, rate.text
    assert rate.json()["ExchangeRate"]["Rate"] == 1.08
    assert rate.json()["ExchangeRate"]["TargetCurrencyCode"] == "USD"


def test_a_payment_made_in_quickbooks_on_a_euro_invoice_reaches_the_host_for_the_contact(
        books: Hub, emulator: Emulator, host: Recorder) -> None:
    client = create_app(books).test_client()
    post(client, "invoice.sent", "evt_1", invoice())
    run_due(books)
    sweep(books)
    made = qbo(books, emulator, "invoice", "inv-1")
    emulator.record_payment(made["Id"], amount=95, realm=REALM)  # a person, in QuickBooks
    sweep(books)
    [update] = [m for hook, m, _ in host.calls
                if hook == "on_host_event" and m["type"] == "invoice.payment_updated"]
    assert update["data"]["external_id"] == "inv-1"
    assert update["data"]["contact"]["external_id"] == "c-1"  # the contact, not its link
    assert update["data"]["currency"] == "EUR" and update["data"]["amount_paid"] == "95.00"
    assert books.customer_balance(EMAIL).outstanding == Decimal("108.00")  # 100 EUR × 1.08


def test_a_month_of_sessions_in_euros_is_billed_to_the_euro_customer(
        books: Hub, emulator: Emulator) -> None:
    client = create_app(books).test_client()
    post(client, "booking", "evt_1", {**DATA["booking"], "currency": "EUR", "billing": "monthly",
                                      "start": "2026-03-03T15:00:00-05:00"})
    run_due(books)
    settings = books.states.settings("quickbooks")
    assert isinstance(settings, Settings)
    [closed] = billing.close_month(qbo_ctx(books), "2026-03", settings)
    assert closed.error is None, closed.error
    made = qbo(books, emulator, "invoice", closed.invoice_external_id)
    assert made["CurrencyRef"]["value"] == "EUR"
    assert Decimal(str(made["ExchangeRate"])) == EUR_RATE
    customer = emulator.get("Customer", made["CustomerRef"]["value"], realm=REALM)
    assert customer["DisplayName"] == "Dana Whitfield (EUR)"
