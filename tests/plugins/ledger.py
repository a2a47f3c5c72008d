"""A plugin for process tests: it appends a line per call to a file, so a test can count what
ran across processes. ``LEDGER_BLOCK=1`` makes the first call block after writing its "start"
line (the test then kills the worker mid-delivery)."""

from __future__ import annotations

import os
import threading

from hub import hookimpl
from hub.context import Context
from hub.events import Contact


def _append(line: str) -> None:
    # O_APPEND writes of one short line are atomic, even from several processes.
    fd = os.open(os.environ["LEDGER_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@hookimpl
def on_contact(contact: Contact, ctx: Context) -> None:
    _append(f"start {ctx.event_id} {ctx.attempt} {os.getpid()}")
    if os.environ.get("LEDGER_BLOCK") == "1":
        threading.Event().wait()  # until the test kills this process
    _append(f"done {ctx.event_id} {ctx.attempt} {os.getpid()}")
