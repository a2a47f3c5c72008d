"""A first import larger than a page reads the rest of the pages through batch queries."""

from __future__ import annotations

import pytest

from hub.builtin.quickbooks import connect, paging
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx


def test_a_first_import_of_many_pages_costs_three_calls_and_misses_none(
        qbo_hub: Hub, emulator: Emulator, host: Recorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Pages of 100 instead of Intuit's 1,000, so that five pages take 450 customers, not 4,500.
    monkeypatch.setattr(paging, "PAGE", 100)
    for n in range(450):
        emulator.add_customer(DisplayName=f"Client {n:04}",
                              PrimaryEmailAddr={"Address": f"client{n}@example.com"})
    in_qbo = {c["Id"] for c in emulator.objects("Customer")}
    assert 400 < len(in_qbo) <= 500
    grant = emulator.connect()
    emulator.reset_calls()
    # Connecting queues the first import; the workers run it.
    connect.with_refresh_token(qbo_ctx(qbo_hub), grant["realmId"], grant["refresh_token"])
    emulator.reset_calls()  # connecting read the company's facts
    run_due(qbo_hub)
    imported = [m for hook, m, _ in host.calls
                if hook == "on_host_event" and m["type"] == "contact.imported"]
    assert sorted(m["data"]["external_id"] for m in imported) == sorted(
        f"qbo:{i}" for i in in_qbo)
    # Customers: the first page, the count, one batch of the four other pages (plain paging
    # would have taken five calls); invoices: one page.
    assert emulator.calls() == {"POST query": 3, "POST batch": 1}
