"""Worker threads: claim due deliveries and run them, keep leases alive, reclaim the dead's."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import TYPE_CHECKING

from hub import dispatch

if TYPE_CHECKING:
    from hub.hub import Hub

log = logging.getLogger("hub.worker")
CLAIM_BATCH = 8


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
            for job in claimed:
                try:
                    dispatch.run(self.hub, job, self.owner)
                except Exception:
                    # Recording the outcome failed (database gone): the lease runs out and
                    # the delivery is handed out again, so nothing is lost.
                    log.exception("could not record the outcome of delivery %s", job.pk)

    def _housekeeping(self) -> None:
        interval = max(1.0, self.hub.config.lease_seconds / 3)
        while not self.stopping.wait(interval):
            try:
                dispatch.heartbeat(self.hub, self.owner)
                dispatch.reclaim(self.hub)
            except Exception:
                log.exception("heartbeat failed")
