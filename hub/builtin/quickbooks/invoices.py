"""Host invoices as QuickBooks invoices: created when sent, kept in step, voided, paid.

Payments are settled against QuickBooks' own balance for the invoice: the hub pays the
difference between what QuickBooks says is owed and what the host says is owed. A retry after a
lost answer therefore finds nothing left to pay, and a payment recorded by hand in QuickBooks
is never paid a second time.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from hub import Context, hookimpl
from hub.builtin.quickbooks import (
    currencies,
    customers,
    faults,
    links,
    marked_invoices,
    payments,
)
from hub.builtin.quickbooks.api import Api, calling
from hub.builtin.quickbooks.invoice_body import form_fields
from hub.builtin.quickbooks.items import item_refs
from hub.builtin.quickbooks.settings import Settings
from hub.builtin.quickbooks.taxes import TaxCodes
from hub.clock import utcnow
from hub.errors import NeedsOperator, Skip
from hub.events import Invoice

KIND = "invoice"


def billing_email(invoice: Invoice) -> str:
    email = invoice.billing_email or invoice.contact.email
    if not email:
        raise NeedsOperator(
            f"set the client's email before sending the invoice: invoice "
            f"{invoice.number or invoice.external_id} has no billing_email and "
            f"{invoice.contact.name} has no email")
    return email


def body(ctx: Context, api: Api, invoice: Invoice, customer_id: str) -> dict[str, Any]:
    settings = ctx.settings
    fields, notes = form_fields(invoice.lines, invoice.discount, invoice.tax, api.company,
                                item_refs(ctx, api, invoice.lines), invoice.computed_total,
                                TaxCodes(ctx, api), settings.us_sales_tax
                                if isinstance(settings, Settings) else "in_prices")
    out: dict[str, Any] = {
        "CustomerRef": {"value": customer_id}, **fields,
        "TxnDate": invoice.issue_date.isoformat(),
        "BillEmail": {"Address": billing_email(invoice)},
    }
    if invoice.number:
        out["DocNumber"] = invoice.number
    if invoice.due_date:
        out["DueDate"] = invoice.due_date.isoformat()
    out.update(currencies.fields(ctx, api, invoice.currency, invoice.issue_date))
    out["PrivateNote"] = " ".join([links.marker(invoice.external_id), *notes])[:4000]
    return out


def digest(value: dict[str, Any]) -> str:
    """What a link remembers of the body written: an unchanged invoice is not written again."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def wants_sending(ctx: Context) -> bool:
    settings = ctx.settings
    return isinstance(settings, Settings) and settings.send_invoices


def send(ctx: Context, api: Api, qbo_id: str) -> None:
    """Have QuickBooks email a created invoice to the customer (its own call, never batched:
    the batch endpoint has no send operation)."""
    api.operation("Invoice", qbo_id, "send", api.request_id("invoice-send", qbo_id))
    ctx.note("QuickBooks emailed it to the customer")


def remember(ctx: Context, invoice: Invoice, saved: dict[str, Any], written: str) -> None:
    """Link the host invoice to what QuickBooks saved, and say so if QuickBooks' total differs.

    The balance the host knows is kept: a sweep that finds QuickBooks showing another one tells
    the host; our own payments leave them equal, so they are never echoed back. An invoice
    still to be paid (``settle``) keeps QuickBooks' balance until it is: a sweep reading it in
    between sees nothing to tell."""
    links.put(ctx, KIND, invoice.external_id, str(saved["Id"]),
              sync_token=str(saved.get("SyncToken")), digest=written,
              balance=str(saved.get("Balance", invoice.balance)) if invoice.paid > 0
              else str(invoice.balance))
    total = Decimal(str(saved.get("TotalAmt", "0")))
    if total != invoice.computed_total:
        ctx.note(f"DRIFT: QuickBooks' total is {total}, the host's "
                 f"{invoice.computed_total}; check tax settings in QuickBooks")


