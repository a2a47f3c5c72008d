"""The one place that calls plugins' event hooks: claim a due delivery, run it, record how it went.

A claim is a lease: the row says which process holds it and until when. A process that dies
(SIGKILL, power cut) leaves its rows ``running``; they are handed out again as soon as the lease
runs out, or at once when the holder is a dead process on this same machine. Attempts are
counted at claim time, so a plugin that crashes its worker still runs out of attempts.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import traceback
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Integer, and_, bindparam, exists, select, update
from sqlalchemy.orm import aliased

from hub.clock import iso, utcnow
from hub.context import Context
from hub.db import reading
from hub.errors import Hold, NeedsOperator, RetryLater, Skip
from hub.events import EVENT_TYPES
from hub.plugins import call_impl, hookimpl_for
from hub.store import DELIVERIES, EVENTS, sqlite_time

if TYPE_CHECKING:
    from hub.hub import Hub

log = logging.getLogger("hub.dispatch")
UNFINISHED = ("pending", "running", "waiting")
# The name each event hook gives its value, as declared in hub.hookspecs.
HOOK_ARGUMENT = {hook: model.__name__.lower() for hook, model in EVENT_TYPES.values()}


@dataclass(frozen=True)
class Claimed:
    pk: int
    event_pk: int
    plugin: str
    hook: str
    attempts: int
    # The event's source, key, type, occurred_at and data, read in the claim's transaction.
    event: dict[str, Any] | None = None


def _start_ticks(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_id() -> str:
    """host:pid:start — the start time tells a live process from a new one with a reused pid."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or '0'}"


def _owner_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's: only its lease running out tells
    ticks = _start_ticks(int(pid_text))
    if ticks is None:
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return start != "0"
    return ticks != start


