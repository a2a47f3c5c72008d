"""Outside the US, the host's tax and discount reach QuickBooks as fields of their own: lines
name the sales tax code of the host's rate, QuickBooks shows the tax in TxnTaxDetail, and its
total is the host's to the cent. Through the events API, against the emulator."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from hub.builtin.quickbooks import connect, connection, links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}
REALMS = {"GB": ("4620816365000000001", "GBP"), "CA": ("4620816365000000002", "CAD"),
          "AU": ("4620816365000000003", "AUD")}


def abroad_hub(make_qbo_hub: Any, emulator: Emulator, country: str) -> Hub:
    realm, currency = REALMS[country]
    emulator.add_company(realm, f"Tea Shop {country}", country=country, currency=currency)
    hub: Hub = make_qbo_hub()
    grant = emulator.connect(realm=realm)
    connect.with_refresh_token(qbo_ctx(hub), realm, grant["refresh_token"])
    return hub


@pytest.fixture
def uk(make_qbo_hub: Any, emulator: Emulator) -> Hub:
    return abroad_hub(make_qbo_hub, emulator, "GB")


def post(client: FlaskClient, event_type: str, event_id: str, data: dict[str, Any]) -> None:
    body = event(event_type, event_id)
    body["data"] = data
    answer = client.post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()


def invoice(currency: str = "GBP", **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DATA["invoice.sent"])
    data["contact"] = {**data["contact"], "email": "parent@example.com"}
    data.update(currency=currency, total=None, **changes)
    return {k: v for k, v in data.items() if v is not None}


def delivery(hub: Hub, event_id: str) -> dict[str, Any]:
    [found] = [d for d in hub.event(event_id)["deliveries"] if d["plugin"] == "quickbooks"]
    return found


def sent(hub: Hub, emulator: Emulator, event_id: str = "evt_1",
         external_id: str = "inv-1") -> dict[str, Any]:
    state = delivery(hub, event_id)
    assert state["status"] == "done", state
    assert "DRIFT" not in (state["result"] or ""), state["result"]
    link = links.get(qbo_ctx(hub), "invoice", external_id)
    assert link is not None
    found = emulator.get("Invoice", link["qbo_id"], realm=connection.access(qbo_ctx(hub)).realm_id)
    assert found is not None
    return found


def items(qbo: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in qbo["Line"] if line["DetailType"] == "SalesItemLineDetail"]


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_uk_vat_at_20_percent_is_a_field_and_the_total_is_the_hosts(uk: Hub,
                                                                    emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(discount=None, tax={"rate_percent": "20"}))
    run_due(uk)
    qbo = sent(uk, emulator)
    # 65.00 + 2 × 65.00 = 195.00, VAT 39.00.
    assert money(qbo["TxnTaxDetail"]["TotalTax"]) == Decimal("39.00")
    assert money(qbo["TotalAmt"]) == Decimal("234.00")
    assert qbo["GlobalTaxCalculation"] == "TaxExcluded"
    assert {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(qbo)} == {"2"}
    assert [money(line["Amount"]) for line in items(qbo)] == [Decimal("65.00"),
                                                              Decimal("130.00")]
    [vat] = qbo["TxnTaxDetail"]["TaxLine"]
    assert money(vat["TaxLineDetail"]["NetAmountTaxable"]) == Decimal("195.00")
    assert "OverrideDeltaAmount" not in vat["TaxLineDetail"]  # QuickBooks' own figure agrees


@pytest.mark.parametrize(("country", "rate", "code"), [("GB", "20", "2"), ("CA", "5", "2"),
                                                        ("AU", "10", "2"), ("CA", "13", "6")])
def test_a_discount_comes_off_before_tax_as_the_host_computes_it(
        make_qbo_hub: Any, emulator: Emulator, country: str, rate: str, code: str) -> None:
    hub = abroad_hub(make_qbo_hub, emulator, country)
    client = create_app(hub).test_client()
    lines = [{"item": "Lesson", "unit_price": "33.33", "quantity": "3"},
             {"item": "Workbook", "unit_price": "12.99"}]
    data = invoice(REALMS[country][1], lines=lines, discount={"percent": "10"},
                   tax={"rate_percent": rate})
    post(client, "invoice.sent", "evt_1", data)
    run_due(hub)
    qbo = sent(hub, emulator)
    subtotal = Decimal("99.99") + Decimal("12.99")
    discount = money(subtotal * Decimal("0.10"))
    tax = money((subtotal - discount) * Decimal(rate) / 100)
    assert money(qbo["TotalAmt"]) == subtotal - discount + tax
    assert money(qbo["TxnTaxDetail"]["TotalTax"]) == tax
    [discount_line] = [x for x in qbo["Line"] if x["DetailType"] == "DiscountLineDetail"]
    assert money(discount_line["Amount"]) == discount
    # QuickBooks taxes the discounted lines just as the host did: the tax sent changed nothing.
    [tax_line] = qbo["TxnTaxDetail"]["TaxLine"]
    assert money(tax_line["TaxLineDetail"]["NetAmountTaxable"]) == subtotal - discount
    assert "OverrideDeltaAmount" not in tax_line["TaxLineDetail"]
    assert {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(qbo)} == {code}


def test_a_tax_given_as_an_amount_goes_on_the_code_that_comes_to_it(uk: Hub,
                                                                    emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    # 5 % of 195.00 is 9.75: the reduced-rate code, not the standard one.
    post(client, "invoice.sent", "evt_1", invoice(discount=None, tax={"amount": "9.75"}))
    run_due(uk)
    qbo = sent(uk, emulator)
    assert {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(qbo)} == {"6"}
    assert money(qbo["TxnTaxDetail"]["TotalTax"]) == Decimal("9.75")
    assert money(qbo["TotalAmt"]) == Decimal("204.75")


def test_an_amount_a_cent_off_the_rate_is_kept_over_quickbooks_figure(uk: Hub,
                                                                      emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    # The host rounded VAT line by line (3 × 3.33 = 9.99); 20 % of 50.01 on the whole is 10.00.
    lines = [{"item": "Lesson", "unit_price": "16.67"} for _ in range(3)]
    post(client, "invoice.sent", "evt_1", invoice(lines=lines, discount=None,
                                                  tax={"amount": "9.99"}))
    run_due(uk)
    qbo = sent(uk, emulator)
    assert money(qbo["TxnTaxDetail"]["TotalTax"]) == Decimal("9.99")
    assert money(qbo["TotalAmt"]) == Decimal("60.00")
    [vat] = qbo["TxnTaxDetail"]["TaxLine"]
    assert money(vat["TaxLineDetail"]["OverrideDeltaAmount"]) == Decimal("-0.01")
    assert "tax of 9.99 kept over the 10.00" in qbo["PrivateNote"]


def test_an_amount_no_rate_comes_to_is_parked_with_the_fix(uk: Hub) -> None:
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(discount=None, tax={"amount": "15.00"}))
    run_due(uk)
    state = delivery(uk, "evt_1")
    assert state["status"] == "dead" and state["attempts"] == 1
    assert state["last_error"].startswith("the tax of 15.00 on 195.00 is 7.692 %, and no "
                                          "QuickBooks sales tax code comes to that amount")
    assert "send the tax as rate_percent, or create a 7.692 % sales tax rate" in \
        state["last_error"]


def test_a_rate_quickbooks_lacks_is_parked_until_the_operator_adds_it(uk: Hub,
                                                                      emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(discount=None, tax={"rate_percent": "7.5"}))
    run_due(uk)
    state = delivery(uk, "evt_1")
    assert state["status"] == "dead"
    assert state["last_error"].startswith(
        "no active QuickBooks sales tax code charges 7.5 %: create a 7.5 % sales tax rate in "
        "QuickBooks (Taxes → Sales tax)")
    assert links.get(qbo_ctx(uk), "invoice", "inv-1") is None
    # The operator adds the rate in QuickBooks, then retries the delivery.
    added = requests.post(f"{emulator.base_url}/_emulator/companies/{REALMS['GB'][0]}/taxcodes",
                          json={"name": "7.5% Special", "rate": "7.5"}, timeout=10)
    assert added.status_code == 200, added.text
    assert uk.retry_event("evt_1") == 1
    run_due(uk)
    qbo = sent(uk, emulator)
    code = added.json()["TaxCode"]["Id"]
    assert {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(qbo)} == {code}
    assert money(qbo["TxnTaxDetail"]["TotalTax"]) == Decimal("14.63")  # 7.5 % of 195.00
    assert money(qbo["TotalAmt"]) == Decimal("209.63")


def test_an_invoice_without_tax_names_the_zero_rate_code(uk: Hub, emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(tax=None))
    run_due(uk)
    qbo = sent(uk, emulator)
    assert {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in items(qbo)} == {"4"}
    assert money(qbo["TxnTaxDetail"]["TotalTax"]) == 0
    assert money(qbo["TotalAmt"]) == Decimal("175.50")  # 195.00 less 10 %


def test_a_sales_receipt_names_the_zero_rate_code(uk: Hub, emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    data = {**DATA["payment"], "currency": "GBP",
            "contact": {**DATA["payment"]["contact"], "email": "member@example.com"}}
    post(client, "payment", "evt_1", data)
    run_due(uk)
    state = delivery(uk, "evt_1")
    assert state["status"] == "done" and "DRIFT" not in state["result"], state
    [receipt] = emulator.objects("SalesReceipt", realm=REALMS["GB"][0])
    assert money(receipt["TotalAmt"]) == Decimal("49.00")
    assert items(receipt)[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "4"
    assert receipt["GlobalTaxCalculation"] == "TaxExcluded"


def test_tax_codes_are_read_once_and_remembered(uk: Hub, emulator: Emulator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.builtin.quickbooks import client as qbo_client

    made: list[str] = []
    original = qbo_client.TokenSession.request

    def counting(self: Any, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(f"{method} {url} {kwargs.get('data') or ''}")
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(qbo_client.TokenSession, "request", counting)
    api = create_app(uk).test_client()
    post(api, "invoice.sent", "evt_1", invoice(tax={"rate_percent": "20"}))
    run_due(uk)
    assert sum("FROM TaxCode" in m for m in made) == 1
    assert sum("FROM TaxRate" in m for m in made) == 1
    made.clear()
    post(api, "invoice.sent", "evt_2", invoice(external_id="inv-2", number="1002",
                                               tax={"rate_percent": "20"}))
    post(api, "invoice.sent", "evt_3", invoice(external_id="inv-3", number="1003", tax=None))
    run_due(uk)
    assert not any("FROM TaxCode" in m or "FROM TaxRate" in m for m in made), made
    sent(uk, emulator, "evt_3", "inv-3")


def test_the_setting_chooses_among_codes_at_the_same_rate(uk: Hub, emulator: Emulator) -> None:
    added = requests.post(f"{emulator.base_url}/_emulator/companies/{REALMS['GB'][0]}/taxcodes",
                          json={"name": "Exempt", "rate": 0}, timeout=10).json()["TaxCode"]
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(tax=None))
    run_due(uk)
    qbo = sent(uk, emulator)
    assert items(qbo)[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "4"  # lowest Id
    assert ("QuickBooks has several sales tax codes at 0 %: 0.0% Z is used, not Exempt; to "
            "choose, set quickbooks.tax_codes to 0=CODE NAME") in delivery(uk, "evt_1")["result"]
    uk.states.update_settings("quickbooks", {"tax_codes": "0=exempt, 20=20.0% S"})
    post(client, "invoice.sent", "evt_2", invoice(external_id="inv-2", number="1002", tax=None))
    run_due(uk)
    qbo = sent(uk, emulator, "evt_2", "inv-2")
    assert items(qbo)[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == added["Id"]
    assert "several" not in delivery(uk, "evt_2")["result"]


def test_a_setting_naming_a_missing_code_is_parked_with_the_fix(uk: Hub) -> None:
    uk.states.update_settings("quickbooks", {"tax_codes": "20=Standard"})
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(tax={"rate_percent": "20"}))
    run_due(uk)
    state = delivery(uk, "evt_1")
    assert state["status"] == "dead"
    assert state["last_error"].startswith(
        "the quickbooks.tax_codes setting names 'Standard' for 20 %, but QuickBooks has no "
        "active sales tax code of that name")


def test_an_update_moves_the_tax_with_the_host(uk: Hub, emulator: Emulator) -> None:
    client = create_app(uk).test_client()
    post(client, "invoice.sent", "evt_1", invoice(tax={"rate_percent": "20"}))
    run_due(uk)
    first = sent(uk, emulator)
    assert money(first["TotalAmt"]) == Decimal("210.60")  # 175.50 + 35.10 VAT
    lines = invoice()["lines"] + [{"item": "Workbook", "unit_price": "12.00"}]
    post(client, "invoice.updated", "evt_2", invoice(lines=lines, tax={"rate_percent": "5"}))
    run_due(uk)
    second = sent(uk, emulator, "evt_2")
    assert second["Id"] == first["Id"]
    # 207.00 less 10 % is 186.30; 5 % of that is 9.32 (9.315 rounded half up).
    assert money(second["TxnTaxDetail"]["TotalTax"]) == Decimal("9.32")
    assert money(second["TotalAmt"]) == Decimal("195.62")
    post(client, "invoice.updated", "evt_3", invoice(lines=lines, tax=None))
    run_due(uk)
    third = sent(uk, emulator, "evt_3")
    assert money(third["TxnTaxDetail"]["TotalTax"]) == 0
    assert money(third["TotalAmt"]) == Decimal("186.30")


def test_a_company_without_sales_tax_takes_no_tax(make_qbo_hub: Any, emulator: Emulator) -> None:
    realm = "4620816365000000004"
    emulator.add_company(realm, "Small Trader", country="GB", currency="GBP")
    grant = emulator.connect(realm=realm)
    api = f"{emulator.api_base}/company/{realm}/preferences"
    auth = {"Authorization": f"Bearer {grant['access_token']}", "Accept": "application/json"}
    prefs = requests.get(api, headers=auth, timeout=10).json()["Preferences"]
    requests.post(api, headers=auth, timeout=10, json={
        "SyncToken": prefs["SyncToken"], "sparse": True, "TaxPrefs": {"UsingSalesTax": False}})
    hub: Hub = make_qbo_hub()
    connect.with_refresh_token(qbo_ctx(hub), realm, grant["refresh_token"])
    client = create_app(hub).test_client()
    post(client, "invoice.sent", "evt_1", invoice(tax={"rate_percent": "20"}))
    post(client, "invoice.sent", "evt_2", invoice(external_id="inv-2", number="1002", tax=None))
    run_due(hub)
    state = delivery(hub, "evt_1")
    assert state["status"] == "dead"
    assert state["last_error"].startswith(
        "the invoice has a tax of 35.10, but the QuickBooks company does not charge sales tax")
    qbo = sent(hub, emulator, "evt_2", "inv-2")
    assert money(qbo["TotalAmt"]) == Decimal("175.50")
    assert "TaxCodeRef" not in items(qbo)[0]["SalesItemLineDetail"]


def test_hub_plugins_set_checks_the_tax_codes_setting(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from hub.roles.cli import build_cli
    from tests.conftest import base_env

    cli, env = build_cli(), base_env(tmp_path)
    ok = CliRunner().invoke(cli, ["plugins", "set", "quickbooks",
                                  "tax_codes=20=20.0% S, 0=Exempt"], env=env)
    assert ok.exit_code == 0, ok.output
    shown = CliRunner().invoke(cli, ["plugins", "show", "quickbooks"], env=env).output
    assert '"20=20.0% S", "0=Exempt"' in shown
    bad = CliRunner().invoke(cli, ["plugins", "set", "quickbooks", "tax_codes=Exempt"], env=env)
    assert bad.exit_code == 2
    assert "quickbooks.tax_codes: 'Exempt' is not RATE=CODE NAME" in bad.output
    twice = CliRunner().invoke(cli, ["plugins", "set", "quickbooks", "tax_codes=5=A, 5.0=B"],
                               env=env)
    assert "names a code for the same rate twice" in twice.output
