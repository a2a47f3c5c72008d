"""The hub's own limiter against Intuit's per-company limits, on a moved clock (no sleeping).

QuickBooks here is the emulator's throttle, which counts a request when it arrives, as Intuit
does; the network's delay between our decision to send and that arrival varies per request.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from hub.builtin.quickbooks import connect, limits
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.emulator.throttle import Limits, Throttle
from hub.builtin.quickbooks.limits import CompanyLimit
from hub.clock import utcnow
from hub.errors import RetryLater
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx
from tests.samples import CONTACT, event

REALM = "9130"


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(utcnow()) as frozen:
        yield frozen


def limiter(clock: FrozenDateTimeFactory, **limits: Any) -> CompanyLimit:
    """A limiter whose worker threads 'sleep' by moving the frozen clock."""
    return CompanyLimit(**limits, sleep=lambda seconds: clock.tick(seconds))


def drain(limit: CompanyLimit, quickbooks: Throttle, clock: FrozenDateTimeFactory,
          requests: int, *, batch_every: int = 0) -> tuple[int, int, float]:
    """Send ``requests`` one after another as a worker would, a put-back delivery coming back
    when it was told to; returns (429 answers, put-backs, seconds taken)."""
    rng = random.Random(7)
    refused = put_back = 0
    started = limit.clock()
    sent = 0
    while sent < requests:
        batch = bool(batch_every) and sent % batch_every == 0
        try:
            with limit.request(batch=batch):
                clock.tick(rng.uniform(0.0, 0.08))  # on the way to Intuit
                if not quickbooks.acquire(REALM, batch=batch):
                    refused += 1
                    continue
                clock.tick(rng.uniform(0.005, 0.05))  # Intuit working, then the answer back
                quickbooks.release(REALM)
                sent += 1
        except RetryLater as exc:
            assert exc.spend_attempt is False  # waiting for the limit is never a failure
            assert exc.after is not None
            put_back += 1
            clock.tick(exc.after)
    return refused, put_back, limit.clock() - started


def test_a_long_backlog_meets_no_429_and_uses_at_least_90_percent_of_the_minute(
    clock: FrozenDateTimeFactory,
) -> None:
    limit = limiter(clock)
    refused, put_back, seconds = drain(limit, Throttle(Limits()), clock, 2000)
    assert refused == 0
    assert 2000 / seconds * 60 >= 0.9 * 500, f"{2000 / seconds * 60:.0f} requests a minute"
    assert put_back <= 5  # once a minute at most, when the minute is spent


def test_batch_calls_keep_to_40_a_minute_within_the_500(clock: FrozenDateTimeFactory) -> None:
    limit = limiter(clock)
    refused, _, seconds = drain(limit, Throttle(Limits()), clock, 600, batch_every=5)
    assert refused == 0
    assert seconds >= 2 * 60  # 120 batch calls take three minutes' allowance


def test_ten_a_second_at_most(clock: FrozenDateTimeFactory) -> None:
    limit = limiter(clock)
    starts = []
    for _ in range(25):
        with limit.request():
            starts.append(limit.clock())
    pairs = zip(starts[:-10], starts[10:], strict=True)
    assert all(later - earlier >= 1.0 for earlier, later in pairs)
    assert starts[9] == starts[0]  # ten go at once; the eleventh waits its turn


def test_a_turn_a_moment_away_is_waited_for_in_the_thread(clock: FrozenDateTimeFactory) -> None:
    slept: list[float] = []
    limit = CompanyLimit(per_second=2, sleep=slept.append)
    for _ in range(3):
        with limit.request():
            pass
    assert slept == [pytest.approx(1.1)]  # no delivery put back for a wait that short
    assert limit.put_back == 0


def test_a_spent_minute_puts_the_delivery_back_and_holds_the_plugin_once(
    clock: FrozenDateTimeFactory,
) -> None:
    limit = limiter(clock, per_minute=3)
    for _ in range(3):
        with limit.request():
            clock.tick(0.2)
    first_answer = limit.calls[0].end
    assert first_answer is not None
    with pytest.raises(RetryLater) as first, limit.request():
        pass
    assert "limit of 3 requests a minute" in str(first.value)
    assert first.value.spend_attempt is False and first.value.pause_plugin is True
    assert first.value.after is not None
    # Its turn: a minute after the first request's answer came back (it reached Intuit
    # at some moment before that), not a minute after we decided to send it.
    turn = limit.clock() + first.value.after.total_seconds()
    assert first_answer + 60 <= turn <= first_answer + 60.1
    with pytest.raises(RetryLater) as again, limit.request():
        pass
    assert again.value.pause_plugin is False  # the plugin's work is held already
    clock.tick(first.value.after)
    with limit.request():
        pass


def test_a_429_stops_the_company_for_the_minute_intuit_asks(
    clock: FrozenDateTimeFactory,
) -> None:
    limit = limiter(clock)
    with limit.request():
        pass
    limit.throttled()  # another app spent the company's minute
    with pytest.raises(RetryLater) as turned, limit.request():
        pass
    assert "429" in str(turned.value) and turned.value.spend_attempt is False
    assert turned.value.after is not None and turned.value.after >= timedelta(seconds=59.9)
    # The 429's own retry has held the plugin's work for that minute already.
    assert turned.value.pause_plugin is False
    clock.tick(60.1)
    with limit.request():
        pass


def test_an_eleventh_request_at_once_is_not_sent(clock: FrozenDateTimeFactory) -> None:
    limit = CompanyLimit(at_once=10, per_second=100, max_wait=0)
    with ExitStack() as in_flight:
        for _ in range(10):
            in_flight.enter_context(limit.request())
        with pytest.raises(RetryLater) as turned, limit.request():
            pass
        assert "10 requests in flight" in str(turned.value)
        assert turned.value.spend_attempt is False
    with limit.request():  # the ten answered
        pass


class Watched(threading.Condition):
    """The limiter's own condition, telling the test when a request waits on it for a slot."""

    def __init__(self, lock: Any) -> None:
        super().__init__(lock)
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_an_eleventh_request_at_once_goes_as_soon_as_one_answers() -> None:
    limit = CompanyLimit(at_once=10, per_second=100)
    limit.freed = slots = Watched(limit.lock)
    inside = threading.Event()
    failed: list[BaseException] = []

    def eleventh() -> None:
        try:
            with limit.request():
                inside.set()
        except BaseException as exc:  # a put-back instead of a wait fails the test below
            failed.append(exc)

    with ExitStack() as in_flight:
        for _ in range(10):
            in_flight.enter_context(limit.request())
        waiter = threading.Thread(target=eleventh)
        waiter.start()
        assert slots.waiting.wait(5)
        assert not inside.is_set()
    assert inside.wait(5), failed
    waiter.join()


