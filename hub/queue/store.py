"""Accepting events durably, and reading their state back.

An event and its deliveries are written in one transaction; the caller answers only after it
commits. The (source, key) pair is unique, so a replayed key finds the first event instead of
making a second.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel
from sqlalchemy import Connection, Text, bindparam, cast, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.clock import iso, utcnow
from hub.queue.tables import Delivery, Event, Undone

EVENTS = Event.__table__  # type: ignore[attr-defined]
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
UNDONE = Undone.__table__  # type: ignore[attr-defined]


# An event's times read as text and parsed by read_time: a row holding a time no datetime can
# hold (written by hand, or by a release that let a year 11 in) must not stop every read of the
# table, only be shown as unknown and its deliveries parked.
OCCURRED_AT = cast(EVENTS.c.occurred_at, Text).label("occurred_at")
RECEIVED_AT = cast(EVENTS.c.received_at, Text).label("received_at")


def read_time(value: Any) -> datetime | None:
    """A stored time as naive UTC; None when the row holds something that is not one."""
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_hash(body: Any) -> str:
    # surrogatepass: a lone surrogate ("\ud800") is valid JSON; the hash must not fail on it.
    return hashlib.sha256(_CANONICAL.encode(body).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Accepted:
    pk: int
    created: bool
    body_hash: str
    received_at: datetime | None = None
    plugins: tuple[str, ...] = ()


# Built once: constructing a statement costs more than running it on the accept path.
_INSERT_EVENT = {
    "postgresql": postgresql.insert(EVENTS).on_conflict_do_nothing(
        constraint="uq_hub_event_source_key").returning(EVENTS.c.pk),
    "sqlite": sqlite.insert(EVENTS).on_conflict_do_nothing(
        index_elements=["source", "key"]).returning(EVENTS.c.pk),
}
_INSERT_DELIVERY = insert(DELIVERIES)
_FIND_EVENT = select(EVENTS.c.pk, EVENTS.c.body_hash).where(
    EVENTS.c.source == bindparam("s"), EVENTS.c.key == bindparam("k"))


def _insert_ignoring_duplicate(conn: Connection, values: dict[str, Any]) -> int | None:
    return conn.execute(_INSERT_EVENT[conn.dialect.name], values).scalar()


# The same three statements again, for SQLite, straight to the driver: they run in the one
# writer thread, where every microsecond is paid by every request. What the second copy buys,
# measured on the 2-core machine (2026-12-03, 4,000 events with two deliveries each, three
# runs): 37-46 µs an event through the driver, 138-174 µs through SQLAlchemy's execution
# layer. PostgreSQL, with many writers, keeps the one above. Times are stored in SQLAlchemy's
# format, so either copy reads what the other wrote.
_SQLITE_INSERT_EVENT = (
    "INSERT INTO hub_event (source, key, type, occurred_at, received_at, body_hash, data, "
    "subject) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, key) DO NOTHING RETURNING pk")
_SQLITE_FIND_EVENT = "SELECT pk, body_hash FROM hub_event WHERE source = ? AND key = ?"
_SQLITE_INSERT_DELIVERY = (
    "INSERT INTO hub_delivery (event_pk, plugin, hook, subject, status, attempts, "
    "next_attempt_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)")


def sqlite_time(value: datetime) -> str:
    # Not strftime: its %Y writes the year 11 as "11", which nothing reads back as a date.
    return value.isoformat(sep=" ", timespec="microseconds")


def _accept_sqlite(conn: Connection, source: str, key: str, type: str, occurred_at: datetime,
                   data: str, digest: str, subject: str | None, hook: str,
                   plugins: list[str], now: datetime) -> Accepted:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        stamp = sqlite_time(now)
        cursor.execute(_SQLITE_INSERT_EVENT, (source, key, type, sqlite_time(occurred_at),
                                              stamp, digest, data, subject))
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_SQLITE_FIND_EVENT, (source, key))
            found = cursor.fetchone()
            assert found is not None  # the insert was ignored: the row is there
            return Accepted(found[0], False, found[1])
        cursor.executemany(_SQLITE_INSERT_DELIVERY,
                           [(row[0], p, hook, subject, stamp, stamp) for p in plugins])
        return Accepted(row[0], True, digest, now, tuple(plugins))
    finally:
        cursor.close()


def subject_of(event_type: str, external_id: str | None) -> str | None:
    """What an event is about, for ordering: ``invoice:INV-7``, ``contact:c-12``."""
    if not external_id:
        return None
    return f"{event_type.split('.')[0]}:{external_id}"


def host_event(event_id: str, event_type: str, occurred_at: datetime, data: BaseModel,
               digest: str, hook: str, plugins: list[str]) -> Callable[[Connection], Accepted]:
    """The host's event and its deliveries to ``plugins``, as the writer inserts them.

    Serialized here, by pydantic's own serializer, so the one writer thread only inserts. A
    partial, not a closure: the writer runs ``accept_in`` itself, so an event's path goes from
    the writer to the store and nowhere else."""
    return partial(
        accept_in, source="host", key=event_id, type=event_type, occurred_at=occurred_at,
        data=data.model_dump_json(exclude_none=True), digest=digest,
        subject=subject_of(event_type, getattr(data, "external_id", None)), hook=hook,
        plugins=plugins)


def accept_in(
    conn: Connection, *, source: str, key: str, type: str, occurred_at: datetime,
    data: dict[str, Any] | str, digest: str, subject: str | None, hook: str,
    plugins: list[str],
) -> Accepted:
    """Store an event and one delivery per plugin in the caller's transaction; ``data`` is
    the event's value as a dict, or already as JSON text."""
    now = utcnow()
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    if conn.dialect.name == "sqlite":
        return _accept_sqlite(conn, source, key, type, occurred_at, text, digest, subject,
                              hook, plugins, now)
    pk = _insert_ignoring_duplicate(conn, dict(
        source=source, key=key, type=type, occurred_at=occurred_at, received_at=now,
        body_hash=digest, data=text, subject=subject,
    ))
    if pk is None:
        row = conn.execute(_FIND_EVENT, {"s": source, "k": key}).one()
        return Accepted(row.pk, False, row.body_hash)
    if plugins:
        conn.execute(_INSERT_DELIVERY, [
            dict(event_pk=pk, plugin=p, hook=hook, subject=subject, status="pending",
                 attempts=0, next_attempt_at=now, updated_at=now)
            for p in plugins
        ])
    return Accepted(pk, True, digest, now, tuple(plugins))


