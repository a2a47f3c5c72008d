"""The typed values a host sends: Contact, Invoice, Payment, Booking.

Plugins receive these, never raw JSON. Their fields are of the kinds in ``hub.values`` (money
as ``Decimal`` parsed from a string, bounded text, dates and instants as the contract writes
them), which are importable from here too.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hub.bounds import check_money_size
from hub.values import (
    CENT,
    Currency,
    Day,
    Email,
    ExternalId,
    Instant,
    LongText,
    Money,
    Percent,
    Quantity,
    Text,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Address(Strict):
    line1: Text | None = Field(None, max_length=500)
    line2: Text | None = Field(None, max_length=500)
    city: Text | None = Field(None, max_length=255)
    region: Text | None = Field(None, max_length=255)
    postal_code: Text | None = Field(None, max_length=30)
    country: Text | None = Field(None, max_length=255)


class Contact(Strict):
    external_id: ExternalId
    name: Text = Field(min_length=1, max_length=500, description="QuickBooks' DisplayName")
    email: Email | None = None
    phone: Text | None = Field(None, max_length=30)
    company: Text | None = Field(None, max_length=500)
    address: Address | None = None


class Line(Strict):
    item: Text = Field(min_length=1, max_length=100, description="product or service name")
    description: LongText | None = Field(None, max_length=4000)
    quantity: Quantity = Decimal("1")
    unit_price: Money
    service_date: Day | None = None

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, ROUND_HALF_UP)

    @model_validator(mode="after")
    def _fits(self) -> Line:
        # Checked here, so that no sum of lines can outgrow the decimal context.
        check_money_size(self.amount, "quantity × unit_price")
        return self


class Discount(Strict):
    percent: Percent | None = None
    amount: Money | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Discount:
        if (self.percent is None) == (self.amount is None):
            raise ValueError('give exactly one of "percent" or "amount"')
        return self

    def of(self, subtotal: Decimal) -> Decimal:
        if self.amount is not None:
            return self.amount
        assert self.percent is not None
        return (subtotal * self.percent / 100).quantize(CENT, ROUND_HALF_UP)


class Tax(Strict):
    rate_percent: Percent | None = None
    amount: Money | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Tax:
        if (self.rate_percent is None) == (self.amount is None):
            raise ValueError('give exactly one of "rate_percent" or "amount"')
        return self

    def of(self, taxable: Decimal) -> Decimal:
        if self.amount is not None:
            return self.amount
        assert self.rate_percent is not None
        return (taxable * self.rate_percent / 100).quantize(CENT, ROUND_HALF_UP)


InvoiceStatus = Literal["sent", "paid", "partially_paid", "void"]


class Invoice(Strict):
    external_id: ExternalId
    number: Text | None = Field(None, max_length=21, description="QuickBooks DocNumber allows 21")
    contact: Contact
    status: InvoiceStatus = "sent"
    issue_date: Day
    due_date: Day | None = None
    currency: Currency | None = None
    billing_email: Email | None = None
    lines: list[Line] = Field(min_length=1)
    discount: Discount | None = None
    tax: Tax | None = None
    total: Money | None = None
    amount_paid: Money | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def discount_amount(self) -> Decimal:
        return self.discount.of(self.subtotal) if self.discount else Decimal("0.00")

    @property
    def tax_amount(self) -> Decimal:
        # Tax applies after the discount, as QuickBooks does by default.
        taxable = self.subtotal - self.discount_amount
        return self.tax.of(taxable) if self.tax else Decimal("0.00")

    @property
    def computed_total(self) -> Decimal:
        return self.subtotal - self.discount_amount + self.tax_amount

    @property
    def paid(self) -> Decimal:
        if self.amount_paid is not None:
            return self.amount_paid
        return self.computed_total if self.status == "paid" else Decimal("0.00")

    @property
    def balance(self) -> Decimal:
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
            subtotal = _subtotal(info.data["lines"])
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


def _subtotal(lines: list[Line]) -> Decimal:
    return sum((line.amount for line in lines), Decimal("0.00"))


def _total_of(fields: dict[str, Any]) -> Decimal | None:
    """The total an invoice's checked fields come to; None if one of them failed its check."""
    if "lines" not in fields or "discount" not in fields or "tax" not in fields:
        return None
    subtotal = _subtotal(fields["lines"])
    discount = fields["discount"].of(subtotal) if fields["discount"] else Decimal("0.00")
    tax = fields["tax"].of(subtotal - discount) if fields["tax"] else Decimal("0.00")
    return subtotal - discount + tax


