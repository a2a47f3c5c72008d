"""Sales-form arithmetic: line amounts, discount, subtotal, tax, TotalAmt.

The rules (documented in docs/emulator.md):
- SalesItemLine: Amount is required; when a non-zero Qty and a UnitPrice are sent, Qty ×
  UnitPrice must equal Amount to the cent (else fault 6070). A missing UnitPrice is derived.
- DiscountLine: percent-based (DiscountPercent of the subtotal) or a fixed Amount; only when
  the company's Preferences.SalesFormsPrefs.AllowDiscount is on.
- SubTotalLine: always recomputed (sum of SalesItemLines) and placed after them.
- US companies: tax comes from TxnTaxDetail.TxnTaxCodeRef (rate × taxable lines, i.e. lines
  whose TaxCodeRef is "TAX") or else TxnTaxDetail.TotalTax as sent, spread over the lines
  not marked NON (all NON: no tax); GlobalTaxCalculation does not apply and is dropped.
- Other countries: Intuit's global tax model (global_tax.py): each line's TaxCodeRef names a
  tax code, the discount comes off before tax, a sent TxnTaxDetail overrides the tax.
- TotalAmt = subtotal − discount (+ tax when excluded). Money is rounded half-up to cents.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import faults
from .global_tax import TaxBook, book_from_rates
from .global_tax import compute as compute_global_tax

CENT = Decimal("0.01")
RateLookup = Callable[[str], Decimal | None]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Any, element: str) -> Decimal | None:
    """Read a JSON number (or numeric string); empty strings count as absent, as Intuit does."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise faults.invalid_value(element, f"{element} is not a number: {value!r}") from None


def out(value: Decimal) -> float | int:
    """JSON numbers as Intuit writes them: integral quantities stay whole, money is a float."""
    return float(value)


def ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


def price_line(line: dict[str, Any]) -> Decimal:
    detail = line.setdefault("SalesItemLineDetail", {})
    amount = number(line.get("Amount"), "Line.Amount")
    if amount is None:
        raise faults.required("Line.Amount")
    qty = number(detail.get("Qty"), "Line.SalesItemLineDetail.Qty")
    price = number(detail.get("UnitPrice"), "Line.SalesItemLineDetail.UnitPrice")
    # python-quickbooks sends Qty 0 and UnitPrice 0 for lines that only carry an Amount, and
    # Intuit accepts those, so a zero quantity means "not given".
    if qty and price is not None:
        if money(qty * price) != money(amount):
            raise faults.amount_mismatch(line.get("Amount"))
    elif qty and price is None:
        detail["UnitPrice"] = out(amount / qty)
    line["Amount"] = out(money(amount))
    return money(amount)


def discount_amount(line: dict[str, Any], subtotal: Decimal) -> Decimal:
    detail = line.setdefault("DiscountLineDetail", {})
    if detail.get("PercentBased"):
        pct = number(detail.get("DiscountPercent"), "Line.DiscountLineDetail.DiscountPercent")
        if pct is None:
            raise faults.QBOFault(
                6090,
                "Discount Line missing required info.",
                "Discount amount or percent should be provided.",
            )
        amount = money(subtotal * pct / 100)
    else:
        raw = number(line.get("Amount"), "Line.Amount")
        if raw is None:
            raise faults.QBOFault(
                6090,
                "Discount Line missing required info.",
                "Discount amount or percent should be provided.",
            )
        amount = money(raw)
    if amount < 0 or amount > subtotal:
        raise faults.business("The discount amount can't be greater than the subtotal.")
    line["Amount"] = out(amount)
    return amount


def compute_sales_form(
    form: dict[str, Any],
    *,
    us: bool,
    allow_discount: bool,
    rate_of: RateLookup,
    book: TaxBook | None = None,
) -> None:
    """Recompute a sales form's lines and totals in place; raise QBOFault when inconsistent."""
    lines = [
        line for line in form.get("Line") or [] if line.get("DetailType") != "SubTotalLineDetail"
    ]
    sales: list[dict[str, Any]] = []
    discounts: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    subtotal = Decimal(0)
    for line in lines:
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            subtotal += price_line(line)
            sales.append(line)
        elif kind == "DiscountLineDetail":
            discounts.append(line)
        elif kind in ("DescriptionOnly", "DescriptionLineDetail", "GroupLineDetail"):
            others.append(line)
        else:
            raise faults.required("Line.DetailType")
    if not sales and not others:
        raise faults.required("Line")
    if discounts and not allow_discount:
        raise faults.business(
            "Discounts are turned off for this company (Preferences.SalesFormsPrefs.AllowDiscount)."
        )
    discount = sum((discount_amount(line, subtotal) for line in discounts), Decimal(0))

    for number_, line in enumerate(sales + others, start=1):
        line["Id"] = str(number_)
        line["LineNum"] = number_
    subtotal_line: dict[str, Any] = {
        "Amount": out(subtotal),
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    form["Line"] = sales + others + [subtotal_line] + discounts

    if us:
        tax, inclusive = compute_tax(form, sales, subtotal, discount, rate_of=rate_of)
    else:
        tax, inclusive = compute_global_tax(
            form, sales, subtotal, discount, book or book_from_rates(rate_of)
        )
    total = subtotal - discount + (Decimal(0) if inclusive else tax)
    form["TotalAmt"] = out(money(total))


def compute_tax(
    form: dict[str, Any],
    sales: list[dict[str, Any]],
    subtotal: Decimal,
    discount: Decimal,
    *,
    rate_of: RateLookup,
) -> tuple[Decimal, bool]:
    """US tax: return (tax, False) and write TxnTaxDetail."""
    detail = form.get("TxnTaxDetail") or {}
    form.pop("GlobalTaxCalculation", None)
    code = ref_value(detail.get("TxnTaxCodeRef"))
    rate = rate_of(code) if code else None
    if code and rate is not None:
        base = sum(
            (
                number(line["Amount"], "Line.Amount") or Decimal(0)
                for line in sales
                if ref_value(line["SalesItemLineDetail"].get("TaxCodeRef")) == "TAX"
            ),
            Decimal(0),
        )
        if form.get("ApplyTaxAfterDiscount") and subtotal:
            base = base * (subtotal - discount) / subtotal
        tax = money(base * rate / 100)
        form["TxnTaxDetail"] = {
            "TxnTaxCodeRef": {"value": code},
            "TotalTax": out(tax),
            "TaxLine": [
                {
                    "Amount": out(tax),
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "PercentBased": True,
                        "TaxPercent": out(rate),
                        "NetAmountTaxable": out(money(base)),
                    },
                }
            ],
        }
        return tax, False
    # An explicit amount is honoured (automated sales tax takes it instead of its own figure)
    # and spread over the lines not marked NON; with every line NON there is nothing to tax.
    base = sum(
        (
            number(line["Amount"], "Line.Amount") or Decimal(0)
            for line in sales
            if ref_value(line["SalesItemLineDetail"].get("TaxCodeRef")) != "NON"
        ),
        Decimal(0),
    )
    sent = number(detail.get("TotalTax"), "TxnTaxDetail.TotalTax") or Decimal(0)
    tax = money(sent) if base else Decimal(0)
    form["TxnTaxDetail"] = {"TotalTax": out(tax)} | (
        {"TxnTaxCodeRef": detail["TxnTaxCodeRef"]} if code else {}
    )
    if tax:
        form["TxnTaxDetail"]["TaxLine"] = [{
            "Amount": out(tax), "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"PercentBased": False, "NetAmountTaxable": out(money(base))}}]
    return tax, False
