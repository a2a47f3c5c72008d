"""The plugin as if installed, for these tests only: its folder importable, and named in
HUB_PLUGINS, which ``plugin_hub("paid_webhook")`` reads when no entry point has the name.
After ``pip install -e .`` neither is needed, and both are harmless."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent.parent)
if HERE not in sys.path:
    sys.path.append(HERE)


@pytest.fixture(autouse=True)
def _named_in_hub_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_PLUGINS", "paid_webhook=ledgerline_hub_paid_webhook")
