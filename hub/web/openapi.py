"""The OpenAPI document, generated from the same pydantic models that validate requests."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hub import __version__
from hub.events import EVENT_TYPES, BookingCheck, EventIn

REF = "#/components/schemas/{model}"


def _error_schema() -> dict[str, Any]:
    return {"type": "object", "required": ["errors"], "properties": {"errors": {
        "type": "array", "items": {"type": "object", "properties": {
            "field": {"type": ["string", "null"], "examples": ["data.lines[0].unit_price"]},
            "message": {"type": "string"}}}}}}


def _status_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {
        "id": {"type": "string"}, "type": {"type": "string"},
        "status": {"enum": ["pending", "done", "failed", "dead"]},
        "deliveries": {"type": "array", "items": {"type": "object", "properties": {
            "plugin": {"type": "string"},
            "status": {"enum": ["pending", "running", "done", "skipped", "waiting", "dead"]},
            "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]},
            "result": {"type": ["string", "null"]}}}}}}


_MONEY = {"type": "string", "examples": ["80.00"]}


def _invoice_schema() -> dict[str, Any]:
    """What ``GET /api/v1/invoices/{external_id}`` answers; plugins may add more fields."""
    return {"type": "object", "required": ["external_id"], "properties": {
        "external_id": {"type": "string"}, "number": {"type": ["string", "null"]},
        "status": {"enum": ["sent", "paid", "partially_paid", "void"],
                   "description": "the host's, except that an invoice void in QuickBooks "
                   "(voided there by hand, or by the operator's undo) reads void"},
        "currency": {"type": ["string", "null"]}, "total": _MONEY, "amount_paid": _MONEY,
        "balance": {**_MONEY, "description": "what is still owed: once QuickBooks has been "
                    "swept, the balance the hub last saw there or the host's own since"},
        "due_date": {"type": ["string", "null"], "format": "date"},
        "quickbooks_id": {"type": "string"},
        "quickbooks_void": {"type": "boolean", "description": "voided in QuickBooks, by the "
                            "hub or by hand"},
        "quickbooks_deleted": {"type": "boolean", "description": "deleted in QuickBooks (by "
                               "hand; the host was told invoice.deleted_in_quickbooks): "
                               "present and true only then, until a reconcile fix makes it "
                               "again"},
        "quickbooks_balance": {**_MONEY, "description": "QuickBooks' Balance as last seen"},
        "quickbooks_total": {**_MONEY, "description": "QuickBooks' TotalAmt as last seen"},
        "quickbooks_seen_at": {"type": "string", "format": "date-time",
                               "description": "when QuickBooks' figures were last read"},
    }}


def _contact_schema() -> dict[str, Any]:
    """What ``GET /api/v1/contacts/{external_id}`` answers: the contact as the host sent it,
    and what the plugins know."""
    return {"type": "object", "required": ["external_id"], "properties": {
        "external_id": {"type": "string"}, "quickbooks_id": {"type": "string"},
        "outstanding": {**_MONEY, "description": "QuickBooks' customer Balance in the home "
                        "currency: open invoice balances less unapplied payments and credits"},
        "overdue": {**_MONEY, "description": "the open invoices past their due date, less "
                    "the credit QuickBooks holds for the customer (which it applies to the "
                    "oldest invoices first): never below 0.00, never more than outstanding"},
    }}


def _answer(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": REF.format(model=schema)}}}}


def openapi_document() -> dict[str, Any]:
    """The document, a copy of its own for each caller: a caller may change what it is handed
    (add a server, say) without changing it for the next caller or another hub."""
    # Built once, copied per call: building it takes about 4 ms, a deep copy about 0.5 ms.
    return copy.deepcopy(_document())


@cache
def _document() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (EventIn, "validation"), (BookingCheck, "validation")]
    models += [(model, "validation") for _hook, model in EVENT_TYPES.values()]
    _, top = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Error"] = _error_schema()
    schemas["EventStatus"] = _status_schema()
    schemas["InvoiceView"] = _invoice_schema()
    schemas["ContactView"] = _contact_schema()
    # The envelope's data is checked against the model its type names: one envelope per type,
    # so a generated client (or a fuzzer) pairs each type with its own data.
    envelope = schemas.pop("EventIn")
    for event_type, (_hook, model) in EVENT_TYPES.items():
        properties = {**envelope["properties"], "type": {"const": event_type},
                      "data": {"$ref": REF.format(model=model.__name__)}}
        schemas[f"Event_{model.__name__}_{event_type.replace('.', '_')}"] = {
            **envelope, "title": f"{event_type} event", "properties": properties}
    schemas["EventIn"] = {
        "description": "an event: its type names the model its data is checked against: "
        + ", ".join(f"{t} → {m.__name__}" for t, (_h, m) in EVENT_TYPES.items()),
        "oneOf": [{"$ref": REF.format(model=f"Event_{m.__name__}_{t.replace('.', '_')}")}
                  for t, (_h, m) in EVENT_TYPES.items()],
    }
    errors = {"401": _answer("no or wrong API key", "Error"),
              "422": _answer("invalid, every problem listed", "Error")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ledgerline Hub host API", "version": __version__},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/events": {"post": {
                "summary": "Send an event; the same id is processed once",
                "description": "At most 1 MiB, nested at most 32 levels deep. Dates and "
                "instants are 1900-2199 as written; amounts have at most 15 significant "
                "digits (13 before the cents); text holds no control characters (newlines "
                "and tabs only in descriptions). Anything else is a 422 naming the field.",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": REF.format(model="EventIn")}}}},
                "responses": {
                    "202": _answer("accepted and stored", "EventStatus"),
                    "200": _answer("a replay of a known id with the same body", "EventStatus"),
                    "409": _answer("a known id with a different body", "Error"),
                    "413": _answer("over 1 MiB", "Error"),
                    "415": _answer("not JSON", "Error"), **errors}}},
            "/api/v1/events/{id}": {"get": {
                "summary": "An event's status and its deliveries",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _answer("the event", "EventStatus"),
                              "404": _answer("unknown id", "Error"), **errors}}},
            "/api/v1/bookings/check": {"post": {
                "summary": "May this client book? The booking gate's verdict",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": REF.format(model="BookingCheck")}}}},
                "responses": {"200": {"description": "the verdict", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "allowed": {"type": "boolean"}, "reason": {"type": ["string", "null"]},
                        "balance": {"type": ["string", "null"]},
                        "threshold": {"type": ["string", "null"]},
                        "stale": {"type": "boolean"}}}}}},
                    "413": _answer("over 1 MiB", "Error"),
                    "415": _answer("not JSON", "Error"), **errors}}},
            "/api/v1/invoices/{external_id}": {"get": {
                "summary": "An invoice's status, total, amount paid, balance, QuickBooks ids",
                "parameters": [{"name": "external_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _answer("the invoice", "InvoiceView"),
                              "404": _answer("unknown", "Error"), **errors}}},
            "/api/v1/contacts/{external_id}": {"get": {
                "summary": "A contact, its balances and QuickBooks id",
                "parameters": [{"name": "external_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": _answer("the contact", "ContactView"),
                              "404": _answer("unknown", "Error"), **errors}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document",
                                             "responses": {"200": {"description": "OpenAPI"}}}},
        },
    }
