"""What is overdue is judged on the company's calendar, not UTC's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from freezegun import freeze_time

from hub.builtin.quickbooks import links, mirror
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_from_quickbooks import send_invoice, sweep


def test_an_invoice_due_today_is_not_overdue_until_the_companys_day_is_over(
        connected: Hub, emulator: Emulator) -> None:
    send_invoice(connected, "invoice.sent", "evt_1")
    qbo_id = links.get(qbo_ctx(connected), "invoice", "inv-1")["qbo_id"]
    emulator.edit_invoice(qbo_id, TxnDate="2026-03-01", DueDate="2026-03-04")
    sweep(connected)
    # 19:00 on 4 March in California is 03:00 on 5 March in UTC.
    evening = datetime(2026, 3, 5, 3, 0)

    connected.states.update_settings("quickbooks", {"timezone": "America/Los_Angeles"})
    with freeze_time(evening):
        assert mirror.company_today(qbo_ctx(connected)).isoformat() == "2026-03-04"
        found = mirror.balances(qbo_ctx(connected), "parent@example.com")
    assert found is not None and found["outstanding"] > 0
    assert found["overdue"] == Decimal("0") and found["overdue_invoices"] == 0

    connected.states.update_settings("quickbooks", {"timezone": "Europe/London"})
    with freeze_time(evening):
        found = mirror.balances(qbo_ctx(connected), "parent@example.com")
    assert found is not None and found["overdue"] == found["outstanding"]

