"""The payments the hub recorded on a host invoice, as QuickBooks holds them now.

Each is linked as ``payment`` ``<invoice external_id>@<host balance then>``. When its invoice
is deleted in QuickBooks, or someone takes it off the invoice by hand, Intuit keeps the payment
as unapplied credit on the customer ("the payment stays on your books"). Money the hub
recorded once is never recorded twice: before paying what QuickBooks shows owed, the hub's own
standing payments are applied to the invoice again (a sparse Payment update), and only what
they do not cover is paid anew.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, select

from hub import Context
from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.api import Api, quote
from hub.errors import Skip

KIND = "payment"


def recorded(ctx: Context, external_id: str) -> list[dict[str, Any]]:
    """The payment links the hub recorded for this invoice (``<external_id>@<balance>``)."""
    table = links.TABLE
    with ctx.reading() as conn:
        rows = conn.execute(select(table).where(
            table.c.kind == KIND,
            table.c.external_id.startswith(f"{external_id}@", autoescape=True))).mappings()
        return [dict(r) for r in rows]


def invoices_paid(payment: dict[str, Any]) -> list[str]:
    """The invoices a payment is applied to, as QuickBooks holds it."""
    return [str(t.get("TxnId")) for line in payment.get("Line") or []
            for t in line.get("LinkedTxn") or [] if t.get("TxnType") == "Invoice"]


def unapplied(payment: dict[str, Any]) -> Decimal:
    return Decimal(str(payment.get("UnappliedAmt") or "0"))


def read(api: Api, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The payments of these ids QuickBooks still holds, in one query (a deleted one is not
    answered)."""
    if not ids:
        return {}
    found = api.query("Payment", f"Id IN ({', '.join(quote(i) for i in ids)})",
                      f"MAXRESULTS {len(ids)}")
    return {str(p["Id"]): p for p in found}


def standing(ctx: Context, api: Api, external_id: str,
             invoice: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The hub's payments for this invoice not applied to it, with credit left (link, payment).
    Costs a query only when the hub recorded a payment the invoice does not list."""
    on_it = {str(t.get("TxnId")) for t in invoice.get("LinkedTxn") or []
             if t.get("TxnType") == "Payment"}
    ours = [o for o in recorded(ctx, external_id) if str(o["qbo_id"]) not in on_it]
    held = read(api, [str(o["qbo_id"]) for o in ours])
    return [(o, held[str(o["qbo_id"])]) for o in ours
            if str(o["qbo_id"]) in held and unapplied(held[str(o["qbo_id"])]) > 0]


def apply_again(ctx: Context, api: Api, external_id: str, invoice: dict[str, Any],
                wanted: Decimal) -> Decimal:
    """Apply the hub's standing payments to ``invoice``, up to ``wanted``; how much was applied.

    A payment of another customer (the invoice moved to a customer it was merged into) is left
    for the operator: Intuit applies a payment only to its own customer's invoices."""
    moved = Decimal(0)
    customer = str((invoice.get("CustomerRef") or {}).get("value"))
    for own, payment in standing(ctx, api, external_id, invoice):
        if moved >= wanted:
            break
        if str((payment.get("CustomerRef") or {}).get("value")) != customer:
            ctx.note(f"Payment {payment['Id']}, the hub's, stands unapplied on another customer "
                     "and is left as it is")
            continue
        amount = min(unapplied(payment), wanted - moved)
        # A sparse update replaces the whole Line list: the lines it keeps, then the new one.
        lines = [*(payment.get("Line") or []), {
            "Amount": str(amount),
            "LinkedTxn": [{"TxnId": str(invoice["Id"]), "TxnType": "Invoice"}]}]
        # The invoice's version moves with it, said before the write (invoices.settle).
        links.moved(ctx, "invoice", external_id,
                    balance=str(Decimal(str(invoice.get("Balance", "0"))) - moved - amount))
        # Its SyncToken is in the requestid: a retry after a lost answer reads it again, finds
        # it applied (its version moved) and applies nothing twice.
        saved = api.update("Payment", {
            "Id": str(payment["Id"]), "SyncToken": str(payment["SyncToken"]), "sparse": True,
            "Line": lines}, api.request_id("payment-apply-again", str(payment["Id"]),
                                           str(payment["SyncToken"]), str(invoice["Id"])))
        links.put(ctx, KIND, str(own["external_id"]), str(saved["Id"]),
                  sync_token=str(saved.get("SyncToken")), digest=None)
        moved += amount
        ctx.note(f"Payment {saved['Id']}, the hub's, standing unapplied, applied to invoice "
                 f"{invoice['Id']} for {amount} (no second payment recorded)")
    return moved


def forget(ctx: Context, key: str) -> None:
    """The link of a payment the hub deleted (``<external_id>@<balance>``)."""
    table = links.TABLE

    def write(conn: Connection) -> None:
        conn.execute(delete(table).where(table.c.kind == KIND, table.c.external_id == key))
    ctx.write(write)


def delete_left_over(ctx: Context, api: Api, external_id: str,
                     checked: list[dict[str, str]]) -> list[str]:
    """Delete the hub's payments for this invoice that a reconcile found applied to nothing
    (``checked``: their ids and the versions seen), each only while QuickBooks still holds that
    version; what was done, in words."""
    ours = {str(o["qbo_id"]): o for o in recorded(ctx, external_id)}
    held = read(api, [p["id"] for p in checked])
    said = []
    for seen in checked:
        ident, now = seen["id"], held.get(seen["id"])
        if ident not in ours:
            raise Skip(f"Payment {ident} is not one the hub recorded: it is left as it is")
        if now is None:
            said.append(f"Payment {ident} is gone from QuickBooks already")
        elif str(now.get("SyncToken")) != seen["sync_token"] or invoices_paid(now):
            raise Skip(f"Payment {ident} was changed in QuickBooks since the check (applied, "
                       "or edited): check again")
        else:
            api.operation("Payment", ident, "delete",
                          api.request_id("payment-left-over", ident, seen["sync_token"]),
                          sync_token=seen["sync_token"])
            said.append(f"Payment {ident} of {now.get('TotalAmt')}, the hub's, applied to "
                        "nothing, deleted")
        forget(ctx, str(ours[ident]["external_id"]))
    return said
