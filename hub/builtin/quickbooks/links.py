"""Reading and writing the host ↔ QuickBooks links."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, case, insert, select, update

from hub.builtin.quickbooks.models import QboLink
from hub.clock import utcnow

if TYPE_CHECKING:
    from hub import Context

TABLE = QboLink.__table__  # type: ignore[attr-defined]


def get(ctx: Context, kind: str, external_id: str) -> dict[str, Any] | None:
    with ctx.reading() as conn:
        found = conn.execute(select(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.external_id == external_id)).mappings().first()
    return dict(found) if found else None


def by_qbo_id(ctx: Context, kind: str, qbo_id: str) -> dict[str, Any] | None:
    with ctx.reading() as conn:
        found = conn.execute(select(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.qbo_id == qbo_id)).mappings().first()
    return dict(found) if found else None


def token(value: Any) -> str | None:
    """A SyncToken as QuickBooks gave it; None when it is not known (a link restored from a
    sweep or a marker, or an answer that carried none). An update must never send None: it is
    refused (2020), so the object is read first."""
    text = None if value is None else str(value)
    return None if text in (None, "", "None") else text


def stale_token(exc: Exception) -> bool:
    """Whether QuickBooks refused a write for its SyncToken: stale (5010), or missing (2020
    naming it). Either is repaired by reading the object once more, never by parking."""
    code = getattr(exc, "code", "")
    said = f"{exc} {getattr(exc, 'detail', '')} {getattr(exc, 'element', '')}"
    return code == "5010" or (code == "2020" and "SyncToken" in said)


def put(ctx: Context, kind: str, external_id: str, qbo_id: str, *, sync_token: str | None,
        digest: str | None, origin: str = "host", balance: str | None = None) -> None:
    values: dict[str, Any] = dict(qbo_id=qbo_id, sync_token=token(sync_token), digest=digest,
                                  origin=origin, voided_at=None, deleted_at=None,
                                  updated_at=utcnow())
    if balance is not None:
        values["balance"] = balance

    def write(conn: Connection) -> None:
        # A merge is remembered while the link still points at the customer it was moved to.
        merged = case((TABLE.c.qbo_id == qbo_id, TABLE.c.merged_from), else_=None)
        changed = conn.execute(update(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.external_id == external_id).values(
            **values, merged_from=merged)).rowcount
        if not changed:
            conn.execute(insert(TABLE).values(kind=kind, external_id=external_id, **values))

    ctx.write(write)


def set_balance(ctx: Context, kind: str, external_id: str, balance: str) -> None:
    ctx.write(lambda conn: conn.execute(update(TABLE).where(
        TABLE.c.kind == kind, TABLE.c.external_id == external_id).values(
        balance=balance, updated_at=utcnow())))


def moved(ctx: Context, kind: str, external_id: str, *, balance: str | None = None) -> None:
    """A write of another object moves this one's version by one: a payment applied to the
    invoice, or deleted from it (Intuit increments the SyncToken on every change, and a payment
    changes the invoice's balance). The link follows, so the sweep does not take the hub's own
    change for news from QuickBooks, nor undo for an edit by hand. ``balance``: the balance
    the sweep is to find unchanged (what QuickBooks owes on it after that write)."""
    def write(conn: Connection) -> None:
        where = (TABLE.c.kind == kind, TABLE.c.external_id == external_id)
        known = conn.execute(select(TABLE.c.sync_token).where(*where)).scalar_one_or_none()
        values: dict[str, Any] = {"updated_at": utcnow()}
        if (now := token(known)) is not None and now.isdigit():
            values["sync_token"] = str(int(now) + 1)
        if balance is not None:
            values["balance"] = balance
        conn.execute(update(TABLE).where(*where).values(**values))

    ctx.write(write)


def older(link: dict[str, Any], qbo: dict[str, Any]) -> bool:
    """Whether ``qbo`` is an older version than the hub's own last write of it (a change feed
    read while the hub was writing): what it shows, the hub has since changed."""
    known, now = token(link.get("sync_token")), str(qbo.get("SyncToken"))
    return bool(known and known.isdigit() and now.isdigit() and int(now) < int(known))


def mark_deleted(ctx: Context, kind: str, qbo_id: str) -> None:
    """A sweep saw ``qbo_id`` deleted in QuickBooks: the links to it say so until the object is
    made again (``put`` links the new one)."""
    now = utcnow()
    ctx.write(lambda conn: conn.execute(update(TABLE).where(
        TABLE.c.kind == kind, TABLE.c.qbo_id == qbo_id, TABLE.c.deleted_at.is_(None)).values(
        deleted_at=now, updated_at=now)))


def mark_voided(ctx: Context, kind: str, external_id: str) -> None:
    """The hub voided it in QuickBooks: a void moves its SyncToken, and it no longer holds what
    was written (QuickBooks zeroes its lines), so both are forgotten."""
    now = utcnow()
    ctx.write(lambda conn: conn.execute(update(TABLE).where(
        TABLE.c.kind == kind, TABLE.c.external_id == external_id).values(
        sync_token=None, digest=None, voided_at=now, updated_at=now)))


MARKER = "ledgerline:"


def marker(external_id: str) -> str:
    """Written into what the hub creates, so a sweep recognises the hub's own objects even
    when their link was never saved (the process died between the create and the link)."""
    return f"{MARKER}{external_id}"


def marked(text: str | None) -> str | None:
    """The host external_id a marker names, if ``text`` starts with one."""
    if text and text.startswith(MARKER):
        return text[len(MARKER):].split(" ", 1)[0].split("\n", 1)[0] or None
    return None


def relink(ctx: Context, kind: str, gone: str, kept: str) -> int:
    """Point every link to QuickBooks object ``gone`` at ``kept`` instead (a customer merged
    into another): the host's ids stay, nothing is created. Its version is unknown, so the next
    write reads it first; with no digest, the host's next word on it is written. Returns how
    many links moved; 0 for a merge already followed."""
    return int(ctx.write(lambda conn: conn.execute(update(TABLE).where(
        TABLE.c.kind == kind, TABLE.c.qbo_id == gone).values(
        qbo_id=kept, sync_token=None, digest=None, merged_from=gone,
        updated_at=utcnow())).rowcount))


def sharing(ctx: Context, kind: str, qbo_id: str, but: set[str]) -> list[dict[str, Any]]:
    """The links other than ``but`` (host ids) to the same QuickBooks object, oldest first."""
    with ctx.reading() as conn:
        return [dict(r) for r in conn.execute(select(TABLE).where(
            TABLE.c.kind == kind, TABLE.c.qbo_id == qbo_id,
            TABLE.c.external_id.not_in(but)).order_by(TABLE.c.pk)).mappings()]
