"""Staying under Intuit's per-company limits: 500 requests a minute, 10 at once.

Per process: a sliding minute of request times and a count of requests in flight, per company.
A delivery that finds the minute spent is not made to wait on a worker thread: it is retried
when the oldest request of the minute ages out. Several worker processes each keep their own
count, so run them with ``PER_MINUTE`` shared out (see the README), or let QuickBooks' 429
answers, which are retried a minute later, cover the rest.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from hub.errors import RetryLater

PER_MINUTE = 500
AT_ONCE = 10
_WAIT_FOR_SLOT = 10.0  # seconds a call may wait for one of the 10 slots before rescheduling


class CompanyLimit:
    def __init__(self, per_minute: int, at_once: int) -> None:
        self.per_minute = per_minute
        self.slots = threading.BoundedSemaphore(at_once)
        self.recent: deque[float] = deque()
        self.lock = threading.Lock()

    def _reserve(self) -> float:
        """Record a request now, or say how long until one may be made."""
        now = time.monotonic()
        with self.lock:
            while self.recent and now - self.recent[0] >= 60:
                self.recent.popleft()
            if len(self.recent) >= self.per_minute:
                return 60 - (now - self.recent[0])
            self.recent.append(now)
            return 0.0

    @contextmanager
    def request(self) -> Iterator[None]:
        wait = self._reserve()
        if wait > 0:
            raise RetryLater(f"waiting for QuickBooks' limit of {self.per_minute} requests a "
                             "minute", timedelta(seconds=wait + 0.5), spend_attempt=False,
                             pause_plugin=True)
        if not self.slots.acquire(timeout=_WAIT_FOR_SLOT):
            raise RetryLater("QuickBooks already has 10 requests in flight for this company",
                             timedelta(seconds=5), spend_attempt=False)
        try:
            yield
        finally:
            self.slots.release()


_companies: dict[str, CompanyLimit] = {}
_registry_lock = threading.Lock()


def company(realm_id: str) -> CompanyLimit:
    # Process-wide on purpose: the limit is the company's, whichever thread calls.
    with _registry_lock:
        if realm_id not in _companies:
            _companies[realm_id] = CompanyLimit(PER_MINUTE, AT_ONCE)
        return _companies[realm_id]


def reset() -> None:
    """Forget every count (tests, and a process that changes its limits)."""
    with _registry_lock:
        _companies.clear()