def _claim_statement() -> Any:
    earlier = aliased(DELIVERIES)
    due = (
        select(DELIVERIES.c.pk)
        .where(
            DELIVERIES.c.status == "pending",
            DELIVERIES.c.next_attempt_at <= bindparam("b_now"),
            DELIVERIES.c.plugin.not_in(bindparam("b_skip", expanding=True)),
            ~exists().where(and_(
                DELIVERIES.c.subject.is_not(None),
                earlier.c.plugin == DELIVERIES.c.plugin,
                earlier.c.subject == DELIVERIES.c.subject,
                earlier.c.pk < DELIVERIES.c.pk,
                earlier.c.status.in_(UNFINISHED),
            )),
        )
        .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.pk)
        .limit(bindparam("b_limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    return (
        update(DELIVERIES)
        .where(DELIVERIES.c.pk.in_(due.scalar_subquery()))
        .values(status="running", attempts=DELIVERIES.c.attempts + 1,
                lease_owner=bindparam("b_owner"), lease_until=bindparam("b_lease_until"),
                updated_at=bindparam("b_now"))
        .returning(DELIVERIES.c.pk, DELIVERIES.c.event_pk, DELIVERIES.c.plugin,
                   DELIVERIES.c.hook, DELIVERIES.c.attempts)
    )


# Built once: on the delivery path, building and keying a statement cost more than running it.
_CLAIM = _claim_statement()
_EVENT_COLUMNS = (EVENTS.c.pk, EVENTS.c.source, EVENTS.c.key, EVENTS.c.type,
                  EVENTS.c.occurred_at, EVENTS.c.data)
_EVENTS = select(*_EVENT_COLUMNS).where(EVENTS.c.pk.in_(bindparam("pks", expanding=True)))

# SQLite: the same claim, straight to the driver in the one writer thread, as accepting does
# (store.py); SQLAlchemy's execution layer cost more than the statements. Times are written in
# SQLAlchemy's format and read back with fromisoformat.
_SQLITE_CLAIM = f"""
UPDATE hub_delivery SET status = 'running', attempts = attempts + 1, lease_owner = ?,
  lease_until = ?, updated_at = ?
WHERE pk IN (
  SELECT d.pk FROM hub_delivery AS d
  WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.plugin NOT IN ({{skip}})
    AND NOT EXISTS (
      SELECT 1 FROM hub_delivery AS earlier
      WHERE d.subject IS NOT NULL AND earlier.plugin = d.plugin
        AND earlier.subject = d.subject AND earlier.pk < d.pk
        AND earlier.status IN ({", ".join(f"'{s}'" for s in UNFINISHED)}))
  ORDER BY d.next_attempt_at, d.pk LIMIT ?)
RETURNING pk, event_pk, plugin, hook, attempts"""
_SQLITE_EVENTS = ("SELECT pk, source, key, type, occurred_at, data FROM hub_event "
                  "WHERE pk IN ({pks})")


def _claim_sqlite(conn: Connection, owner: str, limit: int, now: datetime,
                  lease_until: datetime, skip: list[str]) -> list[Claimed]:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        stamp = sqlite_time(now)
        cursor.execute(_SQLITE_CLAIM.format(skip=", ".join("?" * len(skip))),
                       (owner, sqlite_time(lease_until), stamp, stamp, *skip, limit))
        rows = cursor.fetchall()
        if not rows:
            return []
        pks = {row[1] for row in rows}
        cursor.execute(_SQLITE_EVENTS.format(pks=", ".join("?" * len(pks))), tuple(pks))
        events = {pk: {"source": source, "key": key, "type": type_,
                       "occurred_at": datetime.fromisoformat(occurred_at), "data": data}
                  for pk, source, key, type_, occurred_at, data in cursor.fetchall()}
    finally:
        cursor.close()
    return _with_events(rows, events)


def _with_events(rows: Any, events: dict[int, dict[str, Any]]) -> list[Claimed]:
    return [Claimed(pk, event_pk, plugin, hook, attempts, events[event_pk])
            for pk, event_pk, plugin, hook, attempts in sorted(rows)]


def _claim_any(conn: Connection, owner: str, limit: int, now: datetime,
               lease_until: datetime, skip: list[str]) -> list[Claimed]:
    if conn.dialect.name == "sqlite":
        return _claim_sqlite(conn, owner, limit, now, lease_until, skip)
    rows = conn.execute(_CLAIM, {"b_now": now, "b_limit": limit, "b_owner": owner,
                                 "b_skip": skip, "b_lease_until": lease_until}).all()
    if not rows:
        return []
    events = {row.pk: dict(row._mapping) for row in conn.execute(
        _EVENTS, {"pks": sorted({row[1] for row in rows})})}
    return _with_events(rows, events)


def claim(hub: Hub, owner: str, limit: int = 1, now: datetime | None = None,
          skip: Collection[str] = ()) -> list[Claimed]:
    """Take up to ``limit`` due deliveries, never one whose subject has an earlier unfinished
    delivery to the same plugin (so an invoice's update never overtakes its creation), and
    none for the plugins in ``skip``; each with its event, read in the same transaction."""
    now = now or utcnow()
    lease_until = now + timedelta(seconds=hub.config.lease_seconds)
    skipped = list(skip)
    return hub.write(  # type: ignore[no-any-return]
        lambda conn: _claim_any(conn, owner, limit, now, lease_until, skipped))


def backoff(attempt: int, base: float, cap: float) -> timedelta:
    """Exponential with jitter: half the step fixed, half random, so retries never line up."""
    step = min(cap, base * (2 ** (attempt - 1)))
    return timedelta(seconds=step / 2 + random.uniform(0, step / 2))


@dataclass
class Outcome:
    """How one attempt went, to be recorded on its delivery row."""

    job: Claimed
    ctx: Context
    status: str
    error: str | None = None
    result: str | None = None
    delay: timedelta | None = None
    refund: bool = False  # waiting is not failing: the attempt is given back
    pause_plugin: bool = False


def run(hub: Hub, job: Claimed, owner: str) -> str:
    """Run one claimed delivery and record its outcome; returns the new status."""
    outcome = attempt(hub, job)
    record(hub, owner, [outcome])
    return outcome.status


def events_of(hub: Hub, jobs: list[Claimed]) -> dict[int, Any]:
    """The event rows of claimed deliveries, by event pk: as claimed, or read together."""
    found = {job.event_pk: job.event for job in jobs if job.event is not None}
    missing = [job.event_pk for job in jobs if job.event_pk not in found]
    if missing:
        with reading(hub.engine) as conn:
            found.update((row.pk, dict(row._mapping))
                         for row in conn.execute(_EVENTS, {"pks": missing}))
    return found


def context_for(hub: Hub, job: Claimed, event: Any) -> Context:
    return Context(
        hub=hub, plugin=job.plugin, source=event["source"], event_id=event["key"],
        event_type=event["type"], occurred_at=event["occurred_at"], attempt=job.attempts,
        delivery_pk=job.pk,
    )


def put_back(hub: Hub, job: Claimed, event: Any, like: Outcome) -> Outcome:
    """Give a claimed delivery back unattempted, to wait as ``like`` (a paused plugin's
    outcome) does: no attempt spent, due when the pause ends."""
    return Outcome(job, context_for(hub, job, event), "pending", error=like.error,
                   delay=like.delay, refund=True)


def attempt(hub: Hub, job: Claimed, event: Any = None) -> Outcome:
    """Hand a claimed delivery to its plugin; nothing is recorded yet (see ``record``)."""
    if event is None:
        event = events_of(hub, [job])[job.event_pk]
    ctx = context_for(hub, job, event)
    try:
        _call(hub, job, event, ctx)
    except Hold as exc:
        return Outcome(job, ctx, "waiting", error=str(exc), refund=True)
    except Skip as exc:
        return Outcome(job, ctx, "skipped", result=str(exc))
    except NeedsOperator as exc:
        return Outcome(job, ctx, "dead", error=str(exc))
    except RetryLater as exc:
        if not exc.spend_attempt:
            # Try again later without spending the attempt (and maybe hold back the
            # plugin's others until then).
            return Outcome(job, ctx, "pending", error=str(exc), refund=True,
                           delay=exc.after or timedelta(seconds=hub.config.retry_base_seconds),
                           pause_plugin=exc.pause_plugin)
        return _retry(hub, job, str(exc), exc.after, ctx)
    except Exception as exc:  # a plugin's bug or an outside failure: retried, then parked
        summary = f"{type(exc).__name__}: {exc}"
        log.warning("delivery %s to %s failed (attempt %s): %s\n%s", event["key"], job.plugin,
                    job.attempts, summary, traceback.format_exc(limit=6))
        return _retry(hub, job, summary, None, ctx)
    return Outcome(job, ctx, "done", result="; ".join(ctx.notes) or None)


def _call(hub: Hub, job: Claimed, event: Any, ctx: Context) -> None:
    if job.plugin not in hub.infos:
        raise NeedsOperator(f"plugin {job.plugin!r} is not installed any more; reinstall it "
                            "and retry, or dismiss this delivery")
    if not hub.states.enabled(job.plugin):
        raise Skip(f"plugin {job.plugin} is disabled")
    ctx.settings = hub.states.settings(job.plugin)
    if job.hook not in ("job", "on_host_event"):
        impl = hookimpl_for(hub.pm, job.hook, job.plugin)
        if impl is None:
            raise Skip(f"plugin {job.plugin} no longer handles {job.hook}")
        value = hub.fresh_value(job.event_pk)
        if value is None:
            value = EVENT_TYPES[event["type"]][1].model_validate_json(event["data"])
        call_impl(impl, ctx=ctx, **{HOOK_ARGUMENT[job.hook]: value})
        return
    data = json.loads(event["data"])
    if job.hook == "job":
        found = hub.jobs().get(data["job"])
        if found is None:
            raise Skip(f"job {data['job']} is no longer scheduled")
        found.func(ctx)
        return
    impl = hookimpl_for(hub.pm, job.hook, job.plugin)
    if impl is None:
        raise Skip(f"plugin {job.plugin} no longer handles {job.hook}")
    call_impl(impl, message=data, ctx=ctx)


def _retry(hub: Hub, job: Claimed, error: str, after: timedelta | None,
           ctx: Context) -> Outcome:
    if job.attempts >= hub.config.max_attempts:
        return Outcome(job, ctx, "dead",
                       error=f"{error} (gave up after {job.attempts} attempts)")
    delay = after or backoff(job.attempts, hub.config.retry_base_seconds,
                             hub.config.retry_max_seconds)
    return Outcome(job, ctx, "pending", error=error, delay=delay)


def _finish_statement(result: bool, delay: bool, refund: bool) -> Any:
    values: dict[str, Any] = dict(status=bindparam("b_status"), lease_owner=None,
                                  lease_until=None, updated_at=bindparam("b_now"),
                                  last_error=bindparam("b_error"))
    if result:
        values["result"] = bindparam("b_result")
    if delay:
        values["next_attempt_at"] = bindparam("b_next_attempt_at")
    if refund:  # waiting is not failing: the attempt is given back
        values["attempts"] = DELIVERIES.c.attempts - 1
    # Only the lease holder may record an outcome: a worker that was presumed dead and came
    # back must not overwrite what its successor did.
    return (update(DELIVERIES)
            .where(DELIVERIES.c.pk == bindparam("b_pk"), DELIVERIES.c.lease_owner ==
                   bindparam("b_owner"), DELIVERIES.c.status == "running")
            .values(**values))


_FINISH = {(r, d, f): _finish_statement(r, d, f)
           for r in (False, True) for d in (False, True) for f in (False, True)}


def _sqlite_finish(result: bool, delay: bool, refund: bool) -> str:
    """``_finish_statement`` for the driver: parameters (status, now, error[, result]
    [, next attempt], pk, owner)."""
    return ("UPDATE hub_delivery SET status = ?, lease_owner = NULL, lease_until = NULL, "
            "updated_at = ?, last_error = ?" + (", result = ?" if result else "")
            + (", next_attempt_at = ?" if delay else "")
            + (", attempts = attempts - 1" if refund else "")
            + " WHERE pk = ? AND lease_owner = ? AND status = 'running'")


_SQLITE_FINISH = {key: _sqlite_finish(*key) for key in _FINISH}


def _sqlite_finish_args(key: tuple[bool, bool, bool], params: dict[str, Any]) -> tuple[Any, ...]:
    args = [params["b_status"], sqlite_time(params["b_now"]), params["b_error"]]
    if key[0]:
        args.append(params["b_result"])
    if key[1]:
        args.append(sqlite_time(params["b_next_attempt_at"]))
    return (*args, params["b_pk"], params["b_owner"])
# A plugin told to wait (a rate limit) holds back its other pending deliveries until then.
_PAUSE = (update(DELIVERIES)
          .where(DELIVERIES.c.plugin == bindparam("b_plugin"),
                 DELIVERIES.c.status == "pending",
                 DELIVERIES.c.next_attempt_at < bindparam("b_until"))
          .values(next_attempt_at=bindparam("b_until")))


def record(hub: Hub, owner: str, outcomes: list[Outcome]) -> None:
    """Write the outcomes of attempts by this owner, in one transaction."""
    now = utcnow()

    def write(conn: Connection) -> None:
        alike: dict[tuple[bool, bool, bool], list[dict[str, Any]]] = {}
        for o in outcomes:
            if o.pause_plugin and o.delay is not None:
                conn.execute(_PAUSE, {"b_plugin": o.job.plugin, "b_until": now + o.delay})
            key = (o.result is not None or o.status == "done", o.delay is not None, o.refund)
            params = {
                "b_pk": o.job.pk, "b_owner": owner, "b_status": o.status, "b_now": now,
                "b_error": o.error, "b_result": o.result,
                "b_next_attempt_at": now + o.delay if o.delay is not None else None,
            }
            if o.status != "dead":
                alike.setdefault(key, []).append(params)
                continue
            # Parked: the host is told, once, and only if this owner still held the lease.
            changed = conn.execute(_FINISH[key], params).rowcount
            if changed and o.ctx.event_type != "outbound":
                _announce_dead(hub, conn, o.job, o.ctx, o.error or "")
        if conn.dialect.name != "sqlite":
            for key, many in alike.items():
                conn.execute(_FINISH[key], many)  # one executemany per kind of outcome
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for key, many in alike.items():
                cursor.executemany(_SQLITE_FINISH[key],
                                   [_sqlite_finish_args(key, p) for p in many])
        finally:
            cursor.close()

    hub.write(write)
    for o in outcomes:
        if o.status == "dead":
            log.error("delivery of %s to %s parked: %s", o.ctx.event_id, o.job.plugin,
                      o.error)


def _announce_dead(hub: Hub, conn: Connection, job: Claimed, ctx: Context, error: str) -> None:
    hub.notify_host("hub", "sync.failed", {
        "event": {"id": ctx.event_id, "type": ctx.event_type, "source": ctx.source},
        "plugin": job.plugin, "error": error, "attempts": job.attempts,
        "failed_at": iso(utcnow()),
    }, key=f"{job.pk}:{job.attempts}", conn=conn)


def heartbeat(hub: Hub, owner: str) -> int:
    """Extend the leases this process holds; returns how many."""
    now = utcnow()
    count: int = hub.write(lambda conn: conn.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.lease_owner == owner, DELIVERIES.c.status == "running")
        .values(lease_until=now + timedelta(seconds=hub.config.lease_seconds))
    ).rowcount)
    return count


def reclaim(hub: Hub, now: datetime | None = None) -> int:
    """Hand out again what dead or silent workers held. Returns how many deliveries."""
    moment = now or utcnow()

    def take_back(conn: Connection) -> int:
        owners = conn.execute(
            select(DELIVERIES.c.lease_owner).where(DELIVERIES.c.status == "running").distinct()
        ).scalars().all()
        dead = [o for o in owners if o and _owner_dead(o)]
        stmt = (
            update(DELIVERIES)
            .where(DELIVERIES.c.status == "running")
            .where((DELIVERIES.c.lease_until < moment) | DELIVERIES.c.lease_owner.in_(dead))
            .values(status="pending", lease_owner=None, lease_until=None,
                    next_attempt_at=moment, updated_at=moment,
                    last_error="the worker stopped during this attempt; delivering again")
        )
        return int(conn.execute(stmt).rowcount)

    count: int = hub.write(take_back)
    if count:
        log.warning("reclaimed %d deliveries from stopped workers", count)
    return count
