"""Keeps customers, invoices and payments in step with QuickBooks Online."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from flask import Blueprint
from pydantic import BaseModel

from hub import Context, JobRegistrar, hookimpl
from hub.builtin.quickbooks import (
    api,
    billing,
    connection,
    customers,
    invoices,
    links,
    mirror,
    receipts,
    reconcile_fixes,
    sweep,
)
from hub.builtin.quickbooks.commands import add_commands
from hub.builtin.quickbooks.invoices import (  # noqa: F401  (hooks, registered from here)
    on_invoice_paid,
    on_invoice_sent,
    on_invoice_updated,
)
from hub.builtin.quickbooks.settings import Settings
from hub.builtin.quickbooks.undo import take_back
from hub.clock import iso, utcnow
from hub.errors import RetryLater, Skip
from hub.events import Balance, Booking, Contact, Payment
from hub.reports import Receivables
from hub.undo import Undo

TITLE = "QuickBooks"  # how the settings UI names this plugin
HUB_REQUIRES = ">=0.1,<1"
NEEDS: tuple[str, ...] = ()


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def migrations() -> Path:
    return Path(__file__).parent / "versions"


@hookimpl
def register_commands(cli: click.Group) -> None:
    add_commands(cli)


@hookimpl
def register_blueprints(register: Callable[[Blueprint], None]) -> None:
    from hub.builtin.quickbooks import views, webhooks

    register(views.bp)
    register(webhooks.bp)


@hookimpl
def ui_card(ctx: Context) -> str | None:
    from hub.builtin.quickbooks.views import card

    return card(ctx)


@hookimpl
def on_contact(contact: Contact, ctx: Context) -> None:
    with api.calling(ctx) as qbo:
        customers.sync(ctx, qbo, contact)


@hookimpl
def on_booking(booking: Booking, ctx: Context) -> None:
    settings = ctx.settings
    assert isinstance(settings, Settings)
    if booking.status != "cancelled":
        # A new client has a customer from her first booking, whatever the billing mode (the
        # scheduling seed: looked up by email, created if none), not only when billed.
        with api.calling(ctx) as qbo:
            customers.sync(ctx, qbo, booking.contact, None, booking.currency)
    if booking.status == "booked":
        ctx.note("nothing to bill until the booking is completed")
        return
    if booking.status == "completed":
        verdict = ctx.check_billing(booking)
        if not verdict.allowed:
            raise Skip(f"not billed: {verdict.reason}")
    if billing.mode(booking, settings) == "monthly":
        ctx.note(billing.record_session(ctx, booking))
        return
    if booking.status == "cancelled":
        ctx.note("cancelled: a per-session booking is billed only once completed")
        return
    invoices.push(ctx, billing.per_session_invoice(booking))


def close_months(ctx: Context) -> None:
    """On the 1st: bill the month just ended, and any earlier month a stopped hub missed."""
    settings = ctx.settings
    assert isinstance(settings, Settings)
    this_month = utcnow().strftime("%Y-%m")
    failed = []
    for month in billing.months_to_close(ctx, this_month):
        def shown(done: int, total: int, month: str = month) -> None:
            ctx.progress(done, total, f"{month}: clients billed")

        for result in billing.close_month(ctx, month, settings, shown):
            if result.error:
                failed.append(f"{result.client}: {result.error}")
            else:
                ctx.note(f"{month} {result.client}: {result.sessions} sessions billed")
    if failed:
        raise RetryLater("some monthly invoices could not be written: " + "; ".join(failed))


@hookimpl
def on_payment(payment: Payment, ctx: Context) -> None:
    receipts.push(ctx, payment)


@hookimpl
def on_undo(undo: Undo, ctx: Context) -> None:
    take_back(ctx, undo)


@hookimpl
def scheduled(register: JobRegistrar, settings: Settings) -> None:
    register("refresh-token", refresh_token, minutes=10,
             description="refresh the QuickBooks access token before it lapses (and daily)")
    register("sweep", sweep_changes, minutes=settings.poll_minutes,
             description="bring what changed in QuickBooks to the host")
    register("company-facts", company_facts, hours=24,
             description="read the company's currency, discount and tax settings again "
             "(also at once when QuickBooks says they changed)")
    register("close-month", close_months, cron="0 6 1 * *",
             description="bill monthly-billed sessions of the month just ended")
    register("reconcile-work", reconcile_fixes.work, hours=24,
             description="apply the reconcile fixes and checks asked for (Reconcile page, "
             "hub quickbooks reconcile --fix): at once when asked, and daily any that failed")
    if settings.reconcile_days:
        register("reconcile", reconcile_fixes.scheduled_check,
                 hours=24 * settings.reconcile_days,
                 description="compare the host with QuickBooks and tell the host a summary "
                 "(reconcile.summary)")


def company_facts(ctx: Context) -> None:
    state = connection.status(ctx)["status"]
    if state != "connected":
        raise Skip(f"QuickBooks is {state.replace('_', ' ')}: nothing to read")
    connection.refresh_company(ctx, force=True)
    ctx.note("company facts read again")


def sweep_changes(ctx: Context) -> None:
    state = connection.status(ctx)["status"]
    if state != "connected":
        raise Skip(f"QuickBooks is {state.replace('_', ' ')}: nothing to sweep")
    sweep.run(ctx)


@hookimpl
def describe_contact(external_id: str, ctx: Context) -> dict[str, Any] | None:
    link = links.get(ctx, "customer", external_id)
    if link is None:
        return None
    facts: dict[str, Any] = {"quickbooks_id": link["qbo_id"]}
    known = mirror.customer(ctx, link["qbo_id"])
    if known and known.get("email"):
        found = mirror.balances(ctx, known["email"])
        if found:
            facts.update(outstanding=f"{found['outstanding']:.2f}",
                         overdue=f"{found['overdue']:.2f}")
    return facts


@hookimpl
def customer_balance(email: str, ctx: Context) -> Balance | None:
    # The booking gate asks on every check: repeats are answered from memory for a moment
    # (mirror.remembered), forgotten whenever this process writes the mirror.
    return mirror.remembered(ctx, email, lambda: _balance(email, ctx))


def _connection_facts(ctx: Context) -> tuple[dict[str, Any] | None, str | None]:
    """The connection row and the books' home currency, read (and parsed) together."""
    current = connection.row(ctx)
    company = json.loads(current["company"] or "{}") if current else {}
    return current, company.get("home_currency")


