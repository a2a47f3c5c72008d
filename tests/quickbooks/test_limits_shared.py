"""Several worker processes share a company's minute through the database (on SQLite and on a
real PostgreSQL), on a moved clock: together they meet no 429, and each pays one write a block
of requests, not one a request."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from hub.builtin.quickbooks import limits
from hub.builtin.quickbooks.budget import Ledger
from hub.builtin.quickbooks.emulator.throttle import Limits, Throttle
from hub.builtin.quickbooks.limits import CompanyLimit
from hub.clock import utcnow
from hub.errors import RetryLater
from hub.hub import Hub
from tests.quickbooks.conftest import qbo_ctx

REALM = "9130"


@pytest.fixture
def shared_hub(make_qbo_hub: Any, database_url: str) -> Hub:
    return make_qbo_hub(HUB_DATABASE_URL=database_url)  # type: ignore[no-any-return]


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(utcnow()) as frozen:
        yield frozen


def process(hub: Hub, clock: FrozenDateTimeFactory, **limits: Any) -> CompanyLimit:
    """One worker process's limiter (its own ledger holder); its threads 'sleep' by moving
    the frozen clock."""
    return CompanyLimit(**limits, ledger=Ledger(qbo_ctx(hub), REALM),
                        sleep=lambda seconds: clock.tick(seconds))


def send(limit: CompanyLimit, quickbooks: Throttle, clock: FrozenDateTimeFactory,
         rng: random.Random) -> bool:
    """One request as a worker sends it; False when QuickBooks answered 429. A put-back
    delivery comes back when it was told to."""
    while True:
        try:
            with limit.request():
                clock.tick(rng.uniform(0.0, 0.08))  # on the way to Intuit
                if not quickbooks.acquire(REALM):
                    return False
                clock.tick(rng.uniform(0.005, 0.05))
                quickbooks.release(REALM)
                return True
        except RetryLater as exc:
            assert exc.spend_attempt is False and exc.after is not None
            clock.tick(exc.after)


def test_two_processes_together_meet_no_429_and_lease_a_block_at_a_time(
    shared_hub: Hub, clock: FrozenDateTimeFactory
) -> None:
    writes = 0
    write = shared_hub.write

    def counted(fn: Any) -> Any:
        nonlocal writes
        writes += 1
        return write(fn)

    shared_hub.write = counted  # type: ignore[method-assign]
    first, second = process(shared_hub, clock), process(shared_hub, clock)
    quickbooks = Throttle(Limits())  # each alone would spend the whole minute
    rng = random.Random(11)
    started = first.clock()
    # Turn about, as two processes with the same work each send at their own pace.
    answered = [send((first, second)[n % 2], quickbooks, clock, rng) for n in range(1600)]
    seconds = first.clock() - started
    assert answered.count(False) == 0
    assert 1600 / seconds * 60 >= 0.9 * 500, f"{1600 / seconds * 60:.0f} requests a minute"
    assert writes <= 1600 / 5  # a block of requests a write, not a request
    assert first.sharing == second.sharing == 2  # so each keeps to 5 a second, 5 at once
    assert first.my_per_second == 5 and first.my_at_once == 5


def sent_until_put_back(limit: CompanyLimit, quickbooks: Throttle) -> int:
    sent = 0
    while True:
        try:
            with limit.request():
                assert quickbooks.acquire(REALM)  # never a 429
                quickbooks.release(REALM)
        except RetryLater as exc:
            assert "shared by every process" in str(exc)
            return sent
        sent += 1


def test_a_process_gives_back_what_it_did_not_use(
    shared_hub: Hub, clock: FrozenDateTimeFactory
) -> None:
    busy = process(shared_hub, clock, per_minute=30)
    quiet = process(shared_hub, clock, per_minute=30)
    quickbooks = Throttle(Limits(per_minute=30))
    for _ in range(4):  # a short burst: its blocks grow to 1, 2, then 6 requests
        with quiet.request():
            assert quickbooks.acquire(REALM)
            quickbooks.release(REALM)
    assert quiet.block is not None and quiet.block.size - quiet.block.used == 5
    first = sent_until_put_back(busy, quickbooks)
    assert first == 30 - 4 - 5  # the quiet one's 5 unused still count for now
    clock.tick(limits.LIFE + 0.1)
    with quiet.request():  # its next lease reports the block: 1 of 6 sent
        assert quickbooks.acquire(REALM)
        quickbooks.release(REALM)
    assert sent_until_put_back(busy, quickbooks) == 4  # the 5 given back, less the new one


def test_a_block_never_reported_counts_until_its_last_request_has_left_intuits_minute(
    shared_hub: Hub, clock: FrozenDateTimeFactory
) -> None:
    gone = process(shared_hub, clock, per_minute=10)  # sends, then stops (or dies)
    other = process(shared_hub, clock, per_minute=10)
    quickbooks = Throttle(Limits(per_minute=10))

    def one(limit: CompanyLimit) -> None:
        with limit.request():
            assert quickbooks.acquire(REALM)  # never a 429
            quickbooks.release(REALM)

    one(gone)
    clock.tick(0.5)
    one(gone)
    one(gone)
    clock.tick(1.0)
    one(gone)  # a block of 6, leased now...
    clock.tick(2.9)
    for _ in range(5):  # ...whose last requests go near the end of its life
        one(gone)
    clock.tick(60.5 - 4.4)  # a minute after the block was leased, not after those went
    assert sent_until_put_back(other, quickbooks) == 10 - 6


def test_on_postgresql_every_process_shares_the_minute(shared_hub: Hub) -> None:
    limit = limits.company(REALM, qbo_ctx(shared_hub))
    assert (limit.ledger is not None) == (shared_hub.engine.dialect.name == "postgresql")
