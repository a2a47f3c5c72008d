"""Reading and writing the host ↔ QuickBooks links."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from hub.clock import utcnow
from hub.db import reading
from plugins.quickbooks.models import QboLink

if TYPE_CHECKING:
    from hub.hub import Hub

TABLE = QboLink.__table__


def get(hub: Hub, kind: str, external_id: str) -> dict[str, Any] | None:
    with reading(hub.engine) as conn:
        found = conn.execute(select(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.external_id == external_id)).mappings().first()
    return dict(found) if found else None


def by_qbo_id(hub: Hub, kind: str, qbo_id: str) -> dict[str, Any] | None:
    with reading(hub.engine) as conn:
        found = conn.execute(select(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.qbo_id == qbo_id)).mappings().first()
    return dict(found) if found else None


def put(hub: Hub, kind: str, external_id: str, qbo_id: str, *, sync_token: str | None,
        digest: str | None, origin: str = "host") -> None:
    values = dict(qbo_id=qbo_id, sync_token=sync_token, digest=digest, origin=origin,
                  updated_at=utcnow())

    def write(conn: Connection) -> None:
        changed = conn.execute(update(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.external_id == external_id).values(**values)).rowcount
        if not changed:
            conn.execute(insert(TABLE).values(kind=kind, external_id=external_id, **values))

    hub.write(write)
