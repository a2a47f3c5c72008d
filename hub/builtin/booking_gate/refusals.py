"""Recording refused bookings, and telling the host, in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from hub import Context
from hub.builtin.booking_gate.models import BookingGateRefusal
from hub.clock import utcnow
from hub.events import Booking, Verdict, dump

REFUSALS = BookingGateRefusal.__table__  # type: ignore[attr-defined]


def _money(value: Any) -> str | None:
    return None if value is None else f"{value:.2f}"


def message(booking: Booking, verdict: Verdict) -> dict[str, Any]:
    """``booking.refused``'s data: the booking as sent, and the gate's answer in the same
    shape as ``POST /api/v1/bookings/check``."""
    return {"booking": dump(booking), "allowed": False, "reason": verdict.reason,
            "balance": _money(verdict.balance), "threshold": _money(verdict.threshold),
            "stale": verdict.stale}


def refuse(ctx: Context, booking: Booking, verdict: Verdict) -> bool:
    """Record the refusal and queue ``booking.refused`` for the host; True when newly refused.

    Both happen in one write, so a worker killed in between leaves neither and the retry does
    both; the message's key is the booking's id, so the host hears of a booking once however
    often it is replayed or re-sent.
    """
    def write(conn: Connection) -> bool:
        now = utcnow()
        row = conn.execute(select(REFUSALS.c.lifted_at).where(
            REFUSALS.c.external_id == booking.external_id)).first()
        values = dict(email=(booking.contact.email or "").strip().lower(),
                      reason=verdict.reason or "", balance=_money(verdict.balance),
                      threshold=_money(verdict.threshold) or "0.00", stale=verdict.stale,
                      event_id=ctx.event_id)
        if row is None:
            conn.execute(insert(REFUSALS).values(external_id=booking.external_id,
                                                 refused_at=now, **values))
        elif row.lifted_at is not None:
            conn.execute(update(REFUSALS).where(REFUSALS.c.external_id == booking.external_id)
                         .values(refused_at=now, lifted_at=None, **values))
        else:
            return False
        ctx.notify_host("booking.refused", message(booking, verdict),
                        key=booking.external_id, conn=conn)
        return True

    return bool(ctx.write(write))


def lift(ctx: Context, external_id: str) -> bool:
    """The booking was sent again and now passes: its refusal no longer stands."""
    def write(conn: Connection) -> int:
        return int(conn.execute(
            update(REFUSALS).where(REFUSALS.c.external_id == external_id,
                                   REFUSALS.c.lifted_at.is_(None))
            .values(lifted_at=utcnow())).rowcount)

    return bool(ctx.write(write))


def refusal(ctx: Context, external_id: str) -> dict[str, Any] | None:
    """The refusal recorded for a host booking, standing or lifted, or None."""
    with ctx.reading() as conn:
        row = conn.execute(select(REFUSALS).where(
            REFUSALS.c.external_id == external_id)).mappings().first()
    return dict(row) if row else None
