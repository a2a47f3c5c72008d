"""The operator's password, sign-in sessions, and the limit on wrong guesses.

One operator password guards the whole UI. ``HUB_ADMIN_PASSWORD`` wins when it is set; otherwise
the first visitor sets one, stored only as a salted hash in ``hub_meta``. Sessions are Flask's
signed cookies: they carry the sign-in time and a fingerprint of the password, so changing the
password signs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import deque
from datetime import datetime, timedelta

from flask import session
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from hub import clock
from hub.db import reading
from hub.hub import Hub
from hub.tables import Meta

PASSWORD_KEY = "ui.password_hash"
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 12  # an operator signs in once a working day, not once a month
META = Meta.__table__  # type: ignore[attr-defined]


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


def set_first_password(hub: Hub, password: str) -> bool:
    """Store the first password; False when someone else set one first (two first visitors)."""
    if hub.config.admin_password:
        return False
    digest = generate_password_hash(password)
    try:
        hub.write(lambda conn: conn.execute(insert(META).values(key=PASSWORD_KEY, value=digest)))
    except IntegrityError:
        return False
    return True


def check_password(hub: Hub, given: str) -> bool:
    configured = hub.config.admin_password
    if configured:
        return hmac.compare_digest(given.encode(), configured.encode())
    digest = stored_hash(hub)
    return digest is not None and check_password_hash(digest, given)


def _fingerprint(hub: Hub) -> str:
    """Changes whenever the password does, without putting anything guessable in the cookie."""
    source = hub.config.admin_password or stored_hash(hub) or ""
    key = hub.config.secret_key.encode()
    return hmac.new(key, b"ui-password:" + source.encode(), hashlib.sha256).hexdigest()[:32]


def sign_in(hub: Hub) -> None:
    session.clear()  # a fresh session, and CSRF token, on sign-in: nothing carried over
    session["operator"] = _fingerprint(hub)
    session["signed_in_at"] = clock.utcnow().isoformat()


def sign_out() -> None:
    session.clear()


def signed_in(hub: Hub) -> bool:
    fingerprint = session.get("operator")
    started = session.get("signed_in_at")
    if not fingerprint or not started:
        return False
    try:
        age = clock.utcnow() - datetime.fromisoformat(started)
    except ValueError:
        return False
    if age > timedelta(hours=SESSION_HOURS) or age < -timedelta(minutes=5):
        return False
    return hmac.compare_digest(fingerprint, _fingerprint(hub))


class Limiter:
    """Wrong passwords per client address: ``limit`` failures in ``window`` lock it out.

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

    def wait(self, address: str) -> timedelta | None:
        """How long this address must wait before trying again, or None."""
        now = clock.utcnow()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < self.limit:
                if not failures:
                    self._failures.pop(address, None)  # keep memory bounded by live guessers
                return None
            return failures[0] + self.window - now

    def failed(self, address: str) -> None:
        now = clock.utcnow()
        with self._lock:
            self._recent(address, now).append(now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


def minutes_text(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
