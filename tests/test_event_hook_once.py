"""A plugin implements an event hook at most once: a stored delivery is one call of one function
per plugin, so a second implementation (pluggy's ``specname``) would never run, and the hub
refuses the plugin at start instead of calling only the first."""

from __future__ import annotations

import types
from typing import Any

import pytest

from hub import hookimpl
from hub.clock import utcnow
from hub.events import Invoice, parse_data
from hub.plugins.context import Context
from hub.plugins.registry import PluginError
from hub.queue.worker import run_due
from tests.plugins import sent_twice
from tests.samples import event


def test_two_implementations_of_one_event_hook_are_refused_at_start(make_hub: Any) -> None:
    with pytest.raises(PluginError, match=r"plugin 'twice' implements on_invoice_sent twice "
                       r"\((notify_team and write_invoice|write_invoice and notify_team), by "
                       r"specname\).*one call of one function per plugin.*Put both in one"):
        make_hub(("twice", sent_twice))


def test_one_implementation_by_specname_is_delivered(make_hub: Any) -> None:
    """``specname`` itself is fine: once per plugin, under any function name."""
    got: list[str] = []

    @hookimpl(specname="on_invoice_sent")
    def write_invoice(invoice: Invoice, ctx: Context) -> None:
        got.append(f"{ctx.plugin} {invoice.external_id}")

    hub = make_hub(("once", types.SimpleNamespace(write_invoice=write_invoice)))
    body = event("invoice.sent", "evt_1")
    hub.accept_host_event("evt_1", "invoice.sent", utcnow(),
                          parse_data("invoice.sent", body["data"]), "evt_1")
    run_due(hub)
    assert got == [f"once {body['data']['external_id']}"]


def test_a_plugins_own_answer_given_twice_is_refused_at_start(make_hub: Any) -> None:
    """Two ``settings_model`` implementations in one plugin: only the first answer would be
    its settings, so the plugin is refused instead."""
    from pydantic import BaseModel

    class One(BaseModel):
        a: int = 1

    @hookimpl(specname="settings_model")
    def first() -> type[BaseModel]:
        return One

    @hookimpl(specname="settings_model")
    def second() -> type[BaseModel]:
        return One

    with pytest.raises(PluginError, match=r"plugin 'answers' implements settings_model twice "
                       r".*only one would count"):
        make_hub(("answers", types.SimpleNamespace(first=first, second=second)))
