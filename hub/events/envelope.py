"""The envelope of ``POST /api/v1/events`` (``EventIn``), the table tying each event type to
its hook and value (``EVENT_TYPES``), and reading and writing an event's data.

Separate from the values themselves: this is the only part that knows the wire's event types,
and the values need not know which events carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.events.booking import Booking
from hub.events.contact import Contact
from hub.events.invoice import Invoice
from hub.events.payment import Payment
from hub.events.strict import Strict
from hub.values import ExternalId, Instant

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


@dataclass(frozen=True)
class HostStatement:
    """The host's latest event about one subject, as ``Context.last_stated`` answers it."""

    event_id: str
    """The event's id, as the host gave it."""
    event_type: str
    """Its type (``invoice.updated``, ``contact``...)."""
    occurred_at: datetime
    """When it happened at the host."""
    value: BaseModel
    """Its data, as the typed value its hook is handed (an ``Invoice``, a ``Contact``...)."""


def parse_data(event_type: str, data: dict[str, Any]) -> BaseModel:
    return EVENT_TYPES[event_type][1].model_validate(data)


def dump(value: BaseModel) -> dict[str, Any]:
    return value.model_dump(mode="json", exclude_none=True)
