"""Bookings billed per session at once, or monthly as one invoice per client with a line per
session; closing a month twice bills nothing twice. Against the emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from freezegun import freeze_time

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.samples import DATA, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def book(hub: Hub, event_id: str, **changes: Any) -> None:
    data = {**DATA["booking"], "external_id": event_id.replace("evt", "bk"), **changes}
    if hub.states.settings("quickbooks").monthly_clients:
        data.pop("billing")  # let the operator's settings decide
    body = {**event("booking", event_id), "data": data}
    answer = create_app(hub).test_client().post("/api/v1/events", json=body, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    run_due(hub)


def qbo_invoice(hub: Hub, emulator: Emulator, external_id: str) -> dict[str, Any]:
    link = links.get(qbo_ctx(hub), "invoice", external_id)
    assert link, f"no invoice for {external_id}"
    found = emulator.get("Invoice", link["qbo_id"])
    assert found
    return found


def item_lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [x for x in invoice["Line"] if x.get("DetailType") == "SalesItemLineDetail"]


def test_a_completed_session_is_billed_at_once(connected: Hub, emulator: Emulator) -> None:
    book(connected, "evt_0", status="booked")
    assert links.get(qbo_ctx(connected), "invoice", "booking:bk_0") is None  # not until completed
    book(connected, "evt_1")
    invoice = qbo_invoice(connected, emulator, "booking:bk_1")
    [line] = item_lines(invoice)
    assert line["Description"] == "1-Hour Math Tutoring - March 28, 2026"
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("65.00")
    assert invoice["TxnDate"] == "2026-03-28"


def test_rate_times_duration_less_the_discount(connected: Hub, emulator: Emulator) -> None:
    book(connected, "evt_1", duration_minutes=90, discount={"percent": "10"})
    invoice = qbo_invoice(connected, emulator, "booking:bk_1")
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("87.75")  # 97.50 less 10 %
    assert item_lines(invoice)[0]["Description"].startswith("90-Minute Math Tutoring")


@pytest.fixture
def monthly(connected: Hub) -> Hub:
    connected.states.update_settings("quickbooks", {"monthly_clients": "Dana@Example.com"})
    return connected


def close(tmp_path: Path, emulator: Emulator, month: str) -> Any:
    return CliRunner().invoke(build_cli(), ["billing", "close-month", month],
                              env=qbo_env(tmp_path, emulator))


def test_monthly_sessions_become_one_invoice_and_a_second_close_bills_nothing(
    monthly: Hub, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    book(monthly, "evt_1", start="2026-03-03T15:00:00-05:00")
    book(monthly, "evt_2", start="2026-03-10T15:00:00-05:00")
    book(monthly, "evt_3", start="2026-03-17T15:00:00-05:00")
    book(monthly, "evt_3c", external_id="bk_3", start="2026-03-17T15:00:00-05:00",
         status="cancelled")  # cancelled before billing: drops out
    book(monthly, "evt_4", start="2026-04-01T09:00:00-05:00")  # April's
    assert links.get(qbo_ctx(monthly), "invoice", "booking:bk_1") is None  # nothing billed yet
    before = len(emulator.objects("Invoice"))
    result = close(tmp_path, emulator, "2026-03")
    assert result.exit_code == 0, result.output
    assert "[1/1] dana@example.com: 2 sessions, invoice monthly:2026-03:dana@example.com billed" \
        in result.output
    invoice = qbo_invoice(monthly, emulator, "monthly:2026-03:dana@example.com")
    assert [x["Description"] for x in item_lines(invoice)] == [
        "1-Hour Math Tutoring - March 3, 2026", "1-Hour Math Tutoring - March 10, 2026"]
    assert invoice["TxnDate"] == "2026-04-01"
    again = close(tmp_path, emulator, "2026-03")
    assert again.exit_code == 0 and "no monthly sessions waiting" in again.output
    assert len(emulator.objects("Invoice")) == before + 1


def test_the_first_of_the_month_closes_the_month_just_ended(monthly: Hub,
                                                            emulator: Emulator) -> None:
    book(monthly, "evt_1", start="2026-03-03T15:00:00-05:00")
    with freeze_time(datetime(2026, 4, 1, 6, 0, tzinfo=UTC)):
        job = monthly.jobs()["quickbooks.close-month"]
        assert job.next_run(datetime(2026, 3, 20)) == datetime(2026, 4, 1, 6, 0)
        fire(monthly, job, datetime(2026, 4, 1, 6, 0))
        run_due(monthly)
    invoice = qbo_invoice(monthly, emulator, "monthly:2026-03:dana@example.com")
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("65.00")


def test_a_session_completed_after_the_close_gets_its_own_invoice(
    monthly: Hub, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    book(monthly, "evt_1", start="2026-03-03T15:00:00-05:00")
    assert close(tmp_path, emulator, "2026-03").exit_code == 0
    book(monthly, "evt_2", start="2026-03-30T15:00:00-05:00")  # reported late
    assert close(tmp_path, emulator, "2026-03").exit_code == 0
    late = qbo_invoice(monthly, emulator, "monthly:2026-03:dana@example.com:2")
    assert [x["Description"] for x in item_lines(late)] == [
        "1-Hour Math Tutoring - March 30, 2026"]
    first = qbo_invoice(monthly, emulator, "monthly:2026-03:dana@example.com")
    assert len(item_lines(first)) == 1  # the first invoice was not rewritten


def test_close_month_refuses_a_malformed_month(tmp_path: Path, emulator: Emulator) -> None:
    result = close(tmp_path, emulator, "March")
    assert result.exit_code == 2 and "YYYY-MM" in result.output


def customers_for(emulator: Emulator, email: str) -> list[dict[str, Any]]:
    return [c for c in emulator.objects("Customer")
            if (c.get("PrimaryEmailAddr") or {}).get("Address", "").lower() == email]


@pytest.mark.parametrize("billed", ["monthly", "per_session"])
def test_a_new_client_has_a_customer_from_her_first_booking(
        connected: Hub, emulator: Emulator, billed: str) -> None:
    # Seen: three monthly bookings delivered, and no customer until close-month. The scheduling
    # seed: a new client's booking looks her up by email and creates her if none.
    if billed == "monthly":
        connected.states.update_settings("quickbooks", {"monthly_clients": "dana@example.com"})
    assert customers_for(emulator, "dana@example.com") == []
    book(connected, "evt_1", status="booked")
    [customer] = customers_for(emulator, "dana@example.com")
    assert customer["DisplayName"] == "Dana Whitfield"
    [delivery] = [d for d in connected.event("evt_1")["deliveries"]
                  if d["plugin"] == "quickbooks"]
    assert delivery["status"] == "done"
    assert delivery["result"] == (f"Customer {customer['Id']} created; nothing to bill until "
                                  "the booking is completed")
    book(connected, "evt_2", start="2026-03-10T15:00:00-05:00")
    book(connected, "evt_3", start="2026-03-17T15:00:00-05:00")
    assert len(customers_for(emulator, "dana@example.com")) == 1  # found, never doubled
