"""Keeps customers, invoices and payments in step with QuickBooks Online."""

from __future__ import annotations

import click
from pydantic import BaseModel

from hub import hookimpl
from plugins.quickbooks.commands import add_commands
from plugins.quickbooks.settings import Settings


@hookimpl
def settings_model() -> type[BaseModel]:
    return Settings


@hookimpl
def register_commands(cli: click.Group) -> None:
    add_commands(cli)
