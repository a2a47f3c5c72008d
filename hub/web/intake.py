"""The host's front door: ``POST /api/v1/events`` and ``POST /api/v1/bookings/check``, as plain
functions of the request (its body and headers in, a status, headers and JSON out) that know no
web framework.

Both transports call them and nothing else answers these calls: the Flask routes in
``hub.web.api`` and ``HotCalls``, which answers them in front of Flask. A host sends these at
volume (every event; every booking attempt), and Flask's request context, session, routing and
response objects cost more than the work itself, so ``HotCalls`` takes every such call whose
body has a length, and leaves to Flask only what it must read itself (a chunked body).
"""

from __future__ import annotations

import hmac
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from hub.bounds import MAX_JSON_DEPTH, json_depth_exceeds
from hub.clock import as_utc
from hub.events import EVENT_TYPES, BookingCheck, EventIn, parse_data, verdict_view
from hub.queue.store import body_hash, event_location, host_event, new_event_view
from hub.values import validation_errors

if TYPE_CHECKING:
    from hub.hub import Hub


class Headers(Protocol):
    """A request's headers as the doors read them: Werkzeug's, or a WSGI environ's."""

    def get(self, key: str, /) -> str | None: ...

EVENTS_PATH = "/api/v1/events"
CHECK_PATH = "/api/v1/bookings/check"
MAX_BODY = 1024 * 1024
TOO_LARGE = "the body is over 1 MiB; send events one at a time"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# No scripts at all on the pages; nobody may frame them (clickjacking on the toggles). A
# plugin's page that needs another policy sets its own header, which is left alone.
CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"  # a year, as OWASP's HSTS cheat sheet suggests


def security_headers(https: bool) -> list[tuple[str, str]]:
    """The headers every answer of the hub carries, whichever transport gave it."""
    headers = [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
               ("Referrer-Policy", "same-origin"), ("X-Content-Type-Options", "nosniff")]
    return headers + [("Strict-Transport-Security", HSTS)] if https else headers


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def problem(status: int, message: str, field_name: str | None = None,
            headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"errors": [{"field": field_name, "message": message}]},
                  dict(headers or {}))


def _errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [{"field": name or "body", "message": message}
            for name, message in validation_errors(exc, prefix)]


# -- who may call -------------------------------------------------------------------------

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="ledgerline-hub"'}


def refusal(hub: Hub, authorization: str | None) -> Answer | None:
    """A 401 unless ``authorization`` carries the hub's API key as a bearer token."""
    key = hub.config.api_key
    if not key:
        return problem(401, "the hub has no API key yet: set HUB_API_KEY, restart the hub, and "
                       "send it as 'Authorization: Bearer <key>'", headers=CHALLENGE)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             key.encode()):
        return problem(401, "missing or wrong API key: send 'Authorization: Bearer "
                       "<HUB_API_KEY>'", headers=CHALLENGE)
    return None


def _is_json(content_type: str | None) -> bool:
    # What Flask's request.is_json accepts: application/json or application/*+json.
    mimetype = (content_type or "").partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def _json_body(raw: bytes, headers: Headers) -> tuple[Any, Answer | None]:
    if len(raw) > MAX_BODY:
        return None, problem(413, TOO_LARGE)
    if not _is_json(headers.get("Content-Type")):
        return None, problem(415, "send the body as JSON with 'Content-Type: application/json'",
                             "Content-Type")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return None, problem(422, f"the body is not valid JSON: {exc}", "body")
    except RecursionError:  # nested thousands deep
        return None, _too_deep()
    return (None, _too_deep()) if json_depth_exceeds(body) else (body, None)


def _too_deep() -> Answer:
    return problem(422, f"the body nests deeper than {MAX_JSON_DEPTH} levels; no event is "
                   "more than five deep", "body")


# -- the two calls ------------------------------------------------------------------------

