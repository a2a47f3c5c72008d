"""A plugin for process tests: it appends a line per call to a file, so a test can count what
ran across processes. ``LEDGER_BLOCK=1`` makes the first call block after writing its "start"
line (the test then kills the worker mid-delivery). With ``LEDGER_GATE`` naming a file, each
call waits after its "start" line while the test holds an exclusive lock on that file."""

from __future__ import annotations

import fcntl
import os
import threading

from hub import hookimpl
from hub.events import Contact
from hub.plugins.context import Context


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
    gate = os.environ.get("LEDGER_GATE")
    if gate:
        fd = os.open(gate, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits in the kernel until the test lets go
        finally:
            os.close(fd)
    _append(f"done {ctx.event_id} {ctx.attempt} {os.getpid()}")
