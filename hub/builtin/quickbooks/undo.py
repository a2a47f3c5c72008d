"""Taking back what the hub wrote to QuickBooks for one subject, when the operator asks
(Activity's "Undo in QuickBooks", ``hub events undo ID``).

- An invoice's events (``invoice.sent``, ``.updated``, ``.paid``) all keep one QuickBooks
  invoice, as does a booking billed per session: undoing any of them deletes every payment the
  hub recorded for that invoice (applied to it, or standing as credit since an invoice of it
  was deleted in QuickBooks), then voids it. Intuit keeps a voided invoice (zeroed, with its
  number), so the books show what happened; a deleted payment would leave no trace, but it is
  the hub's own, and a void would leave it behind as unapplied credit.
- A ``payment`` event's sales receipt is voided.
- A ``contact`` event's customer is made inactive (Intuit has no deleting a customer), only if
  the hub created it and no transaction of any amount names it.

Nothing is written when QuickBooks has changed what the hub wrote since: a payment recorded by
hand on the invoice, an edit (a new ``SyncToken`` the hub's own writes do not explain), a
customer that was there before the hub linked it. The undo is then refused with the reason (a
``Skip``), and the operator decides in QuickBooks. Every check is made before the first write.
An undo repeated after a lost answer finds its work done and says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, select

from hub import Context
from hub.builtin.quickbooks import customers, faults, invoices, links, payments, receipts
from hub.builtin.quickbooks.api import Api, calling, quote
from hub.errors import Skip
from hub.undo import Undo

#: Transactions that name a customer, looked for before one is made inactive: those the hub
#: writes, and a payment recorded by hand.
USING_A_CUSTOMER = ("Invoice", "SalesReceipt", "Payment")


def take_back(ctx: Context, undo: Undo) -> None:
    if undo.event_source != "host":
        raise Skip(f"only what the host's events wrote can be undone; {undo.event_id} came "
                   f"from {undo.event_source}")
    kind, _, external_id = undo.subject.partition(":")
    if kind == "invoice" or (kind == "booking" and links.get(
            ctx, invoices.KIND, undo.subject) is not None):
        # A booking billed per session is invoiced as ``booking:<id>``, its subject's name.
        _invoice(ctx, external_id if kind == "invoice" else undo.subject)
    elif kind == "booking":
        raise Skip("this booking has no invoice of its own in QuickBooks (it is billed on a "
                   "monthly invoice with the month's other sessions, or not yet billed): "
                   "change that invoice in QuickBooks by hand")
    elif kind == "payment":
        _sales_receipt(ctx, external_id)
    elif kind == "contact":
        _customer(ctx, external_id)
    else:
        raise Skip(f"the QuickBooks plugin cannot take back a {undo.event_type} event")


# -- invoices --------------------------------------------------------------------------------
def _invoice(ctx: Context, external_id: str) -> None:
    link = links.get(ctx, invoices.KIND, external_id)
    if link is None:
        ctx.note("the hub wrote no invoice to QuickBooks for it: nothing to take back")
        return
    if link["origin"] == "qbo":
        raise Skip(f"Invoice {link['qbo_id']} was imported from QuickBooks, not written by the "
                   "hub: nothing of the hub's to take back")
    with calling(ctx) as api:
        held = None if link["voided_at"] is not None else _read(
            api, "Invoice", str(link["qbo_id"]))
        ours = payments.recorded(ctx, external_id)
        applied = [str(t.get("TxnId")) for t in (held or {}).get("LinkedTxn") or []
                   if t.get("TxnType") == "Payment"]
        by_hand = [p for p in applied if p not in {str(o["qbo_id"]) for o in ours}]
        if held is not None and by_hand:
            raise Skip(f"Payment {', '.join(by_hand)} on Invoice {held['Id']} was recorded in "
                       "QuickBooks, not by the hub: voiding the invoice would leave it "
                       "unapplied. Remove it in QuickBooks first, or keep the invoice")
        mine = [o for o in ours if str(o["qbo_id"]) in applied]
        if held is not None:
            _unchanged(held, link, "Invoice", _token_after(link, mine))
        found = payments.read(api, [str(o["qbo_id"]) for o in ours])
        recorded = [(o, found.get(str(o["qbo_id"]))) for o in ours]
        for own, payment in recorded:
            if payment is None:
                continue
            if str(payment["Id"]) in applied:
                _unchanged(payment, own, "Payment", links.token(own["sync_token"]))
            elif payments.invoices_paid(payment):
                # Left as credit when its invoice went, then applied elsewhere by hand.
                raise Skip(f"Payment {payment['Id']}, the hub's, was applied in QuickBooks to "
                           f"another invoice ({', '.join(payments.invoices_paid(payment))}): "
                           "take it back there by hand")
        # Every payment the hub recorded for the invoice goes, applied or left as credit (its
        # invoice deleted or voided in QuickBooks): a void alone would leave the money standing.
        owed = Decimal(str((held or {}).get("Balance", "0")))
        for own, payment in recorded:
            if payment is not None:
                api.operation("Payment", str(payment["Id"]), "delete",
                              api.request_id("payment-undo", str(payment["Id"]),
                                             str(payment["SyncToken"])),
                              sync_token=str(payment["SyncToken"]))
                ctx.note(f"Payment {payment['Id']} deleted")
                if held is not None and str(payment["Id"]) in applied:
                    # The invoice's version and balance moved with it: a sweep reading it
                    # before the void finds the hub's own change, not news for the host.
                    owed += _applied_to(payment, str(held["Id"]))
                    links.moved(ctx, invoices.KIND, external_id, balance=str(owed))
            payments.forget(ctx, str(own["external_id"]))
        if link["voided_at"] is not None:
            ctx.note(f"Invoice {link['qbo_id']} already void")
        elif held is None:
            ctx.note(f"Invoice {link['qbo_id']} was deleted in QuickBooks: no invoice to void")
        else:
            # Each deleted payment moved the invoice's version: the void reads it once more.
            invoices.void(ctx, api, {**link, "sync_token": None if mine else link["sync_token"]})


def _applied_to(payment: dict[str, Any], invoice_id: str) -> Decimal:
    """How much of ``payment`` is applied to the invoice ``invoice_id``."""
    return sum((Decimal(str(line.get("Amount", "0"))) for line in payment.get("Line") or []
                if any(t.get("TxnType") == "Invoice" and str(t.get("TxnId")) == invoice_id
                       for t in line.get("LinkedTxn") or [])), Decimal(0))


def _token_after(link: dict[str, Any], payments: list[dict[str, Any]]) -> str | None:
    """The invoice's SyncToken if only the hub wrote it: the one its last write was answered
    with, moved once by each payment the hub recorded on it afterwards (Intuit increments the
    version on every change, and applying a payment changes the invoice's balance)."""
    token = links.token(link["sync_token"])
    if token is None or not token.isdigit():
        return token
    # Links written before the hub moved the invoice's own token with each payment
    # (links.moved): the payments linked since its last write. Now the invoice's link is
    # written after each payment, so none is later than it.
    later = [p for p in payments if p["updated_at"] > link["updated_at"]]
    return str(int(token) + len(later))


# -- sales receipts --------------------------------------------------------------------------
def _sales_receipt(ctx: Context, external_id: str) -> None:
    link = links.get(ctx, receipts.KIND, external_id)
    if link is None:
        ctx.note("the hub recorded no sales receipt for it: nothing to take back")
        return
    with calling(ctx) as api:
        held = _read(api, "SalesReceipt", str(link["qbo_id"]))
        if held is not None and _zeroed(held):
            ctx.note(f"Sales receipt {held['Id']} already void")
        elif held is not None:
            _unchanged(held, link, "Sales receipt", links.token(link["sync_token"]))
            api.operation("SalesReceipt", str(held["Id"]), "void",
                          api.request_id("sales-receipt-undo", str(held["Id"]),
                                         str(held["SyncToken"])),
                          sync_token=str(held["SyncToken"]))
            ctx.note(f"Sales receipt {held['Id']} voided")
        else:
            ctx.note(f"Sales receipt {link['qbo_id']} was deleted in QuickBooks")
    _forget(ctx, receipts.KIND, external_id)


# -- customers -------------------------------------------------------------------------------
def _customer(ctx: Context, external_id: str) -> None:
    table = links.TABLE
    with ctx.reading() as conn:
        found = [dict(r) for r in conn.execute(select(table).where(
            table.c.kind == customers.KIND,
            (table.c.external_id == external_id)
            | table.c.external_id.startswith(external_id + customers.CURRENCY_MARK,
                                             autoescape=True))).mappings()]
    if not found:
        ctx.note("the hub linked no QuickBooks customer to it: nothing to take back")
        return
    with calling(ctx) as api:
        held: list[dict[str, Any]] = []
        for link in found:
            customer = _read(api, "Customer", str(link["qbo_id"]))
            if customer is None or not customer.get("Active", True):
                continue
            if link["origin"] == "qbo" or links.marker(link["external_id"]) not in str(
                    customer.get("Notes") or ""):
                raise Skip(f"Customer {customer['Id']} was in QuickBooks before the hub linked "
                           "it, so the hub did not create it: it is left as it is")
            _unchanged(customer, link, "Customer", links.token(link["sync_token"]))
            for entity in USING_A_CUSTOMER:
                used = api.query(entity, f"CustomerRef = {quote(str(customer['Id']))}",
                                 "MAXRESULTS 1000")
                if any(not _zeroed(t) for t in used):
                    raise Skip(f"Customer {customer['Id']} is used by a {entity} in QuickBooks; "
                               "undo that first (or void it there), then undo the contact")
            held.append(customer)
        for customer in held:
            api.update("Customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"],
                                    "sparse": True, "Active": False},
                       api.request_id("customer-undo", str(customer["Id"]),
                                      str(customer["SyncToken"])))
            ctx.note(f"Customer {customer['Id']} made inactive")
    if not held:
        ctx.note("its customer was already inactive or gone in QuickBooks")
    for link in found:
        # A later sync finds the inactive customer by email and makes it active again.
        _forget(ctx, customers.KIND, str(link["external_id"]))


