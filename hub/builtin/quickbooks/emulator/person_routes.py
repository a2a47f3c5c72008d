"""`/_emulator/companies/<realm>/...`: changes "made in QuickBooks" by a person (a customer or
tax code added, a payment recorded, an edit, a delete, a void, a merge), each a thin shell over
`by_hand.change_in_quickbooks`, which the in-process test handle calls too."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from . import faults
from .by_hand import change_in_quickbooks, entity_name
from .control import body, fault_answer, state

bp = Blueprint("qbo_person", __name__, url_prefix="/_emulator")


def by_hand(realm: str, action: str, wrapper: str, **args: Any) -> Response:
    """Run one change "made in QuickBooks" and answer {wrapper: object}, or the fault (400)."""
    try:
        return jsonify({wrapper: change_in_quickbooks(state(), realm, action, **args)})
    except faults.QBOFault as fault:
        return fault_answer(fault)


def on_entity(realm: str, action: str, collection: str, ident: str, **args: Any) -> Response:
    """A change to the object ``ident`` of ``collection`` ("invoices" in a route: Invoice; a
    4001 fault for what the emulator lacks), answered as ``by_hand`` answers."""
    try:
        entity = entity_name(collection)
    except faults.QBOFault as fault:
        return fault_answer(fault)
    return by_hand(realm, action, entity, entity=entity, ident=ident, **args)


@bp.post("/companies/<realm>/customers")
def person_adds_customer(realm: str) -> Response:
    return by_hand(realm, "add_customer", "Customer", customer=body())


@bp.post("/companies/<realm>/taxcodes")
def person_adds_tax_code(realm: str) -> Response:
    data = body()
    return by_hand(realm, "add_tax_code", "TaxCode", name=data.get("name", ""),
                   rate=data.get("rate"))


@bp.post("/companies/<realm>/invoices/<invoice_id>/payments")
def person_records_payment(realm: str, invoice_id: str) -> Response:
    args = {"invoice_id": invoice_id} | ({"amount": body()["amount"]} if "amount" in body() else {})
    return by_hand(realm, "record_payment", "Payment", **args)


@bp.post("/companies/<realm>/<collection>/<ident>")
def person_edits(realm: str, collection: str, ident: str) -> Response:
    """A person edits an invoice, customer, payment or sales receipt: sparse fields."""
    return on_entity(realm, "hand_edit", collection, ident, changes=body())


@bp.post("/companies/<realm>/<collection>/<ident>/delete")
def person_deletes(realm: str, collection: str, ident: str) -> Response:
    return on_entity(realm, "delete", collection, ident)


@bp.post("/companies/<realm>/<collection>/<ident>/void")
def person_voids(realm: str, collection: str, ident: str) -> Response:
    return on_entity(realm, "void", collection, ident)


@bp.post("/companies/<realm>/customers/<from_id>/merge")
def person_merges_customers(realm: str, from_id: str) -> Response:
    """Customer `from_id` merged into `{"into": id}`; answers the customer kept."""
    into = str(body().get("into", ""))
    return by_hand(realm, "merge_customers", "Customer", from_id=from_id, into_id=into)
