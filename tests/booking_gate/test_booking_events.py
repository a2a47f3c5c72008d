"""``booking`` events: a new booking over the limit is refused, recorded and told to the host
once, however often it is replayed, re-sent or retried; sessions held or cancelled pass."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.builtin import booking_gate
from hub.builtin.booking_gate.refusals import refusal
from hub.clock import utcnow
from hub.events import Booking
from hub.hub import Hub
from hub.queue.worker import run_due
from tests.booking_gate.conftest import AUTH, told
from tests.booking_gate.ledger import Ledger, owing
from tests.plugins.recorder import Recorder
from tests.samples import event

EMAIL = "dana@example.com"  # the samples' contact


def refused(hub: Any, external_id: str) -> Any:
    return refusal(hub.context("booking_gate", "test", "-"), external_id)


def send(client: FlaskClient, event_id: str, **changes: Any) -> int:
    answer = client.post("/api/v1/events", json=event("booking", event_id, **changes),
                         headers=AUTH)
    return answer.status_code


def gate_result(hub: Hub, event_id: str) -> dict[str, Any]:
    view = hub.event(event_id)
    assert view is not None
    [delivery] = [d for d in view["deliveries"] if d["plugin"] == "booking_gate"]
    return delivery  # type: ignore[no-any-return]


@pytest.fixture
def owes(ledger: Ledger, gate: Hub) -> Ledger:
    gate.states.update_settings("booking_gate", {"currency": "USD"})
    ledger.balances[EMAIL] = owing("130.00", overdue="130.00", overdue_invoices=1)
    return ledger


def test_a_booking_over_the_limit_is_refused_and_told_to_the_host_once(
        client: FlaskClient, gate: Hub, owes: Ledger, host: Recorder) -> None:
    assert send(client, "evt_1", status="booked") == 202
    assert send(client, "evt_1", status="booked") == 200  # the host's replay
    run_due(gate)
    assert send(client, "evt_2", status="booked") == 202  # the same booking sent again
    run_due(gate)
    [message] = told(host, "booking.refused")
    assert message["data"]["booking"]["external_id"] == "bk-1"
    assert message["data"]["booking"]["contact"]["email"] == EMAIL
    assert {k: v for k, v in message["data"].items() if k != "booking"} == {
        "allowed": False,
        "reason": "Outstanding balance $130.00 exceeds the $100.00 limit (1 invoice overdue)",
        "balance": "130.00", "threshold": "100.00", "stale": False,
    }
    stored = refused(gate, "bk-1")
    assert stored is not None
    assert stored["email"] == EMAIL and stored["balance"] == "130.00"
    assert stored["event_id"] == "evt_1" and stored["lifted_at"] is None
    assert gate_result(gate, "evt_1")["status"] == "done"
    assert "refused" in gate_result(gate, "evt_1")["result"]
    assert "already refused" in gate_result(gate, "evt_2")["result"]


def test_a_retry_after_a_failed_write_refuses_once(client: FlaskClient, gate: Hub,
                                                   owes: Ledger, host: Recorder,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = gate.notify_host
    failures = iter([RuntimeError("database went away")])

    def flaky(*args: Any, **kwargs: Any) -> bool:
        for failure in failures:
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(gate, "notify_host", flaky)
    send(client, "evt_1", status="booked")
    run_due(gate)
    first = gate_result(gate, "evt_1")
    assert first["status"] == "pending" and "database went away" in first["last_error"]
    # The queueing failed inside the refusal's own transaction: nothing half-done was kept.
    assert refused(gate, "bk-1") is None and told(host, "booking.refused") == []
    run_due(gate, now=utcnow() + timedelta(hours=1))
    assert gate_result(gate, "evt_1")["status"] == "done"
    assert refused(gate, "bk-1") is not None
    assert len(told(host, "booking.refused")) == 1


def test_a_delivery_run_twice_after_a_lost_outcome_tells_the_host_once(
        client: FlaskClient, gate: Hub, owes: Ledger, host: Recorder) -> None:
    send(client, "evt_1", status="booked")
    run_due(gate)
    # A worker killed after the refusal committed but before "done" was recorded: the lease
    # runs out and the same delivery runs again.
    booking = Booking.model_validate(event("booking", status="booked")["data"])
    booking_gate.on_booking(booking, gate.context("booking_gate", "booking", "evt_1"))
    run_due(gate)
    assert len(told(host, "booking.refused")) == 1


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_held_and_cancelled_sessions_are_not_gated(client: FlaskClient, gate: Hub,
                                                   owes: Ledger, host: Recorder,
                                                   status: str) -> None:
    send(client, "evt_1", status=status)
    run_due(gate)
    assert told(host, "booking.refused") == []
    assert refused(gate, "bk-1") is None
    assert owes.asked == []
    assert "not gated" in gate_result(gate, "evt_1")["result"]


def test_a_booking_within_the_limit_passes_and_a_later_pass_lifts_a_refusal(
        client: FlaskClient, gate: Hub, owes: Ledger, host: Recorder) -> None:
    send(client, "evt_1", status="booked")
    run_due(gate)
    assert refused(gate, "bk-1")["lifted_at"] is None  # type: ignore[index]
    owes.balances[EMAIL] = owing("0.00", open_invoices=0)  # the client paid
    send(client, "evt_2", status="booked")
    run_due(gate)
    assert refused(gate, "bk-1")["lifted_at"] is not None  # type: ignore[index]
    assert "refusal lifted" in gate_result(gate, "evt_2")["result"]
    send(client, "evt_3", status="booked", external_id="bk-2")
    run_due(gate)
    assert refused(gate, "bk-2") is None
    assert len(told(host, "booking.refused")) == 1


def test_a_stale_balance_lets_a_booking_through_unless_the_operator_refuses(
        client: FlaskClient, gate: Hub, ledger: Ledger, host: Recorder) -> None:
    ledger.balances[EMAIL] = owing("130.00", stale=True)
    send(client, "evt_1", status="booked")
    run_due(gate)
    assert refused(gate, "bk-1") is None
    assert gate_result(gate, "evt_1")["result"] == "booking bk-1 allowed (balance stale)"
    gate.states.update_settings("booking_gate", {"when_stale": "refuse"})
    send(client, "evt_2", status="booked", external_id="bk-2")
    run_due(gate)
    [message] = told(host, "booking.refused")
    assert message["data"]["stale"] is True and message["data"]["booking"]["external_id"] == "bk-2"
