"""A person working in QuickBooks by hand (a customer added, a payment recorded, a tax code
made, an invoice edited): each change stored, visible in CDC and announced by webhook, as one
made in QuickBooks' own screens would be. The control API and the test handle both use it.
"""

from __future__ import annotations

import copy
from typing import Any

from . import faults, transactions
from .batch import rollback, savepoint
from .context import Ctx
from .entities import create_name, find
from .global_tax import add_tax_code
from .state import EmulatorState
from .store import public


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
        invoice = find(ctx, "Invoice", args["invoice_id"])
        # A person in the UI never sees SyncTokens; the edit applies to the current version.
        body = dict(args["changes"]) | {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
        }
        return transactions.update_sales_form(ctx, "Invoice", body)
    raise ValueError(f"unknown action {action}")
