"""The QuickBooks connection: connect, stay connected, disconnect cleanly.

What other integrations got wrong, and how this avoids it:
- ``invalid_grant`` "twice a week" came from rotated refresh tokens not saved, or two refreshes
  racing. Here a refresh is taken under a lease on the connection row (one process at a time,
  on SQLite and PostgreSQL alike), and the rotated token is written the moment it arrives. If
  the process dies in between, Intuit keeps the previous refresh token valid for 24 hours, so
  the next refresh still works.
- The access token is refreshed in the background before it expires, never per request.
- The lease fences the refresh's writes: its value (``refreshing_until``) is the refresh's
  token, and the final write (the new tokens) happens only while the row still holds that
  value and says "connected". A refresh finishing after Disconnect, after a reconnect, or
  after its lease ran out and another refresh took over writes nothing back. ``hub keys
  rotate`` takes the same lease: it re-encrypts only while no refresh holds it.
- A refused refresh turns the connection to "needs reconnect": deliveries wait (``Hold``), the
  host is told once, and reconnecting releases them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from hub.builtin.quickbooks import client, oauth
from hub.builtin.quickbooks.models import QboConnection
from hub.clock import iso, utcnow
from hub.errors import Hold, RetryLater, Skip

if TYPE_CHECKING:
    from hub import Context

log = logging.getLogger("hub.quickbooks")
TABLE = QboConnection.__table__  # type: ignore[attr-defined]
REFRESH_AHEAD = timedelta(minutes=15)  # refresh when the access token has less than this left
REFRESH_AT_LEAST = timedelta(hours=24)  # and at least daily, so the 100-day window rolls on
LEASE = timedelta(seconds=60)
WARN_AHEAD = timedelta(days=14)
PLUGIN = "quickbooks"


@dataclass(frozen=True)
class Access:
    """What an API call needs."""

    realm_id: str
    environment: str
    access_token: str
    company: dict[str, Any]


_ROW = select(TABLE).where(TABLE.c.id == 1)


def row(ctx: Context) -> dict[str, Any] | None:
    with ctx.reading() as conn:
        found = conn.execute(_ROW).mappings().first()
    return dict(found) if found else None


def save_connection(ctx: Context, realm_id: str, environment: str, tokens: oauth.Tokens,
                    company: dict[str, Any]) -> None:
    """Store a new or renewed connection and release the deliveries that waited for it."""
    now = utcnow()
    values = dict(
        realm_id=realm_id, environment=environment, status="connected",
        access_token=ctx.encrypt(tokens.access_token),
        refresh_token=ctx.encrypt(tokens.refresh_token),
        access_expires_at=tokens.access_expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        refresh_hard_expires_at=tokens.refresh_hard_expires_at,
        refreshing_until=None, last_refresh_at=now, connected_at=now,
        company=json.dumps({**company, "read_at": now.isoformat()}), last_error=None,
        updated_at=now,
    )

    def write(conn: Connection) -> None:
        if conn.execute(update(TABLE).where(TABLE.c.id == 1).values(**values)).rowcount == 0:
            conn.execute(insert(TABLE).values(id=1, **values))

    ctx.write(write)
    released = ctx.release()
    log.info("QuickBooks connected to company %s (%s); %d waiting deliveries released",
             realm_id, environment, released)


def hold_first_import(ctx: Context, held: bool) -> None:
    """Make the first import wait for the operator's go (``held``), or let it run."""
    ctx.write(lambda conn: conn.execute(update(TABLE).where(TABLE.c.id == 1).values(
        first_import="review" if held else None)))


def first_import_held(ctx: Context) -> bool:
    """Whether the first import has yet to run and waits for the operator's go."""
    current = row(ctx)
    return bool(current and current["cdc_cursor"] is None
                and current["first_import"] == "review")


