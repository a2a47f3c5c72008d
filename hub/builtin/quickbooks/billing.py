"""Bookings billed per session, or gathered into one monthly invoice per client.

Per session: a completed booking becomes an invoice at once ("1-Hour Math Tutoring - March 28,
2026"). Monthly (by client or by service, per the settings, unless the booking says): a completed
booking waits as a session; on the 1st (or ``hub billing close-month``) each client's sessions of
the month become one invoice, a line per session. A booking cancelled before billing drops out.

The month's invoices go to QuickBooks 30 to a batch call (``invoice_batches``), each batch
recorded before it is sent and sent again as recorded if its answer was lost. Closing a month
again bills nothing twice: billed sessions are marked, sessions in a batch in flight are claimed
by it, and an invoice already linked whose sessions were never marked is not written again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from hub.builtin.quickbooks import batch, connection, customers, invoice_batches, invoices, links
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.invoice_batches import Closed, Planned
from hub.builtin.quickbooks.models import QboBookingSession
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.errors import DeliveryError
from hub.events import Booking, Invoice, Line

if TYPE_CHECKING:
    from hub import Context

SESSIONS = QboBookingSession.__table__  # type: ignore[attr-defined]


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
                   number=None, issue_date=booking.start.date(), currency=booking.currency,
                   lines=[session_line(booking)])


def record_session(ctx: Context, booking: Booking) -> str:
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

    return str(ctx.write(write))


def _first_of_next(month: str) -> date:
    year, mon = (int(x) for x in month.split("-"))
    return date(year + (mon == 12), mon % 12 + 1, 1)


def _waiting(ctx: Context, month: str) -> tuple[dict[str, list[Booking]], dict[str, set[str]]]:
    """The month's pending sessions no batch has claimed, by client; and the invoice ids each
    client already has for the month (a late session gets a second invoice)."""
    with ctx.reading() as conn:
        rows = conn.execute(select(SESSIONS).where(
            SESSIONS.c.month == month, SESSIONS.c.status == "pending",
            SESSIONS.c.invoice_external_id.is_(None))
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
    return by_client, used


def _external_id(month: str, key: str, number: int) -> str:
    return f"monthly:{month}:{key}" + (f":{number}" if number > 1 else "")


def _prepare(ctx: Context, month: str, settings: Settings, key: str, sessions: list[Booking],
             number: int) -> Planned | Closed:
    """The client's invoice for the batch: customer found or created (a linked customer costs
    no call), lines priced; or why it cannot be billed now."""
    sessions.sort(key=lambda b: b.start)
    external_id = _external_id(month, key, number)
    invoice = Invoice(external_id=external_id, contact=sessions[-1].contact,
                      number=None, issue_date=_first_of_next(month), currency=sessions[-1].currency,
                      lines=[session_line(b) for b in sessions])
    ids = [b.external_id for b in sessions]
    ctx = invoice_batches.context(ctx, settings, external_id)
    try:
        link = links.get(ctx, invoices.KIND, external_id)
        if link is not None:
            # In QuickBooks already, its sessions never marked (an earlier close died between
            # the two): mark them now rather than write it again.
            _mark_billed(ctx, ids, external_id)
            return Closed(key, external_id, len(sessions),
                          notes=[f"Invoice {link['qbo_id']} already in QuickBooks"])
        with calling(ctx) as api:
            invoices.billing_email(invoice)  # a clear error before any call
            customer_id = customers.sync(ctx, api, invoice.contact, invoice.billing_email,
                                         invoice.currency)
            wanted = invoices.body(ctx, api, invoice, customer_id)
    except DeliveryError as exc:
        return Closed(key, external_id, len(sessions), str(exc))
    return Planned(key, invoice, ids, wanted, ctx.notes)


def _mark_billed(ctx: Context, ids: list[str], external_id: str) -> None:
    ctx.write(lambda conn: conn.execute(
        update(SESSIONS).where(SESSIONS.c.booking_id.in_(ids))
        .values(status="billed", invoice_external_id=external_id, updated_at=utcnow())))


def _send_new(ctx: Context, settings: Settings, purpose: str,
              planned: list[Planned]) -> tuple[list[Closed], bool]:
    """Record a new batch, send it, record its answer; and whether it is settled."""
    current = connection.row(ctx)
    if current is None:
        return [Closed(p.client, p.invoice.external_id, len(p.bookings),
                       "QuickBooks is not connected") for p in planned], False
    try:
        row = invoice_batches.record(ctx, purpose, str(current["realm_id"]), planned,
                                     settings.send_invoices)
    except invoice_batches.Taken:
        return [Closed(p.client, p.invoice.external_id, len(p.bookings),
                       "not billed by this run: another close of the month is billing these "
                       "clients right now") for p in planned], True
    return invoice_batches.finish(ctx, settings, row, fresh=True)


def close_month(ctx: Context, month: str, settings: Settings,
                progress: Callable[[int, int], None] | None = None) -> list[Closed]:
    """Bill every client's pending sessions of ``month``: one invoice each, created 30 to a
    batch call. A batch of this month whose answer was lost is sent again first, exactly as
    recorded; new batches are planned only once every earlier one is settled."""
    purpose = f"close-month:{month}"
    earlier = invoice_batches.unfinished(ctx, purpose)
    by_client, used = _waiting(ctx, month)
    total = sum(len(json.loads(row["items"])) for row in earlier) + len(by_client)
    results: list[Closed] = []

    def add(found: list[Closed]) -> None:
        results.extend(found)
        if progress and found:
            progress(len(results), total)

    settled = True
    for row in earlier:
        found, done = invoice_batches.finish(ctx, settings, row)
        add(found)
        settled = settled and done
    planned: list[Planned] = []
    clients = list(by_client.items())
    while clients and settled:
        key, sessions = clients.pop(0)
        # A second close of the same month (sessions completed late) makes a second invoice.
        prepared = _prepare(ctx, month, settings, key, sessions, len(used[key]) + 1)
        if isinstance(prepared, Closed):
            add([prepared])
        else:
            planned.append(prepared)
        if planned and (len(planned) == batch.MAX_ITEMS or not clients):
            found, settled = _send_new(ctx, settings, purpose, planned)
            add(found)
            planned = []
    # A batch whose answer is unknown goes again, as it was, before any new one is planned.
    add([Closed(key, _external_id(month, key, len(used[key]) + 1), len(sessions),
                "not billed yet: a batch of this month is still unanswered; it is sent again "
                "first on the next close") for key, sessions in clients])
    return results


def months_to_close(ctx: Context, before: str) -> list[str]:
    """Months earlier than ``before`` that still have sessions waiting (a missed 1st), or a
    batch not yet settled (an answer lost, invoices not yet emailed)."""
    with ctx.reading() as conn:
        found = set(conn.execute(select(SESSIONS.c.month).where(
            SESSIONS.c.status == "pending", SESSIONS.c.month < before).distinct()).scalars())
    for row in invoice_batches.unfinished(ctx):
        month = str(row["purpose"]).removeprefix("close-month:")
        if row["purpose"].startswith("close-month:") and month < before:
            found.add(month)
    return sorted(found)


def summary(results: list[Closed]) -> dict[str, Any]:
    return {"billed": [r.__dict__ for r in results if not r.error],
            "failed": [r.__dict__ for r in results if r.error]}


def as_json(results: list[Closed]) -> str:
    return json.dumps(summary(results), indent=2)
