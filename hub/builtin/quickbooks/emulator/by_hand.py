"""A person working in QuickBooks by hand (a customer added, a payment recorded, a tax code
made; an invoice, customer, payment or sales receipt edited, deleted or voided; one customer
merged into another): each change stored, visible in CDC and announced by webhook, as one made
in QuickBooks' own screens would be. The control API and the test handle both use it.

A person never sees a SyncToken: every change applies to the current version, which leaves
any client's copy stale (fault 5010 on its next update).
"""

from __future__ import annotations

import copy
from typing import Any

from . import faults, operations, transactions
from .arithmetic import ref_value
from .balances import refresh_customer
from .batch import rollback, savepoint
from .context import Change, Ctx
from .entities import TRANSACTIONS, create_name, find
from .global_tax import add_tax_code
from .state import EmulatorState
from .store import editable, public, stamp_updated, table

# What a person edits, deletes or voids by hand, and what each allows.
EDITABLE = ("Customer", "Invoice", "Payment", "SalesReceipt")
DELETABLE = ("Customer", "Invoice", "Payment", "SalesReceipt")
VOIDABLE = ("Invoice", "Payment", "SalesReceipt")


def entity_name(name: str) -> str:
    """ "Invoice", "invoice" or "invoices" (as in a control route) -> "Invoice"."""
    key = name.strip().lower()
    if key not in operations.ENTITY_BY_LOWER and key.endswith("s"):
        key = key[:-1]
    return operations.entity_from_path(key)


def change_in_quickbooks(st: EmulatorState, realm: str, action: str, **args: Any) -> dict[str, Any]:
    """A person working in QuickBooks: the change is stored, visible in CDC and announced."""
    with st.store.lock:
        company = st.store.company(realm)
        if company is None:
            raise faults.not_found("Company", realm)
        ctx = Ctx(company)
        saved = savepoint(ctx)
        try:
            result = apply_person_change(ctx, action, args)
        except Exception:
            rollback(ctx, saved)
            raise
        answer = public(copy.deepcopy(result))
    st.store.save()
    if st.webhooks is not None:
        st.webhooks.announce(realm, ctx.changes)
    return answer


def apply_person_change(ctx: Ctx, action: str, args: dict[str, Any]) -> dict[str, Any]:
    if action == "add_customer":
        return create_name(ctx, "Customer", args["customer"])
    if action == "record_payment":
        invoice = find(ctx, "Invoice", args["invoice_id"])
        amount = args.get("amount", invoice["Balance"])
        return transactions.create_payment(
            ctx,
            {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": amount,
                "Line": [
                    {
                        "Amount": amount,
                        "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                    }
                ],
            },
        )
    if action == "add_tax_code":
        return add_tax_code(ctx.company, args["name"], args["rate"])
    if action == "edit_invoice":
        return hand_edit(ctx, "Invoice", args["invoice_id"], args["changes"])
    if action == "hand_edit":
        return hand_edit(ctx, args["entity"], args["ident"], args["changes"])
    if action == "delete":
        return hand_delete(ctx, args["entity"], args["ident"])
    if action == "void":
        return hand_void(ctx, args["entity"], args["ident"])
    if action == "merge_customers":
        return merge_customers(ctx, args["from_id"], args["into_id"])
    raise ValueError(f"unknown action {action}")


def refuse(what: str, entity: str, allowed: tuple[str, ...]) -> None:
    if entity not in allowed:
        raise faults.unsupported(f"{what} by hand", entity)


def hand_edit(ctx: Ctx, entity: str, ident: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A sparse edit of the current version, checked as an API update would be (a total below
    what is paid, a duplicate name...). A customer made inactive is announced as a Delete, as
    Intuit announces a name-list object made inactive."""
    entity = entity_name(entity)
    refuse("edit", entity, EDITABLE)
    current = find(ctx, entity, ident)
    body = dict(changes) | {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True}
    return next(iter(operations.write(ctx, entity, "update", body).values()))


def hand_delete(ctx: Ctx, entity: str, ident: str) -> dict[str, Any]:
    """A transaction is deleted (reads answer 610, CDC shows status Deleted, webhook Delete). A
    customer is never deleted in QuickBooks: "deleting" one makes it inactive."""
    entity = entity_name(entity)
    refuse("delete", entity, DELETABLE)
    if entity == "Customer":
        return hand_edit(ctx, entity, ident, {"Active": False})
    current = find(ctx, entity, ident)
    return transactions.delete(
        ctx, entity, {"Id": current["Id"], "SyncToken": current["SyncToken"]}
    )


def hand_void(ctx: Ctx, entity: str, ident: str) -> dict[str, Any]:
    entity = entity_name(entity)
    refuse("void", entity, VOIDABLE)
    current = find(ctx, entity, ident)
    return transactions.void(ctx, entity, {"Id": current["Id"], "SyncToken": current["SyncToken"]})


def merge_customers(ctx: Ctx, from_id: str, into_id: str) -> dict[str, Any]:
    """Customer `from_id` merged into `into_id`, as QuickBooks' "Merge contacts" does: every
    transaction of the first moves to the second, and the first is left inactive with nothing
    of its own. Announced as one Merge of `into_id` carrying `deletedId` = `from_id`, then an
    Update of each transaction moved."""
    source = find(ctx, "Customer", from_id)
    target = find(ctx, "Customer", into_id)
    if source["Id"] == target["Id"]:
        raise faults.business("A customer can't be merged into itself.")
    for customer in (source, target):
        if customer.get("Active") is False:
            raise faults.business(
                f"Customer {customer['Id']} is inactive; only active customers can be merged."
            )
    if ref_value(source.get("CurrencyRef")) != ref_value(target.get("CurrencyRef")):
        raise faults.business("Customers in different currencies can't be merged.")
    merge_at = len(ctx.changes)
    target_ref = {"value": target["Id"], "name": target["DisplayName"]}
    for entity in TRANSACTIONS:
        for txn_id in [
            i
            for i, t in table(ctx.company, entity).items()
            if ref_value(t.get("CustomerRef")) == source["Id"]
        ]:
            txn = editable(ctx.company, entity, txn_id)
            assert txn is not None
            txn["CustomerRef"] = dict(target_ref)
            stamp_updated(txn)
            ctx.note(entity, txn, "Update")
    gone = editable(ctx.company, "Customer", source["Id"])
    assert gone is not None
    gone["Active"] = False
    stamp_updated(gone)
    kept = editable(ctx.company, "Customer", target["Id"])
    assert kept is not None
    stamp_updated(kept)
    for ident in (source["Id"], target["Id"]):
        refresh_customer(ctx, {"CustomerRef": {"value": ident}})
    kept = table(ctx.company, "Customer")[target["Id"]]
    ctx.changes.insert(
        merge_at,
        Change(
            "Customer",
            kept["Id"],
            "Merge",
            kept["MetaData"]["LastUpdatedTime"],
            deleted_id=source["Id"],
        ),
    )
    return kept