def require(ctx: Context) -> dict[str, Any]:
    """The connection, or the right outcome for a delivery that needs one."""
    current = row(ctx)
    if current is None or current["status"] == "disconnected":
        raise Skip("QuickBooks is not connected: connect it on the Integrations page or with "
                   "`hub quickbooks connect`")
    if current["status"] == "needs_reconnect":
        raise Hold("QuickBooks needs reconnecting (the connection was refused: "
                   f"{current['last_error']}); click Reconnect on the Integrations page")
    return current


def access(ctx: Context) -> Access:
    """A valid access token for an API call, refreshing first if it is about to lapse."""
    current = require(ctx)
    if current["access_expires_at"] is None or \
            current["access_expires_at"] - utcnow() < timedelta(minutes=2):
        outcome = refresh(ctx, force=True)
        if outcome == "busy":
            raise RetryLater("another worker is refreshing the QuickBooks token",
                             timedelta(seconds=5))
        current = require(ctx)
    return Access(current["realm_id"], current["environment"],
                  ctx.decrypt(current["access_token"]), json.loads(current["company"]))


def refresh(ctx: Context, *, force: bool = False) -> str:
    """Refresh the access token when due (or ``force``): 'refreshed', 'fresh', 'busy' or
    'refused'. One process at a time per company, whatever the number of workers."""
    now = utcnow()
    current = require(ctx)
    due = (current["access_expires_at"] is None
           or current["access_expires_at"] - now < REFRESH_AHEAD
           or current["last_refresh_at"] is None
           or now - current["last_refresh_at"] > REFRESH_AT_LEAST)
    if not (due or force):
        return "fresh"
    lease = now + LEASE
    taken = ctx.write(lambda conn: conn.execute(
        update(TABLE)
        .where(TABLE.c.id == 1, TABLE.c.status == "connected",
               (TABLE.c.refreshing_until.is_(None)) | (TABLE.c.refreshing_until < now),
               TABLE.c.updated_at == current["updated_at"])
        .values(refreshing_until=lease)
    ).rowcount)
    if not taken:
        return "busy"
    old = ctx.decrypt(current["refresh_token"])
    try:
        tokens = oauth.refresh(ctx.config, current["environment"], old, memory=ctx.memory)
    except oauth.OAuthFailure as exc:
        if exc.code == "invalid_grant":
            if needs_reconnect(ctx, f"Intuit refused the refresh token ({exc})", lease=lease):
                return "refused"
            return _superseded()
        _release_lease(ctx, str(exc), lease)
        raise RetryLater(f"could not refresh the QuickBooks token: {exc}") from None
    done = utcnow()
    written = ctx.write(lambda conn: conn.execute(update(TABLE).where(_holding(lease)).values(
        access_token=ctx.encrypt(tokens.access_token),
        refresh_token=ctx.encrypt(tokens.refresh_token),
        access_expires_at=tokens.access_expires_at,
        refresh_expires_at=tokens.refresh_expires_at or current["refresh_expires_at"],
        refresh_hard_expires_at=tokens.refresh_hard_expires_at
        or current["refresh_hard_expires_at"],
        refreshing_until=None, last_refresh_at=done, last_error=None, updated_at=done)
    ).rowcount)
    return "refreshed" if written else _superseded()


def _holding(lease: datetime) -> Any:
    """The fence of a refresh's writes: the row still holds this refresh's lease and is
    connected (Disconnect, a reconnect or a refresh that took an expired lease over each
    changed ``refreshing_until``)."""
    return and_(TABLE.c.id == 1, TABLE.c.status == "connected",
                TABLE.c.refreshing_until == lease)


def _superseded() -> str:
    log.warning("a QuickBooks token refresh finished after the connection changed under it "
                "(disconnected, reconnected, or its lease ran out and another refresh took "
                "over); it wrote nothing back")
    return "superseded"


COMPANY_EVERY = timedelta(hours=24)


