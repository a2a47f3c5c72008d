"""Intuit's webhooks at ``POST /quickbooks/webhooks``, in the legacy ``eventNotifications``
format or as CloudEvents.

The signature is checked (in constant time) before the body is parsed; then the answer goes back
at once, well inside Intuit's 3 seconds, with the work queued: a firing of the change sweep,
stored before the answer. The webhook only says *that* something changed; the sweep reads *what*
from the change feed, so a lost, late or repeated webhook loses or doubles nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from hub.bounds import MAX_JSON_DEPTH, json_depth_exceeds
from hub.builtin.quickbooks import connection, links
from hub.ui import csrf_exempt, plugin_context

bp = Blueprint("quickbooks_webhooks", __name__)
# Intuit signs each notification with the verifier token (checked before anything is read),
# and sends no cookie: the signature is the proof a CSRF token would be.
csrf_exempt(bp)

# Intuit's notifications are a few kilobytes (a change is a name, an id and a time); this is
# the app's limit for any body (MAX_CONTENT_LENGTH), far above that.
MAX_BODY = 1024 * 1024


def signature(verifier_token: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), raw, hashlib.sha256).digest()
                            ).decode()


def _items(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else nothing: a shape we do not know names nothing."""
    return value if isinstance(value, list) else []


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _realm(value: Any) -> str | None:
    """A company id as Intuit writes it (a string of digits; a JSON number is taken too). A
    ``{}``, a list or ``true`` is no company's id: it can only fail to match ours."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def _notifications(payload: Any) -> list[Any]:
    """The legacy format's entries, or CloudEvents' (the body is then the array itself)."""
    if isinstance(payload, dict):
        return _items(payload.get("eventNotifications"))
    return _items(payload)


def realms(payload: Any) -> set[str]:
    """The companies a notification speaks of, in either format. An entry of any other shape
    is passed over: it cannot be about our company."""
    key = "realmId" if isinstance(payload, dict) else "intuitaccountid"
    found = {_realm(_field(note, key)) for note in _notifications(payload)}
    return {realm for realm in found if realm is not None}


def entities(payload: Any) -> set[str]:
    """The kinds of object a notification names, lowercased: ``customer``, ``preferences``."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for note in _notifications(payload):
            for entity in _items(_field(_field(note, "dataChangeEvent"), "entities")):
                name = _field(entity, "name")
                if isinstance(name, str):
                    found.add(name.lower())
    else:
        for event in _notifications(payload):  # CloudEvents: "qbo.preferences.updated.v1"
            kind = _field(event, "type")
            parts = kind.split(".") if isinstance(kind, str) else []
            if len(parts) > 2:
                found.add(parts[1].lower())
    return found


def merges(payload: Any) -> list[tuple[str, str]]:
    """The customer merges a notification names, as (merged away, kept): the legacy entity
    ``{"name": "Customer", "id": kept, "operation": "Merge", "deletedId": gone}``, or the
    CloudEvent ``qbo.customer.merged.v1`` of ``intuitentityid`` kept with ``data.deletedid``."""
    found: list[tuple[str, str]] = []
    if isinstance(payload, dict):
        for note in _notifications(payload):
            for entity in _items(_field(_field(note, "dataChangeEvent"), "entities")):
                if str(_field(entity, "name")).lower() == "customer" and \
                        str(_field(entity, "operation")).lower() == "merge":
                    found.append((_realm(_field(entity, "deletedId")) or "",
                                  _realm(_field(entity, "id")) or ""))
    else:
        for event in _notifications(payload):
            if _field(event, "type") == "qbo.customer.merged.v1":
                found.append((_realm(_field(_field(event, "data"), "deletedid")) or "",
                              _realm(_field(event, "intuitentityid")) or ""))
    # Ids are digits; anything else names no customer of ours and is passed over.
    return [(gone, kept) for gone, kept in found
            if gone.isdigit() and kept.isdigit() and gone != kept]


def _refused(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def _body() -> tuple[bytes | None, tuple[Response, int] | None]:
    """The raw body, or a 413 past MAX_BODY."""
    too_big = _refused(413, "the body is over 1 MiB; Intuit's notifications are a few KB")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None, too_big
    raw = request.get_data(cache=False)
    if len(raw) == MAX_BODY and request.content_length is None and \
            request.environ["wsgi.input"].read(1):
        # A chunked body has no length to refuse it by, and Werkzeug stops reading at the
        # limit without saying so: the signature would then be checked over a truncated body.
        return None, too_big
    return raw, None


def _parse(raw: bytes) -> tuple[Any, tuple[Response, int] | None]:
    """The JSON of a signed body, or the 400 that says why it is none.

    A 400 and not a 200: a body that is not JSON at all (or nests past any notification) is not
    one of Intuit's formats, and saying so shows in Intuit's delivery log. Nothing is lost by
    it: the sweep also runs every ``poll_minutes`` and reads what changed from the change feed.
    """
    too_deep = _refused(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels; Intuit's "
                        "notifications are five deep")
    try:
        payload = json.loads(raw)
    except ValueError:  # UnicodeDecodeError is one: bytes that are not UTF-8
        return None, _refused(400, "the body is not JSON")
    except RecursionError:  # nested thousands deep: the parser gives up before we could
        return None, too_deep
    if json_depth_exceeds(payload):
        return None, too_deep
    if not isinstance(payload, (dict, list)):
        return None, _refused(400, "the body is neither of Intuit's formats: an object with "
                              "eventNotifications, or an array of CloudEvents")
    return payload, None


@bp.post("/quickbooks/webhooks")
def receive() -> tuple[Response, int]:
    ctx = plugin_context("quickbooks")
    token = ctx.config.qbo_webhook_verifier_token
    if not token:
        return jsonify(error="webhooks are refused: QBO_WEBHOOK_VERIFIER_TOKEN is not set"), 403
    raw, refused = _body()
    if refused:
        return refused
    assert raw is not None
    given = request.headers.get("intuit-signature", "")
    if not hmac.compare_digest(given.encode(), signature(token, raw).encode()):
        return jsonify(error="the intuit-signature does not match this body"), 401
    payload, refused = _parse(raw)
    if refused:
        return refused
    # From here a 200, whatever the entries hold: Intuit retries any other answer, and an entry
    # we cannot read (a list for an object, {} for a company id, a date no calendar has) would
    # fail the same way on every retry. The notification mostly says *that* something changed;
    # the sweep reads what from the change feed itself. Only a merge is taken from it.
    current = connection.row(ctx)
    if current is None or current["realm_id"] not in realms(payload):
        return jsonify(queued=False), 200  # not our company: acknowledged, nothing to do
    # The sweep is registered whenever the plugin is on: queued says the notification will be
    # followed, even when a firing already waiting takes it in (a burst costs one run).
    queued = ctx.enabled
    if queued:
        # A merge is followed at once: the change feed shows no merge (Intuit documents none),
        # only the merged customer made inactive, so this is the one place it is named. The
        # host's contact keeps its id and is linked to the customer kept: never a new one.
        for gone, kept in merges(payload):
            links.relink(ctx, "customer", gone, kept)
        ctx.run_job("sweep")
    if entities(payload) & {"preferences", "companyinfo"}:
        ctx.run_job("company-facts")  # the company's settings changed: the sync must follow them
    return jsonify(queued=queued), 200
