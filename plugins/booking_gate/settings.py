"""The booking gate's settings, as the host contract names them."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from hub.events import Email, Money


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: Money = Field(
        Decimal("0.00"), description="the unpaid balance above which a new booking is refused")
    overdue_only: bool = Field(False, description="count only invoices past their due date")
    exempt: list[Email] = Field(default_factory=list, description="emails never refused")
