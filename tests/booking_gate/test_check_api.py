"""``POST /api/v1/bookings/check`` with the gate on, answered from a balance source's data."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from hub.builtin import booking_gate
from hub.hub import Hub
from hub.web.app import create_app
from tests.booking_gate.conftest import AUTH, check
from tests.booking_gate.ledger import Ledger, owing


def test_a_client_over_the_limit_is_refused_with_a_reason_the_host_can_show(
        client: FlaskClient, gate: Hub, ledger: Ledger) -> None:
    gate.states.update_settings("booking_gate", {"currency": "USD"})
    ledger.balances["owes@example.com"] = owing("130.00", overdue="65.00", open_invoices=2,
                                                overdue_invoices=1)
    assert check(client, " Owes@Example.com") == {
        "allowed": False,
        "reason": "Outstanding balance $130.00 exceeds the $100.00 limit (1 invoice overdue)",
        "balance": "130.00", "threshold": "100.00", "stale": False,
    }


def test_under_and_at_the_limit_are_allowed(client: FlaskClient, ledger: Ledger) -> None:
    ledger.balances["under@example.com"] = owing("99.99")
    ledger.balances["at@example.com"] = owing("100.00")
    assert check(client, "under@example.com") == {
        "allowed": True, "reason": None, "balance": "99.99", "threshold": "100.00",
        "stale": False}
    assert check(client, "at@example.com")["allowed"] is True


def test_overdue_only_and_exempt_settings_apply(client: FlaskClient, gate: Hub,
                                                ledger: Ledger) -> None:
    ledger.balances["late@example.com"] = owing("300.00", overdue="50.00", overdue_invoices=1)
    assert check(client, "late@example.com")["allowed"] is False
    gate.states.update_settings("booking_gate", {"overdue_only": "true"})
    answer = check(client, "late@example.com")
    assert answer["allowed"] is True and answer["balance"] == "50.00"
    gate.states.update_settings("booking_gate", {"overdue_only": "false",
                                                 "exempt": " LATE@example.com ,x@example.com"})
    assert check(client, "late@example.com")["allowed"] is True


def test_an_unknown_client_is_allowed(client: FlaskClient, ledger: Ledger) -> None:
    assert check(client, "new@example.com") == {
        "allowed": True, "reason": None, "balance": "0.00", "threshold": "100.00",
        "stale": False}
    assert ledger.asked == ["new@example.com"]


def test_a_stale_balance_is_allowed_by_default_and_refused_on_request(
        client: FlaskClient, gate: Hub, ledger: Ledger) -> None:
    ledger.balances["owes@example.com"] = owing("130.00", stale=True)
    answer = check(client, "owes@example.com")
    assert answer["allowed"] is True and answer["stale"] is True
    gate.states.update_settings("booking_gate", {"when_stale": "refuse"})
    answer = check(client, "owes@example.com")
    assert answer["allowed"] is False and answer["stale"] is True
    assert answer["reason"].endswith("the balance could not be confirmed")


def test_with_no_balance_source_the_answer_is_stale(make_hub: Any) -> None:
    hub: Hub = make_hub(("booking_gate", booking_gate))
    hub.states.set_enabled("booking_gate", True)
    client = create_app(hub).test_client()
    answer = check(client, "anyone@example.com")
    assert answer["allowed"] is True and answer["stale"] is True and answer["balance"] is None
    hub.states.update_settings("booking_gate", {"when_stale": "refuse"})
    answer = check(client, "anyone@example.com")
    assert answer["allowed"] is False and answer["stale"] is True


def test_the_gate_switched_off_allows_everyone(client: FlaskClient, gate: Hub,
                                               ledger: Ledger) -> None:
    ledger.balances["owes@example.com"] = owing("5000.00")
    assert check(client, "owes@example.com")["allowed"] is False
    gate.states.set_enabled("booking_gate", False)
    assert check(client, "owes@example.com") == {
        "allowed": True, "reason": None, "balance": None, "threshold": None, "stale": False}


def test_the_gate_is_off_until_the_operator_turns_it_on(make_hub: Any, ledger: Ledger) -> None:
    hub: Hub = make_hub(("booking_gate", booking_gate), ("ledger", ledger))
    ledger.balances["owes@example.com"] = owing("5000.00")
    assert check(create_app(hub).test_client(), "owes@example.com")["allowed"] is True
    assert ledger.asked == []


def test_a_check_without_the_key_or_not_json_or_malformed_is_refused_with_the_reason(
        client: FlaskClient, ledger: Ledger) -> None:
    ledger.balances["owes@example.com"] = owing("130.00")
    ask = {"email": "owes@example.com"}
    unauthorised = client.post("/api/v1/bookings/check", json=ask,
                               headers={"Authorization": "Bearer wrong"})
    assert unauthorised.status_code == 401
    assert "API key" in unauthorised.get_json()["errors"][0]["message"]
    as_text = client.post("/api/v1/bookings/check", data="email=owes@example.com",
                          headers={**AUTH, "Content-Type": "text/plain"})
    assert as_text.status_code == 415
    unknown = client.post("/api/v1/bookings/check", json={**ask, "when": "now"}, headers=AUTH)
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "when"
    assert ledger.asked == []  # none of them reached the books
