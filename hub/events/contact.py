"""Who a host's event is about: ``Contact`` and its ``Address``.

Separate because every other value (an invoice, a payment, a booking) holds a contact, and a
``contact`` event is one on its own.
"""

from __future__ import annotations

from pydantic import Field

from hub.events.strict import Strict
from hub.values import Email, ExternalId, Text


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