# -- shared ----------------------------------------------------------------------------------
def _read(api: Api, entity: str, qbo_id: str) -> dict[str, Any] | None:
    """The object as QuickBooks holds it now; None when it was deleted (fault 610)."""
    try:
        return api.read(entity, qbo_id)
    except faults.Fault as exc:
        if exc.code == "610":
            return None
        raise


def _unchanged(held: dict[str, Any], link: dict[str, Any], what: str,
               expected: str | None) -> None:
    """Refuses unless QuickBooks holds the version the hub's own writes leave."""
    now = str(held.get("SyncToken"))
    if expected is None:
        raise Skip(f"{what} {held['Id']} was linked by a sweep or a marker, so the hub does "
                   "not know which version it wrote and cannot tell whether it was changed "
                   "by hand: take it back in QuickBooks")
    if now != expected:
        raise Skip(f"{what} {held['Id']} was changed in QuickBooks since the hub wrote it "
                   f"(version {expected} then, {now} now): undo it there by hand; "
                   "`hub quickbooks reconcile` shows how it differs from the host")


def _zeroed(transaction: dict[str, Any]) -> bool:
    """A void transaction: Intuit keeps it, its amounts zeroed."""
    return Decimal(str(transaction.get("TotalAmt", "0"))) == 0


def _forget(ctx: Context, kind: str, external_id: str) -> None:
    table = links.TABLE

    def write(conn: Connection) -> None:
        conn.execute(delete(table).where(table.c.kind == kind,
                                         table.c.external_id == external_id))
    ctx.write(write)
