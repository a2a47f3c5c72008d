"""Worker threads: claim due deliveries and run them, keep leases alive, reclaim the dead's."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING

from hub import dispatch

if TYPE_CHECKING:
    from hub.hub import Hub

log = logging.getLogger("hub.worker")
CLAIM_BATCH = 8
RECORD_WITHIN = 0.05  # seconds a quick outcome may wait to share a write with the next ones


def run_due(hub: Hub, now: datetime | None = None, limit: int = 10_000) -> int:
    """Run every delivery due at ``now`` in this thread, one after another; returns how many.

    What the tests and ``hub jobs run`` use: deterministic, no threads, no waiting.
    """
    owner = dispatch.owner_id()
    done = 0
    while done < limit:
        claimed = dispatch.claim(hub, owner, limit=1, now=now)
        if not claimed:
            break
        dispatch.run(hub, claimed[0], owner)
        done += 1
    return done


class Worker:
    def __init__(self, hub: Hub, threads: int | None = None) -> None:
        self.hub = hub
        self.threads = threads or hub.config.worker_threads
        self.owner = dispatch.owner_id()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        dispatch.reclaim(self.hub)
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
            try:
                # A few at a time: one claim's write serves several deliveries.
                claimed = dispatch.claim(self.hub, self.owner, limit=CLAIM_BATCH)
            except Exception:
                log.exception("could not claim work; trying again shortly")
                self.stopping.wait(self.hub.config.poll_seconds)
                continue
            if not claimed:
                if self.hub.wake.wait(self.hub.config.poll_seconds):
                    self.hub.wake.clear()
                continue
            try:
                self._run(claimed)
            except Exception:
                # Recording an outcome failed (database gone): the leases run out and the
                # deliveries are handed out again, so nothing is lost.
                log.exception("could not record the outcome of deliveries %s",
                              [job.pk for job in claimed])

    def _run(self, claimed: list[dispatch.Claimed]) -> None:
        """Run a claimed batch; quick outcomes are recorded together, in one write.

        An outcome waits at most RECORD_WITHIN seconds for others to share its write, so a
        slow plugin's results are still seen at once; were the process killed meanwhile,
        those deliveries would run again, as any attempt in flight does."""
        unrecorded: list[dispatch.Outcome] = []
        events = dispatch.events_of(self.hub, claimed)
        since = time.monotonic()
        try:
            for job in claimed:
                outcome = dispatch.attempt(self.hub, job, events[job.event_pk])
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
                dispatch.heartbeat(self.hub, self.owner)
                dispatch.reclaim(self.hub)
            except Exception:
                log.exception("heartbeat failed")
