"""The month close creates its invoices 30 to a batch call, against the emulator: each client
billed exactly once whatever happens (an answer lost, a worker killed after the send, an item
refused, the month closed again)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from hub.builtin.quickbooks import billing, invoice_batches, links
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.settings import Settings
from hub.clock import utcnow
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY, subprocess_env
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.samples import CONTACT, DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MONTH = "2026-03"


def contact(n: int) -> dict[str, Any]:
    return {**CONTACT, "external_id": f"c-{n}", "name": f"Client {n}",
            "email": f"client{n}@example.com"}


def post(hub: Hub, body: dict[str, Any]) -> None:
    answer = create_app(hub).test_client().post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()


def book_monthly(hub: Hub, clients: int) -> None:
    """One completed session in March for each of ``clients`` clients, billed monthly."""
    for n in range(clients):
        data = {**DATA["booking"], "external_id": f"bk-{n}", "contact": contact(n),
                "billing": "monthly", "start": "2026-03-03T15:00:00-05:00"}
        post(hub, {**event("booking", f"evt_bk_{n}"), "data": data})
    run_due(hub)


def close(hub: Hub) -> list[billing.Closed]:
    settings = hub.states.settings("quickbooks")
    assert isinstance(settings, Settings)
    return billing.close_month(qbo_ctx(hub), MONTH, settings)


def monthly_invoices(emulator: Emulator) -> Counter[str]:
    """How many invoices QuickBooks holds for each month-close invoice id."""
    return Counter(
        found for found in (links.marked(i.get("PrivateNote"))
                            for i in emulator.objects("Invoice"))
        if found and found.startswith(f"monthly:{MONTH}:"))


def test_70_clients_cost_3_batch_calls_each_billed_once_and_a_second_close_bills_nothing(
    connected: Hub, emulator: Emulator
) -> None:
    book_monthly(connected, 70)
    emulator.reset_calls()
    shown: list[tuple[int, int]] = []
    settings = connected.states.settings("quickbooks")
    assert isinstance(settings, Settings)
    results = billing.close_month(qbo_ctx(connected), MONTH, settings,
                                  lambda d, t: shown.append((d, t)))
    assert [(r.sessions, r.error) for r in results] == [(1, None)] * 70
    calls = emulator.calls()
    assert calls["POST batch"] == 3
    assert calls.get("POST invoice", 0) == 0  # not one invoice written on its own
    billed = monthly_invoices(emulator)
    assert len(billed) == 70 and set(billed.values()) == {1}
    assert shown[-1] == (70, 70)
    for n in (0, 69):
        link = links.get(qbo_ctx(connected), "invoice", f"monthly:{MONTH}:client{n}@example.com")
        assert link and link["digest"] and link["balance"] == "65.00"

    emulator.reset_calls()
    assert close(connected) == []
    assert emulator.calls() == {}  # nothing planned, nothing sent
    assert monthly_invoices(emulator) == billed


def test_a_monthly_invoice_made_in_a_batch_is_paid_like_any_other(connected: Hub,
                                                                 emulator: Emulator) -> None:
    book_monthly(connected, 2)
    assert [r.error for r in close(connected)] == [None, None]
    external_id = f"monthly:{MONTH}:client0@example.com"
    qbo_id = links.get(qbo_ctx(connected), "invoice", external_id)["qbo_id"]  # type: ignore[index]
    paid = {"external_id": external_id, "contact": contact(0), "status": "paid",
            "issue_date": "2026-04-01", "currency": "USD", "amount_paid": "65.00",
            "lines": [{"item": "Math Tutoring", "quantity": "1", "unit_price": "65.00",
                       "description": "1-Hour Math Tutoring - March 3, 2026",
                       "service_date": "2026-03-03"}]}
    post(connected, {**event("invoice.paid", "evt_paid"), "data": paid})
    run_due(connected)
    invoice = emulator.get("Invoice", qbo_id)
    assert invoice and Decimal(str(invoice["Balance"])) == 0
    assert sum(monthly_invoices(emulator).values()) == 2  # paid, not made again


def test_an_answer_lost_after_quickbooks_wrote_the_batch_is_resent_never_replanned(
    connected: Hub, emulator: Emulator
) -> None:
    book_monthly(connected, 33)
    emulator.drop_next(1, only="batch")  # carried out in QuickBooks, the answer never arrives
    first = close(connected)
    assert len(first) == 33 and all(r.error for r in first)
    assert all("sent again on the next close" in str(r.error) for r in first[:30])
    # The other 3 wait: nothing new is planned while a batch's answer is unknown.
    assert all("still unanswered" in str(r.error) for r in first[30:])
    assert emulator.calls()["POST batch"] == 1
    assert sum(monthly_invoices(emulator).values()) == 30  # QuickBooks did write them
    again = close(connected)
    assert sorted((r.client, r.error) for r in again) == sorted(
        (f"client{n}@example.com", None) for n in range(33))
    billed = monthly_invoices(emulator)
    assert len(billed) == 33 and set(billed.values()) == {1}
    assert emulator.calls()["POST batch"] == 3  # the same batch again, then the last 3
    assert all(links.get(qbo_ctx(connected), "invoice", r.invoice_external_id) for r in again)
    assert close(connected) == []


# A worker that dies at the batch call, just before sending it or with QuickBooks' answer in
# hand (before it records anything of it).
KILLED_AT_THE_BATCH = """
import os, sys
import requests
send = requests.Session.request
def request(self, method, url, *args, **kwargs):
    if str(url).endswith("/batch") and sys.argv[2] == "before":
        os._exit(9)
    answer = send(self, method, url, *args, **kwargs)
    if str(url).endswith("/batch"):
        os._exit(9)
    return answer
