"""The operator's password, the first visit's setup code, sign-in sessions, and the limit on
wrong guesses.

One operator password guards the whole UI. ``HUB_ADMIN_PASSWORD`` wins when it is set; otherwise
the first visitor sets one, stored only as a scrypt hash in ``hub_meta``. That first visitor
must bring the setup code the web process logs at start (``First visit: …/setup?code=…``), so
reaching the address first is not enough to own the hub.

Sessions are Flask's signed cookies naming a server-side session (a row in ``hub_meta`` under
the hash of its id): signing out deletes the row, so every copy of the cookie ends with it;
``hub admin sign-out-all`` and setting a password delete them all. The cookie also carries a
fingerprint of ``HUB_ADMIN_PASSWORD``, so changing it and restarting signs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from flask import session
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from hub import clock
from hub.config import Config
from hub.errors import ConfigError
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.tables import Meta

PASSWORD_KEY = "ui.password_hash"
SETUP_CODE_PREFIX = "ui.setup_code:"  # + sha256 of the code; the value is when it was issued
SESSION_PREFIX = "ui.session:"  # + sha256 of the session id; the value is the sign-in time
SETUP_CODES_KEPT = 5  # one per web process start; several `hub web` processes each log one
MIN_PASSWORD_LENGTH = 12
SESSION_HOURS = 12  # an operator signs in once a working day, not once a month
# OWASP's Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1. Werkzeug's scrypt method
# is hashlib.scrypt with the memory it needs (128 * N * r bytes: 128 MiB) allowed.
OWASP_SCRYPT = "scrypt:131072:8:1"
HASH_METHOD = OWASP_SCRYPT  # what new hashes are made with; a weaker stored one is replaced
META = Meta.__table__  # type: ignore[attr-defined]

# Each hash takes 128 MiB and about a second of one core: two at a time at most, so a burst of
# sign-in posts (from many addresses, which the limiter does not stop) waits in line instead of
# taking the machine's memory. Per process by design, not per Hub: it guards the machine's
# memory and cores, which two hubs in one process share too.
_HASHING = threading.BoundedSemaphore(2)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the password ---------------------------------------------------------------------------

def check_configured_password(config: Config) -> None:
    """Refuse to start the web UI with an ``HUB_ADMIN_PASSWORD`` too short to be one."""
    configured = config.admin_password
    if configured is not None and len(configured) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"HUB_ADMIN_PASSWORD is {len(configured)} characters long: use at "
                          f"least {MIN_PASSWORD_LENGTH} (a short sentence is easy to remember)")


def stored_hash(hub: Hub) -> str | None:
    with reading(hub.engine) as conn:
        value: str | None = conn.execute(
            select(META.c.value).where(META.c.key == PASSWORD_KEY)).scalar()
    return value


def password_is_set(hub: Hub) -> bool:
    return bool(hub.config.admin_password) or stored_hash(hub) is not None


def password_problem(password: str, confirm: str) -> str | None:
    """Why a new password is refused, in words, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if password != confirm:
        return "The two passwords are not the same. Type them again."
    return None


def _hash(password: str) -> str:
    with _HASHING:
        return generate_password_hash(password, method=HASH_METHOD)


def set_first_password(hub: Hub, password: str, code: str | None = None) -> bool:
    """Store the first password; False when someone else set one first (two first visitors),
    or, given a setup ``code``, when that code is no longer good. Every setup code and every
    session ends with it."""
    if hub.config.admin_password:
        return False
    digest = _hash(password)
    wanted = None if code is None else SETUP_CODE_PREFIX + _sha256(code)

    def store(conn: Connection) -> bool:
        if wanted is not None and conn.execute(
                select(META.c.key).where(META.c.key == wanted)).first() is None:
            return False  # checked inside the write: two posts of one code cannot both pass
        conn.execute(insert(META).values(key=PASSWORD_KEY, value=digest))
        conn.execute(delete(META).where(META.c.key.startswith(SETUP_CODE_PREFIX)))
        conn.execute(delete(META).where(META.c.key.startswith(SESSION_PREFIX)))
        return True

    try:
        stored: bool = hub.write(store)
    except IntegrityError:
        return False
    return stored


def check_password(hub: Hub, given: str) -> bool:
    """Whether ``given`` is the operator password. A stored hash made with weaker parameters
    than ``HASH_METHOD`` (Werkzeug's older defaults) is replaced by a new one on success."""
    configured = hub.config.admin_password
    if configured:
        # Digests of both: compare_digest still tells apart lengths of what it compares.
        return hmac.compare_digest(_sha256(given), _sha256(configured))
    digest = stored_hash(hub)
    if digest is None:
        return False
    with _HASHING:
        right = check_password_hash(digest, given)
    if right and digest.split("$", 1)[0] != HASH_METHOD:
        better = _hash(given)
        hub.write(lambda conn: conn.execute(
            update(META).where(META.c.key == PASSWORD_KEY, META.c.value == digest)
            .values(value=better)))
    return right


# -- the first visit's setup code -----------------------------------------------------------