def push(ctx: Context, invoice: Invoice) -> None:
    """Bring QuickBooks in line with the host's invoice: create, update, void, settle."""
    with calling(ctx) as api:
        link = links.get(ctx, KIND, invoice.external_id)
        if link and link["origin"] == "qbo":
            raise Skip("this invoice was imported from QuickBooks; changes made in the host "
                       "are not pushed back")
        if invoice.status == "void":
            void(ctx, api, link)
            return
        billing_email(invoice)  # a clear error before any call
        customer_id = customers.sync(ctx, api, invoice.contact, invoice.billing_email,
                                     invoice.currency)
        wanted = body(ctx, api, invoice, customer_id)
        written = digest(wanted)
        if link is None and ctx.tried_before():
            link = _written_before(ctx, api, invoice, customer_id)
        if link is not None and link.get("voided_at") is not None:
            # The hub voided it (the host said void, or the operator undid it) and the host now
            # says it stands. Intuit refuses any change to a voided invoice and keeps it in the
            # books, so the host's invoice gets a new one; its requestid names the voided one,
            # or Intuit could answer with the first create's result.
            saved = _create(ctx, api, invoice, wanted, written, after=str(link["qbo_id"]))
            ctx.note(f"(Invoice {link['qbo_id']}, voided by the hub, stays void in QuickBooks)")
        elif link is None:
            saved = _create(ctx, api, invoice, wanted, written)
            if wants_sending(ctx):
                send(ctx, api, str(saved["Id"]))
        elif link["digest"] != written:
            saved = _update(ctx, api, link, wanted)
            ctx.note(f"Invoice {saved['Id']} updated")
        elif invoice.paid > 0:
            # QuickBooks' balance now, not the mirror's: a payment recorded there since the last
            # sweep would otherwise be paid a second time.
            saved = api.read("Invoice", str(link["qbo_id"]))
        else:
            ctx.note(f"Invoice {link['qbo_id']} already up to date")
            return
        remember(ctx, invoice, saved, written)
        if invoice.paid > 0:
            settle(ctx, api, invoice, saved, customer_id)
            # The host's balance, and a link written after the payment links settle wrote:
            # undo counts payments linked later than the invoice's link as moves its
            # SyncToken does not show yet (links from before ``links.moved``).
            links.set_balance(ctx, KIND, invoice.external_id, str(invoice.balance))


def _written_before(ctx: Context, api: Api, invoice: Invoice,
                    customer_id: str) -> dict[str, Any] | None:
    """An invoice an earlier attempt created but never linked (the process died between the
    answer and the link; or the answer was lost and the delivery parked), found by its marker.

    A retry repeats its requestid and Intuit answers it as the first time, but for how long it
    remembers a requestid is not documented, and a later event for the invoice has another:
    without this look, either would create it twice. One query, and only when an attempt came
    before: the first event of an invoice costs nothing more."""
    wanted = marked_invoices.Wanted(invoice.external_id, customer_id, txn_date="")
    held = marked_invoices.find(api, [wanted]).get(invoice.external_id)
    if held is None:
        return None
    ctx.note(f"Invoice {held['Id']} was created by an earlier attempt: found by its marker "
             "and linked")
    # The digest of what it holds is unknown: an update brings it to what is wanted now.
    return {"qbo_id": str(held["Id"]), "sync_token": str(held.get("SyncToken")), "digest": None,
            "external_id": invoice.external_id, "origin": "hub"}


def _create(ctx: Context, api: Api, invoice: Invoice, wanted: dict[str, Any],
            written: str, after: str = "") -> dict[str, Any]:
    """Create the invoice; a refusal is believed only once QuickBooks is seen not to hold it.

    A retry after a lost answer repeats the requestid, and Intuit documents that it is answered
    as the first time; but a replay answered with a fault has been reported, and giving up then
    leaves the invoice unlinked, so the host's next change of it would create a second one."""
    try:
        saved = api.create("Invoice", wanted,
                           api.request_id("invoice-create", invoice.external_id, written,
                                          *((f"after {after}",) if after else ())))
    except faults.Fault as exc:
        found = marked_invoices.find(api, [marked_invoices.wanted(invoice.external_id, wanted)])
        if invoice.external_id not in found:
            raise
        saved = found[invoice.external_id]
        ctx.note(f"QuickBooks answered the create with a fault (code {exc.code or '-'}) but "
                 f"holds the invoice: Invoice {saved['Id']} found by its marker and linked")
        return saved
    ctx.note(f"Invoice {saved['Id']} (#{saved.get('DocNumber', '-')}) created")
    return saved


def _update(ctx: Context, api: Api, link: dict[str, Any],
            wanted: dict[str, Any]) -> dict[str, Any]:
    current = {"Id": link["qbo_id"], "SyncToken": links.token(link["sync_token"])}
    if current["SyncToken"] is None:  # linked by a sweep or a marker: its token is unknown
        current = api.read("Invoice", str(current["Id"]))
    for attempt in range(3):
        # A sparse update replaces the whole Line list, which is what we send.
        payload = {**wanted, "Id": current["Id"], "SyncToken": current["SyncToken"],
                   "sparse": True}
        try:
            return api.update("Invoice", payload, api.request_id(
                "invoice-update", str(current["Id"]), str(current["SyncToken"]),
                digest(wanted)))
        except faults.Fault as exc:
            if not links.stale_token(exc) or attempt == 2:
                raise
            current = api.read("Invoice", str(current["Id"]))  # changed meanwhile: re-read
    raise AssertionError("unreachable")


