"""Tells the host application what changed, at ``HUB_HOST_WEBHOOK_URL``.

The hub's own plugin, written against the same hooks as any other. Each message is posted as
JSON and signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); anything but a 2xx answer is retried for about 3 days, as Stripe does,
then parked for the operator, so the host sees every message at least once, always under the
same id.

No redirect is followed: a 301 or 302 would turn the POST into a GET without its body, and that
GET's 2xx would count as delivered. A 3xx is a failure like a 500, retried, and the operator
reads where the host pointed.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from standardwebhooks import Webhook

from hub import hookimpl
from hub.errors import RetryLater, Skip
from hub.plugins.context import Context

PLUGIN = "host_webhooks"
HUB_REQUIRES = ">=0.1,<1"
NEEDS: tuple[str, ...] = ()
log = logging.getLogger("hub.host_webhooks")

# The wait after each failed attempt (hub.dispatch.retry_schedule): 12 attempts over about 70
# hours (each wait up to a tenth longer, at random), Stripe's "up to three days". Like Stripe's
# and Svix's, close together first (a restart, a deploy), then hours apart (an outage).
RETRY_SCHEDULE = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=5), timedelta(hours=10), timedelta(hours=10), timedelta(hours=10),
    timedelta(hours=10), timedelta(hours=10), timedelta(hours=12),
)


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header, by the Standard Webhooks package (the spec's own
    library, so a receiver verifying with any Standard Webhooks library agrees). A ``whsec_``
    secret is base64, as the spec writes it; any other (24 characters at least, checked at
    start) is used as its bytes."""
    key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
    return Webhook(key).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body)


def shown_url(url: str) -> str:
    """A URL as the operator may read it: scheme, host, port and path; no credentials, no
    query (either may hold the host's token)."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:
        return "(not a URL)"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))[:200]


@hookimpl
def on_host_event(message: dict[str, Any], ctx: Context) -> None:
    config = ctx.config
    if not config.host_webhook_url:
        raise Skip("HUB_HOST_WEBHOOK_URL is not set, so the host is not told")
    body = json.dumps(message, separators=(",", ":"))
    timestamp = int(time.time())
    headers = {"content-type": "application/json", "webhook-id": message["id"],
               "webhook-timestamp": str(timestamp), "user-agent": "ledgerline-hub"}
    if config.host_webhook_secret:
        headers["webhook-signature"] = sign(config.host_webhook_secret, message["id"],
                                            timestamp, body)
    elif not ctx.memory.get("warned"):
        ctx.memory["warned"] = True
        log.warning("HUB_HOST_WEBHOOK_SECRET is not set: calls to the host are unsigned")
    try:
        answer = requests.post(config.host_webhook_url, data=body.encode(), headers=headers,
                               timeout=10, allow_redirects=False)
    except requests.RequestException as exc:
        raise RetryLater(f"the host did not answer: {exc.__class__.__name__}") from None
    if 300 <= answer.status_code < 400:
        where = answer.headers.get("location")
        raise RetryLater(
            f"the host answered {answer.status_code}, a redirect"
            + (f" to {shown_url(urljoin(config.host_webhook_url, where))}" if where else "")
            + ", which is not followed (the message would arrive as a GET without its body); "
            "set HUB_HOST_WEBHOOK_URL to the address that answers 2xx itself")
    if not 200 <= answer.status_code < 300:
        raise RetryLater(f"the host answered {answer.status_code}; it is asked again later")
    ctx.note(f"host answered {answer.status_code}")


def parked(ctx: Context) -> int:
    """How many messages to the host are parked: retried for the whole window, never taken."""
    return ctx.parked()


def window() -> str:
    from hub.clock import span

    return span(sum(RETRY_SCHEDULE, timedelta()))


@hookimpl
def ui_card(ctx: Context) -> str:
    """Where messages go, whether they are signed, and what was parked after the window."""
    from markupsafe import Markup, escape

    config = ctx.config
    parts: list[Markup] = []
    if not config.host_webhook_url:
        parts.append(Markup('<p data-host-webhooks="off">Not sending: '
                            "<code>HUB_HOST_WEBHOOK_URL</code> is not set, so your app is not "
                            "told what changed.</p>"))
    else:
        parts.append(Markup('<p data-host-webhooks="url">Sending to <code>{}</code>.</p>')
                     .format(shown_url(config.host_webhook_url)))
    if config.host_webhook_secret:
        parts.append(Markup('<p data-host-webhooks="signed"><span class="pill green">Signed'
                            "</span> per Standard Webhooks with "
                            "<code>HUB_HOST_WEBHOOK_SECRET</code>.</p>"))
    else:
        parts.append(Markup(
            '<p class="problem" data-host-webhooks="unsigned"><span class="pill amber">Unsigned'
            "</span> <code>HUB_HOST_WEBHOOK_SECRET</code> is not set, so your app cannot tell "
            "the hub's messages from anyone else's. Set it to a <code>whsec_</code> secret "
            "(the one your app checks signatures with) and restart the hub.</p>"))
    count = parked(ctx)
    if count:
        parts.append(Markup(
            '<p class="problem" data-host-webhooks="parked"><strong>{} {} stopped</strong> '
            "after {} of retries: your app never answered with a 2xx. Fix what the last "
            "problem says, then Retry all.</p>").format(
                count, "message" if count == 1 else "messages", escape(window())))
    return str(Markup("").join(parts))
