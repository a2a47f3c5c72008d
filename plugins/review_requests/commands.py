"""``hub review-requests``: the operator's commands for this plugin."""

from __future__ import annotations

import click

from hub.cli import pass_hub
from hub.hub import Hub
from plugins.review_requests.mailer import MailError
from plugins.review_requests.sending import send_test


@click.group("review-requests")
def review_requests() -> None:
    """Review requests sent on a customer's first fully paid invoice."""


@review_requests.command("test")
@click.argument("email")
@pass_hub
def test(hub: Hub, email: str) -> None:
    """Send the configured review request, with sample values, to EMAIL now."""
    try:
        click.echo(send_test(hub, email))
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
