"""The hub: configuration, database, plugins, and the operations every role shares.

One ``Hub`` per process (or per test): no module globals, so tests build a fresh one each time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, and_, select, update
from sqlalchemy.orm import aliased

from hub.clock import iso, utcnow
from hub.config import Config
from hub.crypto import Crypto
from hub.events import (
    EVENT_TYPES,
    Balance,
    Booking,
    BookingCheck,
    HostStatement,
    Verdict,
    dump,
    parse_data,
)
from hub.plugins import jobs as jobs_module
from hub.plugins.context import CallContext, Context, stable_key
from hub.plugins.registry import call_for, caller, discover, implementers
from hub.plugins.states import PluginStates
from hub.queue.db import make_engine, migrate, reading
from hub.queue.store import (
    DELIVERIES,
    EVENTS,
    Accepted,
    accept_in,
    body_hash,
    event_view,
    host_event,
    host_subjects,
    last_stated,
    subject_of,
)
from hub.queue.writer import GroupWriter
from hub.redact import hub_secrets
from hub.reports import Receivables
from hub.undo import clear_undone, skipped_as_undone

log = logging.getLogger("hub")
FRESH_VALUES = 1_000  # at most this many (an invoice is ~7 KB) wait for this process's workers


class Hub:
    def __init__(self, config: Config, *, plugins: list[tuple[str, Any]] | None = None,
                 entrypoints: bool = True, migrate_db: bool = True) -> None:
        self.config = config
        self.engine = make_engine(config)
        self.crypto = Crypto(config)
        self.pm, self.infos = discover(plugins, entrypoints, config.plugins)
        if migrate_db:
            migrate(self.engine, self._migration_dirs())
        self.states = PluginStates(self.engine, self.crypto, self.infos)
        self.writer = GroupWriter(self.engine)
        # Set when work arrives so idle workers in this process start at once.
        self.wake = threading.Event()
        # Values just accepted, by event pk, while this process runs workers: an event's first
        # delivery takes its value from here instead of validating the stored JSON again.
        self.keep_fresh = False
        self._fresh: dict[int, BaseModel] = {}
        self._fresh_lock = threading.Lock()
        self._jobs: tuple[int, dict[str, jobs_module.Job]] | None = None
        self._jobs_lock = threading.Lock()
        # Each plugin's in-process memory (ctx.memory): caches that a module global would share
        # between two hubs in one process.
        self._memory: dict[str, dict[str, Any]] = {}
        # The hub's own secrets in every form a message may carry them, worked out once and
        # kept with this hub (not in a process-wide cache that outlives it).
        self.secret_values = hub_secrets(config)

    def _migration_dirs(self) -> dict[str, Path]:
        dirs = {}
        for plugin in implementers(self.pm, "migrations"):
            found = call_for(self.pm, "migrations", plugin)
            if found:
                dirs[plugin] = Path(found)
        return dirs

    def write(self, fn: Any) -> Any:
        """Run ``fn(conn)`` in a write transaction (group-committed on SQLite)."""
        return self.writer.write(fn)

    def close(self) -> None:
        self.writer.close()
        self.engine.dispose()

    # -- events ---------------------------------------------------------------------------

    def enabled_for(self, hook: str, exclude: str | None = None) -> list[str]:
        return [p for p in implementers(self.pm, hook)
                if p != exclude and self.states.enabled(p)]

    def accept_host_event(self, event_id: str, event_type: str, occurred_at: Any,
                          data: BaseModel, digest: str) -> Accepted:
        """Store a host's event, as ``POST /api/v1/events`` does (``hub.web.intake``, which
        hands it to the writer itself, so the request goes from the web into the queue)."""
        hook = EVENT_TYPES[event_type][0]
        accepted: Accepted = self.write(host_event(
            event_id, event_type, occurred_at, data, digest, hook, self.enabled_for(hook)))
        self.arrived(accepted, data)
        return accepted

    def arrived(self, accepted: Accepted, value: BaseModel) -> None:
        """An event handed to the writer: if it was new, its value kept for this process's
        workers, and idle ones woken."""
        if not accepted.created:
            return
        if self.keep_fresh and accepted.plugins:
            with self._fresh_lock:
                self._fresh[accepted.pk] = value
                if len(self._fresh) > FRESH_VALUES:  # deliveries are behind: drop the oldest
                    del self._fresh[next(iter(self._fresh))]
        if not self.wake.is_set():  # set() takes a lock: once per burst is enough
            self.wake.set()

    def fresh_value(self, event_pk: int) -> BaseModel | None:
        """The value of an event this process just accepted, once; None if it has none."""
        return self._fresh.pop(event_pk, None)

    def publish(self, source: str, event_type: str, data: BaseModel | dict[str, Any],
                key: str) -> bool:
        """An event a plugin saw elsewhere (QuickBooks), handed to every *other* plugin."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        hook, model = EVENT_TYPES[event_type]
        value = data if isinstance(data, BaseModel) else model.model_validate(data)
        payload = dump(value)
        plugins = self.enabled_for(hook, exclude=source)
        accepted: Accepted = self.write(lambda conn: accept_in(
            conn, source=source, key=key, type=event_type, occurred_at=utcnow(),
            data=payload, digest=body_hash(payload),
            subject=subject_of(event_type, payload.get("external_id")), hook=hook,
            plugins=plugins,
        ))
        self.arrived(accepted, value)
        return accepted.created

    def notify_host(self, source: str, message_type: str, data: BaseModel | dict[str, Any],
                    key: str, conn: Any = None) -> bool:
        """Queue a message for the host; the same (source, type, key) is sent once."""
        payload = dump(data) if isinstance(data, BaseModel) else data
        now = utcnow()
        message = {"id": "msg_" + stable_key(source, message_type, key), "type": message_type,
                   "occurred_at": iso(now), "data": payload}
        kwargs: dict[str, Any] = dict(
            source=source, key=f"{message_type}:{key}", type="outbound", occurred_at=now,
            data=message, digest="", subject=None, hook="on_host_event",
            plugins=self.enabled_for("on_host_event", exclude=source),
        )
        if conn is not None:
            accepted = accept_in(conn, **kwargs)
        else:
            accepted = self.write(lambda c: accept_in(c, **kwargs))
        if accepted.created:
            self.wake.set()
        return accepted.created

    def host_subjects(self, kind: str) -> list[str]:
        with reading(self.engine) as conn:
            return host_subjects(conn, kind)

    def last_stated(self, subjects: list[str]) -> dict[str, HostStatement]:
        with reading(self.engine) as conn:
            rows = last_stated(conn, subjects)
        stated: dict[str, HostStatement] = {}
        for subject, row in rows.items():
            try:
                value = parse_data(row["type"], json.loads(row["data"]))
            except (ValueError, KeyError):
                continue  # unreadable (Activity shows it): nothing the host can be held to
            stated[subject] = HostStatement(row["key"], row["type"], row["occurred_at"], value)
        return stated

    def event(self, key: str, source: str = "host") -> dict[str, Any] | None:
        with reading(self.engine) as conn:
            return event_view(conn, source, key)

    # -- operator actions -----------------------------------------------------------------

    def retry(self, delivery_pks: list[int]) -> int:
        """Send parked or waiting deliveries again now, with a fresh set of attempts."""
        now = utcnow()

        def write(conn: Connection) -> int:
            # A retried delivery syncs its subject again, even one the operator had undone.
            clear_undone(conn, delivery_pks)
            return int(conn.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.pk.in_(delivery_pks),
                       DELIVERIES.c.status.in_(("dead", "waiting", "pending", "skipped")))
                .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
            ).rowcount)

        count: int = self.write(write)
        self.wake.set()
        return count

    def superseded(self, source: str, key: str, plugin: str) -> bool:
        """Has a later event about the same subject already been delivered to ``plugin``?
        Then this (older) event, retried late, must not overwrite what the newer one did."""
        return self._same_subject(source, key, plugin, lambda other, me: and_(
            other.c.pk > me.pk, DELIVERIES.c.status == "done"))

    def tried_before(self, source: str, key: str, plugin: str) -> bool:
        """Did ``plugin`` already attempt an earlier event about the same subject (whatever
        came of it)? Then what that attempt wrote outside may be there without a trace here."""
        return self._same_subject(source, key, plugin, lambda other, me: and_(
            other.c.pk < me.pk, DELIVERIES.c.attempts > 0))

    def _same_subject(self, source: str, key: str, plugin: str,
                      condition: Callable[[Any, Any], Any]) -> bool:
        """Is there a delivery to ``plugin`` of another event about this event's subject that
        meets ``condition(other_event_table, this_event_row)``?"""
        other = aliased(EVENTS)
        with reading(self.engine) as conn:
            me = conn.execute(select(EVENTS.c.pk, EVENTS.c.subject).where(
                EVENTS.c.source == source, EVENTS.c.key == key)).first()
            if me is None or me.subject is None:
                return False
            return conn.execute(
                select(DELIVERIES.c.pk).join(other, other.c.pk == DELIVERIES.c.event_pk)
                .where(other.c.subject == me.subject, DELIVERIES.c.plugin == plugin,
                       condition(other, me))
                .limit(1)).first() is not None

    def dismiss(self, delivery_pks: list[int], who: str = "operator") -> int:
        """Stop a parked or waiting delivery for good; it stays visible, marked dismissed."""
        now = utcnow()
        count: int = self.write(lambda conn: conn.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.pk.in_(delivery_pks),
                   DELIVERIES.c.status.in_(("dead", "waiting", "pending")))
            .values(status="skipped", result=f"dismissed by {who}", updated_at=now)
        ).rowcount)
        return count

    def retry_event(self, key: str, source: str = "host") -> int:
        with reading(self.engine) as conn:
            pks = conn.execute(
                select(DELIVERIES.c.pk).join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
                .where(EVENTS.c.source == source, EVENTS.c.key == key,
                       DELIVERIES.c.status.in_(("dead", "waiting")))
            ).scalars().all()
            undone = skipped_as_undone(conn, source, key)
        return self.retry([*pks, *undone])

    def release(self, plugin: str) -> int:
        """Wake a plugin's waiting deliveries (after ``Hold``): the condition has cleared."""
        now = utcnow()
        count: int = self.write(lambda conn: conn.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.plugin == plugin, DELIVERIES.c.status == "waiting")
            .values(status="pending", next_attempt_at=now, updated_at=now)
        ).rowcount)
        self.wake.set()
        return count

    # -- jobs and decisions ---------------------------------------------------------------

    def jobs(self) -> dict[str, jobs_module.Job]:
        version = self.states.version
        enabled = tuple(self.states.enabled(p) for p in self.infos)
        with self._jobs_lock:
            if self._jobs is None or self._jobs[0] != hash((version, enabled)):
                self._jobs = (hash((version, enabled)), jobs_module.collect(self.pm, self.states))
            return self._jobs[1]

    def memory_of(self, plugin: str) -> dict[str, Any]:
        return self._memory.setdefault(plugin, {})

    def run_job_soon(self, job_id: str) -> bool:
        """Fire the registered job ``job_id`` (``plugin.name``) now, unless one waits to start."""
        job = self.jobs().get(job_id)
        return jobs_module.fire_soon(self, job) if job is not None else False

    def context(self, plugin: str, event_type: str, event_id: str) -> Context:
        """A context for work outside a delivery (a decision, a describe call)."""
        return Context(hub=self, plugin=plugin, source="hub", event_id=event_id,
                       event_type=event_type, occurred_at=utcnow(),
                       settings=self.states.settings(plugin))

    def ask(self, hook: str, about: str, **kwargs: Any) -> Any:
        """Call ``hook`` on the enabled plugins through pluggy (its order, ``firstresult``,
        wrappers), each handed its own context; a raise from one is logged and counted as
        no opinion (``hub.plugins.registry.FORGIVING``)."""
        call = caller(self.pm, hook, self.enabled_for(hook))
        return call(ctx=CallContext(self, hook, about), **kwargs)

    def check_booking(self, check: BookingCheck) -> Verdict:
        """May this client book? Any enabled plugin's refusal refuses."""
        return _verdict(self.ask("check_booking", check.email, check=check))

    def check_billing(self, booking: Booking) -> Verdict:
        """May this completed booking be billed? Any enabled plugin's refusal refuses."""
        return _verdict(self.ask("check_billing", booking.external_id, booking=booking))

    def customer_balance(self, email: str) -> Balance | None:
        """What the customer owes, from the first enabled plugin that knows them."""
        found: Balance | None = self.ask("customer_balance", email, email=email)
        return found

    def receivables(self) -> Receivables | None:
        """The Money page's figures from the first enabled plugin that keeps them."""
        found: Receivables | None = self.ask("receivables", "-")
        return found

    def describe(self, kind: str, external_id: str) -> dict[str, Any]:
        """What the plugins know of a contact or invoice (``describe_<kind>`` hooks), merged:
        where two say the same fact, the one pluggy calls first wins."""
        facts: dict[str, Any] = {}
        for found in reversed(self.ask(f"describe_{kind}", external_id,
                                       external_id=external_id)):
            facts.update(found)
        return facts


def _verdict(verdicts: list[Verdict]) -> Verdict:
    """The first refusal among the plugins' verdicts, else the first verdict, else allowed."""
    refusals = [v for v in verdicts if not v.allowed]
    if refusals:
        return refusals[0]
    return verdicts[0] if verdicts else Verdict(allowed=True)