def refresh_company(ctx: Context, force: bool = False) -> bool:
    """Read the company's facts again when a day old: preferences change (multicurrency turned
    on, discounts allowed) and the sync must follow. Returns whether they were read."""
    from hub.builtin.quickbooks.company import read_company

    current = require(ctx)
    facts = json.loads(current["company"])
    read_at = facts.get("read_at")
    if not force and read_at and utcnow() - datetime.fromisoformat(read_at) < COMPANY_EVERY:
        return False
    now_access = access(ctx)
    fresh = read_company(ctx.config, current["environment"], current["realm_id"],
                         now_access.access_token, ctx)
    fresh["read_at"] = utcnow().isoformat()
    ctx.write(lambda conn: conn.execute(update(TABLE).where(TABLE.c.id == 1).values(
        company=json.dumps(fresh), updated_at=utcnow())))
    return True


def _release_lease(ctx: Context, error: str, lease: datetime) -> None:
    ctx.write(lambda conn: conn.execute(update(TABLE).where(_holding(lease)).values(
        refreshing_until=None, last_error=error, updated_at=utcnow())))


def needs_reconnect(ctx: Context, error: str, lease: datetime | None = None) -> bool:
    """The grant is gone: stop calling QuickBooks, hold its work, tell the host once. With
    the ``lease`` of the refresh that found out, only while that refresh still holds it (a
    refusal of a token Disconnect revoked meanwhile is no news). Returns whether it did."""
    current = row(ctx)
    if current is None:
        return False
    now = utcnow()
    fence = _holding(lease) if lease is not None else TABLE.c.id == 1
    changed = ctx.write(lambda conn: conn.execute(update(TABLE).where(fence).values(
        status="needs_reconnect", access_token=None, refresh_token=None,
        refreshing_until=None, last_error=error, updated_at=now)).rowcount)
    if not changed:
        return False
    log.error("QuickBooks needs reconnecting: %s", error)
    ctx.notify_host("sync.failed", {
        "event": None, "plugin": PLUGIN, "attempts": 0, "failed_at": iso(now),
        "error": f"QuickBooks needs reconnecting: {error}. Work waits until an operator "
                 "reconnects.",
    }, key=f"needs-reconnect:{iso(current['connected_at'])}")
    return True


def disconnect(ctx: Context) -> str:
    """Revoke at Intuit and delete the tokens here at once; returns what happened."""
    current = row(ctx)
    if current is None or current["status"] == "disconnected":
        return "QuickBooks was not connected"
    note = "tokens revoked at Intuit and deleted here"
    token = current["refresh_token"] and ctx.decrypt(current["refresh_token"])
    if token:
        try:
            oauth.revoke(ctx.config, current["environment"], token, memory=ctx.memory)
        except oauth.OAuthFailure as exc:
            note = (f"tokens deleted here, but Intuit could not revoke them ({exc}); remove "
                    "the app under Apps → Manage in QuickBooks to be sure")
    ctx.write(lambda conn: conn.execute(update(TABLE).where(TABLE.c.id == 1).values(
        status="disconnected", access_token=None, refresh_token=None, refreshing_until=None,
        access_expires_at=None, refresh_expires_at=None, refresh_hard_expires_at=None,
        last_error=None, updated_at=utcnow())))
    client.close_sessions(ctx)
    return f"QuickBooks disconnected: {note}. What was synced stays in QuickBooks."


def status(ctx: Context) -> dict[str, Any]:
    """Everything the operator is shown: state, company, expiries, warnings."""
    current = row(ctx)
    if current is None:
        return {"status": "not_connected", "warnings": []}
    now = utcnow()
    warnings = []
    for label, at in (("refresh token (100 days unused)", current["refresh_expires_at"]),
                      ("refresh token (5-year limit)", current["refresh_hard_expires_at"])):
        if at is not None and current["status"] == "connected" and at - now < WARN_AHEAD:
            warnings.append(f"the {label} lapses on {at:%Y-%m-%d}: reconnect before then")
    company = json.loads(current["company"])
    return {
        "status": current["status"], "realm_id": current["realm_id"],
        "environment": current["environment"], "company_name": company.get("name"),
        "company": company, "connected_at": current["connected_at"],
        "access_expires_at": current["access_expires_at"],
        "refresh_expires_at": current["refresh_expires_at"],
        "refresh_hard_expires_at": current["refresh_hard_expires_at"],
        "last_refresh_at": current["last_refresh_at"], "last_sync_at": current["last_sync_at"],
        "last_error": current["last_error"], "warnings": warnings,
    }


