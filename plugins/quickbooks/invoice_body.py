"""A host invoice as the JSON body of a QuickBooks invoice (or sales receipt).

Discounts and taxes follow the seeds: for US companies they are folded into the item prices
(QuickBooks' automated sales tax would otherwise recompute the tax, and transaction discounts
need a company preference); elsewhere the discount is a field of its own when the company allows
discounts. Folding keeps the lines adding up to the host's total to the cent: each line is
scaled, its unit price carried to 7 decimal places so that quantity × unit price is the line's
amount, and the leftover cents go on the largest line.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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


def lines_body(lines: list[Line], discount: Discount | None, tax: Tax | None,
               company: dict[str, Any], item_for: Callable[[str], dict[str, str]],
               total: Decimal) -> tuple[list[dict[str, Any]], list[str]]:
    """(the Line list, notes on what was folded). ``total`` is the host's total."""
    us = (company.get("country") or "US").upper() in ("US", "USA", "UNITED STATES")
    notes: list[str] = []
    subtotal = sum((line.amount for line in lines), Decimal("0"))
    discount_amount = discount.of(subtotal) if discount else Decimal("0")
    if tax and not us:
        raise NeedsOperator("taxes on invoices for companies outside the US are not synced "
                            "yet: send the invoice without tax, or add the tax in QuickBooks")
    fold = us or not company.get("allow_discount")
    # Lines are made non-taxable where automated sales tax could add tax on top of ours.
    tax_code = "NON" if us and company.get("using_sales_tax") else None
    if fold:
        amounts = scaled_amounts(lines, total)
        if discount_amount:
            notes.append(f"discount of {discount_amount} folded into the prices")
        if tax:
            notes.append(f"tax of {total - subtotal + discount_amount} folded into the prices")
        body = [_line(line, amount, item_for(line.item), tax_code)
                for line, amount in zip(lines, amounts, strict=True)]
        return body, notes
    body = [_line(line, line.amount, item_for(line.item), tax_code) for line in lines]
    if discount:
        detail: dict[str, Any] = (
            {"PercentBased": True, "DiscountPercent": str(discount.percent)}
            if discount.percent is not None else {"PercentBased": False})
        body.append({"DetailType": "DiscountLineDetail", "Amount": str(discount_amount),
                     "DiscountLineDetail": detail})
    return body, notes
