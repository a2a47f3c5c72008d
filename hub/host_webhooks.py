"""Tells the host application what changed, at ``HUB_HOST_WEBHOOK_URL``.

The hub's own plugin, written against the same hooks as any other. Each message is posted as
JSON and signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); anything but a 2xx answer is retried with backoff, so the host sees
every message at least once, always under the same id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import requests

from hub import hookimpl
from hub.context import Context
from hub.errors import RetryLater, Skip

log = logging.getLogger("hub.host_webhooks")
_warned = False


def signing_key(secret: str) -> bytes:
    """Standard Webhooks secrets are ``whsec_`` + base64; any other string is used as is."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    mac = hmac.new(signing_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


@hookimpl
def on_host_event(message: dict[str, Any], ctx: Context) -> None:
    global _warned
    config = ctx.hub.config
    if not config.host_webhook_url:
        raise Skip("HUB_HOST_WEBHOOK_URL is not set, so the host is not told")
    body = json.dumps(message, separators=(",", ":"))
    timestamp = int(time.time())
    headers = {"content-type": "application/json", "webhook-id": message["id"],
               "webhook-timestamp": str(timestamp), "user-agent": "ledgerline-hub"}
    if config.host_webhook_secret:
        headers["webhook-signature"] = sign(config.host_webhook_secret, message["id"],
                                            timestamp, body)
    elif not _warned:
        _warned = True
        log.warning("HUB_HOST_WEBHOOK_SECRET is not set: calls to the host are unsigned")
    try:
        answer = requests.post(config.host_webhook_url, data=body.encode(), headers=headers,
                               timeout=10)
    except requests.RequestException as exc:
        raise RetryLater(f"the host did not answer: {exc.__class__.__name__}") from None
    if not 200 <= answer.status_code < 300:
        raise RetryLater(f"the host answered {answer.status_code}; it is asked again later")
    ctx.note(f"host answered {answer.status_code}")
