"""A host invoice as the fields of a QuickBooks invoice (or sales receipt) that carry its money:
the lines, and outside the US the tax.

Discounts and taxes follow the seeds: for US companies they are folded into the item prices
(QuickBooks' automated sales tax would otherwise recompute the tax, and transaction discounts
need a company preference). Folding keeps the lines adding up to the host's total to the cent:
each line is scaled, its unit price carried to 7 decimal places so that quantity × unit price is
the line's amount, and the leftover cents go on the largest line. QuickBooks then books the tax
as income; with the ``us_sales_tax`` setting at ``as_tax`` only the discount is folded, the
lines are taxable, and the host's tax is written as TxnTaxDetail.TotalTax, which automated sales
tax honours (spread over the taxable lines) instead of working out its own: QuickBooks records
it as sales tax owed, and its total is still the host's.

Elsewhere they are fields of their own (Intuit's global tax model). The discount is a discount
line when the company allows discounts (else it is folded into the prices), and it comes off
before tax, as the host computes it and as QuickBooks does outside the US. Every item line names
the sales tax code of the host's rate (taxes.py), or a 0 % code when the invoice has no tax:
QuickBooks refuses a line without one when the company charges tax. GlobalTaxCalculation is
TaxExcluded, so QuickBooks adds the tax as a field. TxnTaxDetail carries the host's tax too, one
TaxLine for the code's rate, which Intuit lets a transaction supply: QuickBooks may round per
line where the host rounds once, and a tax given as an amount may be a cent off any rate, so
the host's figure is what is written. A company without sales tax takes no tax at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.builtin.quickbooks.taxes import TaxCodes, percent, tax_at
from hub.errors import NeedsOperator
from hub.events import CENT, Discount, Line, Tax

UNIT = Decimal("0.0000001")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def scaled_amounts(lines: list[Line], total: Decimal) -> list[Decimal]:
    """Line amounts scaled to add up to ``total`` exactly."""
    subtotal = sum((line.amount for line in lines), Decimal("0"))
    if subtotal == 0:
        return [Decimal("0.00") for _ in lines]
    amounts = [_cents(line.amount * total / subtotal) for line in lines]
    leftover = total - sum(amounts, Decimal("0"))
    if leftover:
        largest = max(range(len(lines)), key=lambda i: amounts[i])
        amounts[largest] += leftover
    return amounts


def _line(line: Line, amount: Decimal, item: dict[str, str],
          tax_code: str | None) -> dict[str, Any]:
    unit = (amount / line.quantity).quantize(UNIT, ROUND_HALF_UP)
    detail: dict[str, Any] = {"ItemRef": item, "Qty": str(line.quantity), "UnitPrice": str(unit)}
    if line.service_date:
        detail["ServiceDate"] = line.service_date.isoformat()
    if tax_code:
        detail["TaxCodeRef"] = {"value": tax_code}
    body: dict[str, Any] = {"DetailType": "SalesItemLineDetail", "Amount": str(amount),
                            "SalesItemLineDetail": detail}
    if line.description:
        body["Description"] = line.description[:4000]
    return body


def _discount_line(discount: Discount, amount: Decimal) -> dict[str, Any]:
    detail: dict[str, Any] = (
        {"PercentBased": True, "DiscountPercent": str(discount.percent)}
        if discount.percent is not None else {"PercentBased": False})
    return {"DetailType": "DiscountLineDetail", "Amount": str(amount),
            "DiscountLineDetail": detail}


def is_us(company: dict[str, Any]) -> bool:
    return (company.get("country") or "US").upper() in ("US", "USA", "UNITED STATES")


def form_fields(lines: list[Line], discount: Discount | None, tax: Tax | None,
                company: dict[str, Any], items: Mapping[str, dict[str, str]],
                total: Decimal, codes: TaxCodes, us_sales_tax: str = "in_prices"
                ) -> tuple[dict[str, Any], list[str]]:
    """(the Line list and the tax fields; notes on what was folded). ``total`` is the host's
    total; ``items`` holds each line's ItemRef by item name, found by the caller beforehand so
    that this module only computes; ``codes`` are asked only outside the US."""
    if is_us(company):
        subtotal = sum((line.amount for line in lines), Decimal("0"))
        taxable = subtotal - (discount.of(subtotal) if discount else Decimal("0"))
        if us_sales_tax == "as_tax" and total != taxable:
            return _us_sales_tax(lines, discount, company, items, taxable, total - taxable)
        body, notes = _us_lines(lines, discount, tax, company, items, total)
        return {"Line": body}, notes
    return _global_fields(lines, discount, tax, company, items, total, codes)


def _us_sales_tax(lines: list[Line], discount: Discount | None, company: dict[str, Any],
                  items: Mapping[str, dict[str, str]], taxable: Decimal,
                  tax_amount: Decimal) -> tuple[dict[str, Any], list[str]]:
    if not company.get("using_sales_tax"):
        raise NeedsOperator(
            f"the invoice has a tax of {tax_amount} and quickbooks.us_sales_tax is as_tax, but "
            "the QuickBooks company does not charge sales tax: set up sales tax in QuickBooks "
            "(Taxes), or set us_sales_tax to in_prices, then retry")
    notes = [f"tax of {tax_amount} written as sales tax"]
    # The discount still goes into the prices (a discount line needs a company preference);
    # what the lines then add up to is what the host taxed.
    amounts = scaled_amounts(lines, taxable)
    if discount:
        notes.append(f"discount of {sum((x.amount for x in lines), Decimal(0)) - taxable} "
                     "folded into the prices")
    body = [_line(line, amount, items[line.item], "TAX")
            for line, amount in zip(lines, amounts, strict=True)]
    return {"Line": body, "TxnTaxDetail": {"TotalTax": str(tax_amount)}}, notes


def _us_lines(lines: list[Line], discount: Discount | None, tax: Tax | None,
              company: dict[str, Any], items: Mapping[str, dict[str, str]],
              total: Decimal) -> tuple[list[dict[str, Any]], list[str]]:
    notes: list[str] = []
    subtotal = sum((line.amount for line in lines), Decimal("0"))
    discount_amount = discount.of(subtotal) if discount else Decimal("0")
    # Lines are made non-taxable where automated sales tax could add tax on top of ours.
    tax_code = "NON" if company.get("using_sales_tax") else None
    amounts = scaled_amounts(lines, total)
    if discount_amount:
        notes.append(f"discount of {discount_amount} folded into the prices")
    if tax:
        notes.append(f"tax of {total - subtotal + discount_amount} folded into the prices")
    body = [_line(line, amount, items[line.item], tax_code)
            for line, amount in zip(lines, amounts, strict=True)]
    return body, notes


def _global_fields(lines: list[Line], discount: Discount | None, tax: Tax | None,
                   company: dict[str, Any], items: Mapping[str, dict[str, str]],
                   total: Decimal, codes: TaxCodes) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    subtotal = sum((line.amount for line in lines), Decimal("0"))
    discount_amount = discount.of(subtotal) if discount else Decimal("0")
    taxable = subtotal - discount_amount  # the host taxes what is left after the discount
    tax_amount = total - taxable
    code = None
    if company.get("using_sales_tax"):
        if tax is not None and tax.amount is not None:
            code = codes.for_amount(tax_amount, taxable, len(lines))
        else:
            code = codes.for_rate(tax.rate_percent if tax and tax.rate_percent else Decimal(0))
    elif tax_amount:
        raise NeedsOperator(
            f"the invoice has a tax of {tax_amount}, but the QuickBooks company does not charge "
            "sales tax (VAT/GST is not set up there): set it up in QuickBooks (Taxes), or send "
            "the invoice without tax")
    if discount and not company.get("allow_discount"):
        # No discount lines in this company: the prices carry it, so tax is still on the rest.
        amounts = scaled_amounts(lines, taxable)
        if discount_amount:
            notes.append(f"discount of {discount_amount} folded into the prices")
    else:
        amounts = [line.amount for line in lines]
    body = [_line(line, amount, items[line.item], code.id if code else None)
            for line, amount in zip(lines, amounts, strict=True)]
    if discount and company.get("allow_discount"):
        body.append(_discount_line(discount, discount_amount))
    fields: dict[str, Any] = {"Line": body, "GlobalTaxCalculation": "TaxExcluded"}
    if code is not None and tax_amount and code.rate_id:
        fields["TxnTaxDetail"] = {"TotalTax": str(tax_amount), "TaxLine": [{
            "Amount": str(tax_amount), "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"TaxRateRef": {"value": code.rate_id}, "PercentBased": True,
                              "TaxPercent": percent(code.rate),
                              "NetAmountTaxable": str(taxable)}}]}
        if tax_at(taxable, code.rate) != tax_amount:
            notes.append(f"tax of {tax_amount} kept over the {tax_at(taxable, code.rate)} "
                         f"that {code.name or 'its code'} would charge")
    return fields, notes
