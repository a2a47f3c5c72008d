"""Claiming deliveries: who holds which, until when, and taking back what the dead held.

A claim is a lease: the row says which process holds it and until when. A process that dies
(SIGKILL, power cut) leaves its rows ``running``; they are handed out again as soon as the lease
runs out, or at once when the holder is a dead process on this same machine. Attempts are
counted at claim time, so a plugin that crashes its worker still runs out of attempts.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Integer, and_, bindparam, exists, select, update
from sqlalchemy.orm import aliased

from hub.clock import utcnow
from hub.queue.store import DELIVERIES, EVENTS, OCCURRED_AT, UNDONE, read_time, sqlite_time

if TYPE_CHECKING:
    from hub.hub import Hub

log = logging.getLogger("hub.claims")
UNFINISHED = ("pending", "running", "waiting")


@dataclass(frozen=True)
class Claimed:
    pk: int
    event_pk: int
    plugin: str
    hook: str
    attempts: int
    # The event's source, key, type, occurred_at and data, read in the claim's transaction;
    # "unreadable" says why, when the row holds what no delivery can use (dispatch parks it).
    event: dict[str, Any]
    #: The operator took this delivery's subject back from its plugin (``hub.undo``), read in
    #: the claim itself: no extra query on the delivery path, and no process can miss it.
    undone: bool = False


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
                   DELIVERIES.c.hook, DELIVERIES.c.attempts,
                   exists().where(UNDONE.c.plugin == DELIVERIES.c.plugin,
                                  UNDONE.c.subject == DELIVERIES.c.subject).label("undone"))
    )


# Built once: on the delivery path, building and keying a statement cost more than running it.
_CLAIM = _claim_statement()
_EVENT_COLUMNS = (EVENTS.c.pk, EVENTS.c.source, EVENTS.c.key, EVENTS.c.type, OCCURRED_AT,
                  EVENTS.c.data)
_EVENTS = select(*_EVENT_COLUMNS).where(EVENTS.c.pk.in_(bindparam("pks", expanding=True)))

# SQLite: the same claim again, straight to the driver in the one writer thread, as accepting
# does (store.py). What the second copy buys, measured on the 2-core machine (2026-12-03, a
# claim of 10 among 8,000 pending deliveries, with its events): 270 µs through the driver,
# 550-650 µs through SQLAlchemy. Times are written in SQLAlchemy's format and read back with
# fromisoformat, so either copy reads what the other wrote.
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
RETURNING pk, event_pk, plugin, hook, attempts,
  EXISTS (SELECT 1 FROM hub_undone AS u
          WHERE u.plugin = hub_delivery.plugin AND u.subject = hub_delivery.subject)"""
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
        events = {row[0]: _event(*row) for row in cursor.fetchall()}
    finally:
        cursor.close()
    return _with_events(rows, events)


def _event(pk: int, source: str, key: str, type_: str, occurred_at: Any, data: str
           ) -> dict[str, Any]:
    """An event row as a delivery gets it. One bad row must not fail the claim of every other
    delivery (one year-11 event once stopped all of them), so what cannot be read is said."""
    event = {"source": source, "key": key, "type": type_,
             "occurred_at": read_time(occurred_at), "data": data}
    if event["occurred_at"] is None:
        event["unreadable"] = f"its occurred_at {occurred_at!r} is not a time"
    return event


def _with_events(rows: Any, events: dict[int, dict[str, Any]]) -> list[Claimed]:
    missing = {"source": "?", "key": "?", "type": "?", "occurred_at": None, "data": "",
               "unreadable": "its event row is gone"}
    return [Claimed(pk, event_pk, plugin, hook, attempts, events.get(event_pk, missing),
                    bool(undone))
            for pk, event_pk, plugin, hook, attempts, undone in sorted(rows)]


def _claim_any(conn: Connection, owner: str, limit: int, now: datetime,
               lease_until: datetime, skip: list[str]) -> list[Claimed]:
    if conn.dialect.name == "sqlite":
        return _claim_sqlite(conn, owner, limit, now, lease_until, skip)
    rows = conn.execute(_CLAIM, {"b_now": now, "b_limit": limit, "b_owner": owner,
                                 "b_skip": skip, "b_lease_until": lease_until}).all()
    if not rows:
        return []
    events = {row[0]: _event(*row) for row in conn.execute(
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
    return hub.writer.write(  # type: ignore[no-any-return]
        lambda conn: _claim_any(conn, owner, limit, now, lease_until, skipped))


def heartbeat(hub: Hub, owner: str) -> int:
    """Extend the leases this process holds; returns how many."""
    now = utcnow()
    count: int = hub.writer.write(lambda conn: conn.execute(
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

    count: int = hub.writer.write(take_back)
    if count:
        log.warning("reclaimed %d deliveries from stopped workers", count)
    return count
