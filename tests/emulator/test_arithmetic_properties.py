"""Property checks of the sales-form arithmetic (pure functions, no server)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.builtin.quickbooks.emulator.arithmetic import compute_sales_form, money

quantities = st.integers(min_value=1, max_value=500)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
lines = st.lists(st.tuples(quantities, prices), min_size=1, max_size=8)


def form_of(rows: list[tuple[int, Decimal]], discount_pct: int | None = None) -> dict:
    body: dict = {
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": str(money(qty * price)),
                "SalesItemLineDetail": {
                    "Qty": qty,
                    "UnitPrice": str(price),
                    "TaxCodeRef": {"value": "TAX"},
                },
            }
            for qty, price in rows
        ]
    }
    if discount_pct is not None:
        body["Line"].append(
            {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": discount_pct},
            }
        )
    return body


def no_rate(code: str) -> Decimal | None:
    return None


def eight_percent(code: str) -> Decimal | None:
    return Decimal(8) if code == "2" else None


@settings(max_examples=60, deadline=None)
@given(lines, st.one_of(st.none(), st.integers(min_value=0, max_value=100)))
def test_total_is_subtotal_less_discount(rows: list[tuple[int, Decimal]], pct: int | None) -> None:
    form = form_of(rows, pct)
    compute_sales_form(form, us=True, allow_discount=True, rate_of=no_rate)
    subtotal = sum((money(q * p) for q, p in rows), Decimal(0))
    discount = money(subtotal * pct / 100) if pct is not None else Decimal(0)
    assert Decimal(str(form["TotalAmt"])) == subtotal - discount
    sub_line = next(x for x in form["Line"] if x["DetailType"] == "SubTotalLineDetail")
    assert Decimal(str(sub_line["Amount"])) == subtotal


@settings(max_examples=60, deadline=None)
@given(lines)
def test_us_tax_is_rate_times_taxable_amount_to_the_cent(rows: list[tuple[int, Decimal]]) -> None:
    form = form_of(rows) | {"TxnTaxDetail": {"TxnTaxCodeRef": {"value": "2"}}}
    compute_sales_form(form, us=True, allow_discount=True, rate_of=eight_percent)
    subtotal = sum((money(q * p) for q, p in rows), Decimal(0))
    tax = Decimal(str(form["TxnTaxDetail"]["TotalTax"]))
    assert tax == money(subtotal * 8 / 100)
    assert Decimal(str(form["TotalAmt"])) == subtotal + tax


@settings(max_examples=60, deadline=None)
@given(lines)
def test_inclusive_tax_never_changes_the_total(rows: list[tuple[int, Decimal]]) -> None:
    form = form_of(rows)
    for line in form["Line"]:
        line["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "2"}
    form["GlobalTaxCalculation"] = "TaxInclusive"
    compute_sales_form(form, us=False, allow_discount=True, rate_of=eight_percent)
    subtotal = sum((money(q * p) for q, p in rows), Decimal(0))
    assert Decimal(str(form["TotalAmt"])) == subtotal
    assert Decimal(0) <= Decimal(str(form["TxnTaxDetail"]["TotalTax"])) <= subtotal
