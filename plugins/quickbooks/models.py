"""The QuickBooks plugin's tables: the connection (one company per hub) and OAuth states.

Tokens are stored encrypted (``hub.crypto``); times are naive UTC like the core's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class QboConnection(SQLModel, table=True):
    __tablename__ = "qbo_connection"

    id: int = Field(default=1, primary_key=True)  # one company per hub
    realm_id: str = Field(max_length=40)
    environment: str = Field(max_length=16)
    # connected | needs_reconnect | disconnected
    status: str = Field(max_length=20)
    access_token: str | None = Field(default=None, sa_column=Column(Text))
    refresh_token: str | None = Field(default=None, sa_column=Column(Text))
    access_expires_at: datetime | None = Field(default=None, sa_type=DateTime())
    refresh_expires_at: datetime | None = Field(default=None, sa_type=DateTime())
    refresh_hard_expires_at: datetime | None = Field(default=None, sa_type=DateTime())
    # Set while one process refreshes, so two workers never refresh at once.
    refreshing_until: datetime | None = Field(default=None, sa_type=DateTime())
    last_refresh_at: datetime | None = Field(default=None, sa_type=DateTime())
    connected_at: datetime = Field(sa_type=DateTime())
    last_sync_at: datetime | None = Field(default=None, sa_type=DateTime())
    company: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(sa_type=DateTime())


class QboOAuthState(SQLModel, table=True):
    """A browser connect in flight: the ``state`` sent to Intuit and its PKCE verifier."""

    __tablename__ = "qbo_oauth_state"

    state: str = Field(primary_key=True, max_length=100)
    code_verifier: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=DateTime())


class QboLink(SQLModel, table=True):
    """A host record and the QuickBooks object it became (or came from).

    ``origin`` says which side made it: "host" for what the hub pushed, "qbo" for what was
    imported from QuickBooks — and those are never pushed back. ``digest`` is what was last
    written, so an unchanged contact costs no call at all.
    """

    __tablename__ = "qbo_link"
    __table_args__ = (UniqueConstraint("kind", "external_id", name="uq_qbo_link_kind_external"),
                      Index("ix_qbo_link_qbo", "kind", "qbo_id"))

    pk: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # customer | invoice | payment | sales_receipt | item
    external_id: str = Field(max_length=300)
    qbo_id: str = Field(max_length=40)
    sync_token: str | None = Field(default=None, max_length=20)
    digest: str | None = Field(default=None, max_length=64)
    origin: str = Field(default="host", max_length=8)
    updated_at: datetime = Field(sa_type=DateTime())
