"""The host API under ``/api/v1``: events in, state out. Every answer is JSON, errors included:
``{"errors": [{"field": ..., "message": ...}]}``."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from hub.events import (
    Invoice,
    money_text,
)
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import EVENTS
from hub.ui import csrf
from hub.web import intake
from hub.web.openapi import openapi_document

MAX_BODY = intake.MAX_BODY
bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The host authenticates with a bearer key, never a cookie: there is no ambient credential for
# another site to ride on, so no CSRF token either.
csrf.exempt(bp)


def _hub() -> Hub:
    return current_app.config["HUB"]  # type: ignore[no-any-return]


def problem(status: int, message: str, field: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """The front door's error answer (``intake.problem`` holds its one shape) as Flask's."""
    return _respond(intake.problem(status, message, field, headers))


@bp.before_request
def _authenticate() -> Response | None:
    refused = intake.refusal(_hub(), request.headers.get("Authorization"))
    return _respond(refused) if refused else None


def _respond(answer: intake.Answer) -> Response:
    response = jsonify(answer.body)
    response.status_code = answer.status
    response.headers.update(answer.headers)
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if exc.code == 413:
        return problem(413, intake.TOO_LARGE)
    return problem(exc.code or 500, exc.description or exc.name)


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _no_route(exc: HTTPException) -> Response | HTTPException:
    """A path under /api/v1 that no route matches (an id holding a newline, say) is answered in
    JSON like every other API error, not with Flask's HTML page; other paths are left alone."""
    if request.path == bp.url_prefix or request.path.startswith(f"{bp.url_prefix}/"):
        if exc.code == 405:
            return problem(405, f"{request.method} is not answered here; see "
                           "/api/v1/openapi.json for what is")
        return problem(404, f"nothing at {request.path!r}; see /api/v1/openapi.json for the "
                       "API's paths", field="path")
    return exc


def _raw_body() -> bytes | Response:
    """The body as sent, for the front door to read; a chunked body over the limit, which
    has no length to refuse it by, is refused here (Werkzeug stops reading at the limit and
    would hand over what it read as if it were all)."""
    raw = request.get_data(cache=False)
    if len(raw) == MAX_BODY and request.content_length is None and \
            request.environ["wsgi.input"].read(1):
        return _respond(intake.problem(413, intake.TOO_LARGE))
    return raw


@bp.post("/events")
def post_event() -> Response:
    raw = _raw_body()
    return raw if isinstance(raw, Response) else _respond(
        intake.accept_event(_hub(), raw, request.headers))


@bp.post("/bookings/check")
def bookings_check() -> Response:
    raw = _raw_body()
    return raw if isinstance(raw, Response) else _respond(
        intake.check_booking(_hub(), raw, request.headers))


def _possible_id(value: str) -> bool:
    """Whether an id in a path could be one the hub accepted (1-255 printable ASCII, as
    ExternalId): anything else is a 404 without asking the database, which may refuse it
    (PostgreSQL: a NUL in text)."""
    return 0 < len(value) <= 255 and value.isascii() and value.isprintable() and " " not in value


@bp.get("/events/<path:event_id>")
def get_event(event_id: str) -> Response:
    view = _hub().event(event_id) if _possible_id(event_id) else None
    if view is None:
        return problem(404, f"no event with id {event_id!r} was accepted", field="id")
    return jsonify(view)


def _latest(subject: str) -> dict[str, Any] | None:
    with reading(_hub().engine) as conn:
        row = conn.execute(
            select(EVENTS.c.data).where(EVENTS.c.subject == subject, EVENTS.c.source == "host")
            .order_by(EVENTS.c.occurred_at.desc(), EVENTS.c.pk.desc()).limit(1)
        ).scalar()
    if not row:
        return None
    try:
        data = json.loads(row)
    except (ValueError, RecursionError):
        return {}  # a row written by hand: the facts plugins keep still answer
    return data if isinstance(data, dict) else {}


def _invoice_of(data: dict[str, Any] | None) -> Invoice | None:
    try:
        return None if data is None else Invoice.model_validate(data)
    except ValidationError:
        return None  # stored before today's checks, or by hand: its sums are not to be trusted


@bp.get("/invoices/<path:external_id>")
def get_invoice(external_id: str) -> Response:
    if not _possible_id(external_id):
        return problem(404, f"no invoice {external_id!r} was sent to the hub", field="id")
    data = _latest(f"invoice:{external_id}")
    facts = _hub().describe("invoice", external_id)
    if data is None and not facts:
        return problem(404, f"no invoice {external_id!r} was sent to the hub", field="id")
    view: dict[str, Any] = {"external_id": external_id}
    invoice = _invoice_of(data)
    if invoice is not None:
        view.update(status=invoice.status, number=invoice.number, currency=invoice.currency,
                    total=money_text(invoice.computed_total), amount_paid=money_text(invoice.paid),
                    balance=money_text(invoice.balance), due_date=invoice.due_date)
    view.update(facts)
    return jsonify(view)


@bp.get("/contacts/<path:external_id>")
def get_contact(external_id: str) -> Response:
    if not _possible_id(external_id):
        return problem(404, f"no contact {external_id!r} was sent to the hub", field="id")
    data = _latest(f"contact:{external_id}")
    facts = _hub().describe("contact", external_id)
    if data is None and not facts:
        return problem(404, f"no contact {external_id!r} was sent to the hub", field="id")
    view: dict[str, Any] = {"external_id": external_id, **(data or {})}
    view.update(facts)
    return jsonify(view)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
