"""``Payment``: money taken outside an invoice, a ``payment`` event's data.

Separate from ``Invoice``: a payment owes nothing and is checked only against its own lines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import ValidationInfo, field_validator

from hub.events.contact import Contact
from hub.events.pricing import Line, lines_total
from hub.events.strict import Strict
from hub.values import Currency, ExternalId, Instant, Money


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
        if value and amount is not None and lines_total(value) != amount:
            raise ValueError(f"add up to {lines_total(value)}, not the amount {amount}; send "
                             "lines that add up to the amount, or no lines")
        return value
