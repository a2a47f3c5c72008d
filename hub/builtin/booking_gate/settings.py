"""The booking gate's settings, as the host contract names them (plus ``when_stale`` and
``currency``, which the contract leaves to each plugin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.events import Currency, Email, Money


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: Money = Field(
        Decimal("0.00"), description="the unpaid balance above which a new booking is refused")
    overdue_only: bool = Field(False, description="count only invoices past their due date "
                               "(less the client's unapplied credit)")
    exempt: list[Email] = Field(default_factory=list, description="emails never refused")
    when_stale: Literal["allow", "refuse"] = Field(
        "allow", description="what to answer when the balance cannot be trusted (QuickBooks "
        "not reached for a while, or no balance source at all): allow, so an outage never "
        "blocks bookings, or refuse until the books are current again; the answer says "
        "stale either way")
    currency: Currency | None = Field(
        None, description="the currency of the threshold, for the reason shown to clients "
        "(USD shows $130.00); empty: the books' currency, as the balance source says it; a "
        "balance in another currency than this one is not compared (treated as stale)")

    @field_validator("currency", mode="before")
    @classmethod
    def _empty_is_unknown(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
        return None if value == "" else value
