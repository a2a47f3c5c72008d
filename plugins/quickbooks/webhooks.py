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

from flask import Blueprint, Response, current_app, jsonify, request

from hub.hub import Hub
from hub.jobs import fire_soon
from plugins.quickbooks import connection

bp = Blueprint("quickbooks_webhooks", __name__)


def signature(verifier_token: str, raw: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), raw, hashlib.sha256).digest()
                            ).decode()


def realms(payload: Any) -> set[str]:
    """The companies a notification speaks of, in either format."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for note in payload.get("eventNotifications") or []:
            if isinstance(note, dict) and note.get("realmId"):
                found.add(str(note["realmId"]))
    elif isinstance(payload, list):
        for event in payload:
            if isinstance(event, dict) and event.get("intuitaccountid"):
                found.add(str(event["intuitaccountid"]))
    return found


def entities(payload: Any) -> set[str]:
    """The kinds of object a notification names, lowercased: ``customer``, ``preferences``."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for note in payload.get("eventNotifications") or []:
            change = (note or {}).get("dataChangeEvent") or {}
            found |= {str(e.get("name", "")).lower() for e in change.get("entities") or []}
    elif isinstance(payload, list):
        for event in payload:  # CloudEvents: "qbo.preferences.updated.v1"
            parts = str((event or {}).get("type", "")).split(".")
            if len(parts) > 2:
                found.add(parts[1].lower())
    return found


@bp.post("/quickbooks/webhooks")
def receive() -> tuple[Response, int]:
    hub: Hub = current_app.config["HUB"]
    token = hub.config.qbo_webhook_verifier_token
    if not token:
        return jsonify(error="webhooks are refused: QBO_WEBHOOK_VERIFIER_TOKEN is not set"), 403
    raw = request.get_data(cache=False)
    given = request.headers.get("intuit-signature", "")
    if not hmac.compare_digest(given.encode(), signature(token, raw).encode()):
        return jsonify(error="the intuit-signature does not match this body"), 401
    try:
        payload = json.loads(raw)
    except ValueError:
        return jsonify(error="the body is not JSON"), 400
    current = connection.row(hub)
    if current is None or current["realm_id"] not in realms(payload):
        return jsonify(queued=False), 200  # not our company: acknowledged, nothing to do
    jobs = hub.jobs()
    job = jobs.get("quickbooks.sweep")
    if job is not None:
        fire_soon(hub, job)
    facts = jobs.get("quickbooks.company-facts")
    if facts is not None and entities(payload) & {"preferences", "companyinfo"}:
        fire_soon(hub, facts)  # the company's settings changed: the sync must follow them
    return jsonify(queued=job is not None), 200