requests.Session.request = request
from hub.roles.cli import build_cli
build_cli()(["billing", "close-month", sys.argv[1]], prog_name="hub")
"""


@pytest.mark.parametrize("dies", ["before", "after"])
def test_a_worker_killed_at_the_batch_call_makes_no_duplicate_on_the_next_close(
    connected: Hub, emulator: Emulator, tmp_path: Path, dies: str
) -> None:
    book_monthly(connected, 3)
    env = {**subprocess_env(tmp_path), **qbo_env(tmp_path, emulator),
           "AUTHLIB_INSECURE_TRANSPORT": "1"}
    worker = subprocess.run([sys.executable, "-c", KILLED_AT_THE_BATCH, MONTH, dies], env=env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 9, worker.stderr
    sent = 1 if dies == "after" else 0
    assert sum(monthly_invoices(emulator).values()) == 3 * sent
    # At once: the batch may still be in flight from another worker, so it is left alone, and
    # its clients, claimed by it, are not planned again.
    soon = close(connected)
    assert all(r.error and "sending this client's invoice" in r.error for r in soon)
    assert emulator.calls().get("POST batch", 0) == sent
    with freeze_time(utcnow() + invoice_batches.LEASE + timedelta(seconds=1)):  # lease over
        later = close(connected)
    assert [r.error for r in later] == [None, None, None]
    billed = monthly_invoices(emulator)
    assert len(billed) == 3 and set(billed.values()) == {1}
    assert emulator.calls()["POST batch"] == sent + 1
    assert close(connected) == []


def test_the_first_of_the_month_job_resends_a_batch_whose_answer_was_lost(
    connected: Hub, emulator: Emulator
) -> None:
    book_monthly(connected, 2)
    emulator.drop_next(1, only="batch")
    job = connected.jobs()["quickbooks.close-month"]
    with freeze_time(datetime(2026, 4, 1, 6, 0, tzinfo=UTC)):
        fire(connected, job, datetime(2026, 4, 1, 6, 0))
        run_due(connected)
    assert sum(monthly_invoices(emulator).values()) == 2  # written, the answer lost
    with freeze_time(datetime(2026, 4, 1, 9, 0, tzinfo=UTC)):
        run_due(connected)  # the job's retry
    billed = monthly_invoices(emulator)
    assert len(billed) == 2 and set(billed.values()) == {1}
    assert emulator.calls()["POST batch"] == 2
    assert billing.months_to_close(qbo_ctx(connected), "2026-04") == []


def client_customer(hub: Hub, n: int) -> str:
    """Client n sent as a contact, so their QuickBooks customer exists; its id."""
    post(hub, {**event("contact", f"evt_c{n}"), "data": contact(n)})
    run_due(hub)
    link = links.get(qbo_ctx(hub), "customer", f"c-{n}")
    assert link is not None
    return str(link["qbo_id"])


def set_active(hub: Hub, customer_id: str, active: bool) -> None:
    """A person in QuickBooks makes the customer (in)active."""
    with calling(qbo_ctx(hub)) as api:
        current = api.read("Customer", customer_id)
        api.update("Customer", {"Id": customer_id, "SyncToken": current["SyncToken"],
                                "sparse": True, "Active": active},
                   f"test-active-{current['SyncToken']}")


def test_one_refused_invoice_leaves_the_others_created_and_is_billed_on_the_next_close(
    connected: Hub, emulator: Emulator
) -> None:
    book_monthly(connected, 3)
    customer_id = client_customer(connected, 1)
    # Made inactive in QuickBooks: an invoice for it is refused.
    set_active(connected, customer_id, False)
    results = {r.client: r for r in close(connected)}
    refused = results["client1@example.com"]
    assert refused.error and refused.error.startswith("QuickBooks refused the change:")
    assert "(code 2500)" in refused.error
    assert results["client0@example.com"].error is None
    assert results["client2@example.com"].error is None
    assert set(monthly_invoices(emulator)) == {f"monthly:{MONTH}:client{n}@example.com"
                                               for n in (0, 2)}
    set_active(connected, customer_id, True)
    [retried] = close(connected)
    assert (retried.client, retried.error) == ("client1@example.com", None)
    billed = monthly_invoices(emulator)
    assert len(billed) == 3 and set(billed.values()) == {1}


def test_invoices_from_a_batch_are_emailed_one_call_each(connected: Hub,
                                                         emulator: Emulator) -> None:
    connected.states.update_settings("quickbooks", {"send_invoices": True})
    book_monthly(connected, 2)
    emulator.reset_calls()
    assert [r.error for r in close(connected)] == [None, None]
    assert emulator.calls()["POST batch"] == 1
    assert emulator.calls()["POST invoice"] == 2  # /invoice/{id}/send
    for n in range(2):
        link = links.get(qbo_ctx(connected), "invoice", f"monthly:{MONTH}:client{n}@example.com")
        invoice = emulator.get("Invoice", link["qbo_id"])  # type: ignore[index]
        assert invoice and invoice["EmailStatus"] == "EmailSent"
