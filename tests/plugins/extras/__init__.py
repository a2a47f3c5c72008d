"""A third-party-style plugin exercising the contribution hooks: its own table (through its own
migration branch), a web route, a command, and facts for the read API."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from flask import Blueprint

from hub import hookimpl
from hub.events import Balance
from hub.plugins.context import Context
from hub.reports import MonthFigures, Receivables

blueprint = Blueprint("extras", __name__, url_prefix="/extras")


@blueprint.get("/ping")
def ping() -> dict[str, str]:
    return {"pong": "extras"}


@hookimpl
def migrations() -> Path:
    return Path(__file__).parent / "versions"


@hookimpl
def register_blueprints(register: Any) -> None:
    register(blueprint)


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("extras-hello")
    @click.argument("name")
    def hello(name: str) -> None:
        """Say hello (a plugin's own command)."""
        click.echo(f"hello {name} from extras")


@hookimpl
def customer_balance(email: str, ctx: Context) -> Balance | None:
    if email != "owes@example.com":
        return None
    return Balance(outstanding=Decimal("130.00"), overdue=Decimal("65.00"), open_invoices=2,
                   overdue_invoices=1, source="extras")


@hookimpl
def reencrypt(rotate: Any, ctx: Context) -> int:
    return 0  # it stores no secrets, but is asked like every plugin


@hookimpl
def receivables(ctx: Context) -> Receivables | None:
    return Receivables(source="extras", clients=[], months=[
        MonthFigures(month="2026-03", invoiced=Decimal("130"), collected=Decimal("65"),
                     outstanding=Decimal("65"))])


@hookimpl
def ui_card(ctx: Context) -> str | None:
    return "<p>extras is <strong>ready</strong></p>"


@hookimpl
def describe_invoice(external_id: str, ctx: Context) -> dict[str, Any] | None:
    return {"quickbooks_id": f"qb-{external_id}"} if external_id == "inv-1" else None


@hookimpl
def describe_contact(external_id: str, ctx: Context) -> dict[str, Any] | None:
    return {"outstanding": "130.00", "plugin_seen": ctx.plugin}
