"""Ledgerline Hub: keeps a business application and QuickBooks Online in step.

Plugins write ``from hub import hookimpl``.
"""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("hub")

__all__ = ["__version__", "hookimpl"]
