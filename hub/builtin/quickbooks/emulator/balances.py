"""How payments and invoices hold each other's balances.

An invoice's Balance is its TotalAmt less what payments apply to it (kept in the private
`_applied`, with the paying payments in `_payments`); a customer's Balance is its open
invoice balances less its payments' unapplied amounts. Applying a payment changes the invoice
too (new SyncToken and LastUpdatedTime, so it shows in CDC and webhooks), as in QuickBooks.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import faults
from .arithmetic import money, number, out, ref_value
from .context import Ctx
from .entities import home_amounts
from .store import editable, stamp_updated, table


def applications(payment: dict[str, Any]) -> list[tuple[str, Decimal]]:
    result = []
    for line in payment.get("Line") or []:
        amount = number(line.get("Amount"), "Line.Amount") or Decimal(0)
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") == "Invoice":
                result.append((str(link.get("TxnId")), amount))
    return result


def unapply(ctx: Ctx, payment: dict[str, Any]) -> None:
    for invoice_id, amount in applications(payment):
        invoice = editable(ctx.company, "Invoice", invoice_id)
        if invoice is None:
            continue
        invoice["_applied"] = out(money(Decimal(str(invoice.get("_applied", 0))) - amount))
        invoice["_payments"] = [p for p in invoice.get("_payments", []) if p != payment["Id"]]
        settle_invoice(ctx, invoice)


def apply(ctx: Ctx, payment: dict[str, Any]) -> None:
    customer_id = ref_value(payment.get("CustomerRef"))
    for invoice_id, amount in applications(payment):
        invoice = editable(ctx.company, "Invoice", invoice_id)
        if invoice is None:
            raise faults.invalid_reference("Line.LinkedTxn.TxnId", invoice_id)
        if invoice.get("_voided"):
            raise faults.business(
                f"Invoice {invoice_id} has been voided; payments can't be applied."
            )
        if ref_value(invoice.get("CustomerRef")) != customer_id:
            raise faults.business(f"Invoice {invoice_id} belongs to another customer.")
        if amount > Decimal(str(invoice["Balance"])):
            raise faults.business(
                f"The payment amount {out(amount)} exceeds the open balance "
                f"{invoice['Balance']} of invoice {invoice_id}."
            )
        invoice["_applied"] = out(money(Decimal(str(invoice.get("_applied", 0))) + amount))
        invoice.setdefault("_payments", []).append(payment["Id"])
        settle_invoice(ctx, invoice)


def settle_invoice(ctx: Ctx, invoice: dict[str, Any]) -> None:
    total = Decimal(str(invoice["TotalAmt"]))
    invoice["Balance"] = out(money(total - Decimal(str(invoice.get("_applied", 0)))))
    home_amounts(invoice)
    invoice["LinkedTxn"] = [
        {"TxnId": p, "TxnType": "Payment"} for p in invoice.get("_payments", [])
    ]
    stamp_updated(invoice)
    ctx.note("Invoice", invoice, "Update")


def detach_payments(ctx: Ctx, invoice: dict[str, Any]) -> None:
    """Voiding or deleting an invoice leaves its payments as unapplied credit, as QBO does."""
    for payment_id in list(invoice.get("_payments", [])):
        payment = editable(ctx.company, "Payment", payment_id)
        if payment is None:
            continue
        kept = []
        for line in payment.get("Line") or []:
            if any(link.get("TxnId") == invoice["Id"] for link in line.get("LinkedTxn") or []):
                continue
            kept.append(line)
        payment["Line"] = kept
        applied = sum((amount for _, amount in applications(payment)), Decimal(0))
        payment["UnappliedAmt"] = out(money(Decimal(str(payment["TotalAmt"])) - applied))
        stamp_updated(payment)
        ctx.note("Payment", payment, "Update")
    invoice["_payments"] = []
    invoice["_applied"] = 0.0


def refresh_customer(ctx: Ctx, txn: dict[str, Any]) -> None:
    """Recompute a customer's Balance (open invoices less unapplied payments). Intuit does not
    bump the customer's SyncToken for this, so neither do we."""
    customer_id = ref_value(txn.get("CustomerRef"))
    customer = editable(ctx.company, "Customer", customer_id or "")
    if customer is None:
        return
    balance = Decimal(0)
    for invoice in table(ctx.company, "Invoice").values():
        if ref_value(invoice.get("CustomerRef")) == customer_id:
            balance += Decimal(str(invoice.get("Balance", 0)))
    for payment in table(ctx.company, "Payment").values():
        if ref_value(payment.get("CustomerRef")) == customer_id:
            balance -= Decimal(str(payment.get("UnappliedAmt", 0)))
    customer["Balance"] = out(money(balance))
    customer["BalanceWithJobs"] = customer["Balance"]
