"""The ``hub quickbooks`` commands this plugin adds to the hub's command line."""

from __future__ import annotations

import click


@click.group("quickbooks")
def quickbooks() -> None:
    """QuickBooks Online: the connection and the bundled emulator."""


def add_commands(cli: click.Group) -> None:
    from plugins.quickbooks.emulator.cli import command as emulator

    group = click.Group("quickbooks", help=quickbooks.help,
                        commands=dict(quickbooks.commands))
    group.add_command(emulator)
    cli.add_command(group)
