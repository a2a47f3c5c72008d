"""Paid webhook: posts each fully paid invoice to a URL, signed, and tells the host."""

from __future__ import annotations

import hashlib
import hmac
import json

import requests
from hub import Context, hookimpl
from hub.errors import NeedsOperator, RetryLater, Skip
from hub.events import Invoice
from pydantic import BaseModel, ConfigDict, Field, SecretStr

__version__ = "0.1.0"


class Settings(BaseModel):
    """`hub plugins set paid_webhook url=https://... signing_secret=...`."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(default="",
                     description="where each fully paid invoice is posted; empty: nowhere")
    signing_secret: SecretStr | None = Field(
        default=None,
        description="signs each post: X-Signature is sha256= and the body's HMAC-SHA256")
    timeout_seconds: float = Field(default=10.0, gt=0, le=60,
                                   description="how long to wait for an answer")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def on_invoice_paid(invoice: Invoice, ctx: Context) -> None:
    settings = ctx.settings if isinstance(ctx.settings, Settings) else Settings()
    if invoice.balance != 0:
        ctx.note(f"{invoice.balance} still owed on {invoice.external_id}: not posted")
        return
    if not settings.url:
        raise Skip("url is not set, so nothing is posted")
    data = {"invoice": invoice.external_id, "number": invoice.number,
            "total": str(invoice.computed_total), "paid": str(invoice.paid),
            "currency": invoice.currency, "email": invoice.billing_email
            or invoice.contact.email}
    body = json.dumps(data, separators=(",", ":")).encode()
    headers = {"content-type": "application/json",
               "idempotency-key": ctx.write_key(f"{settings.url} {invoice.external_id}", data)}
    if settings.signing_secret:
        headers["x-signature"] = signature(settings.signing_secret.get_secret_value(), body)
    try:
        answer = requests.post(settings.url, data=body, headers=headers,
                               timeout=settings.timeout_seconds, allow_redirects=False)
    except requests.RequestException as exc:
        raise RetryLater(f"{settings.url} did not answer: {exc.__class__.__name__}") from None
    if 400 <= answer.status_code < 500 and answer.status_code not in (408, 429):
        raise NeedsOperator(f"{settings.url} refused the post with {answer.status_code}")
    if not 200 <= answer.status_code < 300:
        raise RetryLater(f"{settings.url} answered {answer.status_code}")
    ctx.note(f"{invoice.external_id} posted")
    ctx.notify_host("invoice.forwarded", {"external_id": invoice.external_id,
                                          "url": settings.url}, key=invoice.external_id)
