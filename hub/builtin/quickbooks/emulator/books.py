"""`/_emulator/books`: a company's customers, invoices, payments and sales receipts, newest
first, read-only, as a plain page (`/_emulator/books`) or JSON (`/_emulator/books.json`), so a
newcomer sees what the hub wrote without an Intuit account. No token, like every `/_emulator`
route: it is the emulator's own inspection page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from .seed import DEMO_REALM
from .state import EmulatorState
from .store import Company, table

bp = Blueprint("qbo_books", __name__, url_prefix="/_emulator", template_folder="templates")

# What the hub writes into a note of what it creates (hub.builtin.quickbooks.links.MARKER); the
# emulator knows nothing of the hub, it only shows the note's first word when it is one.
MARKER = "ledgerline:"
PAGE = "emulator/books.html"


def books(st: EmulatorState, realm: str | None = None) -> dict[str, Any] | None:
    """One company's books, each list newest first; None when there is no such company.
    Without `realm`: the demo company, else the first there is."""
    with st.store.lock:
        companies = st.store.data["companies"]
        if realm is None:
            realm = DEMO_REALM if DEMO_REALM in companies else min(companies, default=None)
        company = companies.get(realm) if realm is not None else None
        if company is None:
            return None
        names = {c["Id"]: c.get("DisplayName", "") for c in table(company, "Customer").values()}
        return {
            "realm": realm,
            "name": company["name"],
            "currency": company["currency"],
            "companies": [{"realm": r, "name": c["name"]} for r, c in sorted(companies.items())],
            "customers": [_customer(c) for c in _newest(company, "Customer")],
            "invoices": [_invoice(i, names) for i in _newest(company, "Invoice")],
            "payments": [_payment(p, names) for p in _newest(company, "Payment")],
            "sales_receipts": [_receipt(r, names) for r in _newest(company, "SalesReceipt")],
        }


def _newest(company: Company, entity: str) -> list[dict[str, Any]]:
    # CreateTime is to the second, and several objects share one: the Id breaks the tie. Ids
    # are numbers here (the seeded ones are Intuit's sandbox Ids, below those allocated).
    def key(obj: dict[str, Any]) -> tuple[str, int]:
        ident = str(obj["Id"])
        return (obj.get("MetaData", {}).get("CreateTime", ""),
                int(ident) if ident.isdigit() else 0)

    return sorted(table(company, entity).values(), key=key, reverse=True)


def _marker(text: Any) -> str | None:
    word = str(text or "").split(maxsplit=1)
    return word[0] if word and word[0].startswith(MARKER) else None


def _ref(obj: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    ident = str((obj.get("CustomerRef") or {}).get("value", ""))
    return {"id": ident, "name": names.get(ident, "")}


def _created(obj: dict[str, Any]) -> str:
    return str(obj.get("MetaData", {}).get("CreateTime", ""))


def _customer(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c["Id"], "name": c.get("DisplayName", ""),
        "email": (c.get("PrimaryEmailAddr") or {}).get("Address"),
        "balance": c.get("Balance", 0), "currency": (c.get("CurrencyRef") or {}).get("value"),
        "active": c.get("Active", True), "marker": _marker(c.get("Notes")),
        "created": _created(c),
    }


def _invoice(i: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": i["Id"], "number": i.get("DocNumber"), "customer": _ref(i, names),
        "date": i.get("TxnDate"), "due": i.get("DueDate"), "total": i.get("TotalAmt", 0),
        "balance": i.get("Balance", 0), "currency": (i.get("CurrencyRef") or {}).get("value"),
        "void": bool(i.get("_voided")), "marker": _marker(i.get("PrivateNote")),
        "created": _created(i),
    }


def _payment(p: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    paid = [str(t["TxnId"]) for line in p.get("Line") or []
            for t in line.get("LinkedTxn") or [] if t.get("TxnType") == "Invoice"]
    return {
        "id": p["Id"], "customer": _ref(p, names), "date": p.get("TxnDate"),
        "total": p.get("TotalAmt", 0), "unapplied": p.get("UnappliedAmt", 0),
        "currency": (p.get("CurrencyRef") or {}).get("value"), "invoices": paid,
        "void": bool(p.get("_voided")), "created": _created(p),
    }


def _receipt(r: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": r["Id"], "number": r.get("DocNumber"), "customer": _ref(r, names),
        "date": r.get("TxnDate"), "total": r.get("TotalAmt", 0),
        "currency": (r.get("CurrencyRef") or {}).get("value"),
        "void": bool(r.get("_voided")), "note": r.get("PrivateNote"), "created": _created(r),
    }


# -- routes ----------------------------------------------------------------------------------
def _state() -> EmulatorState:
    return current_app.extensions["qbo_emulator"]  # type: ignore[no-any-return]


def _asked() -> dict[str, Any] | None:
    return books(_state(), request.args.get("realm") or None)


@bp.get("/books.json")
def books_json() -> Response:
    found = _asked()
    if found is None:
        answer = jsonify({"error": f"no company {request.args.get('realm', '')!r}",
                          "companies": sorted(_state().store.data["companies"])})
        answer.status_code = 404
        return answer
    return jsonify(found)


@bp.get("/books")
def books_page() -> Any:
    found = _asked()
    if found is None:
        return render_template(
            PAGE, books=None, realm=request.args.get("realm", ""),
            companies=sorted(_state().store.data["companies"])), 404
    return render_template(PAGE, books=found)

