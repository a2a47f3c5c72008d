"""Intuit's limits: per company, requests per minute, concurrent requests and batch calls per
minute; per app, reads a month (the App Partner Program's CorePlus allowance, off by default).

A sliding 60-second window read from time.time() at call time, so freezegun can move it; the
month is the calendar month in UTC, read the same way.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass

from .clock import epoch, now

WINDOW = 60.0


@dataclass
class Limits:
    per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 40
    # Reads (GET, queries, CDC, each query in a batch) the app may make a month, all companies
    # together, as Intuit meters CorePlus calls per workspace; None: not metered.
    reads_per_month: int | None = None


class Throttle:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._batches: dict[str, deque[float]] = defaultdict(deque)
        self._active: dict[str, int] = defaultdict(int)
        self._reads_month = ""
        self._reads_used = 0

    @staticmethod
    def _trim(window: deque[float], now: float) -> None:
        while window and (now - window[0] >= WINDOW or window[0] > now):
            window.popleft()

    def acquire(self, realm: str, batch: bool = False) -> bool:
        """Admit one request (True) or refuse it (False); admitted requests must be released."""
        now = epoch()
        with self._lock:
            calls = self._calls[realm]
            self._trim(calls, now)
            if (
                self._active[realm] >= self.limits.concurrent
                or len(calls) >= self.limits.per_minute
            ):
                return False
            if batch:
                batches = self._batches[realm]
                self._trim(batches, now)
                if len(batches) >= self.limits.batch_per_minute:
                    return False
                batches.append(now)
            calls.append(now)
            self._active[realm] += 1
            self._changed.notify_all()
            return True

    def _month(self) -> str:
        month = now().strftime("%Y-%m")
        if month != self._reads_month:  # a new month: the allowance is whole again
            self._reads_month, self._reads_used = month, 0
        return month

    def take_reads(self, count: int) -> bool:
        """Count `count` reads against the month's allowance (True), or refuse them all (False)
        when they do not fit; a negative count gives reads back."""
        with self._lock:
            self._month()
            allowed = self.limits.reads_per_month
            if allowed is not None and self._reads_used + count > allowed:
                return False
            self._reads_used = max(0, self._reads_used + count)
            return True

    def reads(self, used: int | None = None) -> dict[str, int | str | None]:
        """The month's reads (set them to `used` first, if given)."""
        with self._lock:
            month = self._month()
            if used is not None:
                self._reads_used = max(0, int(used))
            return {"month": month, "used": self._reads_used,
                    "allowance": self.limits.reads_per_month}

    def release(self, realm: str) -> None:
        with self._lock:
            self._active[realm] = max(0, self._active[realm] - 1)
            self._changed.notify_all()

    def active(self, realm: str) -> int:
        with self._lock:
            return self._active[realm]

    def wait_active(self, realm: str, count: int, timeout: float = 5.0) -> bool:
        """Block until `count` requests of a company are in flight (tests use this instead of
        sleeping while a slow request takes its slot)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._active[realm] >= count, timeout=timeout)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._batches.clear()
            self._reads_used = 0
