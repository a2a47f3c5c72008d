"""Accepting events durably, and reading their state back.

An event and its deliveries are written in one transaction; the caller answers only after it
commits. The (source, key) pair is unique, so a replayed key finds the first event instead of
making a second.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from hub.clock import iso, utcnow
from hub.tables import Delivery, Event

EVENTS = Event.__table__
DELIVERIES = Delivery.__table__


def body_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Accepted:
    pk: int
    created: bool
    body_hash: str


def _insert_ignoring_duplicate(conn: Connection, values: dict[str, Any]) -> int | None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(EVENTS).on_conflict_do_nothing(
            constraint="uq_hub_event_source_key")
    elif dialect == "sqlite":
        stmt = sqlite.insert(EVENTS).on_conflict_do_nothing(index_elements=["source", "key"])
    else:  # pragma: no cover - only the two supported databases
        stmt = insert(EVENTS)
    return conn.execute(stmt.values(**values).returning(EVENTS.c.pk)).scalar()


def accept(engine: Engine, **kwargs: Any) -> Accepted:
    with engine.begin() as conn:
        return accept_in(conn, **kwargs)


def accept_in(
    conn: Connection, *, source: str, key: str, type: str, occurred_at: datetime,
    data: dict[str, Any], digest: str, subject: str | None, hook: str, plugins: list[str],
) -> Accepted:
    """Store an event and one delivery per plugin in the caller's transaction."""
    now = utcnow()
    pk = _insert_ignoring_duplicate(conn, dict(
        source=source, key=key, type=type, occurred_at=occurred_at, received_at=now,
        body_hash=digest, data=json.dumps(data, separators=(",", ":")), subject=subject,
    ))
    if pk is None:
        row = conn.execute(
            select(EVENTS.c.pk, EVENTS.c.body_hash)
            .where(EVENTS.c.source == source, EVENTS.c.key == key)
        ).one()
        return Accepted(row.pk, False, row.body_hash)
    if plugins:
        conn.execute(insert(DELIVERIES), [
            dict(event_pk=pk, plugin=p, hook=hook, subject=subject, status="pending",
                 attempts=0, next_attempt_at=now, updated_at=now)
            for p in plugins
        ])
    return Accepted(pk, True, digest)


def derive_status(statuses: list[tuple[str, str | None]]) -> str:
    """An event's status from its deliveries' (status, last_error) pairs, as the contract says."""
    if any(s == "dead" for s, _ in statuses):
        return "dead"
    if all(s in ("done", "skipped") for s, _ in statuses):
        return "done"
    if any(err for s, err in statuses if s not in ("done", "skipped")):
        return "failed"
    return "pending"


def event_view(conn: Connection, source: str, key: str) -> dict[str, Any] | None:
    event = conn.execute(
        select(EVENTS).where(EVENTS.c.source == source, EVENTS.c.key == key)
    ).mappings().first()
    if event is None:
        return None
    rows = conn.execute(
        select(DELIVERIES).where(DELIVERIES.c.event_pk == event["pk"]).order_by(DELIVERIES.c.pk)
    ).mappings().all()
    return {
        "id": event["key"],
        "type": event["type"],
        "occurred_at": iso(event["occurred_at"]),
        "received_at": iso(event["received_at"]),
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
