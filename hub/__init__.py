"""Ledgerline Hub: keeps a business application and QuickBooks Online in step.

What a plugin imports from the hub: ``from hub import hookimpl, Context``, the event values from
``hub.events``, the outcomes from ``hub.errors``, and for pages and commands ``hub.ui`` and
``hub.roles.cli.pass_context``.
"""

from typing import TYPE_CHECKING, Any

import pluggy

__version__ = "0.1.0"
#: The version of the contract between the hub and its plugins: the hooks, ``Context``, the
#: event values and the outcomes. The minor number grows with additions, the major with any
#: change a plugin could notice; CHANGELOG.md records each. A plugin states the hubs it works
#: with as ``HUB_REQUIRES`` (checked against ``__version__``) and the plugins it needs as
#: ``NEEDS``.
HOOKS_VERSION = "1.3"

hookimpl = pluggy.HookimplMarker("hub")

if TYPE_CHECKING:
    from hub.plugins.context import Context
    from hub.plugins.jobs import JobRegistrar

__all__ = ["HOOKS_VERSION", "Context", "JobRegistrar", "__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    # Imported when first asked for: ``import hub`` stays light, and the modules behind these
    # names may import ``hub`` themselves.
    if name == "Context":
        from hub.plugins.context import Context

        return Context
    if name == "JobRegistrar":
        from hub.plugins.jobs import JobRegistrar

        return JobRegistrar
    raise AttributeError(f"module 'hub' has no attribute {name!r}")