def void(ctx: Context, api: Api, link: dict[str, Any] | None) -> None:
    if link is None:
        ctx.note("voided before it reached QuickBooks: nothing to void")
        return
    if link.get("voided_at") is not None:
        ctx.note(f"Invoice {link['qbo_id']} already void")
        return
    # The link's SyncToken serves (reads are metered); a stale or unknown one costs one read.
    token = links.token(link["sync_token"])
    current = ({"Id": str(link["qbo_id"]), "SyncToken": token} if token
               else api.read("Invoice", str(link["qbo_id"])))
    for attempt in range(2):
        try:
            api.operation("Invoice", str(current["Id"]), "void",
                          api.request_id("invoice-void", str(current["Id"]),
                                         str(current["SyncToken"])),
                          sync_token=str(current["SyncToken"]))
            break
        except faults.Fault as exc:
            held = api.read("Invoice", str(current["Id"]))
            if Decimal(str(held.get("TotalAmt", "1"))) == 0:
                break  # voided already (a retry after a lost answer): QuickBooks shows it zeroed
            if not links.stale_token(exc) or attempt == 1:
                raise
            current = held  # changed in QuickBooks since it was linked: void this version
    links.mark_voided(ctx, KIND, str(link["external_id"]))
    ctx.note(f"Invoice {current['Id']} voided")


def settle(ctx: Context, api: Api, invoice: Invoice, saved: dict[str, Any],
           customer_id: str) -> None:
    """Record a payment for what QuickBooks still shows owed beyond the host's balance."""
    owed_in_qbo = Decimal(str(saved.get("Balance", "0")))
    owed_in_host = invoice.balance
    to_pay = owed_in_qbo - owed_in_host
    if to_pay <= 0:
        if to_pay < 0:
            ctx.note(f"QuickBooks shows {owed_in_qbo} owed, less than the host's "
                     f"{owed_in_host}: left as it is")
        return
    # The hub's own payment left as credit (its invoice deleted and made again, or it was
    # taken off the invoice by hand) is the same money: applied again, never paid twice.
    moved = payments.apply_again(ctx, api, invoice.external_id, saved, to_pay)
    if moved:
        to_pay -= moved
        if to_pay <= 0:
            return
        saved = api.read("Invoice", str(saved["Id"]))  # its balance and version moved
        owed_in_qbo = Decimal(str(saved.get("Balance", "0")))
    today = utcnow().date()
    # Said before the write: a sweep that reads the invoice paid finds it as the hub left it,
    # and one that reads it unpaid finds a version older than the hub's. A failed write is
    # retried through push, which links the invoice as QuickBooks then holds it.
    links.moved(ctx, KIND, invoice.external_id, balance=str(owed_in_host))
    payment = api.create("Payment", {
        "CustomerRef": {"value": customer_id}, "TotalAmt": str(to_pay),
        "TxnDate": today.isoformat(),
        # In the invoice's currency, at QuickBooks' rate of the day (not Intuit's default 1).
        **currencies.fields(ctx, api, invoice.currency, today),
        "Line": [{"Amount": str(to_pay),
                  "LinkedTxn": [{"TxnId": str(saved["Id"]), "TxnType": "Invoice"}]}],
    # The invoice's SyncToken is in it: a payment deleted in QuickBooks that brings the same
    # balances back changes the invoice's version, so the new payment is not answered with the
    # deleted one's first answer. A retry after a lost answer reads the invoice again and finds
    # it paid (its version moved), so it pays nothing twice.
    }, api.request_id("payment", str(saved["Id"]), str(saved.get("SyncToken")), str(owed_in_qbo),
                      str(owed_in_host)))
    key = f"{invoice.external_id}@{owed_in_host}"
    earlier = links.get(ctx, payments.KIND, key)
    if earlier is not None and str(earlier["qbo_id"]) != str(payment["Id"]):
        key += f"#{payment['Id']}"  # the earlier one still stands: both stay the hub's
    links.put(ctx, payments.KIND, key, str(payment["Id"]),
              sync_token=str(payment.get("SyncToken")), digest=None)
    ctx.note(f"Payment {payment['Id']} of {to_pay} recorded on invoice {saved['Id']}")


# The invoice hooks live with the work they do, so an invoice's path goes from the hub's
# dispatch straight here; the plugin's __init__ imports them, which is what registers them.
@hookimpl
def on_invoice_sent(invoice: Invoice, ctx: Context) -> None:
    on_invoice(ctx, invoice)


@hookimpl
def on_invoice_updated(invoice: Invoice, ctx: Context) -> None:
    on_invoice(ctx, invoice)


@hookimpl
def on_invoice_paid(invoice: Invoice, ctx: Context) -> None:
    # Created first if it never was (the invoicing seed's path: paid is the first we hear).
    on_invoice(ctx, invoice)


def on_invoice(ctx: Context, invoice: Invoice) -> None:
    if ctx.source == "quickbooks":
        return  # what QuickBooks told us is never written back to it
    if ctx.superseded():
        # A parked older event retried after a newer one was applied: writing it would put
        # the invoice back as it was.
        raise Skip("a newer event for this invoice was already applied in QuickBooks")
    push(ctx, invoice)
