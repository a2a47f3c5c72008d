"""Worker threads: claim due deliveries and run them, keep leases alive, reclaim the dead's."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from hub.queue import claims, dispatch

if TYPE_CHECKING:
    from hub.hub import Hub

log = logging.getLogger("hub.worker")
CLAIM_BATCH = 8
RECORD_WITHIN = 0.05  # seconds a quick outcome may wait to share a write with the next ones


def run_due(hub: Hub, now: datetime | None = None, limit: int = 10_000) -> int:
    """Run every delivery due at ``now`` in this thread, one after another; returns how many.

    What the tests and ``hub jobs run`` use: deterministic, no threads, no waiting.
    """
    owner = claims.owner_id()
    done = 0
    while done < limit:
        claimed = claims.claim(hub, owner, limit=1, now=now)
        if not claimed:
            break
        dispatch.run(hub, claimed[0], owner)
        done += 1
    return done


class Worker:
    def __init__(self, hub: Hub, threads: int | None = None) -> None:
        self.hub = hub
        self.threads = threads or hub.config.worker_threads
        self.owner = claims.owner_id()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # Threads at work per plugin. One plugin may hold all threads but one: a plugin that
        # waits (QuickBooks' rate limit through a 10,000-invoice backlog) leaves a thread for
        # the others' deliveries (a review request, a booking refusal).
        self._busy: Counter[str] = Counter()
        self._busy_lock = threading.Lock()
        self.per_plugin = max(1, self.threads - 1)

    def start(self) -> None:
        self.hub.keep_fresh = True
        claims.reclaim(self.hub)
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"hub-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._housekeeping, name="hub-heartbeat", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.hub.wake.set()
        for t in self._threads:
            t.join(timeout)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            with self._busy_lock:
                full = [p for p, n in self._busy.items() if n >= self.per_plugin]
            try:
                # A few at a time: one claim's write serves several deliveries.
                claimed = claims.claim(self.hub, self.owner, limit=CLAIM_BATCH, skip=full)
            except Exception:
                log.exception("could not claim work; trying again shortly")
                self.stopping.wait(self.hub.config.poll_seconds)
                continue
            if not claimed:
                if self.hub.wake.wait(self.hub.config.poll_seconds):
                    self.hub.wake.clear()
                continue
            plugins = {job.plugin for job in claimed}
            with self._busy_lock:
                self._busy.update(plugins)
            try:
                self._run(claimed)
            except Exception:
                # Recording an outcome failed (database gone): the leases run out and the
                # deliveries are handed out again, so nothing is lost.
                log.exception("could not record the outcome of deliveries %s",
                              [job.pk for job in claimed])
            finally:
                with self._busy_lock:
                    self._busy.subtract(plugins)

    def _run(self, claimed: list[claims.Claimed]) -> None:
        """Run a claimed batch; quick outcomes are recorded together, in one write.

        An outcome waits at most RECORD_WITHIN seconds for others to share its write, so a
        slow plugin's results are still seen at once; were the process killed meanwhile,
        those deliveries would run again, as any attempt in flight does."""
        unrecorded: list[dispatch.Outcome] = []
        paused: dict[str, dispatch.Outcome] = {}
        since = time.monotonic()
        try:
            for job in claimed:
                if job.plugin in paused:
                    # Its plugin asked to wait (a rate limit): the rest of the batch goes back
                    # unattempted rather than each being turned away in turn.
                    unrecorded.append(dispatch.put_back(self.hub, job, paused[job.plugin]))
                    continue
                outcome = dispatch.attempt(self.hub, job)
                if outcome.pause_plugin:
                    paused[job.plugin] = outcome
                unrecorded.append(outcome)
                if outcome.status != "done" or time.monotonic() - since > RECORD_WITHIN:
                    dispatch.record(self.hub, self.owner, unrecorded)
                    unrecorded, since = [], time.monotonic()
        finally:
            if unrecorded:
                dispatch.record(self.hub, self.owner, unrecorded)

    def _housekeeping(self) -> None:
        interval = max(1.0, self.hub.config.lease_seconds / 3)
        while not self.stopping.wait(interval):
            try:
                claims.heartbeat(self.hub, self.owner)
                claims.reclaim(self.hub)
            except Exception:
                log.exception("heartbeat failed")