def test_deliveries_waiting_for_the_limit_spend_no_attempt_and_are_never_parked(
    make_qbo_hub: Any, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = make_qbo_hub(HUB_MAX_ATTEMPTS="1")  # a single spent attempt would park it dead
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
    run_due(hub)  # the first import connecting queued
    monkeypatch.setattr(limits, "PER_MINUTE", 2)
    limits.reset(qbo_ctx(hub))
    emulator.set_limits(per_minute=2)  # and QuickBooks answers 429 past it
    emulator.reset_calls()
    api = create_app(hub).test_client()
    for n in range(4):  # a new contact costs a lookup and a create: 8 calls, 4 minutes
        body = event("contact", f"evt_{n}")
        body["data"] = {**CONTACT, "external_id": f"c-{n}", "name": f"Kit {n}",
                        "email": f"kit{n}@example.com"}
        api.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    with freeze_time(utcnow()) as clock:
        for _ in range(6):
            run_due(hub)
            clock.tick(timedelta(seconds=61))
    states = [[d for d in hub.event(f"evt_{n}")["deliveries"] if d["plugin"] == "quickbooks"][0]
              for n in range(4)]
    assert [s["status"] for s in states] == ["done"] * 4, states
    assert sum(emulator.calls().values()) == 8  # not one refused with a 429
