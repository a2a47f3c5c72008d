"""Guards on the plugin contract: every hook documented where declared and exercised by a test;
a misspelled hook fails at start."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from pluggy import PluginValidationError

from hub import hookimpl
from hub.plugins import hookspecs
from hub.plugins.registry import discover

SPECS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, "hub_spec")]
TESTS = Path(__file__).parent


def test_the_contract_hooks_exist() -> None:
    assert {"on_contact", "on_payment", "on_invoice_sent", "on_invoice_paid", "scheduled",
            "on_invoice_updated", "on_booking", "check_booking"} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_spec_is_documented(name: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc) > 40, f"{name} needs a docstring saying when it fires and what it gets"


@pytest.mark.parametrize("name", SPECS)
def test_every_hook_spec_is_exercised_by_a_test(name: str) -> None:
    sources = "".join(p.read_text() for p in TESTS.rglob("*.py")
                      if p.name != "test_hookspecs.py")
    assert f"def {name}(" in sources, f"no test plugin implements {name}"


def test_a_misspelled_hook_fails_at_start() -> None:
    class Typo:
        @hookimpl
        def on_invoice_snet(self) -> None: ...

    with pytest.raises(PluginValidationError, match="on_invoice_snet"):
        discover([("typo", Typo())], entrypoints=False)
