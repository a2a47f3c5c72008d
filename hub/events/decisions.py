"""What the host asks and plugins answer: a ``BookingCheck``, its ``Verdict``, a customer's
``Balance``, and the verdict as the API answers it.

Separate from the events: these are not stored and delivered but asked and answered at once
(``POST /api/v1/bookings/check``, a balance read from the books' mirror).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from hub.events.strict import Strict
from hub.values import Email, Text


class BookingCheck(Strict):
    """What ``POST /api/v1/bookings/check`` asks: may this client book?"""

    email: Email
    """The client's email."""
    service: Text | None = Field(None, max_length=100)
    """The service they want to book, if the host says."""


class Balance(BaseModel):
    """What a customer owes, as a plugin that keeps the books' mirror knows it."""

    outstanding: Decimal
    """The total unpaid on the customer's open invoices, less any credit the books hold for
    the customer (a payment not applied to an invoice)."""
    overdue: Decimal
    """The part of ``outstanding`` past its due date: what is past due less that credit
    (which pays the oldest invoices first), from zero to ``outstanding``."""
    open_invoices: int = 0
    """How many invoices are not fully paid."""
    overdue_invoices: int = 0
    """How many of them are past due with something still owing once that credit is taken."""
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
