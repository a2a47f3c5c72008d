"""Worker threads: a plugin that waits never takes every thread from the others."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from hub import hookimpl
from hub.clock import utcnow
from hub.errors import RetryLater
from hub.events import Contact, Payment
from hub.hub import Hub
from hub.plugins.context import Context
from hub.queue import claims
from hub.queue.worker import Worker
from tests.samples import CONTACT, DATA


class Waiting:
    """Takes contacts, and each waits until the test lets it go (a rate limit, a slow API)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.go = threading.Event()

    @hookimpl
    def on_contact(self, contact: Contact, ctx: Context) -> None:
        self.started.set()
        assert self.go.wait(30)


class Quick:
    def __init__(self) -> None:
        self.got = threading.Event()

    @hookimpl
    def on_payment(self, payment: Payment, ctx: Context) -> None:
        self.got.set()


def accept(hub: Hub, event_type: str, event_id: str, value: Any) -> None:
    hub.accept_host_event(event_id, event_type, utcnow(), value, event_id)


def test_a_waiting_plugin_leaves_a_thread_for_the_others(make_hub: Any) -> None:
    waiting, quick = Waiting(), Quick()
    hub = make_hub(("waiting", waiting), ("quick", quick))
    worker = Worker(hub, threads=2)
    worker.start()
    try:
        accept(hub, "contact", "c-0", Contact.model_validate(CONTACT))
        assert waiting.started.wait(10)  # one thread now waits in the plugin
        for n in (1, 2):
            accept(hub, "contact", f"c-{n}",
                   Contact.model_validate({**CONTACT, "external_id": f"c-{n}"}))
        accept(hub, "payment", "p-1", Payment.model_validate(DATA["payment"]))
        # The other thread takes the payment, not the next contacts to wait behind.
        assert quick.got.wait(10), "the payment waited behind the waiting plugin"
    finally:
        waiting.go.set()
        worker.stop()


class Limited:
    """Every call finds the minute spent: wait a minute, holding back the plugin's others."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def on_contact(self, contact: Contact, ctx: Context) -> None:
        self.calls += 1
        raise RetryLater("the minute is spent", timedelta(seconds=60), spend_attempt=False,
                         pause_plugin=True)


def test_a_plugin_that_asks_to_wait_gets_the_rest_of_its_batch_back_unattempted(
        make_hub: Any) -> None:
    limited = Limited()
    hub = make_hub(("limited", limited))
    for n in range(5):
        accept(hub, "contact", f"c-{n}",
               Contact.model_validate({**CONTACT, "external_id": f"c-{n}"}))
    worker = Worker(hub, threads=1)
    claimed = claims.claim(hub, worker.owner, limit=8)
    assert len(claimed) == 5
    worker._run(claimed)
    assert limited.calls == 1  # the first was turned away; the other four were not tried
    for n in range(5):
        view = hub.event(f"c-{n}")
        assert view is not None
        [delivery] = view["deliveries"]
        assert delivery["status"] == "pending" and delivery["attempts"] == 0
        assert delivery["last_error"] == "the minute is spent"


class Collecting:
    def __init__(self, expect: int) -> None:
        self.got: dict[str, Contact] = {}
        self.lock = threading.Lock()
        self.expect = expect
        self.all_in = threading.Event()

    @hookimpl
    def on_contact(self, contact: Contact, ctx: Context) -> None:
        with self.lock:
            self.got[ctx.event_id] = contact
            if len(self.got) == self.expect:
                self.all_in.set()


def test_each_plugin_gets_its_own_copy_of_each_events_own_value(make_hub: Any) -> None:
    # An event's first delivery in the process that accepted it is handed the value already
    # validated; the others read it back from the store. Either way: the event's own value, and
    # no two plugins share one object.
    first, second = Collecting(30), Collecting(30)
    hub = make_hub(("first", first), ("second", second))
    worker = Worker(hub, threads=3)
    worker.start()
    try:
        for n in range(30):
            accept(hub, "contact", f"e-{n}", Contact.model_validate(
                {**CONTACT, "external_id": f"c-{n}", "name": f"Client {n}"}))
        assert first.all_in.wait(10) and second.all_in.wait(10)
    finally:
        worker.stop()
    for n in range(30):
        mine, theirs = first.got[f"e-{n}"], second.got[f"e-{n}"]
        assert (mine.external_id, mine.name) == (f"c-{n}", f"Client {n}")
        assert mine == theirs and mine is not theirs


def test_values_kept_for_the_workers_are_bounded_dropping_the_oldest(make_hub: Any) -> None:
    # Deliveries behind (a plugin paused for QuickBooks' rate limit) must not make the process
    # keep every accepted value: the oldest are dropped and read back from the store instead.
    from hub.hub import FRESH_VALUES

    hub = make_hub(("collecting", Collecting(0)))
    hub.keep_fresh = True  # as a Worker in this process sets it
    pks = [hub.accept_host_event(f"e-{n}", "contact", utcnow(), Contact.model_validate(
        {**CONTACT, "external_id": f"c-{n}"}), f"e-{n}").pk for n in range(FRESH_VALUES + 5)]
    assert all(hub.fresh_value(pk) is None for pk in pks[:5])
    newest = hub.fresh_value(pks[-1])
    assert newest is not None and newest.external_id == f"c-{FRESH_VALUES + 4}"
    assert hub.fresh_value(pks[-1]) is None  # handed out once
