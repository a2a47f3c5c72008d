"""What prices are made of: an invoice's or payment's ``Line``, a ``Discount``, a ``Tax``, and
the lines' total.

Separate from the values that use them (invoices, payments, bookings), which all price the same
way: each amount rounded half up to the cent, and no line allowed to outgrow the decimal
context.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import Field, model_validator

from hub.bounds import check_money_size
from hub.events.strict import Strict
from hub.values import CENT, Day, LongText, Money, Percent, Quantity, Text


class Line(Strict):
    """One line of an invoice or payment: :attr:`amount` is quantity × unit price, to the cent."""

    item: Text = Field(min_length=1, max_length=100, description="product or service name")
    """The product or service sold, by name."""
    description: LongText | None = Field(None, max_length=4000)
    """Free text for the line (may span lines)."""
    quantity: Quantity = Decimal("1")
    """How many; 1 unless given."""
    unit_price: Money
    """The price of one, before any discount or tax."""
    service_date: Day | None = None
    """The day the service was given."""

    @property
    def amount(self) -> Decimal:
        """quantity × unit price, rounded half up to the cent."""
        return (self.quantity * self.unit_price).quantize(CENT, ROUND_HALF_UP)

    @model_validator(mode="after")
    def _fits(self) -> Line:
        # Checked here, so that no sum of lines can outgrow the decimal context.
        check_money_size(self.amount, "quantity × unit_price")
        return self


class Discount(Strict):
    """A discount: a percentage or a fixed amount."""

    percent: Percent | None = None
    """A percentage off the lines' subtotal..."""
    amount: Money | None = None
    """...or a fixed amount off; exactly one of the two."""

    @model_validator(mode="after")
    def _one_of(self) -> Discount:
        if (self.percent is None) == (self.amount is None):
            raise ValueError('give exactly one of "percent" or "amount"')
        return self

    def of(self, subtotal: Decimal) -> Decimal:
        """The discount in money off ``subtotal``."""
        if self.amount is not None:
            return self.amount
        assert self.percent is not None
        return (subtotal * self.percent / 100).quantize(CENT, ROUND_HALF_UP)


class Tax(Strict):
    """A tax: a rate or a fixed amount."""

    rate_percent: Percent | None = None
    """A tax rate applied after the discount..."""
    amount: Money | None = None
    """...or the tax as a fixed amount; exactly one of the two."""

    @model_validator(mode="after")
    def _one_of(self) -> Tax:
        if (self.rate_percent is None) == (self.amount is None):
            raise ValueError('give exactly one of "rate_percent" or "amount"')
        return self

    def of(self, taxable: Decimal) -> Decimal:
        """The tax in money on ``taxable``."""
        if self.amount is not None:
            return self.amount
        assert self.rate_percent is not None
        return (taxable * self.rate_percent / 100).quantize(CENT, ROUND_HALF_UP)


def lines_total(lines: list[Line]) -> Decimal:
    """The lines' amounts added up: an invoice's subtotal, what a payment's lines come to."""
    return sum((line.amount for line in lines), Decimal("0.00"))
