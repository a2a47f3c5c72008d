"""Bookings billed per session, or gathered into one monthly invoice per client.

Per session: a completed booking becomes an invoice at once ("1-Hour Math Tutoring - March 28,
2026"). Monthly (by client or by service, per the settings, unless the booking says): a completed
booking waits as a session; on the 1st (or ``hub billing close-month``) each client's sessions of
the month become one invoice, a line per session. A booking cancelled before billing drops out.
Closing a month again bills nothing twice: billed sessions are marked, and an invoice that was
written but not yet marked is found by its stable id instead of written again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from hub.clock import utcnow
from hub.context import Context
from hub.db import reading
from hub.errors import DeliveryError
from hub.events import Booking, Invoice, Line
from plugins.quickbooks import invoices
from plugins.quickbooks.models import QboBookingSession
from plugins.quickbooks.settings import Settings

if TYPE_CHECKING:
    from hub.hub import Hub

SESSIONS = QboBookingSession.__table__


def mode(booking: Booking, settings: Settings) -> str:
    if booking.billing:
        return booking.billing
    email = (booking.contact.email or "").strip().lower()
    if email and email in {e.strip().lower() for e in settings.monthly_clients}:
        return "monthly"
    if booking.service.casefold() in {s.casefold() for s in settings.monthly_services}:
        return "monthly"
    return settings.billing


def client_key(booking: Booking) -> str:
    email = (booking.contact.email or "").strip().lower()
    return email or f"contact:{booking.contact.external_id}"


def description(booking: Booking) -> str:
    minutes = booking.duration_minutes
    length = f"{minutes // 60}-Hour" if minutes % 60 == 0 else f"{minutes}-Minute"
    # The day as the client lived it: the booking's own time zone, not UTC.
    day = booking.start
    return f"{length} {booking.service} - {day:%B} {day.day}, {day.year}"


def session_line(booking: Booking) -> Line:
    """One line at the session's price (rate × duration, less its discount)."""
    return Line(item=booking.service, description=description(booking), quantity=Decimal(1),
                unit_price=booking.amount, service_date=booking.start.date())


def per_session_invoice(booking: Booking) -> Invoice:
    return Invoice(external_id=f"booking:{booking.external_id}", contact=booking.contact,
                   issue_date=booking.start.date(), currency=booking.currency,
                   lines=[session_line(booking)])


def record_session(hub: Hub, booking: Booking) -> str:
    """Keep a completed monthly booking for its month's invoice; cancel one not yet billed."""
    now = utcnow()
    month = booking.start.strftime("%Y-%m")

    def write(conn: Connection) -> str:
        found = conn.execute(select(SESSIONS.c.status).where(
            SESSIONS.c.booking_id == booking.external_id)).scalar()
        if found == "billed":
            return "already billed"
        if booking.status == "cancelled":
            if found is None:
                return "cancelled before it was completed: nothing to bill"
            conn.execute(update(SESSIONS).where(SESSIONS.c.booking_id == booking.external_id)
                         .values(status="cancelled", updated_at=now))
            return "cancelled before billing: dropped from the month's invoice"
        values = dict(client_key=client_key(booking), month=month, status="pending",
                      booking=booking.model_dump_json(), updated_at=now)
        if found is None:
            conn.execute(insert(SESSIONS).values(booking_id=booking.external_id, **values))
        else:
            conn.execute(update(SESSIONS).where(SESSIONS.c.booking_id == booking.external_id)
                         .values(**values))
        return f"kept for the {month} monthly invoice"

    return str(hub.write(write))


@dataclass
class Closed:
    client: str
    invoice_external_id: str
    sessions: int
    error: str | None = None


def _first_of_next(month: str) -> date:
    year, mon = (int(x) for x in month.split("-"))
    return date(year + (mon == 12), mon % 12 + 1, 1)


def close_month(hub: Hub, month: str, settings: Settings,
                progress: Callable[[int, int], None] | None = None) -> list[Closed]:
    """Bill every client's pending sessions of ``month``: one invoice each."""
    with reading(hub.engine) as conn:
        rows = conn.execute(select(SESSIONS).where(
            SESSIONS.c.month == month, SESSIONS.c.status == "pending")
            .order_by(SESSIONS.c.client_key, SESSIONS.c.booking_id)).mappings().all()
        earlier = conn.execute(select(SESSIONS.c.client_key, SESSIONS.c.invoice_external_id)
                               .where(SESSIONS.c.month == month,
                                      SESSIONS.c.invoice_external_id.is_not(None))).all()
    by_client: dict[str, list[Booking]] = defaultdict(list)
    for row in rows:
        by_client[row["client_key"]].append(Booking.model_validate_json(row["booking"]))
    used: dict[str, set[str]] = defaultdict(set)
    for key, invoice_id in earlier:
        used[key].add(invoice_id)
    results = []
    for key, sessions in by_client.items():
        sessions.sort(key=lambda b: b.start)
        # A second close of the same month (sessions completed late) makes a second invoice.
        number = len(used[key]) + 1
        external_id = f"monthly:{month}:{key}" + (f":{number}" if number > 1 else "")
        invoice = Invoice(external_id=external_id, contact=sessions[-1].contact,
                          issue_date=_first_of_next(month), currency=sessions[-1].currency,
                          lines=[session_line(b) for b in sessions])
        ctx = Context(hub=hub, plugin="quickbooks", source="billing", event_id=external_id,
                      event_type="billing.close-month", occurred_at=utcnow(),
                      settings=settings)
        try:
            invoices.push(ctx, invoice)
        except DeliveryError as exc:
            results.append(Closed(key, external_id, len(sessions), str(exc)))
            if progress:
                progress(len(results), len(by_client))
            continue
        ids = [b.external_id for b in sessions]
        hub.write(lambda conn, ids=ids, external_id=external_id: conn.execute(
            update(SESSIONS).where(SESSIONS.c.booking_id.in_(ids))
            .values(status="billed", invoice_external_id=external_id, updated_at=utcnow())))
        results.append(Closed(key, external_id, len(sessions)))
        if progress:
            progress(len(results), len(by_client))
    return results


def months_to_close(hub: Hub, before: str) -> list[str]:
    """Months earlier than ``before`` that still have sessions waiting (a missed 1st)."""
    with reading(hub.engine) as conn:
        found = conn.execute(select(SESSIONS.c.month).where(
            SESSIONS.c.status == "pending", SESSIONS.c.month < before).distinct()).scalars()
        return sorted(found)


def summary(results: list[Closed]) -> dict[str, Any]:
    return {"billed": [r.__dict__ for r in results if not r.error],
            "failed": [r.__dict__ for r in results if r.error]}


def as_json(results: list[Closed]) -> str:
    return json.dumps(summary(results), indent=2)
