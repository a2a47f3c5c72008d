"""Whatever happens — replays, lost answers, QuickBooks throttling or down, the hub restarted —
each host object ends as exactly one QuickBooks object with the host's total, and nothing that
came from QuickBooks is written back to it."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.builtin import quickbooks as quickbooks_plugin
from hub.builtin.quickbooks import connect
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.config import load_config
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.samples import DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}
INVOICES = ["inv-a", "inv-b"]
CONTACTS = ["c-a", "c-b"]

operations = st.lists(st.one_of(
    st.tuples(st.just("invoice"), st.sampled_from(INVOICES), st.sampled_from(CONTACTS),
              st.sampled_from(["65.00", "80.00"]), st.booleans()),
    st.tuples(st.just("payment"), st.sampled_from(["pay-a", "pay-b"]),
              st.sampled_from(CONTACTS)),
    st.tuples(st.just("replay")),
    # QuickBooks commits, the answers of the next 1-4 calls are lost (a create among them)
    st.tuples(st.just("drop"), st.integers(min_value=1, max_value=4)),
    st.tuples(st.just("down")),        # QuickBooks answers 503
    st.tuples(st.just("throttle")),    # QuickBooks answers 429 for a while
    st.tuples(st.just("restart")),     # a new hub process on the same database
    st.tuples(st.just("work")),        # the workers run what is due
    st.tuples(st.just("sweep")),       # the change sweep reads QuickBooks (a webhook, a poll)
), min_size=1, max_size=14)


def contact(key: str) -> dict[str, Any]:
    return {"external_id": key, "name": f"Client {key}", "email": f"{key}@example.com"}


class World:
    def __init__(self, tmp: Path, emulator: Emulator) -> None:
        self.env = qbo_env(tmp, emulator)
        self.emulator = emulator
        self.hub = self._hub()
        grant = emulator.connect()
        connect.with_refresh_token(qbo_ctx(self.hub), grant["realmId"], grant["refresh_token"])
        self.sent: list[dict[str, Any]] = []
        self.invoices: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, str] = {}
        self.seq = 0

    def _hub(self) -> Hub:
        return Hub(load_config(self.env, dotenv=False), entrypoints=False,
                   plugins=[("quickbooks", quickbooks_plugin)])

    def post(self, body: dict[str, Any]) -> None:
        answer = create_app(self.hub).test_client().post("/api/v1/events", json=body,
                                                         headers=AUTH)
        assert answer.status_code in (200, 202), answer.get_json()
        self.sent.append(body)

    def apply(self, op: tuple[Any, ...]) -> None:
        self.seq += 1
        kind = op[0]
        if kind == "invoice":
            _, ext, who, price, paid = op
            first = ext not in self.invoices
            if first:
                self.invoices[ext] = {"contact": who}
            elif self.invoices[ext]["paid"]:
                # A paid invoice is not edited (QuickBooks cannot hold an invoice below its
                # payments; the hub would park such an edit for the operator): only news of
                # the payment comes again.
                price, paid = str(self.invoices[ext]["total"]), True
            data = copy.deepcopy(DATA["invoice.sent"])
            data.update(external_id=ext, number=None,
                        contact=contact(self.invoices[ext]["contact"]),  # one client each
                        lines=[{"item": "Services", "unit_price": price}], discount=None,
                        tax=None, total=None)
            if paid:
                data.update(status="paid", amount_paid=price)
            self.invoices[ext].update(total=Decimal(price), paid=paid)
            etype = "invoice.sent" if first else ("invoice.paid" if paid else "invoice.updated")
            self.post({**event(etype, f"evt_{self.seq}"), "data": data})
        elif kind == "payment":
            _, ext, who = op
            self.payments.setdefault(ext, who)
            data = {**DATA["payment"], "external_id": ext, "contact": contact(self.payments[ext])}
            self.post({**event("payment", f"evt_{self.seq}"), "data": data})
        elif kind == "replay" and self.sent:
            self.post(self.sent[-1])
        elif kind == "drop":
            self.emulator.drop_next(op[1])
        elif kind == "down":
            self.emulator.fail_next(1, 503)
        elif kind == "throttle":
            self.emulator.set_limits(per_minute=0)
            self.work()
            self.emulator.set_limits(per_minute=500)
        elif kind == "restart":
            self.hub.close()
            self.hub = self._hub()
        elif kind == "work":
            self.work()
        elif kind == "sweep":
            fire(self.hub, self.hub.jobs()["quickbooks.sweep"], utcnow())
            self.work()

    def work(self) -> None:
        run_due(self.hub)

    def settle(self, clock: Any) -> None:
        """Let the retries run out; what was parked must say why, and the operator's Retry
        must then finish it (parked, never lost)."""
        from sqlalchemy import select

        from hub.queue.store import DELIVERIES
        for _round in range(3):
            for _ in range(6):  # past every backoff (base 60 s in the tests)
                clock.tick(timedelta(minutes=30))
                run_due(self.hub)
            with self.hub.engine.connect() as conn:
                parked = conn.execute(select(DELIVERIES.c.pk, DELIVERIES.c.last_error).where(
                    DELIVERIES.c.status == "dead")).all()
            assert all(error for _pk, error in parked)  # visible, with its cause
            if not parked:
                return
            self.hub.retry([pk for pk, _error in parked])
        raise AssertionError(f"still parked after the operator's retries: {parked}")

    def check(self) -> None:
        emu = self.emulator
        marked = [i for i in emu.objects("Invoice")
                  if str(i.get("PrivateNote", "")).startswith("ledgerline:")]
        for ext, wanted in self.invoices.items():
            mine = [i for i in marked if i["PrivateNote"].split()[0] == f"ledgerline:{ext}"]
            assert len(mine) == 1, (ext, mine)
            assert Decimal(str(mine[0]["TotalAmt"])) == wanted["total"]
            if wanted["paid"]:
                assert Decimal(str(mine[0]["Balance"])) == 0
        assert len(marked) == len(self.invoices)
        for who in set(self.payments.values()) | {v["contact"] for v in self.invoices.values()}:
            same = [c for c in emu.objects("Customer")
                    if (c.get("PrimaryEmailAddr") or {}).get("Address") == f"{who}@example.com"]
            assert len(same) == 1, (who, same)
        for ext in self.payments:
            receipts = [r for r in emu.objects("SalesReceipt")
                        if f" {ext} " in str(r.get("PrivateNote", ""))]
            assert len(receipts) == 1, (ext, receipts)
        # The demo company's own records were never written to.
        assert all(c["SyncToken"] == "0" for c in emu.objects("Customer")
                   if not str(c.get("PrimaryEmailAddr", {}).get("Address", "")).endswith(
                       ("c-a@example.com", "c-b@example.com")))


@pytest.mark.slow
# Histories where a lost answer is a create's (the contact and item already known, so the
# create is the first call after the drop), each once more after its delivery was parked.
@example(ops=[("invoice", "inv-a", "c-a", "65.00", False), ("work",), ("drop", 2),
              ("invoice", "inv-b", "c-a", "80.00", False), ("replay",)])
@example(ops=[("payment", "pay-a", "c-a"), ("work",), ("drop", 4),
              ("payment", "pay-b", "c-a"), ("payment", "pay-b", "c-a")])
@example(ops=[("invoice", "inv-a", "c-a", "65.00", False), ("work",), ("drop", 1),
              ("invoice", "inv-a", "c-a", "65.00", True), ("restart",)])
# An older event parked, a newer one applied, then the operator retries the old one: it must
# not put the invoice back as it was (found by this test).
@example(ops=[("invoice", "inv-a", "c-a", "65.00", False), ("down",), ("throttle",),
              ("invoice", "inv-a", "c-a", "65.00", False), ("drop", 2), ("down",),
              ("invoice", "inv-a", "c-a", "80.00", False)])
# A lost create that the sweep sees before the retry: it links the invoice by its marker, and
# the retry must update it with its current SyncToken (it sent none, and was parked).
@example(ops=[("invoice", "inv-a", "c-a", "65.00", False), ("work",), ("drop", 1),
              ("invoice", "inv-b", "c-a", "80.00", False), ("sweep",), ("work",)])
@settings(max_examples=30, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_any_history_ends_with_one_object_each(tmp_path_factory: pytest.TempPathFactory,
                                               emulator: Emulator,
                                               monkeypatch: pytest.MonkeyPatch,
                                               ops: list[tuple[Any, ...]]) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    emulator.reset()
    world = World(tmp_path_factory.mktemp("world"), emulator)
    try:
        with freeze_time(utcnow(), tick=True) as clock:
            for op in ops:
                world.apply(op)
            world.settle(clock)
        world.check()
    finally:
        world.hub.close()
