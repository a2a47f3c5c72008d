"""The ``hub`` command. Plugins add their own commands through ``register_commands``."""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import select

from hub import __version__
from hub.bounds import shown
from hub.clock import iso, utcnow
from hub.config import load_config, plugin_modules
from hub.crypto import mask
from hub.errors import ConfigError, RetryLater
from hub.hub import Hub
from hub.plugins.context import CallContext
from hub.plugins.registry import call_for, discover, implementers
from hub.plugins.states import Refused, SettingsError
from hub.queue.db import reading
from hub.queue.store import DELIVERIES, EVENTS
from hub.values import validation_errors

F = TypeVar("F", bound=Callable[..., Any])


def pass_hub(func: F) -> F:
    """Give a command the process's ``Hub``, made on first use from the environment."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        root = ctx.find_root()
        if not isinstance(root.obj, Hub):
            try:
                root.obj = Hub(load_config())
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            root.call_on_close(root.obj.close)
        return ctx.invoke(func, root.obj, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def pass_context(plugin: str) -> Callable[[F], F]:
    """Give a plugin's command its ``Context`` (``ctx.settings``, ``ctx.write``...) as the first
    argument, as its hooks are given one: ``@pass_context("my_plugin")``."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(hub: Hub, *args: Any, **kwargs: Any) -> Any:
            return func(hub.context(plugin, "command", click.get_current_context().info_name
                                    or "-"), *args, **kwargs)

        return pass_hub(wrapper)  # type: ignore[return-value]

    return decorate


# -- arguments -------------------------------------------------------------------------
# Checked before anything runs, as click's usage errors (exit 2): a value no command could use
# is a sentence naming the fix, never a traceback from deep inside (a lone surrogate, which a
# shell passes for bytes that are not UTF-8, fails the moment it reaches the database).

PORT = click.IntRange(1, 65535)
# A delivery's number: a positive 64-bit integer, as the database keeps it.
DELIVERY = click.IntRange(1, 2**63 - 1)
# An event id as the host sends it (hub.events.ExternalId): printable ASCII, no spaces.
_EVENT_ID = re.compile(r"[\x21-\x7e]{1,255}")


def check_address(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """``--host``: the server listens on an IP address; a name is not looked up."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise click.BadParameter(f"{shown(value)} is not an IP address: give 127.0.0.1 (this "
                                 "machine only) or 0.0.0.0 (every interface)") from None
    return value


def check_event_id(_ctx: click.Context, _param: click.Parameter,
                   value: str | None) -> str | None:
    if value is None or _EVENT_ID.fullmatch(value):
        return value
    raise click.BadParameter(f"{shown(value)} is not an event id: the host's ids are 1 to 255 "
                             "printable ASCII characters without spaces (see `hub events "
                             "failed`)")


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


# -- plugins ------------------------------------------------------------------------------

@cli.group()
def plugins() -> None:
    """List plugins, switch them on and off, set their settings."""


@plugins.command("list")
@pass_hub
def plugins_list(hub: Hub) -> None:
    """Every plugin found, its version, enabled or not (or refused, and why)."""
    for name, info in hub.infos.items():
        enabled = hub.states.enabled(name)
        refused = None if enabled else hub.states.refusal(name)
        state = "enabled " if enabled else "refused " if refused else "disabled"
        kind = "built-in" if info.builtin else "installed"
        click.echo(f"{name:<18} {info.version:<10} {state}  {kind:<9}  {info.description}")
        if refused:
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


# -- jobs -------------------------------------------------------------------------------

@cli.group()
def jobs() -> None:
    """The scheduled jobs plugins contribute."""


@jobs.command("list")
@pass_hub
def jobs_list(hub: Hub) -> None:
    """Each job, its schedule and its next run."""
    found = hub.jobs()
    if not found:
        click.echo("no scheduled jobs (no enabled plugin registers any)")
    for job in found.values():
        nxt = job.next_run()
        click.echo(f"{job.id:<32} {job.schedule:<24} next {iso(nxt) if nxt else '-'}"
                   + (f"  {job.description}" if job.description else ""))


@jobs.command("run")
@click.argument("job_id")
@pass_hub
def jobs_run(hub: Hub, job_id: str) -> None:
    """Run a job now, here, and say how it went."""
    from hub.plugins.jobs import fire
    from hub.queue.worker import run_due

    job = hub.jobs().get(job_id)
    if job is None:
        known = ", ".join(hub.jobs()) or "none"
        raise click.ClickException(f"no job {shown(job_id)}; jobs: {known} (see `hub jobs "
                                   "list`)")
    fired = fire(hub, job, utcnow())
    run_due(hub)
    with reading(hub.engine) as conn:
        row = conn.execute(select(DELIVERIES.c.status, DELIVERIES.c.last_error,
                                  DELIVERIES.c.result)
                           .where(DELIVERIES.c.event_pk == fired.pk)).one()
    click.echo(f"{job_id}: {row.status}" + (f" — {row.result}" if row.result else "")
               + (f" — {row.last_error}" if row.last_error else ""))
    if row.status not in ("done", "skipped"):
        sys.exit(1)


# -- events and deliveries --------------------------------------------------------------

@cli.group()
def events() -> None:
    """Events and their deliveries: look, and retry what was parked."""


@events.command("show")
@click.argument("event_id", callback=check_event_id)
@pass_hub
def events_show(hub: Hub, event_id: str) -> None:
    """An event's status and each plugin's delivery, as the API shows it."""
    view = hub.event(event_id)
    if view is None:
        raise click.ClickException(f"no event {event_id!r} (see `hub events failed`, or "
                                   "Activity in the settings UI)")
    click.echo(json.dumps(view, indent=2))


@events.command("failed")
@pass_hub
def events_failed(hub: Hub) -> None:
    """Deliveries that are parked (dead) or waiting, with their errors."""
    with reading(hub.engine) as conn:
        rows = conn.execute(
            select(DELIVERIES.c.pk, DELIVERIES.c.plugin, DELIVERIES.c.status,
                   DELIVERIES.c.attempts, DELIVERIES.c.last_error, EVENTS.c.key, EVENTS.c.type)
            .join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
            .where(DELIVERIES.c.status.in_(("dead", "waiting")))
            .order_by(DELIVERIES.c.pk)
        ).all()
    if not rows:
        click.echo("nothing parked or waiting")
    for r in rows:
        click.echo(f"#{r.pk} {r.status:<7} {r.plugin:<16} {r.type:<14} {r.key}  "
                   f"({r.attempts} attempts) {r.last_error}")


@events.command("retry")
@click.argument("event_id", required=False, callback=check_event_id)
@click.option("--delivery", "deliveries", multiple=True, type=DELIVERY,
              help="a delivery number from `hub events failed`")
@pass_hub
def events_retry(hub: Hub, event_id: str | None, deliveries: tuple[int, ...]) -> None:
    """Deliver a parked event (or single deliveries) again, with fresh attempts."""
    if not event_id and not deliveries:
        raise click.ClickException("name an event id or give --delivery N")
    count = hub.retry(list(deliveries)) if deliveries else 0
    if event_id:
        count += hub.retry_event(event_id)
    click.echo(f"{count} deliveries queued again")


# -- keys -------------------------------------------------------------------------------

@cli.group()
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


# -- admin ------------------------------------------------------------------------------

@cli.group()
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
