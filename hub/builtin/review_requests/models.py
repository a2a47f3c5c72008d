"""The ``review_request`` table: one row per customer ever asked (or being asked) for a review.

The unique customer key is what makes "never twice" hold across retries, replays, restarts and
several workers: a delivery must win the row before it sends, and only the delivery that won it
ever sends. The table is created by this plugin's own migration branch (``versions/``); this
module only describes it for queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel

# On the hub's one metadata, beside the core's tables, so the check that every migration makes
# the tables the code describes covers this plugin's too.
REVIEW_REQUESTS = Table(
    "review_request", SQLModel.metadata,
    Column("pk", Integer, primary_key=True),
    # The normalized email (see sending.customer_key): the customer, across hosts and QuickBooks.
    Column("customer", String(254), nullable=False),
    # sending: won by a delivery, mail not yet known to be accepted; sent: accepted by the server.
    Column("status", String(16), nullable=False),
    # ctx.idempotency_key of the delivery that won the row: the only one that may send.
    Column("delivery_key", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("event_id", String(300), nullable=False),
    Column("invoice_external_id", String(255), nullable=False),
    Column("invoice_number", String(21)),
    Column("message_id", String(300), nullable=False),
    Column("reserved_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    UniqueConstraint("customer", name="uq_review_request_customer"),
)


@dataclass(frozen=True)
class Request:
    customer: str
    status: str
    delivery_key: str
    source: str
    event_id: str
    invoice_external_id: str
    invoice_number: str | None
    message_id: str
    reserved_at: datetime
    sent_at: datetime | None


def reserve(conn: Connection, wanted: Request) -> Request:
    """Claim the customer for ``wanted.delivery_key`` unless someone has; return the row as it
    now stands. The caller may send only if the returned ``delivery_key`` is its own."""
    values = {name: getattr(wanted, name) for name in Request.__dataclass_fields__}
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(REVIEW_REQUESTS).values(**values)
                     .on_conflict_do_nothing(constraint="uq_review_request_customer"))
    else:
        conn.execute(sqlite.insert(REVIEW_REQUESTS).values(**values)
                     .on_conflict_do_nothing(index_elements=["customer"]))
    found = find(conn, wanted.customer)
    assert found is not None  # inserted now or earlier, and rows are never deleted
    return found


def find(conn: Connection, customer: str) -> Request | None:
    columns = [REVIEW_REQUESTS.c[name] for name in Request.__dataclass_fields__]
    row = conn.execute(
        select(*columns).where(REVIEW_REQUESTS.c.customer == customer)).first()
    return Request(*row) if row else None


def mark_sent(conn: Connection, customer: str, delivery_key: str, sent_at: datetime) -> bool:
    """Record the server's acceptance; False if this delivery does not hold the customer."""
    changed = conn.execute(
        update(REVIEW_REQUESTS)
        .where(REVIEW_REQUESTS.c.customer == customer,
               REVIEW_REQUESTS.c.delivery_key == delivery_key)
        .values(status="sent", sent_at=sent_at)
    ).rowcount
    return bool(changed)


def counts(conn: Connection) -> dict[str, int]:
    """How many customers are in each status, for the operator's card."""
    rows = conn.execute(select(REVIEW_REQUESTS.c.status, func.count())
                        .group_by(REVIEW_REQUESTS.c.status)).all()
    return {status: int(n) for status, n in rows}
