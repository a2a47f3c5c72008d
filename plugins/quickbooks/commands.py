"""The ``hub quickbooks`` commands this plugin adds to the hub's command line."""

from __future__ import annotations

import sys

import click

from hub.cli import pass_hub
from hub.hub import Hub
from plugins.quickbooks import connect, connection


@click.group("quickbooks")
def quickbooks() -> None:
    """QuickBooks Online: connect, status, disconnect, and the bundled emulator."""


@quickbooks.command("connect")
@click.option("--realm-id", required=True, help="the QuickBooks company id")
@click.option("--refresh-token", required=True, help="a refresh token for that company")
@click.option("--environment", type=click.Choice(["sandbox", "production"]), default=None,
              help="default: QBO_ENVIRONMENT")
@pass_hub
def connect_command(hub: Hub, realm_id: str, refresh_token: str,
                    environment: str | None) -> None:
    """Connect without a browser: the refresh token is exchanged now."""
    try:
        click.echo(connect.with_refresh_token(hub, realm_id, refresh_token, environment))
    except connect.ConnectError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@quickbooks.command("status")
@pass_hub
def status_command(hub: Hub) -> None:
    """Connected or not, which company, environment, token expiry, last sync."""
    s = connection.status(hub)
    if s["status"] == "not_connected":
        click.echo("QuickBooks: not connected (`hub quickbooks connect`, or Connect on the "
                   "Integrations page)")
        return
    label = {"connected": "connected", "needs_reconnect": "NEEDS RECONNECT",
             "disconnected": "disconnected"}[s["status"]]
    click.echo(f"QuickBooks: {label}")
    click.echo(f"  company          {s['company_name'] or '?'} (realm {s['realm_id']})")
    click.echo(f"  environment      {s['environment']}")
    if s["status"] == "connected":
        click.echo(f"  access token     expires in "
                   f"{connection.expires_in(s['access_expires_at'])}")
        click.echo(f"  refresh token    lapses in "
                   f"{connection.expires_in(s['refresh_expires_at'])} unless used; hard limit "
                   f"in {connection.expires_in(s['refresh_hard_expires_at'])}")
    click.echo(f"  last sync        {s['last_sync_at'] or 'never'}")
    if s["last_error"]:
        click.echo(f"  last error       {s['last_error']}")
    for warning in s["warnings"]:
        click.echo(f"  warning: {warning}")


@quickbooks.command("disconnect")
@pass_hub
def disconnect_command(hub: Hub) -> None:
    """Revoke the tokens at Intuit and delete them here; synced records stay in QuickBooks."""
    click.echo(connection.disconnect(hub))


@click.group("billing")
def billing_group() -> None:
    """Monthly summary invoices for bookings billed monthly."""


@billing_group.command("close-month")
@click.argument("month", metavar="YYYY-MM")
@pass_hub
def close_month_command(hub: Hub, month: str) -> None:
    """Bill now the monthly-billed sessions of MONTH; running it again bills nothing twice."""
    import re

    from plugins.quickbooks import billing
    from plugins.quickbooks.settings import Settings

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise click.BadParameter("write the month as YYYY-MM, e.g. 2026-03",
                                 param_hint="MONTH")
    settings = hub.states.settings("quickbooks")
    assert isinstance(settings, Settings)
    results = billing.close_month(hub, month, settings)
    if not results:
        click.echo(f"{month}: no monthly sessions waiting to be billed")
    for i, result in enumerate(results, start=1):
        state = f"FAILED: {result.error}" if result.error else "billed"
        click.echo(f"[{i}/{len(results)}] {result.client}: {result.sessions} sessions, "
                   f"invoice {result.invoice_external_id} {state}")
    if any(r.error for r in results):
        sys.exit(1)


def add_commands(cli: click.Group) -> None:
    from plugins.quickbooks.emulator.cli import command as emulator

    group = click.Group("quickbooks", help=quickbooks.help,
                        commands=dict(quickbooks.commands))
    group.add_command(emulator)
    cli.add_command(group)
    cli.add_command(click.Group("billing", help=billing_group.help,
                                commands=dict(billing_group.commands)))
