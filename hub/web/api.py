"""The host API under ``/api/v1``: events in, state out. Every answer is JSON, errors included:
``{"errors": [{"field": ..., "message": ...}]}``."""

from __future__ import annotations

import hmac
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from hub.bounds import MAX_JSON_DEPTH, json_depth_exceeds
from hub.clock import as_utc
from hub.events import (
    EVENT_TYPES,
    BookingCheck,
    EventIn,
    Invoice,
    money_text,
    parse_data,
    verdict_view,
)
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import EVENTS, body_hash, event_location, new_event_view
from hub.ui import csrf
from hub.values import validation_errors
from hub.web.openapi import openapi_document

MAX_BODY = 1024 * 1024
bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The host authenticates with a bearer key, never a cookie: there is no ambient credential for
# another site to ride on, so no CSRF token either.
csrf.exempt(bp)


def _hub() -> Hub:
    return current_app.config["HUB"]  # type: ignore[no-any-return]


def problem(status: int, message: str, field: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    answer = jsonify({"errors": [{"field": field, "message": message}]})
    answer.status_code = status
    answer.headers.update(headers or {})
    return answer


def _validation_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [{"field": field or "body", "message": message}
            for field, message in validation_errors(exc, prefix)]


@bp.before_request
def _authenticate() -> Response | None:
    key = _hub().config.api_key
    challenge = {"WWW-Authenticate": 'Bearer realm="ledgerline-hub"'}
    if not key:
        return problem(401, "the hub has no API key yet: set HUB_API_KEY, restart the hub, and "
                       "send it as 'Authorization: Bearer <key>'", headers=challenge)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             key.encode()):
        return problem(401, "missing or wrong API key: send 'Authorization: Bearer "
                       "<HUB_API_KEY>'", headers=challenge)
    return None


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    if exc.code == 413:
        return problem(413, "the body is over 1 MiB; send events one at a time")
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


def _json_body() -> tuple[Any, Response | None]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None, problem(413, "the body is over 1 MiB; send events one at a time")
    if not request.is_json:
        return None, problem(415, "send the body as JSON with 'Content-Type: application/json'",
                             field="Content-Type")
    raw = request.get_data(cache=False)
    if len(raw) == MAX_BODY and request.content_length is None and \
            request.environ["wsgi.input"].read(1):
        # A chunked body, which has no length to refuse it by: Werkzeug stops reading at the
        # limit and hands over what it read, which would be answered as truncated JSON.
        return None, problem(413, "the body is over 1 MiB; send events one at a time")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, problem(422, f"the body is not valid JSON: {exc}", field="body")
    except RecursionError:  # nested thousands deep
        return None, _too_deep()
    return (None, _too_deep()) if json_depth_exceeds(body) else (body, None)


def _too_deep() -> Response:
    return problem(422, f"the body nests deeper than {MAX_JSON_DEPTH} levels; no event is "
                   "more than five deep", field="body")


@bp.post("/events")
def post_event() -> Response | tuple[Response, int]:
    body, failed = _json_body()
    if failed:
        return failed
    if not isinstance(body, dict):
        return problem(422, "the body must be a JSON object", field="body")
    errors: list[dict[str, str]] = []
    envelope = None
    try:
        envelope = EventIn.model_validate(body)
    except ValidationError as exc:
        errors += _validation_errors(exc)
    event_type, data = body.get("type"), body.get("data")
    value = None
    # isinstance first: a type of {} or [] is not hashable, and is refused above.
    if isinstance(event_type, str) and event_type in EVENT_TYPES and isinstance(data, dict):
        try:
            value = parse_data(event_type, data)
        except ValidationError as exc:
            errors += _validation_errors(exc, "data")
    if errors or envelope is None or value is None:
        return jsonify({"errors": errors}), 422
    digest = body_hash(body)
    hub = _hub()
    accepted = hub.accept_host_event(envelope.id, envelope.type,
                                     as_utc(envelope.occurred_at), value, digest)
    if not accepted.created and accepted.body_hash != digest:
        return problem(409, f"an event with id {envelope.id!r} was already accepted with a "
                       "different body; send a change as a new event with its own id",
                       field="id")
    occurred_at = as_utc(envelope.occurred_at)
    view = (new_event_view(envelope.id, envelope.type, occurred_at, accepted)
            if accepted.created else hub.event(envelope.id))
    answer = jsonify(view)
    answer.headers["Location"] = event_location(envelope.id)
    return answer, 202 if accepted.created else 200


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


@bp.post("/bookings/check")
def bookings_check() -> Response | tuple[Response, int]:
    body, failed = _json_body()
    if failed:
        return failed
    try:
        check = BookingCheck.model_validate(body)
    except ValidationError as exc:
        return jsonify({"errors": _validation_errors(exc)}), 422
    return jsonify(verdict_view(_hub().check_booking(check)))


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
