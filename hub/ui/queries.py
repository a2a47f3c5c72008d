"""The reads behind the pages: each plugin's health, and events with their deliveries.

All in read-only transactions (``reading``), so a page view never queues behind the writer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import DELIVERIES, EVENTS, OCCURRED_AT, RECEIVED_AT, derive_status, read_time

PAGE_SIZE = 25
NEEDS_ATTENTION = ("dead", "waiting")


@dataclass
class Health:
    dead: int = 0
    waiting: int = 0
    retrying: int = 0
    done: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def troubled(self) -> bool:
        return bool(self.dead or self.waiting or self.retrying)


def plugin_health(hub: Hub) -> dict[str, Health]:
    """Per plugin: deliveries parked, waiting, being retried, done; its newest unresolved error."""
    out: dict[str, Health] = {}
    retrying = and_(DELIVERIES.c.status == "pending", DELIVERIES.c.last_error.is_not(None))
    unresolved = or_(DELIVERIES.c.status.in_(NEEDS_ATTENTION), retrying)
    with reading(hub.engine) as conn:
        counts = conn.execute(
            select(DELIVERIES.c.plugin, DELIVERIES.c.status,
                   (DELIVERIES.c.last_error.is_not(None)).label("erred"), func.count())
            .group_by(DELIVERIES.c.plugin, DELIVERIES.c.status, "erred")
        ).all()
        newest = (
            select(DELIVERIES.c.plugin, func.max(DELIVERIES.c.pk).label("pk"))
            .where(unresolved).group_by(DELIVERIES.c.plugin).subquery()
        )
        errors = conn.execute(
            select(DELIVERIES.c.plugin, DELIVERIES.c.last_error, DELIVERIES.c.updated_at)
            .join(newest, newest.c.pk == DELIVERIES.c.pk)
        ).all()
    for plugin, status, erred, count in counts:
        health = out.setdefault(plugin, Health())
        if status == "dead":
            health.dead += count
        elif status == "waiting":
            health.waiting += count
        elif status == "pending" and erred:
            health.retrying += count
        elif status in ("done", "skipped"):
            health.done += count
    for plugin, error, at in errors:
        health = out.setdefault(plugin, Health())
        health.last_error, health.last_error_at = error, at
    return out


@dataclass
class Filters:
    about: str = ""  # a customer or invoice: "INV-7", or a whole subject "invoice:INV-7"
    q: str = ""  # part of an event id
    status: str = ""  # "attention" (dead or waiting), or one delivery status
    plugin: str = ""

    def active(self) -> bool:
        return bool(self.about or self.q or self.status or self.plugin)

    def args(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass
class EventRow:
    pk: int
    key: str
    source: str
    type: str
    subject: str | None
    occurred_at: datetime | None  # None: the row holds something that is not a time
    received_at: datetime | None
    data: Any = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.deliveries:
            return "done"
        return derive_status([(d["status"], d["last_error"]) for d in self.deliveries])


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that matches itself literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    about = filters.about.strip()
    if about:
        if ":" in about:
            where.append(EVENTS.c.subject == about)
        else:
            # "INV-7" finds invoice:INV-7 (and a contact, payment or booking with that id);
            # "c-1" also finds that customer's invoices and payments, which name the contact
            # inside their data. A scan of the data column: fine for one business's events.
            inside = '"external_id":' + json.dumps(about)
            where.append(or_(EVENTS.c.subject.like("%:" + _like(about), escape="\\"),
                             EVENTS.c.data.like("%" + _like(inside) + "%", escape="\\")))
    if filters.q.strip():
        where.append(EVENTS.c.key.like("%" + _like(filters.q.strip()) + "%", escape="\\"))
    delivery: list[ColumnElement[bool]] = []
    if filters.status == "attention":
        delivery.append(DELIVERIES.c.status.in_(NEEDS_ATTENTION))
    elif filters.status:
        delivery.append(DELIVERIES.c.status == filters.status)
    if filters.plugin:
        delivery.append(DELIVERIES.c.plugin == filters.plugin)
    if delivery:
        where.append(exists().where(DELIVERIES.c.event_pk == EVENTS.c.pk, *delivery))
    return where


def _row(r: Any) -> EventRow:
    return EventRow(pk=r.pk, key=r.key, source=r.source, type=r.type, subject=r.subject,
                    occurred_at=read_time(r.occurred_at), received_at=read_time(r.received_at))


def list_events(hub: Hub, filters: Filters, page: int) -> tuple[list[EventRow], int]:
    """One page of events, newest first, each with its deliveries; and how many match in all."""
    where = _conditions(filters)
    with reading(hub.engine) as conn:
        total = conn.execute(select(func.count()).select_from(EVENTS).where(*where)).scalar_one()
        rows = conn.execute(
            select(EVENTS.c.pk, EVENTS.c.key, EVENTS.c.source, EVENTS.c.type, EVENTS.c.subject,
                   OCCURRED_AT, RECEIVED_AT)
            .where(*where).order_by(EVENTS.c.pk.desc())
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        ).all()
        events = [_row(r) for r in rows]
        _attach_deliveries(conn, events)
    return events, int(total)


def _attach_deliveries(conn: Any, events: list[EventRow]) -> None:
    by_pk = {e.pk: e for e in events}
    if not by_pk:
        return
    for d in conn.execute(
        select(DELIVERIES).where(DELIVERIES.c.event_pk.in_(list(by_pk)))
        .order_by(DELIVERIES.c.pk)
    ).mappings():
        by_pk[d["event_pk"]].deliveries.append(dict(d))


def event_detail(hub: Hub, pk: int) -> EventRow | None:
    with reading(hub.engine) as conn:
        r = conn.execute(
            select(EVENTS.c.pk, EVENTS.c.key, EVENTS.c.source, EVENTS.c.type, EVENTS.c.subject,
                   OCCURRED_AT, RECEIVED_AT, EVENTS.c.data).where(EVENTS.c.pk == pk)).first()
        if r is None:
            return None
        event = _row(r)
        try:
            event.data = json.loads(r.data)
        except ValueError:
            event.data = r.data
        _attach_deliveries(conn, [event])
    return event


def delivery_plugins(hub: Hub) -> list[str]:
    """Every plugin that has deliveries, plus every plugin known now (for the filter list)."""
    with reading(hub.engine) as conn:
        seen = set(conn.execute(select(DELIVERIES.c.plugin).distinct()).scalars())
    return sorted(seen | set(hub.infos))


def stuck_deliveries(hub: Hub, plugin: str) -> list[int]:
    """A plugin's stopped and waiting deliveries, for "Retry all" after the cause is fixed."""
    with reading(hub.engine) as conn:
        return list(conn.execute(
            select(DELIVERIES.c.pk).where(DELIVERIES.c.plugin == plugin,
                                          DELIVERIES.c.status.in_(NEEDS_ATTENTION))
        ).scalars())


def delivery_event(hub: Hub, pk: int) -> tuple[str, str, str] | None:
    """The (source, event id, plugin) of one delivery, or None."""
    with reading(hub.engine) as conn:
        row = conn.execute(
            select(EVENTS.c.source, EVENTS.c.key, DELIVERIES.c.plugin)
            .join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
            .where(DELIVERIES.c.pk == pk)).first()
    return None if row is None else (row.source, row.key, row.plugin)
