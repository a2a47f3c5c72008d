"""Undo per event, in the core: an undo is an ordinary delivery to the one plugin (stored,
asked for once, after the subject's earlier deliveries); once the plugin took its writes back,
its later deliveries about the subject are skipped saying how to sync it again, and a retry
syncs it again. A plugin that refuses (the object was changed by hand) leaves nothing marked."""

from __future__ import annotations

from typing import Any

import pytest

from hub import hookimpl
from hub.errors import Skip
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.testing import sample_event
from hub.undo import Undo, UndoRefused, request_undo


class Books:
    """A plugin writing to an outside ledger (a dict standing in for the world outside)."""

    def __init__(self) -> None:
        self.ledger: dict[str, str] = {}
        self.undos: list[Undo] = []

    @hookimpl
    def on_invoice_sent(self, invoice: Any, ctx: Any) -> None:
        self.ledger[invoice.external_id] = f"written {invoice.total}"
        ctx.note(f"invoice {invoice.external_id} written")

    @hookimpl
    def on_invoice_updated(self, invoice: Any, ctx: Any) -> None:
        self.ledger[invoice.external_id] = f"updated {invoice.due_date}"
        ctx.note(f"invoice {invoice.external_id} updated")

    @hookimpl
    def on_undo(self, undo: Undo, ctx: Any) -> None:
        self.undos.append(undo)
        external_id = undo.subject.split(":", 1)[1]
        if self.ledger.get(external_id, "").startswith("changed"):
            raise Skip(f"invoice {external_id} was changed by hand since; not undone")
        self.ledger[external_id] = "voided"
        ctx.note(f"invoice {external_id} voided")


class Silent:
    """A plugin that writes but cannot take anything back."""

    @hookimpl
    def on_invoice_sent(self, invoice: Any, ctx: Any) -> None:
        return None


@pytest.fixture
def books() -> Books:
    return Books()


@pytest.fixture
def hub(plugin_hub: Any, books: Books, database_url: str) -> Hub:
    # On both databases: the claim reads the undone mark in its own statement, written twice.
    return plugin_hub(("books", books), ("silent", Silent()),  # type: ignore[no-any-return]
                      env={"HUB_DATABASE_URL": database_url})


def _undo_view(hub: Hub, event_id: str, plugin: str = "books") -> dict[str, Any]:
    from sqlalchemy import select

    from hub.queue.db import reading
    from hub.queue.store import EVENTS

    with reading(hub.engine) as conn:
        key = conn.execute(select(EVENTS.c.pk).where(EVENTS.c.key == event_id)).scalar_one()
    view = hub.event(f"undo:{key}:{plugin}", source="operator")
    assert view is not None
    return view


def test_an_undo_takes_back_and_later_events_wait_for_a_retry(hub: Hub, books: Books,
                                                              deliver: Any) -> None:
    sent = deliver(sample_event("invoice.sent", "evt_1"))
    assert sent.status("books") == "done" and books.ledger["inv-1"].startswith("written")

    told = request_undo(hub, "evt_1", "books")
    assert "queued" in told
    assert "already asked" in request_undo(hub, "evt_1", "books")  # once, however often
    run_due(hub)
    assert books.ledger["inv-1"] == "voided" and len(books.undos) == 1
    undo = books.undos[0]
    assert (undo.event_id, undo.event_type, undo.subject) == ("evt_1", "invoice.sent",
                                                              "invoice:inv-1")
    assert undo.result == "invoice inv-1 written"
    [delivery] = _undo_view(hub, "evt_1")["deliveries"]
    assert (delivery["status"], delivery["result"]) == ("done", "invoice inv-1 voided")

    later = deliver(sample_event("invoice.updated", "evt_2", due_date="2026-05-01"))
    assert later.status("books") == "skipped"
    assert later.deliveries["books"]["result"] == (
        "undone by the operator; `hub events retry evt_2` to sync it again")
    assert books.ledger["inv-1"] == "voided"

    assert hub.retry_event("evt_2") == 1
    run_due(hub)
    assert books.ledger["inv-1"] == "updated 2026-05-01"
    again = deliver(sample_event("invoice.updated", "evt_3", due_date="2026-05-02"))
    assert again.status("books") == "done"  # the mark went with the retry


def test_a_refused_undo_marks_nothing(hub: Hub, books: Books, deliver: Any) -> None:
    deliver(sample_event("invoice.sent", "evt_1"))
    books.ledger["inv-1"] = "changed by hand"
    request_undo(hub, "evt_1", "books")
    run_due(hub)
    [delivery] = _undo_view(hub, "evt_1")["deliveries"]
    assert delivery["status"] == "skipped"
    assert "changed by hand since; not undone" in delivery["result"]
    assert deliver(sample_event("invoice.updated", "evt_2")).status("books") == "done"


def test_what_cannot_be_undone_is_refused_with_the_reason(hub: Hub, deliver: Any) -> None:
    with pytest.raises(UndoRefused, match="no event 'evt_404'"):
        request_undo(hub, "evt_404", "books")
    deliver(sample_event("invoice.sent", "evt_1"))
    with pytest.raises(UndoRefused, match="silent plugin cannot take back what it writes"):
        request_undo(hub, "evt_1", "silent")
    with pytest.raises(UndoRefused, match="nobody plugin had no delivery"):
        request_undo(hub, "evt_1", "nobody")
    hub.write(lambda conn: conn.exec_driver_sql(
        "UPDATE hub_delivery SET status = 'dead' WHERE plugin = 'books'"))
    with pytest.raises(UndoRefused, match="only a delivery that finished can be undone; "
                                          "books's delivery of evt_1 is dead"):
        request_undo(hub, "evt_1", "books")


def test_the_event_page_offers_undo_where_a_plugin_can(hub: Hub, books: Books,
                                                       deliver: Any) -> None:
    from hub.ui import auth
    from hub.web.app import create_app
    from tests.ui.conftest import PASSWORD, client_sign_in

    deliver(sample_event("invoice.sent", "evt_1"))
    auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    token = client_sign_in(client)
    page = client.get("/activity/events/1").text
    assert 'data-undo="books"' in page and "Undo in Books" in page
    assert 'data-undo="silent"' not in page  # it has no on_undo: nothing offered
    action = page[page.index('data-undo="books"'):]
    action = action[action.index('action="') + 8:]
    action = action[:action.index('"')]
    answer = client.post(action, data={"csrf_token": token, "next": "/activity/events/1"},
                         follow_redirects=True)
    assert "The undo of evt_1 in books is queued" in answer.text
    run_due(hub)
    assert books.ledger["inv-1"] == "voided"
    again = client.post(action, data={"csrf_token": token}, follow_redirects=True)
    assert "already asked for" in again.text
