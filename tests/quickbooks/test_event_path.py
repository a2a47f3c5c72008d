"""The house as a newcomer reads it: one ``invoice.sent`` from the host's request to the write
at QuickBooks. Its way is the project files on the call stack at each hand-off of the invoice
(the request handing the event to the writer, the writer inserting it, the worker's write of
the invoice to QuickBooks): at most 8, the ones ``docs/architecture.md`` walks through. Around
it, every stack at a hand-off (the customer's create, the claim, the plugin's own writes): at
most 14; every project file it touches: at most 32. No call comes back to a file it left, and
the rooms (web, the shared core, the queue, the plugin system, the plugin) follow each other
without going back to one already left, up to the plugin, whose calls into the hub's services
are leaves."""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from hub.builtin.quickbooks import connect
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import event

ROOT = Path(__file__).resolve().parent.parent.parent
HUB = ROOT / "hub"
#: Where a hand-off happens: (file, function) the stack is read at.
CHECKPOINTS = {
    ("hub/queue/writer.py", "write"): "handed to the writer",
    ("hub/queue/store.py", "accept_in"): "stored",
    ("hub/builtin/quickbooks/client.py", "request"): "sent to QuickBooks",
}


def _room(path: str) -> str:
    parts = path.split("/")
    if parts[1] in ("web", "queue", "plugins", "builtin", "ui", "roles"):
        return parts[1]
    return "core"


def _project_files(frame: FrameType) -> list[str]:
    files: list[str] = []
    for entry in traceback.extract_stack(frame):
        path = Path(entry.filename)
        if HUB in path.parents and "emulator" not in path.parts:
            relative = str(path.relative_to(ROOT))
            if not files or files[-1] != relative:
                files.append(relative)
    return files


def _turns_back(rooms: list[str]) -> bool:
    """Whether a stack's rooms return to one left before the plugin, or to the plugin from a
    service it called."""
    plugin = rooms.index("builtin") if "builtin" in rooms else len(rooms)
    before = rooms[:plugin]
    if any(r in before[:i] and before[i - 1] != r for i, r in enumerate(before)):
        return True
    after = rooms[plugin:]
    left = next((i for i, r in enumerate(after) if r != "builtin"), len(after))
    return "builtin" in after[left:]


def test_an_invoice_travels_through_few_files_and_never_back(make_qbo_hub: Any,
                                                            emulator: Any) -> None:
    stacks: dict[str, list[str]] = {}
    writes: list[list[str]] = []  # every write on the way: the event's, claims, the plugin's
    every: set[tuple[str, ...]] = set()  # the stack at every project call on the way
    handoffs: set[tuple[str, ...]] = set()  # every stack at a hand-off, the customer's too
    lock = threading.Lock()

    def profile(frame: FrameType, what: str, _arg: Any) -> None:
        if what != "call":
            return
        code = frame.f_code
        if not code.co_filename.startswith(str(HUB)):
            return
        key = (str(Path(code.co_filename).relative_to(ROOT)), code.co_name)
        if "emulator" not in key[0]:
            with lock:
                every.add(tuple(_project_files(frame)))
        label = CHECKPOINTS.get(key)
        if label is None:
            return
        with lock:
            handoffs.add(tuple(_project_files(frame)))
        if label == "sent to QuickBooks" and "/invoice" not in str(frame.f_locals.get("url")):
            return
        with lock:
            stacks.setdefault(label, _project_files(frame))
            if label == "handed to the writer":
                writes.append(_project_files(frame))

    # Threads started from here on (the writer's) are profiled too, as is this one (the
    # request through the WSGI app, then the worker's round).
    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        hub = make_qbo_hub()
        grant = emulator.connect()
        connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
        run_due(hub)
        client = create_app(hub).test_client()
        body = event(event_id="evt_path")
        stacks.clear()
        writes.clear()
        every.clear()
        handoffs.clear()
        answer = client.post(
            "/api/v1/events", json=body,
            headers={"Authorization": f"Bearer {API_KEY}"})
        assert answer.status_code == 202
        run_due(hub)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]

    assert set(stacks) == set(CHECKPOINTS.values()), stacks
    files = [f for label in CHECKPOINTS.values() for f in stacks[label]]
    walked = list(dict.fromkeys(files))
    # At most 8 (docs/architecture.md says which): it may only go down.
    assert len(walked) <= 8, walked
    for label, stack in stacks.items():
        rooms = [_room(f) for f in stack]
        left = [r for i, r in enumerate(rooms) if r in rooms[:i] and rooms[i - 1] != r]
        assert left == [], f"{label}: the path goes back to {left}: {stack}"
    # Every stack at a hand-off (the customer's create, the worker's claim, the plugin's own
    # writes of its links and of the reads it metered): 14 files, the 8 and the helpers they
    # call (claims, customers, items, links, reads, and the plugin's context).
    around = {f for stack in handoffs for f in stack}
    assert len(around) <= 14, sorted(around)
    # Nor does any call on the way, hand-off or not, come back to a file it left (a callback
    # handed down, say): a reader following the calls never turns back a page.
    returns = [stack for stack in every
               if any(f in stack[:i] and stack[i - 1] != f for i, f in enumerate(stack))]
    assert len(every) > 100 and returns == [], returns
    # Rooms go forward on every stack too, up to the plugin; what the plugin calls of the
    # hub's (its context, the queue's connection and writer, the clock) is a service it
    # asked for, and no service calls back into the plugin.
    # The database's connection, which every room reads through, is a leaf too.
    back = [stack for stack in every if _turns_back(
        [_room(f) for f in (stack[:-1] if stack[-1] == "hub/queue/db.py" else stack)])]
    assert back == [], back
    touched = {f for stack in every for f in stack}
    assert len(touched) <= 32, sorted(touched)  # every helper counted: docs/architecture.md
    # Every write goes to the queue's writer straight from who writes (a claim, the plugin's
    # context), never relayed back through the Hub object.
    assert len(writes) > 3
    assert [w for w in writes if "hub/hub.py" in w] == [], writes
    documented = (ROOT / "docs" / "architecture.md").read_text()
    assert [f for f in walked if f"`{f}`" not in documented] == []
