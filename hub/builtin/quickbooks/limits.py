"""Staying under Intuit's per-company limits, so QuickBooks never has to answer 429.

Intuit's limits, per company and app: 500 requests a minute (a batch call is one of them), 40
batch calls a minute, 10 requests at once, and 10 requests a second. Intuit counts a request when
it arrives, which is some time after we decide to send it; so a request stays in our minute until
60 s after its answer came back (it arrived before that), never 60 s after we decided to send it.

Each request books a start time in turn. When that time is less than ``MAX_WAIT`` away the
worker thread sleeps until then (cheaper than putting the delivery back and claiming it again);
when it is further away (the minute is spent) the delivery is put back without spending an
attempt, and the first of those put-backs also holds the plugin's other pending work until then,
so it is not claimed only to be turned away. A 429 from QuickBooks all the same (another app or
process spending the company's budget) stops this process's requests for the 60 s Intuit asks.

Per hub (in ``ctx.memory``), except the minute itself on PostgreSQL, where several ``hub
worker`` processes may call the same company: there each process leases blocks of the
company's minute from one row (``hub.builtin.quickbooks.budget``), and keeps to its share of the
10 at once and 10 a second.

Beside the minute, each company's limit carries its ``reads.Meter``: Intuit's monthly allowance
of reads, and the hour-long hold on reads once QuickBooks refuses them past the minute.

Why our own: Intuit's limits belong to the company, not to a process, so the minute has to be
shared by every worker process through the hub's own database and counted from Intuit's side
(a request stays counted until after its answer). Rate-limiting libraries count calls in one
process or in a store of their own (Redis); none shares one company's budget through our
database, nor holds the plugin's pending deliveries while the minute is spent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import takewhile
from typing import TYPE_CHECKING

from hub.builtin.quickbooks.budget import LIFE, Block, Ledger, Refused
from hub.builtin.quickbooks.reads import Meter
from hub.errors import RetryLater

if TYPE_CHECKING:
    from hub import Context

PER_MINUTE = 500
BATCH_PER_MINUTE = 40
AT_ONCE = 10
PER_SECOND = 10
MAX_WAIT = 2.0  # longest a worker thread sleeps for a turn; beyond it the delivery is put back
MINUTE = 60.0
# Ten starts are kept 1.1 s apart rather than 1 s: the network may bring two requests to
# Intuit closer together than we sent them.
SECOND = 1.1
AFTER_429 = 60.0  # Intuit: "wait 60 seconds before retrying"
_EARLY = 0.05  # a put-back delivery wakes this much after its turn, never just before it
BLOCK = 20  # most requests leased from the shared minute at once


def _monotonic() -> float:
    return time.monotonic()  # looked up at each call, so freezegun can move it


@dataclass(eq=False)
class Call:
    start: float
    batch: bool
    block: Block | None = None  # its place in the shared minute, if shared
    end: float | None = None  # when the answer (or the failure) came back


@dataclass
class CompanyLimit:
    per_minute: int = PER_MINUTE
    at_once: int = AT_ONCE
    per_second: int = PER_SECOND
    batch_per_minute: int = BATCH_PER_MINUTE
    clock: Callable[[], float] = _monotonic
    sleep: Callable[[float], None] = time.sleep
    max_wait: float = MAX_WAIT
    ledger: Ledger | None = None  # the minute shared with other processes (PostgreSQL)
    calls: deque[Call] = field(default_factory=deque)  # by start time, oldest first
    batches: deque[Call] = field(default_factory=deque)
    in_flight: int = 0
    blocked_until: float = float("-inf")  # after a 429
    paused_until: float = float("-inf")  # the plugin's pending work is held until then
    block: Block | None = None  # this process's share of the shared minute
    spent_blocks: list[Block] = field(default_factory=list)  # to report to the ledger
    sharing: int = 1  # processes calling this company now, this one included
    put_back: int = 0  # deliveries put back for a later turn (the benchmark reports these)
    slept: float = 0.0  # seconds worker threads slept for a turn
    meter: Meter = field(default_factory=Meter)  # the month's reads

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.freed = threading.Condition(self.lock)  # a request in flight came back

    @property
    def my_per_second(self) -> int:
        return max(1, self.per_second // self.sharing)

    @property
    def my_at_once(self) -> int:
        return max(1, self.at_once // self.sharing)

    def book(self, batch: bool = False) -> tuple[Call, float]:
        """Book the next start time for one request; returns it and how long to sleep first.

        Raises ``RetryLater`` (no attempt spent) when the turn is more than ``max_wait`` away.
        """
        slept = 0.0
        while True:
            with self.lock:
                now = self.clock()
                start, why = self._earliest(now, batch)
                block = None
                if self.ledger is not None and start - now <= self.max_wait:
                    got = self._shared(start, now, batch)
                    if isinstance(got, Refused):
                        if now + got.after > start:
                            start = now + got.after
                            limit = (f"{self.batch_per_minute} batch calls" if batch
                                     else f"{self.per_minute} requests")
                            why = (f"waiting for QuickBooks' limit of {limit} a minute, "
                                   "shared by every process")
                    else:
                        block = got
                wait = start - now
                shared_wait = self.ledger is not None and block is None
                if wait > self.max_wait or (shared_wait and slept + wait > self.max_wait):
                    raise self._put_back(start, wait, why)
                if not shared_wait:
                    call = Call(start, batch, block)
                    self.calls.append(call)
                    if batch:
                        self.batches.append(call)
                    self.slept += max(0.0, wait)
                    return call, max(0.0, wait)
            # The shared minute has room again in a moment: sleep, then lease.
            self.sleep(wait)
            slept += wait
            self.slept += wait

    def _put_back(self, start: float, wait: float, why: str) -> RetryLater:
        self.put_back += 1
        # The first put-back of a gap holds back the plugin's other work; the rest of the
        # gap's put-backs need not move every pending delivery again.
        pause = start > self.paused_until + 1.0
        if pause:
            self.paused_until = start
        return RetryLater(why, timedelta(seconds=wait + _EARLY), spend_attempt=False,
                          pause_plugin=pause)

    def _earliest(self, now: float, batch: bool) -> tuple[float, str]:
        """The earliest start that keeps every limit, and which limit sets it."""
        _trim(self.calls, now)
        _trim(self.batches, now)
        # In turn: never before a start already booked, so starts stay in order.
        start = max(now, self.calls[-1].start if self.calls else now)
        why = f"waiting for QuickBooks' limit of {self.per_minute} requests a minute"
        if self.blocked_until > start:
            start = self.blocked_until
            why = "QuickBooks answered 429 (throttled); waiting the 60 s Intuit asks"
        windows = [(self.calls, self.per_minute, why)]
        if batch:
            windows.append((self.batches, self.batch_per_minute,
                            f"waiting for QuickBooks' limit of {self.batch_per_minute} batch "
                            "calls a minute"))
        for window, limit, reason in windows:
            free_at = _minute_free_at(window, limit, now)
            if free_at is None:
                # Still in flight though a minute's worth came after it (a tiny limit): its
                # answer will say when it leaves; ask again shortly.
                free_at = now + self.max_wait + 1.0
            if free_at > start:
                start, why = free_at, reason
        if len(self.calls) >= self.my_per_second:
            free_at = self.calls[-self.my_per_second].start + SECOND
            if free_at > start:
                start = free_at
                why = f"waiting for QuickBooks' limit of {self.my_per_second} requests a second"
        return start, why

    def _shared(self, start: float, now: float, batch: bool) -> Block | Refused:
        """A place for one request starting at ``start`` in this process's block of the
        shared minute, leasing the next block when this one is spent or too old."""
        assert self.ledger is not None
        block = self.block
        if block is None or not block.fits(start, batch):
            if block is not None:
                self.spent_blocks.append(block)
                self.block = None
            # Report the blocks whose requests have all come back; the rest next time.
            done = [b for b in self.spent_blocks if b.in_flight == 0]
            # As much as this process is likely to send in a block's life: twice what it
            # sent in the last one, so a busy process soon leases full blocks while one
            # sending now and then does not hold back a minute's worth it will not use.
            recent = sum(1 for _ in takewhile(lambda c: c.start > now - LIFE,
                                              reversed(self.calls)))
            size = min(BLOCK, int(self.my_per_second * LIFE / SECOND), max(1, 2 * recent))
            got = self.ledger.lease(size, batch, self.per_minute, self.batch_per_minute, now,
                                    done)
            self.spent_blocks = [b for b in self.spent_blocks if b not in done]
            if isinstance(got, Refused):
                return got
            self.block = block = got
            self.sharing = got.sharing
        block.used += 1
        block.in_flight += 1
        block.batches_used += batch
        return block

    def cancel(self, call: Call) -> None:
        """Give back a booked start that was never sent."""
        with self.lock:
            self.put_back += 1
            for window in (self.calls, self.batches):
                if call in window:
                    window.remove(call)
            if call.block is not None:
                call.block.used -= 1
                call.block.in_flight -= 1
                call.block.batches_used -= call.batch

    def finish(self, call: Call) -> None:
        with self.lock:
            call.end = max(self.clock(), call.start)
            if call.block is not None:
                call.block.in_flight -= 1
                call.block.last_end = max(call.block.last_end or call.end, call.end)

    def throttled(self) -> None:
        """QuickBooks answered 429: send nothing more to this company for a minute."""
        with self.lock:
            self.blocked_until = max(self.blocked_until, self.clock() + AFTER_429)
            # The 429 itself puts its delivery back and holds the plugin's others that long.
            self.paused_until = max(self.paused_until, self.blocked_until)

    @contextmanager
    def request(self, batch: bool = False) -> Iterator[None]:
        call, wait = self.book(batch)
        if wait > 0:
            self.sleep(wait)
        with self.freed:
            sent = self.freed.wait_for(lambda: self.in_flight < self.my_at_once,
                                       timeout=self.max_wait)
            if sent:
                self.in_flight += 1
        if not sent:
            self.cancel(call)
            raise RetryLater(f"QuickBooks already has {self.my_at_once} requests in flight "
                             "for this company", timedelta(seconds=5), spend_attempt=False)
        try:
            yield
        finally:
            self.finish(call)
            with self.freed:
                self.in_flight -= 1
                self.freed.notify()


def _trim(window: deque[Call], now: float) -> None:
    """Forget requests whose minute at Intuit is surely over."""
    while window and window[0].end is not None and window[0].end + MINUTE <= now:
        window.popleft()


def _minute_free_at(window: deque[Call], limit: int, now: float) -> float | None:
    """When fewer than ``limit`` of ``window`` still count at Intuit (None: not known yet)."""
    if len(window) < limit:
        return now
    # Every request older than the newest limit-1 must have left Intuit's minute.
    ends = [c.end for c in list(window)[: len(window) - limit + 1]]
    if None in ends:
        return None
    return max(e for e in ends if e is not None) + MINUTE


_COMPANIES = "limits companies"
_LOCK = "limits lock"


def company(realm_id: str, ctx: Context | None = None) -> CompanyLimit:
    """The limit of one company in this hub; on PostgreSQL, where several worker
    processes may call the same company, its minute is shared through ``ctx``'s database.
    Without a context, a limit of its own that nothing else counts against."""
    if ctx is None:
        return CompanyLimit(PER_MINUTE, AT_ONCE, PER_SECOND, BATCH_PER_MINUTE)
    # In the hub's memory (every thread of this hub counts against the company's one limit),
    # not the module's: another hub in the process is another deployment's count.
    memory = ctx.memory
    with memory.setdefault(_LOCK, threading.Lock()):
        companies: dict[str, CompanyLimit] = memory.setdefault(_COMPANIES, {})
        limit = companies.get(realm_id)
        if limit is None:
            limit = companies[realm_id] = CompanyLimit(PER_MINUTE, AT_ONCE, PER_SECOND,
                                                       BATCH_PER_MINUTE)
        if shares_minute(ctx) and (
                limit.ledger is None or limit.ledger.ctx.engine is not ctx.engine):
            with limit.lock:
                limit.ledger, limit.block, limit.spent_blocks = Ledger(ctx, realm_id), None, []
        return limit


def shares_minute(ctx: Context) -> bool:
    """Whether processes share a company's minute through the database: on PostgreSQL, where
    several ``hub worker`` processes are a supported deployment. SQLite has one."""
    return ctx.engine.dialect.name != "sqlite"


def reset(ctx: Context) -> None:
    """Forget every count of this hub (tests, and a hub that changes its limits)."""
    with ctx.memory.setdefault(_LOCK, threading.Lock()):
        ctx.memory.pop(_COMPANIES, None)
