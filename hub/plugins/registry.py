"""Finding plugins and registering them with pluggy.

Plugins are found through the ``hub.plugins`` entry-point group, built-ins included: Ledgerline's
own three are declared there in our ``pyproject.toml`` exactly as a third party would declare
theirs. The only plugin the core names is its own host-webhook sender, in ``DEFAULT_PLUGINS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from pydantic import BaseModel

from hub import __version__
from hub.plugins import hookspecs

ENTRY_POINT_GROUP = "hub.plugins"
DEFAULT_PLUGINS = ("hub.host_webhooks",)

@dataclass
class PluginInfo:
    name: str
    module: Any
    version: str
    builtin: bool
    settings_model: type[BaseModel] | None
    enabled_by_default: bool
    description: str


def make_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    return pm


def discover(
    extra: list[tuple[str, Any]] | None = None, entrypoints: bool = True,
    modules: tuple[tuple[str, str], ...] = (),
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """Register the defaults, every entry point, ``modules`` (name, dotted path) from
    ``HUB_PLUGINS`` and ``extra`` (name, object) pairs."""
    pm = make_manager()
    extra = [(name, importlib.import_module(path)) for name, path in modules] + list(extra or [])
    found: list[tuple[str, Any, str, bool]] = []
    for dotted in DEFAULT_PLUGINS:
        module = __import__(dotted, fromlist=["_"])
        found.append((dotted.rsplit(".", 1)[-1], module, __version__, True))
    if entrypoints:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            version = ep.dist.version if ep.dist else "?"
            builtin = bool(ep.dist and ep.dist.name == "ledgerline-hub")
            found.append((ep.name, ep.load(), version, builtin))
    for name, module in extra or []:
        found.append((name, module, getattr(module, "__version__", "0"), False))

    infos: dict[str, PluginInfo] = {}
    for name, module, version, builtin in found:
        if name in infos:
            raise RuntimeError(f"two plugins are named {name!r}; uninstall one of them")
        pm.register(module, name=name)
        model = _call_one(pm, "settings_model", name)
        doc = (getattr(module, "__doc__", None) or "").strip().splitlines()
        infos[name] = PluginInfo(
            name=name, module=module, version=version, builtin=builtin,
            settings_model=model,
            enabled_by_default=bool(getattr(module, "ENABLED_BY_DEFAULT", True)),
            description=doc[0] if doc else "",
        )
    # A misspelled hook name (on_invoice_snet) fails here, at start, not silently later.
    pm.check_pending()
    return pm, infos


def hookimpl_for(pm: pluggy.PluginManager, hook: str, plugin: str) -> Any | None:
    caller = getattr(pm.hook, hook, None)
    if caller is None:
        return None
    for impl in caller.get_hookimpls():
        if impl.plugin_name == plugin:
            return impl
    return None


def call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call one plugin's implementation; pluggy lets it take any subset of the arguments."""
    return impl.function(**{name: kwargs[name] for name in impl.argnames})


def _call_one(pm: pluggy.PluginManager, hook: str, plugin: str, **kwargs: Any) -> Any:
    impl = hookimpl_for(pm, hook, plugin)
    return call_impl(impl, **kwargs) if impl else None


def implementers(pm: pluggy.PluginManager, hook: str) -> list[str]:
    caller = getattr(pm.hook, hook)
    # pluggy lists implementations last-registered first; keep registration order instead.
    return [impl.plugin_name for impl in reversed(caller.get_hookimpls())]


