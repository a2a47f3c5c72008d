"""Finding plugins and registering them with pluggy.

Plugins are found through the ``hub.plugins`` entry-point group, built-ins included: Ledgerline's
own three are declared there in our ``pyproject.toml`` exactly as a third party would declare
theirs. The only plugin the core names is its own host-webhook sender, in ``DEFAULT_PLUGINS``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from pydantic import BaseModel

from hub import __version__
from hub.plugins import hookspecs
from hub.plugins.context import CallContext
from hub.plugins.hookspecs import EVENT_HOOKS, PER_PLUGIN_HOOKS

log = logging.getLogger("hub.plugins")

ENTRY_POINT_GROUP = "hub.plugins"
DEFAULT_PLUGINS = ("hub.host_webhooks",)

@dataclass
class PluginInfo:
    """What discovery learnt of one plugin.

    ``refused`` is why the hub will not switch it on, found at discovery: the hub's version is
    outside the plugin's ``HUB_REQUIRES``, a plugin it ``NEEDS`` is not installed (or is
    refused itself), or a declaration is malformed. ``None`` when it may be enabled; whether its
    needs are switched on is asked at the time (``PluginStates.refusal``).
    """

    name: str
    module: Any
    version: str
    builtin: bool
    settings_model: type[BaseModel] | None
    enabled_by_default: bool
    description: str
    hub_requires: str | None = None
    needs: tuple[str, ...] = ()
    refused: str | None = None


def _release(version: str) -> tuple[int, ...] | None:
    """``"0.1.0"`` as (0, 1, 0), or None for what is not plain release numbers."""
    parts = version.strip().split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def _plain_specifier_holds(spec: str, version: str) -> bool | None:
    """``spec`` (comma-separated ``>=``, ``<=``, ``>``, ``<``, ``==``, ``!=`` clauses over plain
    release numbers) against ``version``, for when ``packaging`` is not installed; None when
    ``spec`` is anything more."""
    have = _release(version)
    if have is None:
        return None
    for clause in spec.split(","):
        found = re.fullmatch(r"\s*(>=|<=|==|!=|>|<)\s*([0-9.]+)\s*", clause)
        want = _release(found.group(2)) if found else None
        if found is None or want is None:
            return None
        width = max(len(have), len(want))
        a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
        holds = {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "==": a == b,
                 "!=": a != b}[found.group(1)]
        if not holds:
            return False
    return True


def version_refusal(name: str, requires: Any, version: str = __version__) -> str | None:
    """Why plugin ``name`` cannot run on hub ``version`` under its ``HUB_REQUIRES``, or None.

    Read with ``packaging.specifiers`` (PEP 440) when it is installed; without it, plain
    comparisons of release numbers (``>=0.1,<1``) are still understood."""
    if requires is None:
        return None
    if not isinstance(requires, str):
        return (f"its HUB_REQUIRES is {requires!r}, not a version specifier string such as "
                f'">=0.1,<1"; its author must fix the plugin')
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:
        holds = _plain_specifier_holds(requires, version)
        if holds is None:
            return (f"its HUB_REQUIRES {requires!r} needs the packaging library to be read: "
                    f"pip install packaging")
    else:
        try:
            holds = Version(version) in SpecifierSet(requires, prereleases=True)
        except (InvalidSpecifier, InvalidVersion):
            return (f"its HUB_REQUIRES {requires!r} is not a version specifier (PEP 440, "
                    f'such as ">=0.1,<1"); its author must fix the plugin')
    if holds:
        return None
    return (f"it works with hub {requires}, and this hub is {version}: install a version of "
            f"{name} made for hub {version}, or a hub it supports")


def _needs_of(module: Any) -> tuple[tuple[str, ...], str | None]:
    """A plugin's ``NEEDS`` as a tuple of names, and why it is refused if malformed."""
    needs = getattr(module, "NEEDS", ())
    if isinstance(needs, (list, tuple)) and all(isinstance(n, str) for n in needs):
        return tuple(needs), None
    return (), (f"its NEEDS is {needs!r}, not a tuple of plugin names such as "
                f'("quickbooks",); its author must fix the plugin')


def _refuse_unmet(infos: dict[str, PluginInfo]) -> None:
    """Mark the plugins whose needs are not installed, or refused themselves (until nothing
    changes: a plugin needing a refused one is refused too)."""
    changed = True
    while changed:
        changed = False
        for info in infos.values():
            if info.refused is not None:
                continue
            for need in info.needs:
                if need not in infos:
                    info.refused = (f"it needs the {need} plugin, which is not installed: "
                                    f"install it, then restart the hub")
                elif infos[need].refused is not None:
                    info.refused = (f"it needs the {need} plugin, which the hub refused "
                                    f"({infos[need].refused})")
                else:
                    continue
                changed = True
                break


