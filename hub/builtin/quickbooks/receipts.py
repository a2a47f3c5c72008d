"""Money taken outside an invoice (order forms, subscriptions, memberships, calendar
bookings) as QuickBooks sales receipts, for the customer found or created by email.

The lines are made as an invoice's are (invoice_body): outside the US each names the
company's 0 % tax code, since the amount taken is the whole price. In a multicurrency company a
receipt in a foreign currency goes to the contact's customer in that currency, at QuickBooks'
own rate for its date (``currencies``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub import Context
from hub.builtin.quickbooks import currencies, customers, links
from hub.builtin.quickbooks.api import Api, calling, quote
from hub.builtin.quickbooks.invoice_body import form_fields
from hub.builtin.quickbooks.items import item_refs
from hub.builtin.quickbooks.settings import Settings
from hub.builtin.quickbooks.taxes import TaxCodes
from hub.clock import utcnow
from hub.events import Line, Payment

KIND = "sales_receipt"
SOURCES = {"order_form": "order form", "subscription": "subscription payment",
           "membership": "membership checkout", "calendar": "calendar booking",
           "other": "payment"}


def _note_prefix(payment: Payment) -> str:
    return f"{SOURCES[payment.source]} {payment.external_id} ("


def _written_before(ctx: Context, api: Api, payment: Payment,
                    customer_id: str) -> dict[str, Any] | None:
    """A receipt an earlier attempt wrote but never linked, found by its note: a retry
    repeats its requestid, but how long Intuit remembers one is not documented, and money
    recorded twice is the one thing a receipt must never be. One query, only on a retry."""
    prefix = _note_prefix(payment)
    # The newest thousand of the customer's receipts: the earlier attempt was recent.
    recent = api.query("SalesReceipt", f"CustomerRef = {quote(customer_id)}",
                       "ORDERBY Id DESC MAXRESULTS 1000")
    held = [r for r in recent if str(r.get("PrivateNote") or "").startswith(prefix)]
    if not held:
        return None
    found = min(held, key=lambda r: int(r["Id"]))
    ctx.note(f"Sales receipt {found['Id']} was written by an earlier attempt: found by its "
             "note and linked")
    return found


def _body(ctx: Context, api: Api, payment: Payment) -> tuple[str, dict[str, Any]]:
    """The payment's customer (found or made) and its sales receipt as QuickBooks takes it;
    the note names the payment, so an unlinked receipt is found again by it."""
    settings = ctx.settings
    assert isinstance(settings, Settings)
    lines = payment.lines or [Line(item=settings.default_item, unit_price=payment.amount,
                                   description=SOURCES[payment.source].capitalize())]
    customer_id = customers.sync(ctx, api, payment.contact, currency=payment.currency)
    fields, _notes = form_fields(lines, None, None, api.company,
                                 item_refs(ctx, api, lines), payment.amount,
                                 TaxCodes(ctx, api))
    written = {"CustomerRef": {"value": customer_id}, **fields,
               "PrivateNote": f"{_note_prefix(payment)}{payment.method})"[:4000]}
    if payment.paid_at:
        written["TxnDate"] = payment.paid_at.date().isoformat()
    day = payment.paid_at.date() if payment.paid_at else utcnow().date()
    if email := payment.contact.email:
        written["BillEmail"] = {"Address": email}
    written.update(currencies.fields(ctx, api, payment.currency, day))
    return customer_id, written


def write(ctx: Context, api: Api, payment: Payment, *request: str) -> dict[str, Any]:
    """The payment's sales receipt written, or on a retry the one an earlier attempt wrote;
    ``request`` tells this write's requestid from an earlier one's (a receipt made again)."""
    customer_id, receipt = _body(ctx, api, payment)
    saved = _written_before(ctx, api, payment, customer_id) if ctx.tried_before() else None
    if saved is None:
        saved = api.create("SalesReceipt", receipt,
                           api.request_id("sales-receipt", payment.external_id, *request))
    return saved


def push(ctx: Context, payment: Payment) -> None:
    link = links.get(ctx, KIND, payment.external_id)
    if link:
        ctx.note(f"Sales receipt {link['qbo_id']} already recorded")
        return
    with calling(ctx) as api:
        saved = write(ctx, api, payment)
    links.put(ctx, KIND, payment.external_id, str(saved["Id"]),
              sync_token=str(saved.get("SyncToken")), digest=None)
    total = Decimal(str(saved.get("TotalAmt", 0)))
    ctx.note(f"Sales receipt {saved['Id']} of {total} recorded")
    if total != payment.amount:
        ctx.note(f"DRIFT: QuickBooks' total is {total}, the host's {payment.amount}; check the "
                 "tax codes in QuickBooks")