class Payment(Strict):
    external_id: ExternalId
    contact: Contact
    amount: Money
    currency: Currency | None = None
    paid_at: Instant | None = None
    method: Literal["card", "ach", "cash", "check", "other"] = "other"
    source: Literal["order_form", "subscription", "membership", "calendar", "other"] = "other"
    lines: list[Line] | None = None

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value

    @field_validator("lines")
    @classmethod
    def _add_up(cls, value: list[Line] | None, info: ValidationInfo) -> list[Line] | None:
        amount = info.data.get("amount")
        if value and amount is not None and _subtotal(value) != amount:
            raise ValueError(f"add up to {_subtotal(value)}, not the amount {amount}; send "
                             "lines that add up to the amount, or no lines")
        return value


class Booking(Strict):
    external_id: ExternalId
    contact: Contact
    service: Text = Field(min_length=1, max_length=100)
    start: Instant
    # strict: a JSON whole number, as the contract says; not true (1) nor "60".
    duration_minutes: int = Field(gt=0, le=24 * 60, strict=True)
    rate: Money = Field(description="per hour")
    discount: Discount | None = None
    currency: Currency | None = None
    status: Literal["booked", "completed", "cancelled"] = "booked"
    billing: Literal["per_session", "monthly"] | None = None

    @property
    def gross(self) -> Decimal:
        return (self.rate * self.duration_minutes / 60).quantize(CENT, ROUND_HALF_UP)

    @model_validator(mode="after")
    def _fits(self) -> Booking:
        check_money_size(self.gross, "rate × duration")
        return self

    @property
    def amount(self) -> Decimal:
        return self.gross - (self.discount.of(self.gross) if self.discount else Decimal("0"))


class BookingCheck(Strict):
    """What ``POST /api/v1/bookings/check`` asks: may this client book?"""

    email: Email
    service: Text | None = Field(None, max_length=100)


class Balance(BaseModel):
    """What a customer owes, as a plugin that keeps the books' mirror knows it."""

    outstanding: Decimal
    overdue: Decimal
    open_invoices: int = 0
    overdue_invoices: int = 0
    as_of: datetime | None = None
    stale: bool = False  # older than its source's refresh interval, or the source unreachable
    source: str = ""
    currency: str | None = None  # ISO 4217 code of the amounts; None when the source can't say


class Verdict(BaseModel):
    """A decision plugin's answer to a :class:`BookingCheck`."""

    allowed: bool
    reason: str | None = None
    balance: Decimal | None = None
    threshold: Decimal | None = None
    stale: bool = False


def money_text(value: Decimal | None) -> str | None:
    """Money as the API answers it: a two-place decimal string."""
    return None if value is None else f"{value:.2f}"


def verdict_view(verdict: Verdict) -> dict[str, Any]:
    """A verdict as ``POST /api/v1/bookings/check`` answers it."""
    return {"allowed": verdict.allowed, "reason": verdict.reason,
            "balance": money_text(verdict.balance),
            "threshold": money_text(verdict.threshold), "stale": verdict.stale}


# Event type -> (hook name, data model). The one table that ties the wire to the hooks.
EVENT_TYPES: dict[str, tuple[str, type[BaseModel]]] = {
    "contact": ("on_contact", Contact),
    "payment": ("on_payment", Payment),
    "invoice.sent": ("on_invoice_sent", Invoice),
    "invoice.updated": ("on_invoice_updated", Invoice),
    "invoice.paid": ("on_invoice_paid", Invoice),
    "booking": ("on_booking", Booking),
}

EventType = Literal[
    "contact", "payment", "invoice.sent", "invoice.updated", "invoice.paid", "booking"
]


class EventIn(Strict):
    """The envelope of ``POST /api/v1/events``; ``data`` is checked against the type's model."""

    id: ExternalId = Field(description="the host's idempotency key")
    type: EventType
    occurred_at: Instant
    data: dict[str, Any]


def parse_data(event_type: str, data: dict[str, Any]) -> BaseModel:
    return EVENT_TYPES[event_type][1].model_validate(data)


def dump(value: BaseModel) -> dict[str, Any]:
    return value.model_dump(mode="json", exclude_none=True)


