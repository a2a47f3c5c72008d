"""What a command is handed: the process's ``Hub`` (``pass_hub``), or for a plugin's command its
``Context`` (``pass_context``), as its hooks are handed one.

Separate from ``hub/roles/cli.py`` because every command module needs these and plugins' own
commands use ``pass_context`` (imported as ``hub.roles.cli.pass_context``, which stays), while
the command line itself is built from those modules: here, nothing imports a command.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hub.config import load_config
from hub.errors import ConfigError
from hub.hub import Hub

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
