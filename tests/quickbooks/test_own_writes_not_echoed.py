"""What the hub writes in more than one step (an invoice created and then paid, an invoice made
again by a reconcile fix and its payment applied again, an undo's payments deleted before the
void) is never taken for news from QuickBooks, whenever the sweep reads it.

Seen by an operator, with webhooks on: a sweep ran while a reconcile fix was between creating
the invoice and applying the hub's payment to it. It told the host the invoice was unpaid, then
paid, and told the other plugins of a payment made in QuickBooks; the balance it wrote on the
link then made the invoice look edited by hand, and its undo was refused. An undo's own payment
deletion was told to the host too, and reconcile then proposed telling the host of the undo's
void. A change feed can answer with any version the hub passed through, so those versions are
handed to the sweep here as Intuit would answer them."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.sweep import _invoice as sweep_sees
from hub.hub import Hub
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_from_quickbooks import sweep, told
from tests.quickbooks.test_reconcile import fix_and_check_again, marked, reconcile_cli
from tests.quickbooks.test_undo_in_quickbooks import _paid_then_deleted_by_hand, _sent_and_paid
from tests.quickbooks.test_undo_in_quickbooks import _undo as undo


def _version(invoice: dict[str, Any], token: int, owed: str, linked: bool) -> dict[str, Any]:
    """``invoice`` as QuickBooks answered for it at an earlier version."""
    then = copy.deepcopy(invoice)
    then["SyncToken"] = str(token)
    then["Balance"] = owed
    if not linked:
        then["LinkedTxn"] = []
    return then


def _heard_nothing(hub: Hub, host: Recorder, *versions: dict[str, Any]) -> None:
    ctx = qbo_ctx(hub)
    for version in versions:
        assert sweep_sees(ctx, ctx.settings, version) == 0, version  # type: ignore[arg-type]
    sweep(hub)
    assert told(host, "invoice.payment_updated") == []
    assert [c for hook, _v, c in host.calls
            if hook == "on_invoice_paid" and c.source == "quickbooks"] == []


def test_an_invoice_created_then_paid_is_not_told_back_at_any_version(
        connected: Hub, emulator: Emulator, host: Recorder) -> None:
    invoice, _payment = _sent_and_paid(connected, emulator)
    host.calls.clear()
    total = str(invoice["TotalAmt"])
    # Created, then the hub's payment applied: both versions are the hub's own.
    _heard_nothing(connected, host, _version(invoice, 0, total, linked=False), invoice)


def test_a_reconcile_fix_and_its_undo_are_the_hubs_own_writes(
        connected: Hub, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    first, payment = _paid_then_deleted_by_hand(connected, emulator)
    sweep(connected)  # the host hears of the delete, once
    host.calls.clear()
    assert fix_and_check_again(connected, tmp_path, emulator)["findings"] == []
    [again] = marked(emulator)
    assert Decimal(str(again["Balance"])) == 0
    total = str(again["TotalAmt"])
    # Made again, unpaid; then the hub's standing payment applied to it.
    _heard_nothing(connected, host, _version(again, 0, total, linked=False), again)

    # The operator takes it all back: nothing the hub did since is taken for a hand edit.
    state = undo(connected, "evt_1")
    assert state["status"] == "done", state
    assert f"Payment {payment['Id']} deleted" in state["result"]
    assert f"Invoice {again['Id']} voided" in state["result"]
    gone = emulator.get("Invoice", again["Id"])
    assert gone is not None and Decimal(str(gone["TotalAmt"])) == 0
    assert [p for p in emulator.objects("Payment") if not p.get("_deleted")
            and p["CustomerRef"]["value"] == first["CustomerRef"]["value"]] == []
    # Between the payment's deletion and the void it stood unpaid: the hub's own doing too.
    token = int(again["SyncToken"])
    _heard_nothing(connected, host, _version(again, token + 1, total, linked=False), gone)
    assert links.get(qbo_ctx(connected), "invoice", "inv-1") is not None
    # The undo was the operator's choice: reconcile does not offer to tell the host of it.
    assert reconcile_cli(tmp_path, emulator)["findings"] == []
