"""Sales tax outside the US: Intuit's "global" tax model, as its API reference describes it.

- Each SalesItemLine names a TaxCode (SalesItemLineDetail.TaxCodeRef); the code's
  SalesTaxRateList names the TaxRates it charges. A company that uses sales tax
  (Preferences.TaxPrefs.UsingSalesTax) refuses an item line without one: fault 6000, "Make sure
  all your transactions have a VAT rate before you save" (GST/HST in Canada, GST in Australia),
  as Intuit answers. A code that is missing or inactive is an invalid reference (2500).
- GlobalTaxCalculation: TaxExcluded (the default) adds the tax on top, TaxInclusive takes it out
  of the line amounts, NotApplicable charges none.
- A DiscountLine comes off before tax (ApplyTaxAfterDiscount is for US companies only): it is
  shared among the item lines in proportion to their amounts.
- Tax is worked out per TaxRate: its TaxLine's NetAmountTaxable is the discounted amount of the
  lines whose code charges it, and its Amount is the rate times that, rounded half-up.
- A TxnTaxDetail sent with the transaction overrides the computed tax ("you may supply it when
  adding a transaction"): each TaxLine must be a TaxLineDetail naming a rate that the lines'
  codes charge, once; its Amount replaces the computed one and OverrideDeltaAmount keeps the
  difference. One equal to what was last returned (a sparse update that leaves it out) is
  recomputed, as is a bare TotalTax.
- With sales tax off, TxnTaxDetail is ignored and not stored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import faults
from .store import Company, allocate_id, stamp_created, table

CENT = Decimal("0.01")
# What Intuit calls the tax in its "every line needs a rate" fault, by CompanyInfo.Country.
LABELS = {"GB": "VAT", "UK": "VAT", "IE": "VAT", "CA": "GST/HST", "AU": "GST", "IN": "GST"}
# What was last returned, to tell a TxnTaxDetail carried over from one that was sent.
STORED = "_tax_detail"


@dataclass(frozen=True)
class Rate:
    id: str
    name: str
    value: Decimal


RatesOf = Callable[[str], "list[Rate] | None"]  # None: no such active code


@dataclass
class TaxBook:
    rates_of: RatesOf
    enabled: bool = True  # Preferences.TaxPrefs.UsingSalesTax
    strict: bool = False  # a real company: every item line needs a code that exists
    label: str = "VAT"


def book_of(company: Company) -> TaxBook:
    """The company's tax codes and rates, and whether it uses sales tax."""
    codes = table(company, "TaxCode")
    rates = table(company, "TaxRate")
    prefs = table(company, "Preferences").get("1") or {}
    enabled = bool((prefs.get("TaxPrefs") or {}).get("UsingSalesTax"))

    def rates_of(code_id: str) -> list[Rate] | None:
        code = codes.get(code_id)
        if not code or code.get("Active") is False:
            return None
        found = []
        for detail in (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []:
            rate = rates.get(str((detail.get("TaxRateRef") or {}).get("value", "")))
            if rate and rate.get("Active") is not False:
                value = Decimal(str(rate.get("RateValue", 0)))
                found.append(Rate(str(rate["Id"]), str(rate.get("Name", "")), value))
        return found

    label = LABELS.get(str(company.get("country", "")).upper(), "VAT")
    return TaxBook(rates_of, enabled=enabled, strict=enabled, label=label)


def book_from_rates(rate_of: Callable[[str], Decimal | None]) -> TaxBook:
    """A lenient book from a bare code → rate lookup (the arithmetic's unit checks)."""

    def rates_of(code_id: str) -> list[Rate] | None:
        value = rate_of(code_id)
        return None if value is None else [Rate(code_id, code_id, value)]

    return TaxBook(rates_of)


def add_tax_code(
    company: Company,
    name: str,
    rate: Any,
    code_id: str | None = None,
    rate_id: str | None = None,
) -> dict[str, Any]:
    """A sales tax code charging one new rate, as Taxes → Sales tax → Add rate makes them."""
    try:
        value = Decimal(str(rate))
    except ArithmeticError:
        raise faults.invalid_value("RateValue", f"RateValue is not a number: {rate!r}") from None
    if not str(name).strip():
        raise faults.required("Name")
    for other in table(company, "TaxCode").values():
        if str(other.get("Name", "")).casefold() == str(name).strip().casefold():
            raise faults.duplicate_name(str(other["Id"]))
    rate_id = rate_id or allocate_id(company)
    code_id = code_id or allocate_id(company)
    stored_rate = {
        "Id": rate_id,
        "Name": str(name).strip(),
        "Description": str(name).strip(),
        "RateValue": float(value),
        "Active": True,
        "AgencyRef": {"value": "1"},
        "SpecialTaxType": "ZERO_RATE" if value == 0 else "NONE",
        "DisplayType": "ReadOnly",
        "domain": "QBO",
        "sparse": False,
    }
    stamp_created(stored_rate)
    table(company, "TaxRate")[rate_id] = stored_rate
    code = {
        "Id": code_id,
        "Name": str(name).strip(),
        "Description": str(name).strip(),
        "Active": True,
        "Hidden": False,
        "Taxable": True,
        "TaxGroup": False,
        "SalesTaxRateList": {
            "TaxRateDetail": [
                {
                    "TaxRateRef": {"value": rate_id, "name": str(name).strip()},
                    "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0,
                }
            ]
        },
        "PurchaseTaxRateList": {"TaxRateDetail": []},
        "domain": "QBO",
        "sparse": False,
    }
    stamp_created(code)
    table(company, "TaxCode")[code_id] = code
    return code


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute(
    form: dict[str, Any],
    sales: list[dict[str, Any]],
    subtotal: Decimal,
    discount: Decimal,
    book: TaxBook,
) -> tuple[Decimal, bool]:
    """Return (tax, whether line amounts already include it) and write TxnTaxDetail."""
    mode = form.get("GlobalTaxCalculation") or "TaxExcluded"
    if mode not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
        raise faults.invalid_value("GlobalTaxCalculation", f"Invalid GlobalTaxCalculation: {mode}")
    form["GlobalTaxCalculation"] = mode
    sent = form.get("TxnTaxDetail")
    supplied = sent if isinstance(sent, dict) and sent != form.get(STORED) else None
    if not book.enabled:
        form.pop("TxnTaxDetail", None)
        form.pop(STORED, None)
        return Decimal(0), False
    inclusive = mode == "TaxInclusive"
    nets: dict[str, tuple[Rate, Decimal]] = {}
    if mode != "NotApplicable":
        # The discount comes off every line in proportion before any tax is worked out.
        share = (subtotal - discount) / subtotal if subtotal else Decimal(0)
        for line in sales:
            detail = line["SalesItemLineDetail"]
            code = (detail.get("TaxCodeRef") or {}).get("value")
            if code in (None, ""):
                if book.strict:
                    raise faults.business(
                        f"Make sure all your transactions have a {book.label} rate before you save."
                    )
                continue
            rates = book.rates_of(str(code))
            if rates is None:
                if book.strict:
                    raise faults.invalid_reference("Line.SalesItemLineDetail.TaxCodeRef", code)
                continue
            net = Decimal(str(line["Amount"])) * share
            if inclusive:
                net = net / (1 + sum((r.value for r in rates), Decimal(0)) / 100)
            for rate in rates:
                known = nets.get(rate.id)
                nets[rate.id] = (rate, (known[1] if known else Decimal(0)) + net)
    computed = {ident: money(net * rate.value / 100) for ident, (rate, net) in nets.items()}
    amounts = dict(computed)
    if supplied and supplied.get("TaxLine"):
        amounts.update(overrides(supplied["TaxLine"], nets))
    lines = []
    for ident, (rate, net) in nets.items():
        tax_line: dict[str, Any] = {
            "Amount": float(amounts[ident]),
            "DetailType": "TaxLineDetail",
            "TaxLineDetail": {
                "TaxRateRef": {"value": ident, "name": rate.name},
                "PercentBased": True,
                "TaxPercent": float(rate.value),
                "NetAmountTaxable": float(money(net)),
            },
        }
        delta = amounts[ident] - computed[ident]
        if delta:
            tax_line["TaxLineDetail"]["OverrideDeltaAmount"] = float(delta)
        lines.append(tax_line)
    tax = sum(amounts.values(), Decimal(0))
    form["TxnTaxDetail"] = {"TotalTax": float(tax)} | ({"TaxLine": lines} if lines else {})
    form[STORED] = copy.deepcopy(form["TxnTaxDetail"])
    return tax, inclusive


def overrides(sent: Any, nets: dict[str, tuple[Rate, Decimal]]) -> dict[str, Decimal]:
    """The tax amounts a sent TaxLine list sets, checked against the rates the lines charge."""
    found: dict[str, Decimal] = {}
    for tax_line in sent if isinstance(sent, list) else [sent]:
        if not isinstance(tax_line, dict) or tax_line.get("DetailType") != "TaxLineDetail":
            raise faults.required("TxnTaxDetail.TaxLine.DetailTypeEnum")
        detail = tax_line.get("TaxLineDetail") or {}
        ident = (detail.get("TaxRateRef") or {}).get("value")
        if ident in (None, ""):
            raise faults.required("TxnTaxDetail.TaxLine.TaxLineDetail.TaxRateRef")
        ident = str(ident)
        if ident not in nets:
            raise faults.business(
                f"The tax rate {ident} in TxnTaxDetail isn't one of the rates of the tax codes "
                "on this transaction."
            )
        if ident in found:
            raise faults.business(f"The tax rate {ident} is listed more than once in TxnTaxDetail.")
        if tax_line.get("Amount") in (None, ""):
            raise faults.required("TxnTaxDetail.TaxLine.Amount")
        try:
            found[ident] = money(Decimal(str(tax_line["Amount"])))
        except ArithmeticError:
            raise faults.invalid_value(
                "TxnTaxDetail.TaxLine.Amount", f"Amount is not a number: {tax_line['Amount']!r}"
            ) from None
    return found
