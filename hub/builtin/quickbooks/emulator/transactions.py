"""Invoices, sales receipts and payments: validation, totals, create, update, void, delete,
send. How payments and balances tie together lives in balances.py."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from . import faults
from .arithmetic import compute_sales_form, money, number, out, ref_value
from .balances import applications, apply, detach_payments, refresh_customer, unapply
from .clock import qbo_timestamp, today
from .context import Change, Ctx
from .entities import (
    by_name,
    check_sync_token,
    clean,
    currency_ref,
    find,
    find_ref,
    home_amounts,
    known_currency,
    merged_for_update,
    multicurrency,
    singleton,
)
from .global_tax import book_of
from .store import allocate_id, editable, record_tombstone, stamp_created, stamp_updated, table

SALES_FORMS = ("Invoice", "SalesReceipt")


def rate_lookup(ctx: Ctx):  # type: ignore[no-untyped-def]
    def rate_of(code: str) -> Decimal | None:
        tax_code = table(ctx.company, "TaxCode").get(code)
        if not tax_code:
            return None
        details = (tax_code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
        total = Decimal(0)
        for detail in details:
            rate = table(ctx.company, "TaxRate").get(ref_value(detail.get("TaxRateRef")) or "")
            if rate:
                total += Decimal(str(rate.get("RateValue", 0)))
        return total if details else None

    return rate_of


def allow_discount(ctx: Ctx) -> bool:
    prefs = singleton(ctx, "Preferences")
    return bool((prefs.get("SalesFormsPrefs") or {}).get("AllowDiscount"))


def check_currency(ctx: Ctx, form: dict[str, Any], customer: dict[str, Any] | None) -> None:
    """The transaction's CurrencyRef and ExchangeRate. With multicurrency off everything is in
    the home currency. With it on, a transaction is in its customer's currency (filled in when
    none is sent); a foreign one takes the ExchangeRate sent, else Intuit's documented default
    of 1, and a home one always 1."""
    home = currency_ref(ctx)
    sent = ref_value(form.get("CurrencyRef"))
    if not multicurrency(ctx):
        if sent and sent != home["value"]:
            raise faults.business(
                f"The currency {sent} does not match the customer's currency "
                f"{ref_value((customer or {}).get('CurrencyRef')) or home['value']}; "
                "multicurrency is off."
            )
        form["CurrencyRef"] = home
        form.pop("ExchangeRate", None)
        return
    theirs = ref_value((customer or {}).get("CurrencyRef")) or home["value"]
    wanted = sent or theirs
    if customer is not None and wanted != theirs:
        raise faults.business(
            f"The currency {wanted} does not match the customer's currency {theirs}: a "
            "customer's transactions are all in its own currency."
        )
    form["CurrencyRef"] = home if wanted == home["value"] else known_currency(wanted)
    rate = number(form.get("ExchangeRate"), "ExchangeRate")
    if wanted == home["value"] or rate is None:
        rate = Decimal(1)
    if rate <= 0:
        raise faults.invalid_value("ExchangeRate", f"ExchangeRate must be positive: {rate}")
    form["ExchangeRate"] = out(rate)


def prepare_sales_form(ctx: Ctx, entity: str, form: dict[str, Any]) -> None:
    for key in ("TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "LinkedTxn", "DeliveryInfo"):
        form.pop(key, None)
    customer = None
    if entity == "Invoice" or form.get("CustomerRef"):
        customer = find_ref(ctx, "Customer", form.get("CustomerRef"), "CustomerRef")
        form["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    check_currency(ctx, form, customer)
    services = by_name(ctx, "Item", "Services")
    for line in form.get("Line") or []:
        if line.get("DetailType") != "SalesItemLineDetail":
            continue
        detail = line.setdefault("SalesItemLineDetail", {})
        ref = detail.get("ItemRef")
        if not ref_value(ref) and services is not None:
            # Intuit fills in the default "Services" item when a line names none.
            ref = {"value": services["Id"]}
        item = find_ref(ctx, "Item", ref, "Line.SalesItemLineDetail.ItemRef")
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
    compute_sales_form(
        form,
        us=ctx.us,
        allow_discount=allow_discount(ctx),
        rate_of=rate_lookup(ctx),
        book=book_of(ctx.company),
    )
    form.setdefault("TxnDate", today())
    form.setdefault("DocNumber", next_doc_number(ctx))
    form.setdefault("PrintStatus", "NotSet")
    form.setdefault("EmailStatus", "NotSet")
    if customer is not None and "BillEmail" not in form and customer.get("PrimaryEmailAddr"):
        form["BillEmail"] = copy.deepcopy(customer["PrimaryEmailAddr"])
    if entity == "Invoice":
        # No payment terms are emulated, so an invoice falls due on its date unless told.
        form.setdefault("DueDate", form["TxnDate"])
        applied = Decimal(str(form.get("_applied", 0)))
        total = Decimal(str(form["TotalAmt"]))
        if applied > total:
            raise faults.business(
                "The invoice total can't be less than the payments applied to it."
            )
        form["Balance"] = out(money(total - applied))
        form["LinkedTxn"] = [
            {"TxnId": pid, "TxnType": "Payment"} for pid in form.get("_payments", [])
        ]
    else:
        form["Balance"] = 0.0
    home_amounts(form)


def next_doc_number(ctx: Ctx) -> str:
    number_ = ctx.company["next_doc_number"]
    ctx.company["next_doc_number"] = number_ + 1
    return str(number_)


def create_sales_form(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    form = clean(body)
    prepare_sales_form(ctx, entity, form)
    form["Id"] = allocate_id(ctx.company)
    form["domain"] = "QBO"
    form["sparse"] = False
    stamp_created(form)
    table(ctx.company, entity)[form["Id"]] = form
    refresh_customer(ctx, form)
    ctx.note(entity, form, "Create")
    return form


def update_sales_form(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    current = existing(ctx, entity, body)
    form = merged_for_update(entity, current, body)
    if current.get("_payments") and ref_value(form.get("CustomerRef")) != ref_value(
        current.get("CustomerRef")
    ):
        raise faults.business("The customer can't be changed on an invoice that has payments.")
    prepare_sales_form(ctx, entity, form)
    if "DeliveryInfo" in current:  # server-owned: set by send, kept across edits
        form["DeliveryInfo"] = copy.deepcopy(current["DeliveryInfo"])
    stamp_updated(form)
    table(ctx.company, entity)[form["Id"]] = form
    refresh_customer(ctx, current)
    refresh_customer(ctx, form)
    ctx.note(entity, form, "Update")
    return form


def existing(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("Id") in (None, ""):
        raise faults.required("Id")
    current = find(ctx, entity, body["Id"])
    check_sync_token(entity, current, body)
    if current.get("_voided"):
        raise faults.business(f"This {entity} has been voided and can't be changed.")
    return current


# -- payments --------------------------------------------------------------------------------
def prepare_payment(ctx: Ctx, payment: dict[str, Any]) -> None:
    customer = find_ref(ctx, "Customer", payment.get("CustomerRef"), "CustomerRef")
    payment["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    total = number(payment.get("TotalAmt"), "TotalAmt")
    if total is None:
        raise faults.required("TotalAmt")
    if total < 0:
        raise faults.business("The payment amount can't be negative.")
    lines = payment.get("Line") or []
    for line in lines:
        amount = number(line.get("Amount"), "Line.Amount")
        if amount is None:
            raise faults.required("Line.Amount")
        line["Amount"] = out(money(amount))
    applied = sum((amount for _, amount in applications(payment)), Decimal(0))
    if applied > total:
        raise faults.business("The amount applied to transactions exceeds the payment's TotalAmt.")
    check_currency(ctx, payment, customer)
    payment["Line"] = lines
    payment["TotalAmt"] = out(money(total))
    payment["UnappliedAmt"] = out(money(total - applied))
    payment.setdefault("TxnDate", today())
    payment.setdefault("ProcessPayment", False)


def create_payment(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    payment = clean(body)
    payment.pop("UnappliedAmt", None)
    prepare_payment(ctx, payment)
    payment["Id"] = allocate_id(ctx.company)
    payment["domain"] = "QBO"
    payment["sparse"] = False
    apply(ctx, payment)
    stamp_created(payment)
    table(ctx.company, "Payment")[payment["Id"]] = payment
    refresh_customer(ctx, payment)
    ctx.note("Payment", payment, "Create")
    return payment


def update_payment(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    current = existing(ctx, "Payment", body)
    payment = merged_for_update("Payment", current, body)
    payment.pop("UnappliedAmt", None)
    prepare_payment(ctx, payment)
    unapply(ctx, current)
    apply(ctx, payment)
    stamp_updated(payment)
    table(ctx.company, "Payment")[payment["Id"]] = payment
    refresh_customer(ctx, current)
    refresh_customer(ctx, payment)
    ctx.note("Payment", payment, "Update")
    return payment


# -- void, delete, send ----------------------------------------------------------------------
def void(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    current = existing(ctx, entity, body)
    obj = copy.deepcopy(current)
    if entity == "Invoice":
        detach_payments(ctx, obj)
    elif entity == "Payment":
        unapply(ctx, obj)
        obj["UnappliedAmt"] = 0.0
    for line in obj.get("Line") or []:
        line["Amount"] = 0.0
        detail = line.get("SalesItemLineDetail")
        if detail and "Qty" in detail:
            detail["Qty"] = 0
    obj["TotalAmt"] = 0.0
    obj["Balance"] = 0.0
    obj["LinkedTxn"] = []
    if "TxnTaxDetail" in obj:
        obj["TxnTaxDetail"] = {"TotalTax": 0.0}
    obj["PrivateNote"] = "Voided"
    obj["_voided"] = True
    home_amounts(obj)
    stamp_updated(obj)
    table(ctx.company, entity)[obj["Id"]] = obj
    refresh_customer(ctx, obj)
    ctx.note(entity, obj, "Void")
    return obj


def delete(ctx: Ctx, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("Id") in (None, ""):
        raise faults.required("Id")
    current = copy.deepcopy(find(ctx, entity, body["Id"]))
    check_sync_token(entity, current, body)
    if entity == "Invoice":
        detach_payments(ctx, current)
    elif entity == "Payment":
        unapply(ctx, current)
    del table(ctx.company, entity)[current["Id"]]
    record_tombstone(ctx.company, entity, current["Id"])
    refresh_customer(ctx, current)
    ctx.changes.append(Change(entity, current["Id"], "Delete", qbo_timestamp()))
    return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}


def send(ctx: Ctx, ident: str, send_to: str | None) -> dict[str, Any]:
    find(ctx, "Invoice", ident)
    invoice = editable(ctx.company, "Invoice", ident)
    assert invoice is not None
    if send_to:
        invoice["BillEmail"] = {"Address": send_to}
    if not (invoice.get("BillEmail") or {}).get("Address"):
        raise faults.required("BillEmail")
    invoice["EmailStatus"] = "EmailSent"
    invoice["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": qbo_timestamp()}
    stamp_updated(invoice)
    ctx.note("Invoice", invoice, "Emailed")
    return invoice
