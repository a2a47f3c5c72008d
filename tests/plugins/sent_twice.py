"""A plugin that implements one event hook twice, through pluggy's ``specname``: the hub refuses
it at start, since a stored delivery calls one function of each plugin."""

from __future__ import annotations

from hub import hookimpl
from hub.events import Invoice
from hub.plugins.context import Context


@hookimpl(specname="on_invoice_sent")
def write_invoice(invoice: Invoice, ctx: Context) -> None:
    return None


@hookimpl(specname="on_invoice_sent")
def notify_team(invoice: Invoice, ctx: Context) -> None:
    return None