def derive_status(statuses: list[tuple[str, str | None]]) -> str:
    """An event's status from its deliveries' (status, last_error) pairs, as the contract says."""
    if any(s == "dead" for s, _ in statuses):
        return "dead"
    if all(s in ("done", "skipped") for s, _ in statuses):
        return "done"
    if any(err for s, err in statuses if s not in ("done", "skipped")):
        return "failed"
    return "pending"


def event_location(key: str) -> str:
    """Where ``GET`` finds an event: host ids may hold '#', '?', '%' or '/', all quoted."""
    return "/api/v1/events/" + quote(key, safe="")


def new_event_view(key: str, event_type: str, occurred_at: datetime,
                   accepted: Accepted) -> dict[str, Any]:
    """What ``event_view`` would read back for an event just accepted, without reading."""
    return {
        "id": key, "type": event_type, "occurred_at": iso(occurred_at),
        "received_at": iso(accepted.received_at or occurred_at),
        "status": "pending" if accepted.plugins else "done",
        "deliveries": [{"plugin": p, "status": "pending", "attempts": 0, "last_error": None,
                        "result": None, "next_attempt_at": iso(accepted.received_at
                                                               or occurred_at)}
                       for p in accepted.plugins],
    }


def _iso_or_none(value: Any) -> str | None:
    moment = read_time(value)
    return iso(moment) if moment else None


def host_subjects(conn: Connection, kind: str) -> list[str]:
    """Every subject of ``kind`` (``contact``, ``invoice``...) the host's events have named."""
    prefix = f"{kind}:"
    return list(conn.execute(
        select(EVENTS.c.subject).distinct()
        .where(EVENTS.c.source == "host", EVENTS.c.subject.startswith(prefix, autoescape=True))
        .order_by(EVENTS.c.subject)).scalars())


def last_stated(conn: Connection, subjects: list[str]) -> dict[str, dict[str, Any]]:
    """The host's latest event about each of ``subjects`` (its id, type, time and stored data),
    latest by when it happened, then by arrival; a subject the host never named is left out."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(subjects), 500):  # below every database's bound-parameter limit
        rows = conn.execute(
            select(EVENTS.c.subject, EVENTS.c.key, EVENTS.c.type, OCCURRED_AT, EVENTS.c.data)
            .where(EVENTS.c.source == "host",
                   EVENTS.c.subject.in_(subjects[start:start + 500]))
            .order_by(EVENTS.c.occurred_at, EVENTS.c.pk)).mappings()
        for row in rows:
            found[row["subject"]] = dict(row)
    return found


def event_view(conn: Connection, source: str, key: str) -> dict[str, Any] | None:
    event = conn.execute(
        select(EVENTS.c.pk, EVENTS.c.key, EVENTS.c.type, OCCURRED_AT, RECEIVED_AT)
        .where(EVENTS.c.source == source, EVENTS.c.key == key)
    ).mappings().first()
    if event is None:
        return None
    rows = conn.execute(
        select(DELIVERIES).where(DELIVERIES.c.event_pk == event["pk"]).order_by(DELIVERIES.c.pk)
    ).mappings().all()
    return {
        "id": event["key"],
        "type": event["type"],
        "occurred_at": _iso_or_none(event["occurred_at"]),
        "received_at": _iso_or_none(event["received_at"]),
        "status": derive_status([(r["status"], r["last_error"]) for r in rows]),
        "deliveries": [
            {
                "plugin": r["plugin"],
                "status": r["status"],
                "attempts": r["attempts"],
                "last_error": r["last_error"],
                "result": r["result"],
                "next_attempt_at": iso(r["next_attempt_at"])
                if r["status"] in ("pending", "waiting") else None,
            }
            for r in rows
        ],
    }
