"""Asking a customer for a review, once: on their first fully paid invoice, and a test send.

Who the customer is: their normalized email, ``billing_email`` if the invoice has one (that is
the address the invoice went to, so the request goes there too), else the contact's ``email``,
trimmed and lowercased. Email and not ``external_id``, because the same customer reaches us
from the host (``c-12``) and from QuickBooks (``qbo:58``) and email is what both share; it is
also how the QuickBooks sync matches customers. Lowercasing the local part is not what RFC 5321
promises, but every mailbox provider in use ignores case there, and asking one person twice is
the failure users complain about. The cost: a customer whose invoices go to two different
addresses counts as two customers.

Exactly once, step by step:

1. Nothing is sent for a partly paid or void invoice, without an address, or without
   ``review_url`` (Skip, with the reason).
2. A quick read: if another delivery already holds this customer, Skip without touching SMTP
   (and if this very delivery sent and marked it before it stopped, finish without sending).
3. Connect and log in to the mail server (down: RetryLater, nothing reserved yet).
4. Reserve the customer in one transaction (insert on the unique customer key). Only the
   delivery that wins the row may send; any other delivery (a second invoice, the same payment
   seen again from QuickBooks, a replay under another event id, a second worker) Skips.
5. Send, with a Message-ID derived from ``ctx.request_id`` so every attempt of this delivery
   sends the same id, then at once mark the row sent and queue ``review.requested`` for the host
   in one transaction.

The honest gap: if the process dies after the server accepted the message (step 5) and before
the row is marked sent, the *same* delivery's next attempt sends again. The window is from the
server's 250 to one local commit, milliseconds; the repeat carries the same Message-ID, so
receivers that deduplicate on it (Gmail does) show one message. The other way to lose the
guarantee is an attempt that outlives its lease (5 minutes, renewed by the worker's heartbeat)
while another worker runs the same delivery; the SMTP timeout of 30 s keeps attempts far
shorter. A different delivery never sends, whatever happens.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub import Context
from hub.builtin.review_requests import mailer, models
from hub.builtin.review_requests.settings import Settings, fill
from hub.clock import iso, utcnow
from hub.errors import NeedsOperator, RetryLater, Skip
from hub.events import Email, Invoice

PLUGIN = "review_requests"
MESSAGE_TYPE = "review.requested"
NO_SMTP = ("HUB_SMTP_URL is not set, so review requests cannot be mailed: set it (e.g. "
           "smtp://user:pass@mail.example.com:587?starttls=1), restart the hub, then retry "
           "this delivery")


def customer_key(invoice: Invoice) -> str | None:
    """The customer's identity for "once per customer" (see the module's docstring)."""
    email = invoice.billing_email or invoice.contact.email
    return email.strip().lower() if email and email.strip() else None


def _label(invoice: Invoice) -> str:
    return invoice.number or invoice.external_id


def _check_invoice(invoice: Invoice) -> str:
    """The address to write to, or Skip saying why this invoice asks for nothing."""
    if invoice.status == "void":
        raise Skip(f"invoice {_label(invoice)} is void")
    if invoice.paid <= 0:
        raise Skip(f"invoice {_label(invoice)} has nothing paid on it (total "
                   f"{invoice.computed_total})")
    if invoice.balance != 0:
        raise Skip(f"invoice {_label(invoice)} is not fully paid (balance {invoice.balance}); "
                   "a review is requested on a fully paid invoice")
    email = invoice.billing_email or invoice.contact.email
    if not email:
        raise Skip(f"invoice {_label(invoice)} has no billing_email and its contact no email, "
                   "so there is nobody to ask for a review")
    return email.strip()


def _already(request: models.Request) -> Skip:
    when = iso(request.sent_at or request.reserved_at)
    invoice = request.invoice_number or request.invoice_external_id
    if request.status == "sent":
        return Skip(f"{request.customer} was already asked for a review on {when} (invoice "
                    f"{invoice}); a customer is asked once")
    return Skip(f"a review request to {request.customer} is already under way for invoice "
                f"{invoice} (event {request.event_id}); a customer is asked once")


def _settings(value: Any) -> Settings:
    return value if isinstance(value, Settings) else Settings()


def request_review(invoice: Invoice, ctx: Context) -> None:
    """The ``on_invoice_paid`` work: see the module's docstring for the steps."""
    to_email = _check_invoice(invoice)
    customer = customer_key(invoice)
    assert customer is not None
    settings = _settings(ctx.settings)
    if settings.review_url is None:
        raise Skip("review_url is not set, so no review request is sent: set it with "
                   "`hub plugins set review_requests review_url=https://...`")
    config = ctx.config
    if not config.smtp_url:
        raise NeedsOperator(NO_SMTP)
    try:
        server = mailer.parse_smtp_url(config.smtp_url)
    except mailer.MailError as exc:
        raise NeedsOperator(str(exc)) from None

    with ctx.reading() as conn:
        held = models.find(conn, customer)
    if held is not None and _settled(held, ctx, invoice, to_email, settings):
        return

    wanted = models.Request(
        customer=customer, status="sending", delivery_key=ctx.idempotency_key,
        source=ctx.source, event_id=ctx.event_id, invoice_external_id=invoice.external_id,
        invoice_number=invoice.number,
        message_id=f"<{ctx.request_id('review-request')}@{mailer.domain_of(config.mail_from)}>",
        reserved_at=utcnow(), sent_at=None,
    )
    message_data = _message_data(invoice, to_email, settings, wanted)
    try:
        with mailer.session(server) as smtp:
            held = ctx.write(lambda conn: models.reserve(conn, wanted))
            if _settled(held, ctx, invoice, to_email, settings):
                return
            mailer.send(smtp, server, _compose(invoice, to_email, settings, wanted.message_id,
                                               config.mail_from))
            ctx.write(lambda conn: _mark_sent(conn, ctx, customer, message_data))
    except mailer.MailDown as exc:
        raise RetryLater(str(exc)) from None
    except mailer.MailRefused as exc:
        raise NeedsOperator(str(exc)) from None
    ctx.note(f"review request sent to {to_email} for invoice {_label(invoice)} "
             f"(Message-ID {wanted.message_id})")


