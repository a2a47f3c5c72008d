"""A plugin for the fuzzing tests: every event hook appends ``hook event_id`` to the file named
by ``FUZZ_SINK_FILE``, so a test can see, across processes, that an accepted event reached a
plugin. It never fails: a delivery to it is ``done`` exactly when the hook ran."""

from __future__ import annotations

import os
from typing import Any

from hub import hookimpl
from hub.plugins.context import Context


def _append(hook: str, ctx: Context) -> None:
    # O_APPEND writes of one short line are atomic, even from several threads.
    fd = os.open(os.environ["FUZZ_SINK_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{hook} {ctx.event_id!r}\n".encode())
    finally:
        os.close(fd)


@hookimpl
def on_contact(contact: Any, ctx: Context) -> None:
    _append("on_contact", ctx)


@hookimpl
def on_payment(payment: Any, ctx: Context) -> None:
    _append("on_payment", ctx)


@hookimpl
def on_invoice_sent(invoice: Any, ctx: Context) -> None:
    _append("on_invoice_sent", ctx)


@hookimpl
def on_invoice_updated(invoice: Any, ctx: Context) -> None:
    _append("on_invoice_updated", ctx)


@hookimpl
def on_invoice_paid(invoice: Any, ctx: Context) -> None:
    _append("on_invoice_paid", ctx)


@hookimpl
def on_booking(booking: Any, ctx: Context) -> None:
    _append("on_booking", ctx)
