"""Sends one review request on a customer's first fully paid invoice."""

from __future__ import annotations

from pathlib import Path

import click
from markupsafe import Markup, escape
from pydantic import BaseModel

from hub import Context, hookimpl
from hub.builtin.review_requests import models
from hub.builtin.review_requests.sending import request_review
from hub.builtin.review_requests.settings import Settings
from hub.events import Invoice

# The hubs it works with, and the plugins it needs (none: invoices paid reach it from the host
# or from any plugin that publishes them).
HUB_REQUIRES = ">=0.1,<1"
NEEDS: tuple[str, ...] = ()


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def migrations() -> Path:
    return Path(__file__).parent / "versions"


@hookimpl
def on_invoice_paid(invoice: Invoice, ctx: Context) -> None:
    # Paid through the host or, published by the QuickBooks sync, in QuickBooks: the same rule.
    request_review(invoice, ctx)


@hookimpl
def register_commands(cli: click.Group) -> None:
    # Imported here: the commands need hub.cli, which a worker or web process never loads.
    from hub.builtin.review_requests.commands import review_requests

    cli.add_command(review_requests)


@hookimpl
def ui_card(ctx: Context) -> str | None:
    settings = ctx.settings if isinstance(ctx.settings, Settings) else Settings()
    with ctx.reading() as conn:
        counts = models.counts(conn)
    problems = []
    if settings.review_url is None:
        problems.append("review_url is not set, so nothing is sent")
    if not ctx.config.smtp_url:
        problems.append("HUB_SMTP_URL is not set, so mail cannot be sent")
    sent = counts.get("sent", 0)
    pending = counts.get("sending", 0)
    html = Markup("<p>Customers asked for a review: {}{}.</p>").format(
        sent, Markup(" (and {} under way)").format(pending) if pending else "")
    for problem in problems:
        html += Markup('<p class="warning">{}</p>').format(escape(problem))
    return str(html)
