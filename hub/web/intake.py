"""The host's two hot calls, ``POST /api/v1/events`` and ``POST /api/v1/bookings/check``,
answered in front of Flask.

A host sends these at volume (every event; every booking attempt), and Flask's request context,
session, routing and response objects cost more than the work itself. So a new, valid,
authorised event, and a valid, authorised check, are answered here, as plain WSGI; everything
else — replays, conflicts, every error answer, every other route — goes on to the Flask app with
the body put back, and is answered there exactly as before. The two paths share the
validation, the store, the decision and the views, so they cannot disagree on what is accepted
or what is said.
"""

from __future__ import annotations

import hmac
import io
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hub.bounds import json_depth_exceeds
from hub.clock import as_utc
from hub.events import EVENT_TYPES, BookingCheck, EventIn, parse_data, verdict_view
from hub.queue.store import body_hash, event_location, new_event_view

if TYPE_CHECKING:
    from hub.hub import Hub

EVENTS_PATH = "/api/v1/events"
CHECK_PATH = "/api/v1/bookings/check"
Answer = tuple[str, list[tuple[str, str]], bytes]  # status, headers, body
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _is_json(content_type: str) -> bool:
    # What Flask's request.is_json accepts: application/json or application/*+json.
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


class HotCalls:
    def __init__(self, app: WSGIApp, hub: Hub, max_body: int) -> None:
        self.app = app
        self.hub = hub
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        answer = None
        if environ.get("REQUEST_METHOD") == "POST" and path in (EVENTS_PATH, CHECK_PATH):
            body = self._body(environ)
            if body is not None:
                answer = (self._accept(body) if path == EVENTS_PATH else self._check(body))
        if answer is None:
            return self.app(environ, start_response)
        status, headers, text = answer
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(text))), *headers])
        return [text]

    def _body(self, environ: dict[str, Any]) -> Any:
        """The parsed JSON body of an authorised call; None to let Flask answer."""
        length = environ.get("CONTENT_LENGTH")
        if (not length or not length.isdigit() or int(length) > self.max_body
                or not _is_json(environ.get("CONTENT_TYPE", ""))
                or not self._authorised(environ)):
            return None
        raw = environ["wsgi.input"].read(int(length))
        # Whatever happens next, Flask may need to read the body again.
        environ["wsgi.input"] = io.BytesIO(raw)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        # Too deep to be an event: Flask says so.
        return None if json_depth_exceeds(body) else body

    def _authorised(self, environ: dict[str, Any]) -> bool:
        key = self.hub.config.api_key
        if not key:
            return False
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                                  key.encode())

    def _accept(self, body: Any) -> Answer | None:
        """A 202 for a new valid event; None to let Flask answer."""
        try:
            envelope = EventIn.model_validate(body)
            if envelope.type not in EVENT_TYPES:
                return None
            value = parse_data(envelope.type, body["data"])
        except (ValueError, ValidationError):
            return None  # ValidationError is a ValueError; Flask words the answer
        occurred_at = as_utc(envelope.occurred_at)
        accepted = self.hub.accept_host_event(envelope.id, envelope.type, occurred_at, value,
                                              body_hash(body))
        if not accepted.created:
            return None  # a replay or a conflict: Flask reads the stored event and answers
        view = new_event_view(envelope.id, envelope.type, occurred_at, accepted)
        return ("202 ACCEPTED", [("Location", event_location(envelope.id))], _json(view))

    def _check(self, body: Any) -> Answer | None:
        """The verdict on a valid booking check; None to let Flask answer."""
        try:
            check = BookingCheck.model_validate(body)
        except ValidationError:
            return None
        return ("200 OK", [], _json(verdict_view(self.hub.check_booking(check))))


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _json(value: Any) -> bytes:
    # As Flask's jsonify writes it: compact, keys in order, a final newline.
    return (_COMPACT.encode(value) + "\n").encode()