def accept_event(hub: Hub, raw: bytes, headers: Headers) -> Answer:
    """``POST /api/v1/events``: a new event is stored with its deliveries before the 202; the
    same event again is a 200 with its state; the same id with another body a 409."""
    refused = refusal(hub, headers.get("Authorization"))
    if refused:
        return refused
    body, failed = _json_body(raw, headers)
    if failed:
        return failed
    if not isinstance(body, dict):
        return problem(422, "the body must be a JSON object", "body")
    errors: list[dict[str, str]] = []
    envelope = None
    try:
        envelope = EventIn.model_validate(body)
    except ValidationError as exc:
        errors += _errors(exc)
    event_type, data = body.get("type"), body.get("data")
    value = None
    # isinstance first: a type of {} or [] is not hashable, and is refused above.
    if isinstance(event_type, str) and event_type in EVENT_TYPES and isinstance(data, dict):
        try:
            value = parse_data(event_type, data)
        except ValidationError as exc:
            errors += _errors(exc, "data")
    if errors or envelope is None or value is None:
        return Answer(422, {"errors": errors})
    digest = body_hash(body)
    occurred_at = as_utc(envelope.occurred_at)
    # Handed to the queue's writer from here, as Hub.accept_host_event does for callers
    # in the process: a request goes from the web straight into the queue.
    hook = EVENT_TYPES[envelope.type][0]
    accepted = hub.writer.write(host_event(envelope.id, envelope.type, occurred_at, value,
                                           digest, hook, hub.enabled_for(hook)))
    hub.arrived(accepted, value)
    if not accepted.created and accepted.body_hash != digest:
        return problem(409, f"an event with id {envelope.id!r} was already accepted with a "
                       "different body; send a change as a new event with its own id", "id")
    view = (new_event_view(envelope.id, envelope.type, occurred_at, accepted)
            if accepted.created else hub.event(envelope.id))
    return Answer(202 if accepted.created else 200, view,
                  {"Location": event_location(envelope.id)})


def check_booking(hub: Hub, raw: bytes, headers: Headers) -> Answer:
    """``POST /api/v1/bookings/check``: may this client book?"""
    refused = refusal(hub, headers.get("Authorization"))
    if refused:
        return refused
    body, failed = _json_body(raw, headers)
    if failed:
        return failed
    try:
        check = BookingCheck.model_validate(body)
    except ValidationError as exc:
        return Answer(422, {"errors": _errors(exc)})
    return Answer(200, verdict_view(hub.check_booking(check)))


DOORS = {EVENTS_PATH: accept_event, CHECK_PATH: check_booking}


# -- the fast transport -------------------------------------------------------------------

_REASONS = {200: "OK", 202: "ACCEPTED", 401: "UNAUTHORIZED", 409: "CONFLICT",
            413: "REQUEST ENTITY TOO LARGE", 415: "UNSUPPORTED MEDIA TYPE",
            422: "UNPROCESSABLE ENTITY"}
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def encode(value: Any) -> bytes:
    # As Flask's jsonify writes it: compact, keys in order, a final newline.
    return (_COMPACT.encode(value) + "\n").encode()


class HotCalls:
    """The two calls answered as plain WSGI, in front of the Flask app given; every other
    request, and a body without a length (chunked), goes on to it."""

    def __init__(self, app: WSGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub
        self.extra = [("Cache-Control", "no-store"), *security_headers(hub.config.https)]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        door = DOORS.get(environ.get("PATH_INFO", ""))
        length = environ.get("CONTENT_LENGTH") or ""
        if door is None or environ.get("REQUEST_METHOD") != "POST" or not length.isdigit():
            return self.app(environ, start_response)
        if int(length) > MAX_BODY:  # refused unread, once the caller is known
            answer = refusal(self.hub, environ.get("HTTP_AUTHORIZATION")) or problem(
                413, TOO_LARGE)
        else:
            raw = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(raw)  # for whatever reads the request after
            answer = door(self.hub, raw, _Headers(environ))
        text = encode(answer.body)
        start_response(f"{answer.status} {_REASONS.get(answer.status, '')}".rstrip(),
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(text))), *answer.headers.items(),
                        *self.extra])
        return [text]


class _Headers:
    """A WSGI environ read as the request's headers, for the few names the doors ask for."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def get(self, key: str, /) -> str | None:
        upper = key.upper().replace("-", "_")
        name = upper if upper in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{upper}"
        return self.environ.get(name)
