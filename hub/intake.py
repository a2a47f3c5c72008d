"""The accept path of ``POST /api/v1/events``, in front of Flask.

Accepting events is the one request a host sends at volume, and Flask's request context,
session, routing and response objects cost more than validating and storing the event. So a
new, valid, authorised event is answered here, as plain WSGI; everything else — replays,
conflicts, every error answer, every other route — goes on to the Flask app with the body put
back, and is answered there exactly as before. The two paths share the validation, the store
and the view of the event, so they cannot disagree on what is accepted or what is said.
"""

from __future__ import annotations

import hmac
import io
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hub.clock import as_utc
from hub.events import EVENT_TYPES, EventIn, parse_data
from hub.store import body_hash, event_location, new_event_view

if TYPE_CHECKING:
    from hub.hub import Hub

PATH = "/api/v1/events"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _is_json(content_type: str) -> bool:
    # What Flask's request.is_json accepts: application/json or application/*+json.
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


class EventIntake:
    def __init__(self, app: WSGIApp, hub: Hub, max_body: int) -> None:
        self.app = app
        self.hub = hub
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        answer = self._accept(environ)
        if answer is None:
            return self.app(environ, start_response)
        location, body = answer
        start_response("202 ACCEPTED", [("Content-Type", "application/json"),
                                        ("Content-Length", str(len(body))),
                                        ("Location", location)])
        return [body]

    def _authorised(self, environ: dict[str, Any]) -> bool:
        key = self.hub.config.api_key
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        return bool(key) and scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), key.encode())

    def _accept(self, environ: dict[str, Any]) -> tuple[str, bytes] | None:
        """(Location, body) of a 202 for a new valid event; None to let Flask answer."""
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
        text = json.dumps(view, separators=(",", ":")) + "\n"
        return event_location(envelope.id), text.encode()