def _balance(email: str, ctx: Context) -> Balance | None:
    found = mirror.balances(ctx, email)
    # Remembered a moment like the balances: every check asks.
    current, currency = mirror.remembered_connection(ctx, lambda: _connection_facts(ctx))
    settings = ctx.settings
    assert isinstance(settings, Settings)
    synced = current["last_sync_at"] if current else None
    # Stale when the last sweep is older than two sweep intervals, or QuickBooks is not
    # connected (nothing will bring the mirror up to date), or the mirror has never read the
    # company (just connected: the first import is under way).
    stale = (current is None or current["status"] != "connected" or synced is None
             or utcnow() - synced > timedelta(minutes=2 * settings.poll_minutes))
    if found is None:
        if not stale:
            return None  # the books, read lately, have never seen this client
        # Not known *yet*: "0.00, fresh" would let a client who owes money book.
        return Balance(outstanding=Decimal("0"), overdue=Decimal("0"), as_of=synced,
                       stale=True, source="quickbooks", currency=currency)
    # The mirror sums invoices in the company's home currency (multicurrency companies keep
    # a foreign customer's invoices in theirs: see mirror.balances).
    return Balance(outstanding=found["outstanding"], overdue=found["overdue"],
                   open_invoices=found["open_invoices"],
                   overdue_invoices=found["overdue_invoices"], as_of=synced, stale=stale,
                   source="quickbooks", currency=currency)


@hookimpl
def reencrypt(rotate: Callable[[str], str], ctx: Context) -> int:
    return connection.reencrypt(ctx, rotate)


@hookimpl
def receivables(ctx: Context) -> Receivables | None:
    current = connection.row(ctx)
    if current is None:
        return None
    report = mirror.receivables(ctx)
    report.as_of = current["last_sync_at"]
    return report


@hookimpl
def describe_invoice(external_id: str, ctx: Context) -> dict[str, Any] | None:
    link = links.get(ctx, "invoice", external_id)
    if link is None:
        return None
    facts: dict[str, Any] = {"quickbooks_id": link["qbo_id"],
                             "quickbooks_void": link["voided_at"] is not None}
    if link["deleted_at"] is not None:
        # Gone from QuickBooks (the host was told): nothing there is owed on it any more, and
        # the host's own figures stand until a reconcile fix makes it again.
        facts.update(quickbooks_deleted=True, quickbooks_seen_at=iso(link["deleted_at"]))
        return facts
    seen = mirror.invoice(ctx, link["qbo_id"])
    if seen is None:
        return facts  # not swept yet: the host's own figures stand
    # What QuickBooks holds as the last sweep saw it. ``balance`` is the link's, the balance
    # the host last knew: QuickBooks' once a sweep has told the host of a change made there,
    # the host's own while its payment waits for the next sweep to be seen.
    void = bool(seen["voided"]) or link["voided_at"] is not None
    qbo_balance = Decimal(seen["balance"])
    balance = qbo_balance if void or link["balance"] is None else Decimal(link["balance"])
    facts.update(quickbooks_void=void, quickbooks_balance=f"{qbo_balance:.2f}",
                 quickbooks_total=f"{Decimal(seen['total']):.2f}",
                 quickbooks_seen_at=iso(seen["updated_at"]), balance=f"{balance:.2f}")
    if void:
        facts.update(status="void", amount_paid="0.00")  # its payments stand as credit
    return facts


def refresh_token(ctx: Context) -> None:
    state = connection.status(ctx)["status"]
    if state != "connected":
        raise Skip(f"QuickBooks is {state.replace('_', ' ')}: nothing to refresh")
    outcome = connection.refresh(ctx)
    ctx.note({"refreshed": "access token refreshed", "fresh": "token still fresh",
              "busy": "another worker was refreshing",
              "refused": "Intuit refused the refresh: needs reconnect",
              "superseded": "the connection changed during the refresh: nothing written"}
             [outcome])
