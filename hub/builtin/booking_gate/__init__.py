"""Refuses new bookings for a client whose unpaid balance exceeds the operator's threshold."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from hub import Context, hookimpl
from hub.builtin.booking_gate import refusals, rules
from hub.builtin.booking_gate.settings import Settings
from hub.events import Booking, BookingCheck, Verdict

# The hubs it works with, and the plugins it needs (none: any plugin answering
# customer_balance will do).
HUB_REQUIRES = ">=0.1,<1"
NEEDS: tuple[str, ...] = ()

# Off until the operator picks a threshold: the default (0.00) would refuse anyone who owes.
ENABLED_BY_DEFAULT = False


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def migrations() -> Path:
    return Path(__file__).parent / "versions"


def verdict_for(email: str, ctx: Context) -> Verdict:
    """The gate's answer from local data only: whichever plugin keeps the books' mirror
    answers ``customer_balance`` without calling out."""
    settings = ctx.settings
    assert isinstance(settings, Settings)
    balance = ctx.customer_balance(email)
    # None means "client unknown" when some source is on; with none on, nothing can know.
    available = balance is not None or bool(ctx.plugins_with("customer_balance"))
    return rules.decide(email, balance, settings, source_available=available)


@hookimpl
def check_booking(check: BookingCheck, ctx: Context) -> Verdict:
    return verdict_for(check.email, ctx)


@hookimpl
def check_billing(booking: Booking, ctx: Context) -> Verdict | None:
    """A booking this gate refused, and whose refusal stands, is never billed."""
    found = refusals.refusal(ctx, booking.external_id)
    if found is None or found["lifted_at"] is not None:
        return None
    return Verdict(allowed=False, reason=f"the booking gate refused this booking: "
                   f"{found['reason']}")


@hookimpl
def on_booking(booking: Booking, ctx: Context) -> None:
    # Only a new booking is gated: a session that happened (completed) is billed whatever the
    # balance, and a cancellation needs no permission.
    if booking.status != "booked":
        ctx.note(f"booking {booking.external_id} is {booking.status}: not gated")
        return
    email = booking.contact.email
    if not email:
        ctx.note(f"booking {booking.external_id} has no client email: not gated")
        return
    verdict = verdict_for(email, ctx)
    if verdict.allowed:
        # Say so when it passed only because the balance could not be trusted (when_stale).
        how = "allowed (balance stale)" if verdict.stale else "allowed"
        if refusals.lift(ctx, booking.external_id):
            ctx.note(f"booking {booking.external_id} now {how}; its earlier refusal lifted")
        else:
            ctx.note(f"booking {booking.external_id} {how}")
        return
    if refusals.refuse(ctx, booking, verdict):
        ctx.note(f"booking {booking.external_id} refused: {verdict.reason}")
    else:
        ctx.note(f"booking {booking.external_id} already refused: {verdict.reason}")
