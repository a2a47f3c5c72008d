"""Deliveries: one plugin's failure never stops another's; retries on a jittered schedule;
parked dead after the last attempt with the error kept; retried by an operator; held and
released; one subject's events in order. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from hub.clock import utcnow
from hub.config import load_config
from hub.errors import Hold, NeedsOperator, RetryLater, Skip
from hub.events import parse_data
from hub.hub import Hub
from hub.plugins.context import Context
from hub.queue.worker import run_due
from tests.conftest import base_env
from tests.plugins.recorder import Recorder
from tests.samples import event

T0 = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)


@pytest.fixture
def db_hub(tmp_path, database_url, make_hub) -> Any:
    def make(*plugins: tuple[str, Any]) -> Hub:
        cfg = load_config(base_env(tmp_path, database_url), dotenv=False)
        return make_hub(*plugins, cfg=cfg)
    return make


def send(hub: Hub, event_type: str = "invoice.sent", event_id: str = "evt_1", **data: Any):
    body = event(event_type, event_id, **data)
    value = parse_data(event_type, body["data"])
    return hub.accept_host_event(event_id, event_type, utcnow(), value, event_id)


def always(error: Exception):
    def fail(hook: str, _ctx: Context) -> None:
        if hook != "on_host_event":
            raise error
    return fail


def deliveries(hub: Hub, event_id: str = "evt_1") -> dict[str, dict[str, Any]]:
    return {d["plugin"]: d for d in hub.event(event_id)["deliveries"]}


def test_a_raising_plugin_does_not_stop_the_others(db_hub) -> None:
    good, bad = Recorder(), Recorder(fail=always(RuntimeError("QuickBooks said no")))
    hub = db_hub(("bad", bad), ("good", good))
    send(hub)
    run_due(hub)
    state = deliveries(hub)
    assert state["good"]["status"] == "done" and good.hooks() == ["on_invoice_sent"]
    assert state["bad"]["status"] == "pending"
    assert state["bad"]["last_error"] == "RuntimeError: QuickBooks said no"
    assert hub.event("evt_1")["status"] == "failed"


def test_retried_on_a_jittered_exponential_schedule_then_parked_dead(db_hub) -> None:
    host = Recorder()
    bad = Recorder(fail=always(RuntimeError("down")))
    hub = db_hub(("bad", bad), ("host", host))
    with freeze_time(T0) as clock:
        send(hub)
        run_due(hub)
        for attempt, step in [(1, 60), (2, 120), (3, 240)]:
            due = datetime.fromisoformat(deliveries(hub)["bad"]["next_attempt_at"][:-1])
            waited = (due - utcnow()).total_seconds()
            assert step / 2 <= waited <= step, (attempt, waited)  # half fixed, half jitter
            clock.tick(timedelta(seconds=waited - 1))
            assert run_due(hub) == 0  # not yet
            clock.tick(timedelta(seconds=1))
            run_due(hub)
            assert bad.hooks().count("on_invoice_sent") == attempt + 1
        # HUB_MAX_ATTEMPTS=4 in the tests: the fourth failure parks it.
        state = deliveries(hub)["bad"]
        assert state["status"] == "dead" and state["attempts"] == 4
        assert "down" in state["last_error"] and "gave up after 4 attempts" in state["last_error"]
        assert hub.event("evt_1")["status"] == "dead"
    # The host is told, once, with the event, the plugin and the error.
    messages = [value for hook, value, _ in host.calls if hook == "on_host_event"]
    assert [m["type"] for m in messages] == ["sync.failed"]
    assert messages[0]["data"]["plugin"] == "bad"
    assert messages[0]["data"]["event"]["id"] == "evt_1"


def test_an_operator_retry_delivers_a_parked_event_again(db_hub) -> None:
    failing = {"on": True}

    def fail(_hook: str, _ctx: Context) -> None:
        if failing["on"]:
            raise NeedsOperator("set the client's email before sending the invoice")

    plugin = Recorder(fail=fail)
    hub = db_hub(("qb", plugin))
    send(hub)
    run_due(hub)
    state = deliveries(hub)["qb"]
    assert state["status"] == "dead" and state["attempts"] == 1  # no use retrying blindly
    assert state["last_error"] == "set the client's email before sending the invoice"
    failing["on"] = False
    assert hub.retry_event("evt_1") == 1
    run_due(hub)
    assert deliveries(hub)["qb"]["status"] == "done"
    assert hub.event("evt_1")["status"] == "done"


def test_an_operator_can_dismiss_a_parked_delivery(db_hub) -> None:
    hub = db_hub(("qb", Recorder(fail=always(NeedsOperator("no email")))))
    send(hub)
    run_due(hub)
    pk = _delivery_pk(hub)
    assert hub.dismiss([pk]) == 1
    state = deliveries(hub)["qb"]
    assert state["status"] == "skipped" and state["result"] == "dismissed by operator"
    assert hub.event("evt_1")["status"] == "done"


def _delivery_pk(hub: Hub) -> int:
    from sqlalchemy import select

    from hub.queue.store import DELIVERIES
    with hub.engine.connect() as conn:
        return int(conn.execute(select(DELIVERIES.c.pk).where(
            DELIVERIES.c.hook == "on_invoice_sent")).scalar_one())


def test_retry_later_names_its_own_wait(db_hub) -> None:
    plugin = Recorder(fail=always(RetryLater("throttled by QuickBooks", timedelta(seconds=61))))
    hub = db_hub(("qb", plugin))
    with freeze_time(T0) as clock:
        send(hub)
        run_due(hub)
        clock.tick(timedelta(seconds=60))
        assert run_due(hub) == 0
        clock.tick(timedelta(seconds=1))
        assert run_due(hub) == 1


def test_hold_waits_without_spending_attempts_until_released(db_hub) -> None:
    state = {"connected": False}

    def fail(_hook: str, _ctx: Context) -> None:
        if not state["connected"]:
            raise Hold("QuickBooks needs reconnecting")

    plugin = Recorder(fail=fail)
    hub = db_hub(("qb", plugin))
    with freeze_time(T0) as clock:
        send(hub, event_id="evt_1")
        send(hub, event_id="evt_2", external_id="inv-2")
        run_due(hub)
        held = deliveries(hub)["qb"]
        assert held["status"] == "waiting" and held["attempts"] == 0
        assert held["last_error"] == "QuickBooks needs reconnecting"
        clock.tick(timedelta(days=3))
        assert run_due(hub) == 0  # waiting is not retrying
        state["connected"] = True
        assert hub.release("qb") == 2
        assert run_due(hub) == 2
    assert deliveries(hub, "evt_1")["qb"]["status"] == "done"
    assert deliveries(hub, "evt_2")["qb"]["status"] == "done"


def test_skip_is_done_with_its_reason(db_hub) -> None:
    hub = db_hub(("qb", Recorder(fail=always(Skip("QuickBooks is not connected")))))
    send(hub)
    run_due(hub)
    state = deliveries(hub)["qb"]
    assert state["status"] == "skipped" and state["result"] == "QuickBooks is not connected"
    assert hub.event("evt_1")["status"] == "done"


def test_attempt_number_and_a_stable_idempotency_key(db_hub) -> None:
    fails = iter([RuntimeError("lost answer"), None])

    def fail(_hook: str, _ctx: Context) -> None:
        error = next(fails)
        if error:
            raise error

    a, b = Recorder(fail=fail), Recorder()
    hub = db_hub(("a", a), ("b", b))
    with freeze_time(T0) as clock:
        send(hub)
        run_due(hub)
        clock.tick(timedelta(minutes=5))
        run_due(hub)
    first, second = a.calls[0][2], a.calls[1][2]
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.idempotency_key == second.idempotency_key
    assert first.request_id("invoice") == second.request_id("invoice")
    assert len(first.request_id("invoice")) <= 50
    assert first.idempotency_key != b.calls[0][2].idempotency_key


def test_one_subjects_events_run_in_order(db_hub) -> None:
    plugin = Recorder(fail=always(RuntimeError("QuickBooks down")))
    hub = db_hub(("qb", plugin))
    with freeze_time(T0) as clock:
        send(hub, "invoice.sent", "evt_1")
        send(hub, "invoice.updated", "evt_2")
        send(hub, "invoice.sent", "evt_3", external_id="inv-other")
        run_due(hub)
        # inv-1's update waits behind its failed creation; the other invoice goes ahead.
        assert [c[2].event_id for c in plugin.calls] == ["evt_1", "evt_3"]
        plugin.fail = None
        clock.tick(timedelta(minutes=5))
        run_due(hub)
    later = [c[2].event_id for c in plugin.calls][2:]
    assert sorted(later) == ["evt_1", "evt_2", "evt_3"]
    assert later.index("evt_1") < later.index("evt_2")


def test_a_disabled_plugin_gets_no_new_deliveries_and_skips_queued_ones(db_hub) -> None:
    a, b = Recorder(), Recorder()
    hub = db_hub(("a", a), ("b", b))
    send(hub, event_id="evt_1")
    # Another process (the CLI) switches b off: seen here without a restart.
    other = Hub(hub.config, plugins=[("a", Recorder()), ("b", Recorder())], entrypoints=False)
    other.states.set_enabled("b", False)
    other.close()
    hub.states.invalidate()
    send(hub, event_id="evt_2", external_id="inv-2")
    assert set(deliveries(hub, "evt_2")) == {"a"}
    run_due(hub)
    assert deliveries(hub, "evt_1")["b"]["status"] == "skipped"
    assert b.calls == []


def test_published_events_reach_every_plugin_but_their_source(db_hub) -> None:
    qb, reviews = Recorder(), Recorder()
    hub = db_hub(("qb", qb), ("reviews", reviews))
    paid = event("invoice.paid")["data"]
    assert hub.publish("qb", "invoice.paid", paid, key="qbo-payment-77") is True
    assert hub.publish("qb", "invoice.paid", paid, key="qbo-payment-77") is False  # once
    run_due(hub)
    assert qb.calls == []
    [(hook, invoice, ctx)] = reviews.calls
    assert hook == "on_invoice_paid" and ctx.source == "qb" and invoice.balance == 0


def test_waiting_for_a_rate_limit_spends_no_attempt_and_holds_back_the_rest(db_hub) -> None:
    limited = {"on": True}

    def fail(hook: str, _ctx: Context) -> None:
        if hook != "on_host_event" and limited["on"]:
            raise RetryLater("over the rate limit", timedelta(seconds=60),
                             spend_attempt=False, pause_plugin=True)

    plugin = Recorder(fail=fail)
    hub = db_hub(("qb", plugin))
    with freeze_time(T0) as clock:
        send(hub, event_id="evt_1")
        send(hub, event_id="evt_2", external_id="inv-2")
        for _ in range(20):  # far more waits than HUB_MAX_ATTEMPTS (4)
            run_due(hub)
            clock.tick(timedelta(seconds=61))
        # The first was turned away once per minute; the other was held back, not tried.
        assert deliveries(hub, "evt_1")["qb"]["attempts"] == 0
        assert deliveries(hub, "evt_1")["qb"]["status"] == "pending"
        assert plugin.hooks().count("on_invoice_sent") == 20
        limited["on"] = False
        run_due(hub)
    assert deliveries(hub, "evt_1")["qb"]["status"] == "done"
    assert deliveries(hub, "evt_2")["qb"]["status"] == "done"
