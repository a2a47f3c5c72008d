"""The emulator's sales tax outside the US follows Intuit's global tax model: a company that
charges tax refuses a line without a tax code, the discount comes off before tax, and a
TxnTaxDetail sent with the transaction overrides the tax. Raw HTTP, as a client sees it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from hub.builtin.quickbooks.emulator.testing import Emulator

REALM = "4620816365000000009"


class Company:
    def __init__(self, emulator: Emulator, country: str, currency: str) -> None:
        emulator.add_company(REALM, "Abroad Ltd", country=country, currency=currency)
        token = emulator.connect(realm=REALM)["access_token"]
        self.base = f"{emulator.api_base}/company/{REALM}"
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}",
                                  "Accept": "application/json"})
        self.customer = self.post("customer", {"DisplayName": "Ms Marple"}).json()["Customer"]

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.http.post(f"{self.base}/{path}", json=body, timeout=10)

    def invoice(self, lines: list[dict[str, Any]], **fields: Any) -> requests.Response:
        return self.post("invoice", {"CustomerRef": {"value": self.customer["Id"]},
                                     "Line": lines, **fields})


@pytest.fixture
def uk(emulator: Emulator) -> Any:
    company = Company(emulator, "GB", "GBP")
    yield company
    company.http.close()


def line(amount: float, code: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": "1"}}
    if code:
        detail["TaxCodeRef"] = {"value": code}
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}


def fault(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    return dict(answer.json()["Fault"]["Error"][0])


@pytest.mark.parametrize(("country", "currency", "label"),
                         [("GB", "GBP", "VAT"), ("CA", "CAD", "GST/HST"), ("AU", "AUD", "GST")])
def test_a_line_without_a_tax_code_is_refused_as_intuit_does(
        emulator: Emulator, country: str, currency: str, label: str) -> None:
    company = Company(emulator, country, currency)
    error = fault(company.invoice([line(100.0, "2"), line(50.0)]))
    assert error["code"] == "6000"
    assert error["Detail"] == (f"Business Validation Error: Make sure all your transactions "
                               f"have a {label} rate before you save.")
    error = fault(company.invoice([line(100.0, "99")]))
    assert error["code"] == "2500"
    company.http.close()


def test_the_discount_comes_off_before_tax(uk: Company) -> None:
    saved = uk.invoice([line(100.0, "2"), line(50.0, "4"),
                        {"DetailType": "DiscountLineDetail", "Amount": 15.0,
                         "DiscountLineDetail": {"PercentBased": False}}]).json()["Invoice"]
    # 10 % off each line: VAT is 20 % of 90.00 on the standard-rated line.
    assert saved["TxnTaxDetail"]["TotalTax"] == 18.0 and saved["TotalAmt"] == 153.0
    standard, zero = saved["TxnTaxDetail"]["TaxLine"]
    assert standard["TaxLineDetail"]["NetAmountTaxable"] == 90.0
    assert standard["TaxLineDetail"]["TaxRateRef"]["value"] == "1"
    assert zero["Amount"] == 0 and zero["TaxLineDetail"]["NetAmountTaxable"] == 45.0


def test_a_sent_tax_line_overrides_the_tax_until_an_update_leaves_it_out(uk: Company) -> None:
    override = {"TotalTax": 19.99, "TaxLine": [{
        "Amount": 19.99, "DetailType": "TaxLineDetail",
        "TaxLineDetail": {"TaxRateRef": {"value": "1"}, "PercentBased": True, "TaxPercent": 20,
                          "NetAmountTaxable": 100.0}}]}
    saved = uk.invoice([line(100.0, "2")], TxnTaxDetail=override).json()["Invoice"]
    assert saved["TxnTaxDetail"]["TotalTax"] == 19.99 and saved["TotalAmt"] == 119.99
    assert saved["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["OverrideDeltaAmount"] == -0.01
    updated = uk.post("invoice", {"Id": saved["Id"], "SyncToken": saved["SyncToken"],
                                  "sparse": True, "Line": [line(200.0, "2")]}).json()["Invoice"]
    assert updated["TxnTaxDetail"]["TotalTax"] == 40.0 and updated["TotalAmt"] == 240.0


def test_a_tax_line_must_name_a_rate_of_the_lines_codes(uk: Company) -> None:
    reduced = {"Amount": 1.0, "DetailType": "TaxLineDetail",
               "TaxLineDetail": {"TaxRateRef": {"value": "5"}}}
    assert fault(uk.invoice([line(100.0, "2")],
                            TxnTaxDetail={"TaxLine": [reduced]}))["code"] == "6000"
    untyped = {"Amount": 1.0, "TaxLineDetail": {"TaxRateRef": {"value": "1"}}}
    assert fault(uk.invoice([line(100.0, "2")],
                            TxnTaxDetail={"TaxLine": [untyped]}))["code"] == "2020"


def test_without_sales_tax_no_code_is_needed_and_no_tax_kept(uk: Company) -> None:
    prefs = uk.http.get(f"{uk.base}/preferences", timeout=10).json()["Preferences"]
    uk.post("preferences", {"SyncToken": prefs["SyncToken"], "sparse": True,
                            "TaxPrefs": {"UsingSalesTax": False}})
    saved = uk.invoice([line(100.0), line(50.0, "2")]).json()["Invoice"]
    assert saved["TotalAmt"] == 150.0 and "TxnTaxDetail" not in saved


def test_a_person_adds_a_tax_code(emulator: Emulator, uk: Company) -> None:
    added = requests.post(f"{emulator.base_url}/_emulator/companies/{REALM}/taxcodes",
                          json={"name": "7.5% Special", "rate": 7.5}, timeout=10)
    code = added.json()["TaxCode"]
    rate_id = code["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
    assert emulator.get("TaxRate", rate_id, realm=REALM)["RateValue"] == 7.5
    saved = uk.invoice([line(100.0, code["Id"])]).json()["Invoice"]
    assert saved["TxnTaxDetail"]["TotalTax"] == 7.5
    again = requests.post(f"{emulator.base_url}/_emulator/companies/{REALM}/taxcodes",
                          json={"name": "7.5% special", "rate": 7.5}, timeout=10)
    assert again.status_code == 400 and again.json()["Fault"]["Error"][0]["code"] == "6240"
