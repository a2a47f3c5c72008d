"""``Invoice``, as ``invoice.sent``, ``invoice.updated`` and ``invoice.paid`` carry it: its
fields, what it comes to and owes, and the rules that make it add up.

Separate because it is the largest value and the only one whose fields are checked against each
other (dates, discount, total, amount paid).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hub.bounds import check_money_size
from hub.events.contact import Contact
from hub.events.pricing import Discount, Line, Tax, lines_total
from hub.events.strict import Strict
from hub.values import Currency, Day, Email, ExternalId, Money, Text

InvoiceStatus = Literal["sent", "paid", "partially_paid", "void"]


class Invoice(Strict):
    """An invoice, as ``invoice.sent``, ``invoice.updated`` and ``invoice.paid`` carry it.

    It is fully paid when it is not void and :attr:`balance` is zero, that is when :attr:`paid`
    reaches :attr:`computed_total`. ``status`` alone is only what the host called it: an
    ``invoice.paid`` event with ``amount_paid`` below the total is a part payment, and a void
    invoice owes nothing (its balance is zero too) without being paid."""

    external_id: ExternalId
    """The host's id of the invoice."""
    number: Text | None = Field(None, max_length=21, description="QuickBooks DocNumber allows 21")
    """The invoice number people read (QuickBooks' DocNumber, at most 21 characters)."""
    contact: Contact
    """Who is billed."""
    status: InvoiceStatus = "sent"
    """``"sent"``, ``"paid"``, ``"partially_paid"`` or ``"void"``. ``"paid"`` without
    ``amount_paid`` counts the whole total as paid; see :attr:`paid` and :attr:`balance`."""
    issue_date: Day
    """The day the invoice was issued."""
    due_date: Day | None = None
    """The day payment is due; not before ``issue_date``."""
    currency: Currency | None = None
    """ISO 4217 code of the amounts; ``None`` for the books' home currency."""
    billing_email: Email | None = None
    """Where the invoice is sent, when not the contact's email."""
    lines: list[Line] = Field(min_length=1)
    """What is billed: at least one line."""
    discount: Discount | None = None
    """A discount off the lines' subtotal, before tax."""
    tax: Tax | None = None
    """The tax, applied after the discount."""
    total: Money | None = None
    """The total as the host computed it; when given it must equal :attr:`computed_total`."""
    amount_paid: Money | None = None
    """How much of the total is paid so far; at most the total. Given, it wins over ``status`` in
    :attr:`paid`."""

    @property
    def subtotal(self) -> Decimal:
        """The lines' amounts added up."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def discount_amount(self) -> Decimal:
        """The discount in money (0.00 without one)."""
        return self.discount.of(self.subtotal) if self.discount else Decimal("0.00")

    @property
    def tax_amount(self) -> Decimal:
        """The tax in money, on the subtotal less the discount (0.00 without one)."""
        # Tax applies after the discount, as QuickBooks does by default.
        taxable = self.subtotal - self.discount_amount
        return self.tax.of(taxable) if self.tax else Decimal("0.00")

    @property
    def computed_total(self) -> Decimal:
        """subtotal − discount + tax: what the invoice comes to."""
        return self.subtotal - self.discount_amount + self.tax_amount

    @property
    def paid(self) -> Decimal:
        """How much is paid: ``amount_paid`` when given, else the whole total when ``status`` is
        ``"paid"``, else 0.00."""
        if self.amount_paid is not None:
            return self.amount_paid
        return self.computed_total if self.status == "paid" else Decimal("0.00")

    @property
    def balance(self) -> Decimal:
        """What is still owed: ``computed_total - paid``, or 0.00 for a void invoice."""
        return Decimal("0.00") if self.status == "void" else self.computed_total - self.paid

    # Each rule is checked on the field it names, so the 422 names that field
    # (data.total, not data); earlier fields are in info.data when they passed their own checks.
    @field_validator("due_date")
    @classmethod
    def _not_before_issue(cls, value: date | None, info: ValidationInfo) -> date | None:
        issued = info.data.get("issue_date")
        if value and issued and value < issued:
            raise ValueError(f"is {value}, before issue_date {issued}; send a due date on or "
                             "after the issue date, or leave it out")
        return value

    @field_validator("discount")
    @classmethod
    def _within_lines(cls, value: Discount | None, info: ValidationInfo) -> Discount | None:
        if value is not None and "lines" in info.data:
            subtotal = lines_total(info.data["lines"])
            if value.of(subtotal) > subtotal:
                raise ValueError(f"is {value.of(subtotal)}, more than the lines' total "
                                 f"{subtotal}")
        return value

    @field_validator("total")
    @classmethod
    def _adds_up(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        total = _total_of(info.data)
        if value is not None and total is not None and value != total:
            raise ValueError(f"is {value}, but the lines less the discount plus the tax come "
                             f"to {total}; send the total the lines add up to, or leave it out")
        return value

    @field_validator("amount_paid")
    @classmethod
    def _within_total(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        total = _total_of(info.data)
        if value is not None and total is not None and value > total:
            raise ValueError(f"is {value}, more than the invoice's total {total}")
        return value

    @model_validator(mode="after")
    def _fits(self) -> Invoice:
        check_money_size(self.computed_total, "the invoice's total")
        return self


def _total_of(fields: dict[str, Any]) -> Decimal | None:
    """The total an invoice's checked fields come to; None if one of them failed its check."""
    if "lines" not in fields or "discount" not in fields or "tax" not in fields:
        return None
    subtotal = lines_total(fields["lines"])
    discount = fields["discount"].of(subtotal) if fields["discount"] else Decimal("0.00")
    tax = fields["tax"].of(subtotal - discount) if fields["tax"] else Decimal("0.00")
    return subtotal - discount + tax
