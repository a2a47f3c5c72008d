"""A plugin that takes every invoice and does nothing: each event costs one delivery row, as it
will with the QuickBooks plugin, without measuring QuickBooks."""

from hub import hookimpl


@hookimpl
def on_invoice_sent(invoice, ctx):  # noqa: ANN001, ANN201
    return None
