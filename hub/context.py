"""What a plugin is handed with each delivery or job: who, which attempt, and the hub's services."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import Engine

if TYPE_CHECKING:
    from hub.hub import Hub


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

    def publish(self, event_type: str, data: BaseModel | dict[str, Any], key: str) -> bool:
        """Hand an event to the *other* plugins, once per ``key``; True when new."""
        return self.hub.publish(self.plugin, event_type, data, key)

    def notify_host(self, message_type: str, data: BaseModel | dict[str, Any], key: str) -> bool:
        """Tell the host application something, once per ``key`` (the message's stable id)."""
        return self.hub.notify_host(self.plugin, message_type, data, key)