def take_state(ctx: Context, state: str, max_age: timedelta = timedelta(minutes=15)) -> str | None:
    """The PKCE verifier of a connect this hub started, once; None when forged or stale."""
    from hub.builtin.quickbooks.models import QboOAuthState

    # The states this hub makes are URL-safe tokens: anything else is forged, and is not sent
    # to the database (PostgreSQL refuses a NUL in text: the callback was a 500).
    if not state or len(state) > 200 or not state.isascii() or not state.isprintable():
        return None

    states = QboOAuthState.__table__  # type: ignore[attr-defined]

    def take(conn: Connection) -> str | None:
        found = conn.execute(select(states).where(states.c.state == state)).mappings().first()
        conn.execute(delete(states).where(states.c.created_at < utcnow() - max_age))
        if found is None or found["created_at"] < utcnow() - max_age:
            return None
        conn.execute(delete(states).where(states.c.state == state))
        return str(found["code_verifier"])

    verifier = ctx.write(take)
    return ctx.decrypt(verifier) if verifier else None


def remember_state(ctx: Context, state: str, verifier: str) -> None:
    from hub.builtin.quickbooks.models import QboOAuthState

    states = QboOAuthState.__table__  # type: ignore[attr-defined]
    ctx.write(lambda conn: conn.execute(insert(states).values(
        state=state, code_verifier=ctx.encrypt(verifier), created_at=utcnow())))


def reencrypt(ctx: Context, rotate: Any) -> int:
    """Tokens and connect-in-flight verifiers under the newest key (``hub keys rotate``).

    Under the refresh's lease: a refresh in flight would write back tokens encrypted by a
    process that may still have only the old key, over the rotated ones, or the rotation would
    write the old refresh token back over the one Intuit just rotated. So while a refresh holds
    the lease this raises ``RetryLater`` and rotates nothing here; taking it in turn (the
    lease cleared, ``updated_at`` moved) fences out a refresh whose lease had run out."""
    from hub.builtin.quickbooks.models import QboOAuthState

    states = QboOAuthState.__table__  # type: ignore[attr-defined]
    now = utcnow()

    def write(conn: Connection) -> int | None:
        count = 0
        found = conn.execute(select(TABLE).where(TABLE.c.id == 1)).mappings().first()
        if found:
            if found["refreshing_until"] is not None and found["refreshing_until"] >= now:
                return None
            values = {k: rotate(found[k]) for k in ("access_token", "refresh_token")
                      if found[k]}
            free = or_(TABLE.c.refreshing_until.is_(None), TABLE.c.refreshing_until < now)
            if conn.execute(update(TABLE).where(
                    TABLE.c.id == 1, TABLE.c.updated_at == found["updated_at"], free)
                    .values(**values, refreshing_until=None, updated_at=now)).rowcount == 0:
                return None
            count += len(values)
        for state, verifier in conn.execute(select(states.c.state, states.c.code_verifier)):
            conn.execute(update(states).where(states.c.state == state)
                         .values(code_verifier=rotate(verifier)))
            count += 1
        return count

    done = ctx.write(write)
    if done is None:
        raise RetryLater("a QuickBooks token refresh is under way and holds the connection's "
                         "lease (at most a minute): run `hub keys rotate` again then; what "
                         "was re-encrypted so far stays so")
    return int(done)


def expires_in(at: datetime | None) -> str:
    if at is None:
        return "unknown"
    left = at - utcnow()
    if left.total_seconds() < 0:
        return "expired"
    if left > timedelta(days=2):
        return f"{left.days} days"
    return f"{int(left.total_seconds() // 60)} min"
