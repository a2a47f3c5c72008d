"""The core's tables. Plugins keep their own tables in their own modules and migrations.

Times are naive UTC everywhere (``hub.clock.utcnow``): SQLite has no time zones and mixing
aware and naive values is how off-by-an-hour retries happen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Event(SQLModel, table=True):
    """An event as accepted: from the host (``source == "host"``), a plugin, or the clock."""

    __tablename__ = "hub_event"
    __table_args__ = (UniqueConstraint("source", "key", name="uq_hub_event_source_key"),)

    pk: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    key: str = Field(max_length=300)
    type: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_type=DateTime())
    received_at: datetime = Field(sa_type=DateTime())
    body_hash: str = Field(max_length=64)
    data: str = Field(sa_column=Column(Text, nullable=False))
    subject: str | None = Field(default=None, max_length=300, index=True)


class Delivery(SQLModel, table=True):
    """One event handed to one plugin: retried, leased, parked and retried again on its own."""

    __tablename__ = "hub_delivery"
    __table_args__ = (
        UniqueConstraint("event_pk", "plugin", name="uq_hub_delivery_event_plugin"),
        Index("ix_hub_delivery_due", "status", "next_attempt_at"),
        Index("ix_hub_delivery_order", "plugin", "subject", "status"),
    )

    pk: int | None = Field(default=None, primary_key=True)
    event_pk: int = Field(foreign_key="hub_event.pk", index=True)
    plugin: str = Field(max_length=100)
    hook: str = Field(max_length=100)
    # What the event is about ("invoice:INV-7"): one plugin handles one subject's events in order.
    subject: str | None = Field(default=None, max_length=300)
    # pending | running | done | skipped | waiting | dead
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=DateTime())
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=DateTime())
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    result: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(sa_type=DateTime())


class PluginState(SQLModel, table=True):
    """The operator's switch and settings for one plugin."""

    __tablename__ = "hub_plugin_state"

    name: str = Field(primary_key=True, max_length=100)
    enabled: bool
    settings: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=DateTime())


class Meta(SQLModel, table=True):
    """Small facts the hub keeps about itself (a settings version, cursors)."""

    __tablename__ = "hub_meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Undone(SQLModel, table=True):
    """A subject the operator took back from one plugin ("Undo in QuickBooks"): that plugin's
    later deliveries about it are skipped until the operator retries one (``hub.undo``)."""

    __tablename__ = "hub_undone"

    plugin: str = Field(primary_key=True, max_length=100)
    subject: str = Field(primary_key=True, max_length=300)
    undo_event_pk: int = Field(foreign_key="hub_event.pk")
    undone_at: datetime = Field(sa_type=DateTime())
