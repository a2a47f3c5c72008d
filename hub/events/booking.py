"""``Booking``: a session booked with the host, a ``booking`` event's data, priced by the
hour.

Separate from ``Invoice`` and ``Payment``: it has no lines, only a rate and a duration.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import Field, model_validator

from hub.bounds import check_money_size
from hub.events.contact import Contact
from hub.events.pricing import Discount
from hub.events.strict import Strict
from hub.values import CENT, Currency, ExternalId, Instant, Money, Text


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