def _settled(held: models.Request, ctx: Context, invoice: Invoice, to_email: str,
             settings: Settings) -> bool:
    """Skip if another delivery holds the customer; True if this one has sent already."""
    if held.delivery_key != ctx.idempotency_key:
        raise _already(held)
    if held.status != "sent":
        return False  # ours, not yet known to be accepted: (re)send under the same Message-ID
    # This delivery sent and marked it, then stopped before the hub recorded it done. The host
    # was told in the same transaction as the mark; asking again is a no-op under the same key.
    data = {**_message_data(invoice, to_email, settings, held),
            "sent_at": iso(held.sent_at or held.reserved_at)}
    ctx.notify_host(MESSAGE_TYPE, data, key=held.customer)
    ctx.note(f"review request to {to_email} was already sent by this delivery")
    return True


def _values(invoice: Invoice, settings: Settings) -> dict[str, str]:
    return {"name": invoice.contact.name, "review_url": str(settings.review_url),
            "invoice_number": _label(invoice)}


def _compose(invoice: Invoice, to_email: str, settings: Settings, message_id: str,
             mail_from: str) -> EmailMessage:
    values = _values(invoice, settings)
    return mailer.compose(mail_from=mail_from, to_email=to_email, to_name=invoice.contact.name,
                          subject=fill(settings.subject, values),
                          body=fill(settings.body, values), message_id=message_id)


def _message_data(invoice: Invoice, to_email: str, settings: Settings,
                  request: models.Request) -> dict[str, Any]:
    """What the host is told in ``review.requested``."""
    return {
        "email": to_email,
        "name": invoice.contact.name,
        "contact": {"external_id": invoice.contact.external_id},
        "invoice": {"external_id": invoice.external_id, "number": invoice.number},
        "review_url": str(settings.review_url),
        "message_id": request.message_id,
        "paid_via": request.source,
    }


def _mark_sent(conn: Any, ctx: Context, customer: str, data: dict[str, Any]) -> None:
    now = utcnow()
    models.mark_sent(conn, customer, ctx.idempotency_key, now)
    # In the same transaction as the mark: the host hears of every request sent, exactly once
    # per customer (the key), and never of one that was not.
    ctx.notify_host(MESSAGE_TYPE, {**data, "sent_at": iso(now)}, key=customer,
                    conn=conn)


def send_test(ctx: Context, to_email: str) -> str:
    """Send the configured message, filled with sample values, to ``to_email`` now.

    For the operator's "send a test" button and ``hub review-requests test``. Records nothing
    and is never deduplicated. Returns what happened; raises ``mailer.MailError`` (its message
    names the fix) when the mail cannot go.
    """
    try:
        address = TypeAdapter(Email).validate_python(to_email)
    except ValidationError:
        raise mailer.MailRefused(f"{to_email!r} is not an email address") from None
    if not ctx.config.smtp_url:
        raise mailer.MailRefused(NO_SMTP.split(", restart")[0])
    server = mailer.parse_smtp_url(ctx.config.smtp_url)
    settings = _settings(ctx.settings)
    link = str(settings.review_url) if settings.review_url else "https://example.com/review"
    values = {"name": "Test Customer", "review_url": link, "invoice_number": "TEST-0001"}
    message_id = make_msgid("review-test", domain=mailer.domain_of(ctx.config.mail_from))
    message = mailer.compose(mail_from=ctx.config.mail_from, to_email=address,
                             to_name="Test Customer",
                             subject="[test] " + fill(settings.subject, values),
                             body=fill(settings.body, values), message_id=message_id)
    with mailer.session(server) as smtp:
        mailer.send(smtp, server, message)
    said = f"sent a test review request to {address} through {server.where}"
    if settings.review_url is None:
        said += ("; review_url is not set, so customers are not asked yet (the test used "
                 f"{link})")
    elif not ctx.enabled:
        said += "; the plugin is disabled, so customers are not asked"
    return said