def issue_setup_code(hub: Hub) -> str:
    """A new code for ``/setup``, kept only as its hash; the newest few stay good (one per web
    process started) until a password is set."""
    code = secrets.token_urlsafe(16)
    now = clock.utcnow().isoformat()

    def store(conn: Connection) -> None:
        conn.execute(insert(META).values(key=SETUP_CODE_PREFIX + _sha256(code), value=now))
        older = conn.execute(
            select(META.c.key).where(META.c.key.startswith(SETUP_CODE_PREFIX))
            .order_by(META.c.value.desc(), META.c.key).offset(SETUP_CODES_KEPT)).scalars().all()
        if older:
            conn.execute(delete(META).where(META.c.key.in_(older)))

    hub.write(store)
    return code


def setup_code_is_good(hub: Hub, code: str | None) -> bool:
    if not code or len(code) > 100:
        return False
    with reading(hub.engine) as conn:
        found = conn.execute(select(META.c.key).where(
            META.c.key == SETUP_CODE_PREFIX + _sha256(code))).first()
    return found is not None


# -- sessions -------------------------------------------------------------------------------

def _fingerprint(hub: Hub) -> str:
    """Changes whenever ``HUB_ADMIN_PASSWORD`` does, without putting anything guessable in the
    cookie. (A stored password is set only by ending every session, so it needs none.)"""
    source = hub.config.admin_password or ""
    key = hub.config.secret_key.encode()
    return hmac.new(key, b"ui-password:" + source.encode(), hashlib.sha256).hexdigest()[:32]


def sign_in(hub: Hub) -> None:
    session.clear()  # a fresh session, and CSRF token, on sign-in: nothing carried over
    session_id = secrets.token_urlsafe(32)
    now = clock.utcnow()
    expired = (now - timedelta(hours=SESSION_HOURS)).isoformat()

    def store(conn: Connection) -> None:
        conn.execute(delete(META).where(META.c.key.startswith(SESSION_PREFIX),
                                        META.c.value < expired))
        conn.execute(insert(META).values(key=SESSION_PREFIX + _sha256(session_id),
                                         value=now.isoformat()))

    hub.write(store)
    session["session_id"] = session_id
    session["operator"] = _fingerprint(hub)
    session["signed_in_at"] = now.isoformat()


def sign_out(hub: Hub) -> None:
    """End this browser's session: its cookie, and every copy of it, opens nothing after."""
    session_id = session.get("session_id")
    if isinstance(session_id, str):
        key = SESSION_PREFIX + _sha256(session_id)
        hub.write(lambda conn: conn.execute(delete(META).where(META.c.key == key)))
    session.clear()


def sign_out_all(hub: Hub) -> int:
    """End every session, in every browser; how many there were."""
    def end(conn: Connection) -> int:
        return int(conn.execute(
            delete(META).where(META.c.key.startswith(SESSION_PREFIX))).rowcount)

    ended: int = hub.write(end)
    return ended


def signed_in(hub: Hub) -> bool:
    fingerprint = session.get("operator")
    started = session.get("signed_in_at")
    session_id = session.get("session_id")
    if not fingerprint or not isinstance(started, str) or not isinstance(session_id, str):
        return False
    try:
        age = clock.utcnow() - datetime.fromisoformat(started)
    except ValueError:
        return False
    if age > timedelta(hours=SESSION_HOURS) or age < -timedelta(minutes=5):
        return False
    if not hmac.compare_digest(str(fingerprint), _fingerprint(hub)):
        return False
    with reading(hub.engine) as conn:
        found: Any = conn.execute(select(META.c.key).where(
            META.c.key == SESSION_PREFIX + _sha256(session_id))).first()
    return found is not None


# -- wrong guesses --------------------------------------------------------------------------

class Limiter:
    """Sign-in attempts per client address: ``limit`` failures in ``window`` lock it out.

    An attempt counts as a failure from the moment it starts (``attempt``), before the password
    is checked, and is forgiven only when it succeeds: parallel posts get ``limit`` guesses, not
    as many as arrive while the first hashes are computed.

    Kept in this process's memory: enough for ``hub serve``; several web processes each count
    their own, and a restart forgets (both only make guessing a few times faster).
    """

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(address, deque())
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def _wait(self, address: str, now: datetime) -> timedelta | None:
        failures = self._recent(address, now)
        if len(failures) < self.limit:
            if not failures:
                self._failures.pop(address, None)  # keep memory bounded by live guessers
            return None
        return failures[0] + self.window - now

    def wait(self, address: str) -> timedelta | None:
        """How long this address must wait before trying again, or None."""
        with self._lock:
            return self._wait(address, clock.utcnow())

    def attempt(self, address: str) -> timedelta | None:
        """Start an attempt: how long to wait if this address may not try now (nothing is
        counted then), else None, and the attempt counts as a failure until ``succeeded``."""
        now = clock.utcnow()
        with self._lock:
            wait = self._wait(address, now)
            if wait is None:
                self._recent(address, now).append(now)
            return wait

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


def minutes_text(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
