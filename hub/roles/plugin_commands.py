"""``hub plugins``: list the plugins, switch them on and off, show and set their settings, and
write a new plugin package.

Separate from ``hub/roles/cli.py``, which only puts the groups together: this is the group that
reads and changes the plugins' stored state (``hub/plugins/states.py``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from pydantic import ValidationError

from hub.bounds import shown
from hub.crypto import mask
from hub.hub import Hub
from hub.plugins.states import Refused, SettingsError
from hub.roles.command_context import pass_hub
from hub.values import validation_errors


@click.group()
def plugins() -> None:
    """List plugins, switch them on and off, set their settings."""


@plugins.command("list")
@pass_hub
def plugins_list(hub: Hub) -> None:
    """Every plugin found, its version, enabled or not (or refused, and why)."""
    for name, info in hub.infos.items():
        enabled = hub.states.enabled(name)
        refused = None if enabled else hub.states.refusal(name)
        # Switched on but stopped by a need that is off: it waits, and can be disabled.
        waiting = bool(refused) and info.refused is None and hub.states.switched_on(name)
        state = ("enabled " if enabled else "waiting " if waiting
                 else "refused " if refused else "disabled")
        kind = "built-in" if info.builtin else "installed"
        click.echo(f"{name:<18} {info.version:<10} {state}  {kind:<9}  {info.description}")
        if waiting:
            click.echo(f"{'':<18} switched on but not running: {refused} (or `hub plugins "
                       f"disable {name}`)")
        elif refused:
            click.echo(f"{'':<18} cannot be enabled: {refused}")


@plugins.command("enable")
@click.argument("name")
@pass_hub
def plugins_enable(hub: Hub, name: str) -> None:
    """Switch a plugin on; one the hub refuses (an incompatible hub version, a plugin it needs
    missing or off) is not, and the command says why and exits 1."""
    try:
        hub.states.set_enabled(name, True)
    except Refused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name} enabled")


@plugins.command("disable")
@click.argument("name")
@pass_hub
def plugins_disable(hub: Hub, name: str) -> None:
    """Switch a plugin off."""
    _set_enabled(hub, name, False)


def _set_enabled(hub: Hub, name: str, enabled: bool) -> None:
    try:
        hub.states.set_enabled(name, enabled)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name} {'enabled' if enabled else 'disabled'}")


@plugins.command("show")
@click.argument("name")
@pass_hub
def plugins_show(hub: Hub, name: str) -> None:
    """A plugin's settings: each value (secrets masked), its default and what it means."""
    info = hub.infos.get(name)
    if info is None:
        raise click.ClickException(f"no plugin named {shown(name)}; see `hub plugins list`")
    model = info.settings_model
    if model is None:
        click.echo(f"{name} has no settings")
        return
    try:
        current = hub.states.settings(name)
    except ValidationError as exc:
        # Stored under a plugin's older rules: say which, and how to set each right.
        for where, message in validation_errors(exc):
            click.echo(f"error: {name}.{where}: the stored value is refused now: {message}; "
                       f"set it again with `hub plugins set {name} {where}=...`", err=True)
        sys.exit(1)
    for key, field in model.model_fields.items():
        value = _shown_setting(getattr(current, key))
        default = None if field.is_required() else _shown_setting(field.get_default(
            call_default_factory=True))
        note = "; ".join(part for part in (
            field.description, None if default is None else f"default {default}") if part)
        click.echo(f"{key} = {value}" + (f"    # {note}" if note else ""))


def _shown_setting(value: Any) -> str:
    """A setting's value as ``hub plugins show`` prints it: JSON, a secret masked."""
    if hasattr(value, "get_secret_value"):
        return json.dumps(mask(value.get_secret_value()), ensure_ascii=False)
    return json.dumps(value, default=str, ensure_ascii=False)


@plugins.command("set")
@click.argument("name")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@pass_hub
def plugins_set(hub: Hub, name: str, assignments: tuple[str, ...]) -> None:
    """Set plugin settings; each is checked against what the plugin declares."""
    updates: dict[str, str] = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.ClickException(f"{shown(item)}: write settings as KEY=VALUE")
        updates[key.strip()] = value
    try:
        hub.states.update_settings(name, updates)
    except SettingsError as exc:
        plugin = name if name in hub.infos else shown(name)
        for field, message in exc.errors:
            click.echo(f"error: {plugin}.{field}: {message}", err=True)
        sys.exit(2)
    click.echo(f"{name}: saved {', '.join(sorted(updates))}")


@plugins.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Where to write the package (must not exist)  [default: ./NAME]")
def plugins_new(name: str, directory: str | None) -> None:
    """Write a new plugin package NAME: pyproject with its entry point, settings, a hook,
    a README and tests that pass after `pip install -e DIR` and `pytest`."""
    from pathlib import Path

    from hub.roles.scaffold import ScaffoldError, scaffold

    try:
        written = scaffold(name, Path(directory or name))
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    root = written[0].parent
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: pip install -e '{root}[test]' && (cd {root} && pytest)")
