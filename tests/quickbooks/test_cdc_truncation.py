"""The change sweep when the change feed is full: Intuit answers at most 1,000 objects and does
not say which it drops, so nothing may be missed whether QuickBooks keeps the oldest changes or
the newest. And beyond the feed's 30 days, where a query shows no deletions, deleted invoices
are still found, and the operator is told what cannot be."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from freezegun import freeze_time
from sqlalchemy import select

from hub.builtin.quickbooks import links, mirror
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.db import reading
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.samples import DATA, event
from tests.ui.conftest import PASSWORD, client_sign_in

AUTH = {"Authorization": f"Bearer {API_KEY}"}
FLOOD = 1005  # changes of one entity: more than one answer of the change feed holds


def sweep(hub: Hub) -> None:
    fire(hub, hub.jobs()["quickbooks.sweep"], utcnow())
    run_due(hub)


def told(host: Recorder, kind: str) -> list[dict[str, Any]]:
    return [m for hook, m, _ in host.calls if hook == "on_host_event" and m["type"] == kind]


def mirrored_invoices(hub: Hub) -> set[str]:
    with reading(hub.engine) as conn:
        return set(conn.execute(select(mirror.INVOICES.c.qbo_id)).scalars())


class OtherApp:
    """Another app (or a person's bulk import) changing the company through the API."""

    def __init__(self, emulator: Emulator) -> None:
        self.base = f"{emulator.api_base}/company/{emulator.realm_id}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {emulator.connect()['access_token']}"
        emulator.set_limits(batch_per_minute=100)

    def delete_invoice(self, qbo_id: str) -> None:
        found = self.http.get(f"{self.base}/invoice/{qbo_id}", timeout=5).json()["Invoice"]
        answer = self.http.post(f"{self.base}/invoice", params={"operation": "delete"},
                                json={"Id": qbo_id, "SyncToken": found["SyncToken"]}, timeout=5)
        assert answer.status_code == 200, answer.text

    def create_invoices(self, count: int) -> None:
        for start in range(0, count, 30):
            items = [{"bId": str(n), "operation": "create", "Invoice": {
                "CustomerRef": {"value": "1"},
                "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5,
                          "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}}
                for n in range(start, min(start + 30, count))]
            answer = self.http.post(f"{self.base}/batch", json={"BatchItemRequest": items},
                                    timeout=30)
            assert answer.status_code == 200 and "Fault" not in answer.text


@pytest.fixture(params=["oldest", "newest"])
def keeps(request: pytest.FixtureRequest, emulator: Emulator) -> str:
    emulator.cdc_keeps(request.param)
    return str(request.param)


def test_a_full_feed_of_customers_misses_no_customer_and_no_payment(
    connected: Hub, emulator: Emulator, host: Recorder, keeps: str,
) -> None:
    run_due(connected)  # the first import
    data = copy.deepcopy(DATA["invoice.sent"])
    body = {**event("invoice.sent", "evt_inv"), "data": data}
    assert create_app(connected).test_client().post("/api/v1/events", json=body,
                                                     headers=AUTH).status_code == 202
    run_due(connected)
    sweep(connected)
    before = len(told(host, "contact.imported"))
    # First a payment recorded in QuickBooks, then a thousand and more new customers.
    emulator.record_payment(links.get(qbo_ctx(connected), "invoice", "inv-1")["qbo_id"], amount=100)
    for n in range(FLOOD):
        emulator.add_customer(DisplayName=f"Walk-in {n:04}")
    sweep(connected)
    imported = {m["data"]["name"] for m in told(host, "contact.imported")[before:]}
    assert imported == {f"Walk-in {n:04}" for n in range(FLOOD)}
    [paid] = told(host, "invoice.payment_updated")
    assert paid["data"]["external_id"] == "inv-1" and paid["data"]["amount_paid"] == "100.00"


def test_a_full_feed_of_invoices_misses_no_deletion(
    connected: Hub, emulator: Emulator, keeps: str,
) -> None:
    run_due(connected)  # the first import: the demo's invoices are mirrored
    demo = sorted(mirrored_invoices(connected), key=int)
    other = OtherApp(emulator)
    other.delete_invoice(demo[0])  # the oldest change of the window
    other.create_invoices(FLOOD)
    sweep(connected)
    now = mirrored_invoices(connected)
    assert demo[0] not in now and set(demo[1:]) <= now
    assert len(now) == len(demo) - 1 + FLOOD


def test_beyond_the_feeds_30_days_deletions_are_still_found_and_the_operator_is_told(
    connected: Hub, emulator: Emulator, tmp_path: Path,
) -> None:
    run_due(connected)
    demo = sorted(mirrored_invoices(connected), key=int)
    cli = build_cli()  # before the clock moves: its plugins' models are made as it loads them
    with freeze_time(utcnow() + timedelta(days=31)):  # the hub was off for a month
        auth.set_first_password(connected, PASSWORD)
        client = create_app(connected).test_client()
        client_sign_in(client)

        def shown() -> str:
            page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/integrations").text))
            status = CliRunner().invoke(cli, ["quickbooks", "status"],
                                        env=qbo_env(tmp_path, emulator))
            return page + "\n" + re.sub(r"\s+", " ", status.output)

        warned = "longer ago than the 30 days its change feed keeps"
        assert shown().count(warned) == 2  # the card and `hub quickbooks status`
        assert "which shows no deletions" in shown()
        OtherApp(emulator).delete_invoice(demo[1])
        sweep(connected)
        assert mirrored_invoices(connected) == set(demo) - {demo[1]}
        assert warned not in shown()