def make_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    return pm


class PluginError(RuntimeError):
    """A plugin the hub will not start with; the message says which and how to fix it."""


# Hooks asked synchronously for an answer (a decision, a balance, facts for the read API): one
# plugin's raise must not cost the others their say, so it is logged and counted as no opinion.
FORGIVING = frozenset({"check_booking", "check_billing", "customer_balance", "receivables",
                       "describe_contact", "describe_invoice"})


def _bound(plugin: Any, name: str, pm: pluggy.PluginManager) -> Any:
    """``plugin`` as it is registered with pluggy: the same hook functions, each handed the
    ``Context`` of *this* plugin where a caller passed a ``CallContext``.

    pluggy hands every implementation the same arguments, but each plugin must see its own
    context (its name, its settings), so each function is wrapped to bind the one it is given.
    ``functools.wraps`` keeps the signature pluggy reads the argument names from, and the
    marker's options (``tryfirst``, ``wrapper``...) are the plugin's own, read by pluggy's
    ``parse_hookimpl_opts``.
    """
    functions: dict[str, Any] = {}
    for attr in dir(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        if opts is None:
            continue
        function = getattr(plugin, attr)
        hook = opts.get("specname") or attr

        def call(*args: Any, _function: Any = function, _hook: str = hook) -> Any:
            given = [a.bind(name) if isinstance(a, CallContext) else a for a in args]
            if _hook not in FORGIVING:
                return _function(*given)
            try:
                return _function(*given)
            except Exception:
                log.exception("plugin %s failed to answer %s", name, _hook)
                return None

        def call_wrapper(*args: Any, _function: Any = function) -> Any:
            # pluggy's wrappers are generators, and it checks that they are.
            given = [a.bind(name) if isinstance(a, CallContext) else a for a in args]
            return (yield from _function(*given))

        wrapped = functools.wraps(function)(
            call_wrapper if inspect.isgeneratorfunction(function) else call)
        wrapped.hub_impl = dict(opts)  # type: ignore[attr-defined]
        functions[attr] = wrapped
    registered = _Registered(plugin)
    registered.__dict__.update(functions)
    return registered


class _Registered:
    """A plugin's bound hook functions, as pluggy sees them (hashable, as its subset callers
    need; ``SimpleNamespace`` is not)."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin


def _refuse_event_options(pm: pluggy.PluginManager) -> None:
    """Event hooks are delivered to each plugin on its own, stored and retried apart: there is
    no one call for ``tryfirst``/``trylast`` to order, for a wrapper to wrap or for
    ``firstresult`` to stop, and a delivery calls one function of its plugin, so a plugin may
    implement an event hook once; the per-plugin contributions have no shared call to wrap
    either, and those answered with a value are one answer per plugin. An implementation
    asking for what cannot apply is refused now, not ignored."""
    for hook in EVENT_HOOKS:
        seen: dict[str, str] = {}
        for impl in getattr(pm.hook, hook).get_hookimpls():
            function = impl.function.__name__
            if impl.plugin_name in seen:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} implements {hook} twice ({seen[impl.plugin_name]}"
                    f" and {function}, by specname), which cannot apply: a stored delivery of "
                    f"an event is one call of one function per plugin, so only one would ever "
                    f"run. Put both in one function")
            seen[impl.plugin_name] = function
            asked = [option for option in ("tryfirst", "trylast", "wrapper", "hookwrapper")
                     if getattr(impl, option)]
            if asked:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: {hook} is marked {', '.join(asked)}, which "
                    f"cannot apply: each plugin gets its own stored delivery of an event, "
                    f"retried on its own, so there is no shared call to order or wrap. Use a "
                    f"plain @hookimpl")
    for hook in PER_PLUGIN_HOOKS:
        answered: dict[str, str] = {}
        for impl in getattr(pm.hook, hook).get_hookimpls():
            function = impl.function.__name__
            if hook != "scheduled" and impl.plugin_name in answered:
                # ``scheduled`` registers jobs through its argument, so each one's jobs count;
                # the others answer with a value, and the plugin's one answer is taken.
                raise PluginError(
                    f"plugin {impl.plugin_name!r} implements {hook} twice "
                    f"({answered[impl.plugin_name]} and {function}, by specname), which cannot "
                    f"apply: {hook} is the plugin's one answer, so only one would count. Put "
                    f"both in one function")
            answered[impl.plugin_name] = function
            if impl.wrapper or impl.hookwrapper:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: {hook} is marked as a wrapper, which cannot "
                    f"apply: {hook} is asked of each plugin on its own, for what is that "
                    f"plugin's alone, so there is no shared call to wrap. Use @hookimpl "
                    f"(tryfirst and trylast still order it)")


def discover(
    extra: list[tuple[str, Any]] | None = None, entrypoints: bool = True,
    modules: tuple[tuple[str, str], ...] = (),
) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """Register the defaults, every entry point, ``modules`` (name, dotted path) from
    ``HUB_PLUGINS`` and ``extra`` (name, object) pairs.

    A plugin is a module (or any object) with ``@hookimpl`` functions, found through the
    ``hub.plugins`` entry-point group (its name is the entry point's). What the hub reads of it:

    - its description: the first line of the module's docstring (the settings card shows the
      first paragraph);
    - its version: its distribution's version (``pip show``), or ``__version__`` for a module
      given in ``HUB_PLUGINS``;
    - ``ENABLED_BY_DEFAULT`` (default ``True``): whether it is on before the operator chooses;
    - ``TITLE``: its name on the settings page (default: its name, capitalised);
    - ``HUB_REQUIRES``: the hub versions it works with, a PEP 440 specifier checked against
      ``hub.__version__`` (``">=0.1,<1"``); default: any;
    - ``NEEDS``: the plugins it needs, a tuple of names (``("quickbooks",)``): each must be
      installed and switched on for this one to be switched on and to run.
    """
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
        pm.register(_bound(module, name, pm), name=name)
        model = call_for(pm, "settings_model", name)
        doc = (getattr(module, "__doc__", None) or "").strip().splitlines()
        requires = getattr(module, "HUB_REQUIRES", None)
        needs, malformed = _needs_of(module)
        infos[name] = PluginInfo(
            name=name, module=module, version=version, builtin=builtin,
            settings_model=model,
            enabled_by_default=bool(getattr(module, "ENABLED_BY_DEFAULT", True)),
            description=doc[0] if doc else "",
            hub_requires=requires if isinstance(requires, str) else None, needs=needs,
            refused=version_refusal(name, requires) or malformed,
        )
    _refuse_unmet(infos)
    for info in infos.values():
        if info.refused:
            log.warning("plugin %s stays off: %s", info.name, info.refused)
    # A misspelled hook name (on_invoice_snet) fails here, at start, not silently later.
    pm.check_pending()
    _refuse_event_options(pm)
    return pm, infos


def hookimpl_for(pm: pluggy.PluginManager, hook: str, plugin: str) -> Any | None:
    caller = getattr(pm.hook, hook, None)
    if caller is None:
        return None
    for impl in caller.get_hookimpls():
        if impl.plugin_name == plugin:
            return impl
    return None


def event_handler(pm: pluggy.PluginManager, hook: str,
                  plugin: str) -> tuple[Callable[..., Any], tuple[str, ...]] | None:
    """One plugin's own function for an event hook, and the argument names it takes (pluggy's
    reading of its signature); None when it does not implement ``hook``.

    A stored delivery belongs to one plugin, so it is the one call not made through pluggy's
    callers (see ``hub.plugins.hookspecs``), and the context it is handed is already that
    plugin's: the binding wrapper ``_bound`` puts round every function for pluggy's calls has
    nothing to do here. The caller calls the function itself, so a delivery's stack goes from
    the queue straight into the plugin."""
    impl = hookimpl_for(pm, hook, plugin)
    if impl is None:
        return None
    return getattr(impl.function, "__wrapped__", impl.function), tuple(impl.argnames)


def caller(pm: pluggy.PluginManager, hook: str, plugins: list[str] | None = None) -> Any:
    """pluggy's caller of ``hook`` for ``plugins`` only (all when None): the others are left
    out with ``subset_hook_caller``, so pluggy's order, ``firstresult`` and wrappers hold."""
    if plugins is None:
        return getattr(pm.hook, hook)
    keep = set(plugins)
    others = [plugin for name, plugin in pm.list_name_plugin() if name not in keep]
    return pm.subset_hook_caller(hook, remove_plugins=others)


def call_for(pm: pluggy.PluginManager, hook: str, plugin: str, **kwargs: Any) -> Any:
    """One plugin's answer to a hook it contributes through (its settings model, its jobs,
    its migrations), through pluggy; None when it does not implement the hook."""
    if hookimpl_for(pm, hook, plugin) is None:
        return None
    answers = caller(pm, hook, [plugin])(**kwargs)
    if isinstance(answers, list):
        return answers[0] if answers else None
    return answers


def implementers(pm: pluggy.PluginManager, hook: str) -> list[str]:
    """The plugins implementing ``hook`` in the order pluggy calls them: the last registered
    first, ``tryfirst`` ones before and ``trylast`` ones after (``get_hookimpls`` lists them
    the other way round)."""
    return [impl.plugin_name for impl in reversed(getattr(pm.hook, hook).get_hookimpls())]
