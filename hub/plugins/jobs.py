"""Scheduled jobs: plugins register them, APScheduler is only the clock, workers run them.

A firing is stored as an event keyed by (job, fire time) with one delivery to the job's plugin,
so a second clock in another process records the same key and nothing runs twice, and a failed
run is retried and parked like any delivery. Interval triggers start from a fixed origin so that
every clock computes the same fire times.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pluggy
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from hub.clock import as_utc, iso, utcnow
from hub.plugins.context import Context
from hub.plugins.registry import call_for, implementers
from hub.plugins.states import PluginStates
from hub.queue.db import reading
from hub.queue.store import DELIVERIES, Accepted, accept_in

if TYPE_CHECKING:
    from hub.hub import Hub

log = logging.getLogger("hub.jobs")
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}$")


@dataclass(frozen=True)
class Job:
    id: str
    plugin: str
    name: str
    func: Callable[[Context], None]
    trigger: BaseTrigger
    schedule: str
    description: str

    def next_run(self, after: datetime | None = None) -> datetime | None:
        now = (after or utcnow()).replace(tzinfo=UTC)
        nxt = self.trigger.get_next_fire_time(None, now)
        return as_utc(nxt) if nxt else None


class JobRegistrar:
    """The ``register`` a plugin's ``scheduled`` hook is handed."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self.jobs: list[Job] = []

    def __call__(self, name: str, func: Callable[[Context], None], *,
                 minutes: float | None = None, hours: float | None = None,
                 cron: str | None = None, description: str = "") -> None:
        if not _NAME.match(name):
            raise ValueError(f"job name {name!r}: use lowercase letters, digits, - and _")
        given = [x for x in (minutes, hours, cron) if x is not None]
        if len(given) != 1:
            raise ValueError(f"job {name!r}: give exactly one of minutes=, hours= or cron=")
        trigger: BaseTrigger
        if cron is not None:
            trigger = CronTrigger.from_crontab(cron, timezone=UTC)
            schedule = f"cron {cron} (UTC)"
        else:
            seconds = (minutes or 0) * 60 + (hours or 0) * 3600
            if seconds < 1:
                raise ValueError(f"job {name!r}: the interval must be at least a second")
            trigger = IntervalTrigger(seconds=seconds, start_date=ORIGIN, timezone=UTC)
            schedule = f"every {seconds / 60:g} min"
        job_id = f"{self.plugin}.{name}"
        if any(j.id == job_id for j in self.jobs):
            raise ValueError(f"job {job_id} registered twice")
        self.jobs.append(Job(job_id, self.plugin, name, func, trigger, schedule, description))


def collect(pm: pluggy.PluginManager, states: PluginStates) -> dict[str, Job]:
    """Every enabled plugin's jobs, each plugin asked through pluggy with its own registrar."""
    jobs: dict[str, Job] = {}
    for plugin in implementers(pm, "scheduled"):
        if not states.enabled(plugin):
            continue
        registrar = JobRegistrar(plugin)
        try:
            call_for(pm, "scheduled", plugin, register=registrar,
                     settings=states.settings(plugin))
        except Exception:
            log.exception("plugin %s failed to register its jobs", plugin)
            continue
        jobs.update({j.id: j for j in registrar.jobs})
    return jobs


def fire(hub: Hub, job: Job, fire_time: datetime) -> Accepted:
    """Record one firing; the same (job, fire time) from any clock is recorded once."""
    stamp = iso(as_utc(fire_time))
    accepted: Accepted = hub.write(lambda conn: accept_in(
        conn, source="scheduler", key=f"{job.id}@{stamp}", type="job",
        occurred_at=as_utc(fire_time), data={"job": job.id, "fire_time": stamp},
        digest="", subject=f"job:{job.id}", hook="job", plugins=[job.plugin],
    ))
    return accepted


def fire_soon(hub: Hub, job: Job) -> bool:
    """Run ``job`` as soon as a worker can, unless a firing is already waiting to start (a
    burst of webhooks then costs one run, and one arriving after a run has begun gets its own).
    Returns whether a new firing was recorded."""
    with reading(hub.engine) as conn:
        waiting = conn.execute(select(DELIVERIES.c.pk).where(
            DELIVERIES.c.subject == f"job:{job.id}", DELIVERIES.c.status == "pending",
            DELIVERIES.c.attempts == 0).limit(1)).first()
    if waiting is not None:
        return False
    created = fire(hub, job, utcnow()).created
    hub.wake.set()
    return created


class Clock:
    """APScheduler in the background, turning firings into stored job events."""

    def __init__(self, hub: Hub, resync_seconds: float = 15.0) -> None:
        self.hub = hub
        self.resync_seconds = resync_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._version = -1
        self._lock = threading.Lock()

    def start(self) -> None:
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self.sync()
        self.scheduler.add_job(self.sync, IntervalTrigger(seconds=self.resync_seconds),
                               id="hub.clock.resync")
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def sync(self) -> None:
        """Follow the plugins' jobs as settings change (a new poll interval, a toggle)."""
        with self._lock:
            jobs = self.hub.jobs()
            if self.hub.states.version == self._version and jobs.keys() == self._known():
                return
            self._version = self.hub.states.version
            for existing in self.scheduler.get_jobs():
                if existing.id != "hub.clock.resync":
                    existing.remove()
            for job in jobs.values():
                self.scheduler.add_job(_tick, job.trigger, id=job.id, name=job.id)

    def _known(self) -> set[str]:
        return {j.id for j in self.scheduler.get_jobs() if j.id != "hub.clock.resync"}

    def _submitted(self, event: JobSubmissionEvent) -> None:
        job = self.hub.jobs().get(event.job_id)
        if job is None or not event.scheduled_run_times:
            return
        try:
            fire(self.hub, job, event.scheduled_run_times[-1])
            self.hub.wake.set()
        except Exception:
            log.exception("could not record a firing of %s", job.id)


def _tick() -> None:
    """APScheduler needs a callable; the firing itself is recorded by the listener."""
