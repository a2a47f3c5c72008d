"""The booking gate's table: the bookings it refused, one row per host booking."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel


class BookingGateRefusal(SQLModel, table=True):
    """A ``booking`` event (status ``booked``) the gate refused.

    Keyed by the host's booking id, so a replayed or re-sent booking is recorded once. Money is
    kept as the decimal string the host was told, never a float. ``lifted_at`` is set when the
    same booking is sent again and now passes (the client paid), so whoever consults the
    refusal later sees that it no longer stands.
    """

    __tablename__ = "booking_gate_refusal"

    external_id: str = Field(primary_key=True, max_length=255)
    email: str = Field(max_length=254, index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    balance: str | None = Field(default=None, max_length=30)
    threshold: str = Field(max_length=30)
    stale: bool = Field(default=False)
    event_id: str = Field(max_length=255)  # the event that was refused, for the operator
    refused_at: datetime = Field(sa_type=DateTime())
    lifted_at: datetime | None = Field(default=None, sa_type=DateTime())
