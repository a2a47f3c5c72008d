"""Undo per event: the operator takes back what one plugin's delivery of an event wrote outside
("Undo in QuickBooks" on Activity, ``hub events undo ID``).

An undo is itself an event (source ``operator``), delivered to that one plugin's ``on_undo``
hook like any other: stored before it is answered, retried, shown in Activity, and asked for
once however often the button is pressed (its key names the event and the plugin). It is
delivered after every earlier delivery of the same subject to that plugin, by the ordinary
ordering of claims. When the plugin has taken its writes back, the subject is marked undone for
that plugin (``hub_undone``): its later deliveries about the subject are skipped, saying how to
sync it again, until the operator retries one, which clears the mark.

A plugin that cannot take its writes back (the object was changed by hand since) raises
``Skip`` with the reason: the undo is then recorded as not done, and nothing is marked.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, delete, insert, select, tuple_

from hub.clock import utcnow
from hub.plugins.registry import hookimpl_for
from hub.queue.db import reading
from hub.queue.store import DELIVERIES, EVENTS, UNDONE, accept_in

if TYPE_CHECKING:
    from hub.hub import Hub

#: The stored event type of an undo, and the hook it is delivered to.
UNDO_TYPE = "undo"
UNDO_HOOK = "on_undo"


class Undo(BaseModel):
    """What an ``on_undo`` hook is asked to take back: one plugin's delivery of one event."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    """The id of the event whose delivery is undone, as its sender gave it."""
    event_source: str
    """Who sent that event: ``host`` for the host application's events."""
    event_type: str
    """Its type (``invoice.sent``, ``payment``...)."""
    subject: str
    """What it was about (``invoice:INV-7``): once undone, later deliveries about it are
    skipped."""
    result: str | None
    """What the delivery said it did when it finished, as Activity shows it."""
    data: dict[str, Any]
    """The event's data as it was stored."""
    requested_at: datetime
    """When the operator asked."""


class UndoRefused(Exception):
    """The undo cannot be asked for; ``str(error)`` says why, for the operator."""


def request_undo(hub: Hub, event_id: str, plugin: str, source: str = "host") -> str:
    """Queue the undo of ``plugin``'s delivery of the event; returns what the operator is told.
    Raises ``UndoRefused`` naming the reason when there is nothing it could undo."""
    with reading(hub.engine) as conn:
        event = conn.execute(select(EVENTS).where(EVENTS.c.source == source,
                                                  EVENTS.c.key == event_id)).mappings().first()
        delivery = None if event is None else conn.execute(
            select(DELIVERIES).where(DELIVERIES.c.event_pk == event["pk"],
                                     DELIVERIES.c.plugin == plugin)).mappings().first()
    if event is None:
        raise UndoRefused(f"no event {event_id!r} (see Activity for the ids)")
    if delivery is None:
        raise UndoRefused(f"the {plugin} plugin had no delivery of event {event_id}")
    if hookimpl_for(hub.pm, UNDO_HOOK, plugin) is None:
        raise UndoRefused(f"the {plugin} plugin cannot take back what it writes (it has no "
                          f"{UNDO_HOOK} hook)")
    if delivery["status"] != "done":
        raise UndoRefused(f"only a delivery that finished can be undone; {plugin}'s delivery "
                          f"of {event_id} is {delivery['status']}")
    if not event["subject"]:
        raise UndoRefused(f"event {event_id} names no subject, so there is nothing to take back")
    now = utcnow()
    undo = Undo(event_id=event_id, event_source=source, event_type=event["type"],
                subject=event["subject"], result=delivery["result"],
                data=json.loads(event["data"]), requested_at=now)
    text = undo.model_dump_json()
    accepted = hub.write(lambda conn: accept_in(
        conn, source="operator", key=f"undo:{event['pk']}:{plugin}", type=UNDO_TYPE,
        occurred_at=now, data=text, digest=hashlib.sha256(text.encode()).hexdigest(),
        subject=event["subject"], hook=UNDO_HOOK, plugins=[plugin]))
    if not accepted.created:
        return (f"The undo of {event_id} in {plugin} was already asked for; Activity shows "
                "how it went.")
    hub.wake.set()
    return f"The undo of {event_id} in {plugin} is queued; Activity shows how it goes."


def mark_undone(hub: Hub, plugin: str, subject: str, undo_event_pk: int) -> None:
    """The plugin took back what it wrote about ``subject``: skip its later deliveries."""
    def write(conn: Connection) -> None:
        conn.execute(delete(UNDONE).where(UNDONE.c.plugin == plugin,
                                          UNDONE.c.subject == subject))
        conn.execute(insert(UNDONE).values(plugin=plugin, subject=subject,
                                           undo_event_pk=undo_event_pk, undone_at=utcnow()))
    hub.write(write)


def clear_undone(conn: Connection, delivery_pks: list[int]) -> None:
    """The operator retried these deliveries: their subjects sync again with their plugins."""
    pairs = conn.execute(select(DELIVERIES.c.plugin, DELIVERIES.c.subject).where(
        DELIVERIES.c.pk.in_(delivery_pks), DELIVERIES.c.subject.is_not(None),
        DELIVERIES.c.hook != UNDO_HOOK)).all()
    if pairs:
        conn.execute(delete(UNDONE).where(
            tuple_(UNDONE.c.plugin, UNDONE.c.subject).in_([tuple(p) for p in pairs])))


def skipped_as_undone(conn: Connection, source: str, key: str) -> list[int]:
    """The deliveries of an event that were skipped because their subject was undone."""
    return list(conn.execute(
        select(DELIVERIES.c.pk).join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
        .join(UNDONE, (UNDONE.c.plugin == DELIVERIES.c.plugin)
              & (UNDONE.c.subject == DELIVERIES.c.subject))
        .where(EVENTS.c.source == source, EVENTS.c.key == key,
               DELIVERIES.c.status == "skipped")).scalars())


def undone_note(event_id: str) -> str:
    """What a skipped delivery of an undone subject says."""
    return f"undone by the operator; `hub events retry {event_id}` to sync it again"
