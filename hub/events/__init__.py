"""The typed values a host sends: Contact, Invoice, Payment, Booking; and the answers of
decisions and balances: BookingCheck, Verdict, Balance.

Plugins receive these, never raw JSON. Their fields are of the kinds in ``hub.values`` (money
as ``Decimal`` parsed from a string, bounded text, dates and instants as the contract writes
them), which are importable from here too.
"""

from __future__ import annotations

# Each value has a module of its own (hub/events/contact.py, pricing.py, invoice.py, payment.py,
# booking.py, decisions.py; the wire's envelope in envelope.py); plugins, the docs and the
# reference (hub/plugins/reference.py, which prints this docstring) import them from here.
from hub.events.booking import Booking
from hub.events.contact import Address, Contact
from hub.events.decisions import Balance, BookingCheck, Verdict, money_text, verdict_view
from hub.events.envelope import (
    EVENT_TYPES,
    EventIn,
    EventType,
    HostStatement,
    dump,
    parse_data,
)
from hub.events.invoice import Invoice, InvoiceStatus
from hub.events.payment import Payment
from hub.events.pricing import Discount, Line, Tax
from hub.events.strict import Strict
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

__all__ = [
    "CENT", "EVENT_TYPES", "Address", "Balance", "Booking", "BookingCheck", "Contact",
    "Currency", "Day", "Discount", "Email", "EventIn", "EventType", "ExternalId",
    "HostStatement", "Instant", "Invoice", "InvoiceStatus", "Line", "LongText", "Money",
    "Payment", "Percent", "Quantity",
    "Strict", "Tax", "Text", "Verdict", "dump", "money_text", "parse_data", "verdict_view",
]
