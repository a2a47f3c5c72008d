"""``hub keys`` and ``hub admin``: the operator's keys (re-encrypting what is stored secret) and
the settings UI's sign-ins.

Separate from ``hub/roles/cli.py``, which only puts the groups together: these are the groups
that touch secrets and sessions, asked for by an operator, rarely and on purpose.
"""

from __future__ import annotations

import sys

import click

from hub.errors import RetryLater
from hub.hub import Hub
from hub.plugins.context import CallContext
from hub.plugins.registry import call_for, implementers
from hub.roles.command_context import pass_hub


@click.group()
def keys() -> None:
    """Encryption keys for what is stored secret."""


@keys.command("rotate")
@pass_hub
def keys_rotate(hub: Hub) -> None:
    """Re-encrypt every stored secret under the first key of HUB_ENCRYPTION_KEYS.

    A plugin busy with its secrets (QuickBooks refreshing its token, under the lease the
    refresh takes) raises ``RetryLater``: the others are re-encrypted, and the command fails
    saying to run it again (re-encrypting twice is harmless)."""
    count = hub.states.rotate_secrets()
    click.echo(f"re-encrypted {count} secret settings")
    busy = False
    for plugin in implementers(hub.pm, "reencrypt"):
        try:
            done = call_for(hub.pm, "reencrypt", plugin, rotate=hub.crypto.rotate,
                            ctx=CallContext(hub, "keys.rotate", "-"))
        except RetryLater as exc:
            click.echo(f"error: {plugin}: not re-encrypted yet: {exc}", err=True)
            busy = True
            continue
        click.echo(f"{plugin}: re-encrypted {done} stored secrets")
    if busy:
        sys.exit(1)


@click.group()
def admin() -> None:
    """The settings UI's operator sign-in."""


@admin.command("sign-out-all")
@pass_hub
def admin_sign_out_all(hub: Hub) -> None:
    """End every signed-in session of the settings UI, in every browser (copied cookies too)."""
    from hub.ui import auth  # Flask and the UI only for the command that needs them

    ended = auth.sign_out_all(hub)
    click.echo(f"{ended} sign-in {'session' if ended == 1 else 'sessions'} ended: every "
               "browser must sign in again")
