"""What a plugin is handed with each delivery or job: who, which attempt, and the hub's services."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import Engine, update

if TYPE_CHECKING:
    from hub.hub import Hub

from hub.tables import Delivery

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]


def stable_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass
class Context:
    hub: Hub
    plugin: str
    source: str
    event_id: str
    event_type: str
    occurred_at: datetime
    attempt: int = 1
    settings: BaseModel | None = None
    delivery_pk: int | None = None
    notes: list[str] = field(default_factory=list)
    _progress_at: float = -1e9

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this delivery, different for every other delivery."""
        return stable_key(self.source, self.event_id, self.plugin)

    def request_id(self, *parts: str) -> str:
        """An idempotency token for one outside write of this delivery (≤ 50 characters, as
        QuickBooks' ``requestid`` allows). Name the write in ``parts`` when a delivery makes
        several, so each has its own token and each retry repeats the same ones."""
        if not parts:
            return self.idempotency_key
        return hashlib.sha256(
            "\x1f".join((self.idempotency_key, *parts)).encode()
        ).hexdigest()[:40]

    @property
    def engine(self) -> Engine:
        return self.hub.engine

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        return logging.LoggerAdapter(
            logging.getLogger(f"hub.plugin.{self.plugin}"),
            {"event": self.event_id, "attempt": self.attempt},
        )

    def note(self, text: str) -> None:
        """Record what this delivery did (``Invoice 145 created``); the operator sees it."""
        self.notes.append(text)

    def superseded(self) -> bool:
        """A later event about the same subject was already delivered to this plugin: a late
        retry of this one must not undo it."""
        return self.hub.superseded(self.source, self.event_id, self.plugin)

    def tried_before(self) -> bool:
        """This delivery, or this plugin's delivery of an earlier event about the same subject,
        was attempted before: an outside write it made may exist though nothing here says so
        (the process died before recording it). Look before writing again."""
        return self.attempt > 1 or self.hub.tried_before(self.source, self.event_id,
                                                         self.plugin)

    def progress(self, done: int, total: int, what: str) -> None:
        """Show how far long work has come ("importing customers: 1200/5000") on its
        delivery while it runs; written at most once a second, and always at the end."""
        if self.delivery_pk is None:
            return
        now = time.monotonic()
        if done < total and now - self._progress_at < 1.0:
            return
        self._progress_at = now
        text = f"{what}: {done}/{total}"
        pk = self.delivery_pk
        self.hub.write(lambda conn: conn.execute(
            update(DELIVERIES).where(DELIVERIES.c.pk == pk,
                                     DELIVERIES.c.status == "running").values(result=text)))

    def publish(self, event_type: str, data: BaseModel | dict[str, Any], key: str) -> bool:
        """Hand an event to the *other* plugins, once per ``key``; True when new."""
        return self.hub.publish(self.plugin, event_type, data, key)

    def notify_host(self, message_type: str, data: BaseModel | dict[str, Any], key: str) -> bool:
        """Tell the host application something, once per ``key`` (the message's stable id)."""
        return self.hub.notify_host(self.plugin, message_type, data, key)
