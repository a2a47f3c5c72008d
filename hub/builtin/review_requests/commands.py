"""``hub review-requests``: the operator's commands for this plugin."""

from __future__ import annotations

import click
from pydantic import TypeAdapter, ValidationError

from hub import Context
from hub.bounds import shown
from hub.builtin.review_requests.mailer import MailError
from hub.builtin.review_requests.sending import send_test
from hub.events import Email
from hub.roles.cli import pass_context


def _address(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    # A blank one first: the Email type reads it as "no email", which is no one to send to.
    if not value.strip():
        raise click.BadParameter("give the address to send the test to, e.g. you@example.com")
    try:
        TypeAdapter(Email).validate_python(value)
    except ValidationError:
        raise click.BadParameter(f"{shown(value)} is not an email address: write one such as "
                                 "you@example.com") from None
    return value


@click.group("review-requests")
def review_requests() -> None:
    """Review requests sent on a customer's first fully paid invoice."""


@review_requests.command("test")
@click.argument("email", callback=_address)
@pass_context("review_requests")
def test(ctx: Context, email: str) -> None:
    """Send the configured review request, with sample values, to EMAIL now."""
    try:
        click.echo(send_test(ctx, email))
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
