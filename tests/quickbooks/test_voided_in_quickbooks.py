"""An invoice voided or deleted in QuickBooks is never a payment. A void: the host is told its
status is now void (``invoice.payment_updated``, as the contract says of status changes), and
no plugin hears ``invoice.paid`` for it. Seen: a void was published as a payment, so every
other plugin's ``on_invoice_paid`` ran for money nobody paid. A delete: the host is told, once
(``invoice.deleted_in_quickbooks``); seen: nobody was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import EVENTS
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_from_quickbooks import send_invoice, sweep, told


def _published(hub: Hub, event_type: str) -> list[Any]:
    with reading(hub.engine) as conn:
        return list(conn.execute(select(EVENTS.c.key).where(
            EVENTS.c.source == "quickbooks", EVENTS.c.type == event_type)).scalars())


def test_a_void_in_quickbooks_is_told_as_void_and_paid_to_no_plugin(
        connected: Hub, emulator: Emulator, host: Recorder) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    sweep(connected)
    qbo_id = links.get(qbo_ctx(connected), "invoice", "inv-1")["qbo_id"]  # type: ignore[index]
    emulator.void("Invoice", qbo_id)  # by hand, in QuickBooks

    sweep(connected)

    [told_host] = told(host, "invoice.payment_updated")
    assert told_host["data"]["external_id"] == "inv-1"
    assert told_host["data"]["status"] == "void"
    assert _published(connected, "invoice.paid") == []
    assert "on_invoice_paid" not in host.hooks()
    sweep(connected)  # the same news again: nothing more
    assert len(told(host, "invoice.payment_updated")) == 1


def test_the_hosts_own_void_is_not_told_back(connected: Hub, emulator: Emulator,
                                             host: Recorder) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    sweep(connected)
    send_invoice(connected, "invoice.updated", "evt_2", status="void")
    sweep(connected)
    assert told(host, "invoice.payment_updated") == []
    assert _published(connected, "invoice.paid") == []


def test_a_payment_in_quickbooks_is_still_heard_as_paid(connected: Hub, emulator: Emulator,
                                                       host: Recorder) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    sweep(connected)
    qbo_id = links.get(qbo_ctx(connected), "invoice", "inv-1")["qbo_id"]  # type: ignore[index]
    emulator.record_payment(qbo_id)
    sweep(connected)
    assert [m["data"]["status"] for m in told(host, "invoice.payment_updated")] == ["paid"]
    assert len(_published(connected, "invoice.paid")) == 1


def test_an_invoice_deleted_in_quickbooks_is_told_to_the_host_once(
        connected: Hub, emulator: Emulator, host: Recorder) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    sweep(connected)
    qbo_id = links.get(qbo_ctx(connected), "invoice", "inv-1")["qbo_id"]  # type: ignore[index]
    emulator.delete("Invoice", qbo_id)  # by hand, in QuickBooks

    sweep(connected)
    sweep(connected)

    [told_host] = told(host, "invoice.deleted_in_quickbooks")
    assert told_host["data"] == {"external_id": "inv-1", "quickbooks_id": qbo_id}
    assert told(host, "invoice.payment_updated") == []
    assert _published(connected, "invoice.paid") == []
