"""The ``hub`` command. Plugins add their own commands through ``register_commands``.

This puts the command together: the processes it runs as (``serve``, ``web``, ``worker``,
``scheduler``) are here, the groups in their own modules (``hub/roles/plugin_commands.py``,
``queue_commands.py``, ``operator_commands.py``), what a command is handed in
``hub/roles/command_context.py`` and its arguments' checks in ``hub/roles/arguments.py``.
``pass_hub`` and ``pass_context`` stay importable from here, where plugins' commands find them.
"""

from __future__ import annotations

import copy
import os

import click

from hub import __version__
from hub.config import load_config, plugin_modules
from hub.errors import ConfigError
from hub.hub import Hub
from hub.plugins.registry import discover
from hub.roles.arguments import PORT, check_address
from hub.roles.command_context import pass_context, pass_hub
from hub.roles.operator_commands import admin, keys
from hub.roles.plugin_commands import plugins
from hub.roles.queue_commands import events, jobs

__all__ = ["build_cli", "cli", "main", "pass_context", "pass_hub"]


@click.group()
@click.version_option(__version__, prog_name="hub")
def cli() -> None:
    """Ledgerline Hub: keeps your business application and QuickBooks Online in step."""


def _roles(web: bool, worker: bool, clock: bool, host: str = "127.0.0.1",
           port: int = 8000) -> None:
    from hub.roles.serve import run_roles, setup_logging

    setup_logging()
    try:
        hub = Hub(load_config())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    run_roles(hub, web=web, worker=worker, clock=clock, host=host, port=port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, callback=check_address)
@click.option("--port", default=8000, show_default=True, type=PORT)
def serve(host: str, port: int) -> None:
    """Web UI, host API, workers and scheduler in one process."""
    _roles(True, True, True, host, port)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, callback=check_address)
@click.option("--port", default=8000, show_default=True, type=PORT)
def web(host: str, port: int) -> None:
    """Only the web UI and host API."""
    _roles(True, False, False, host, port)


@cli.command()
def worker() -> None:
    """Only the workers that deliver events to plugins (run several on PostgreSQL)."""
    _roles(False, True, False)


@cli.command()
def scheduler() -> None:
    """Only the clock that records scheduled jobs (a second one is harmless)."""
    _roles(False, False, True)


# In the order they were always added, so `hub --help` and build_cli's copy are unchanged.
for _group in (plugins, jobs, events, keys, admin):
    cli.add_command(_group)
del _group


def build_cli() -> click.Group:
    """A fresh ``hub`` command with every plugin's commands added (the core's group is copied,
    never mutated, so building twice gives the same command)."""
    group = copy.copy(cli)
    group.commands = dict(cli.commands)
    try:
        pm, _infos = discover(modules=plugin_modules(os.environ.get("HUB_PLUGINS")))
    except Exception as exc:  # a broken plugin must not take the whole command down
        click.echo(f"warning: plugins could not be loaded: {exc}", err=True)
        return group
    pm.hook.register_commands(cli=group)
    return group


def main() -> None:
    build_cli()(prog_name="hub")
