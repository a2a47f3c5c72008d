"""The typed values a host sends: Contact, Invoice, Payment, Booking; and the answers of
decisions and balances: BookingCheck, Verdict, Balance.

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
    """A postal address; every part optional."""

    line1: Text | None = Field(None, max_length=500)
    """First street line."""
    line2: Text | None = Field(None, max_length=500)
    """Second street line (suite, floor)."""
    city: Text | None = Field(None, max_length=255)
    """City or town."""
    region: Text | None = Field(None, max_length=255)
    """State, province or region."""
    postal_code: Text | None = Field(None, max_length=30)
    """ZIP or postal code."""
    country: Text | None = Field(None, max_length=255)
    """Country, as the host writes it."""


class Contact(Strict):
    """A customer of the host's: a ``contact`` event's data, and part of every invoice, payment and
    booking."""

    external_id: ExternalId
    """The host's id of the contact, stable across its changes."""
    name: Text = Field(min_length=1, max_length=500, description="QuickBooks' DisplayName")
    """The name shown everywhere (QuickBooks' DisplayName)."""
    email: Email | None = None
    """The contact's email, if known."""
    phone: Text | None = Field(None, max_length=30)
    """A phone number, as the host writes it."""
    company: Text | None = Field(None, max_length=500)
    """The contact's company."""
    address: Address | None = None
    """The billing address."""


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
    """Money taken outside an invoice: a ``payment`` event's data."""

    external_id: ExternalId
    """The host's id of the payment."""
    contact: Contact
    """Who paid."""
    amount: Money
    """How much was paid; more than zero."""
    currency: Currency | None = None
    """ISO 4217 code of the amount; ``None`` for the books' home currency."""
    paid_at: Instant | None = None
    """When the money was taken."""
    method: Literal["card", "ach", "cash", "check", "other"] = "other"
    """``"card"``, ``"ach"``, ``"cash"``, ``"check"`` or ``"other"``."""
    source: Literal["order_form", "subscription", "membership", "calendar", "other"] = "other"
    """What the payment was for: ``"order_form"``, ``"subscription"``, ``"membership"``,
    ``"calendar"`` or ``"other"``."""
    lines: list[Line] | None = None
    """What was bought, when the host says; the lines add up to ``amount``."""

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
    """A session booked with the host: a ``booking`` event's data."""

    external_id: ExternalId
    """The host's id of the booking."""
    contact: Contact
    """The client booked."""
    service: Text = Field(min_length=1, max_length=100)
    """The service booked, by name."""
    start: Instant
    """When the session starts."""
    # strict: a JSON whole number, as the contract says; not true (1) nor "60".
    duration_minutes: int = Field(gt=0, le=24 * 60, strict=True)
    """How long it lasts: a whole number of minutes, 1 to 1440."""
    rate: Money = Field(description="per hour")
    """The price per hour; :attr:`gross` is rate × duration."""
    discount: Discount | None = None
    """A discount off :attr:`gross`."""
    currency: Currency | None = None
    """ISO 4217 code of the rate; ``None`` for the books' home currency."""
    status: Literal["booked", "completed", "cancelled"] = "booked"
    """``"booked"``, ``"completed"`` or ``"cancelled"``."""
    billing: Literal["per_session", "monthly"] | None = None
    """``"per_session"`` (billed when completed) or ``"monthly"`` (gathered into a monthly invoice);
    ``None`` leaves it to the billing plugin's settings."""

    @property
    def gross(self) -> Decimal:
        """rate × duration in hours, rounded to the cent."""
        return (self.rate * self.duration_minutes / 60).quantize(CENT, ROUND_HALF_UP)

    @model_validator(mode="after")
    def _fits(self) -> Booking:
        check_money_size(self.gross, "rate × duration")
        return self

    @property
    def amount(self) -> Decimal:
        """What the session costs: :attr:`gross` less the discount."""
        return self.gross - (self.discount.of(self.gross) if self.discount else Decimal("0"))


class BookingCheck(Strict):
    """What ``POST /api/v1/bookings/check`` asks: may this client book?"""

    email: Email
    """The client's email."""
    service: Text | None = Field(None, max_length=100)
    """The service they want to book, if the host says."""


class Balance(BaseModel):
    """What a customer owes, as a plugin that keeps the books' mirror knows it."""

    outstanding: Decimal
    """The total unpaid on the customer's open invoices."""
    overdue: Decimal
    """The part of ``outstanding`` past its due date."""
    open_invoices: int = 0
    """How many invoices are not fully paid."""
    overdue_invoices: int = 0
    """How many of them are past due."""
    as_of: datetime | None = None
    """When the answering plugin's data was last refreshed."""
    stale: bool = False  # older than its source's refresh interval, or the source unreachable
    """The data is older than its source's refresh interval, or the source is unreachable."""
    source: str = ""
    """The plugin that answered."""
    currency: str | None = None  # ISO 4217 code of the amounts; None when the source can't say
    """ISO 4217 code of the amounts; ``None`` when the source cannot say."""


class Verdict(BaseModel):
    """A decision plugin's answer to a :class:`BookingCheck`."""

    allowed: bool
    """Whether the booking (or the billing) may go ahead."""
    reason: str | None = None
    """Why not, in words the client or operator can act on."""
    balance: Decimal | None = None
    """The balance the decision was made on, if one was."""
    threshold: Decimal | None = None
    """The limit it was held to, if one was."""
    stale: bool = False
    """The decision rests on data older than it should be."""


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
    """The host's idempotency key: the same id is accepted once."""
    type: EventType
    """The event type: one of ``EVENT_TYPES``."""
    occurred_at: Instant
    """When it happened at the host."""
    data: dict[str, Any]
    """The event's value, checked against its type's model."""


def parse_data(event_type: str, data: dict[str, Any]) -> BaseModel:
    return EVENT_TYPES[event_type][1].model_validate(data)


def dump(value: BaseModel) -> dict[str, Any]:
    return value.model_dump(mode="json", exclude_none=True)


