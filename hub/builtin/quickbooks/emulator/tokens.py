"""Grants and tokens: issue, rotate, check, revoke. Callers hold the store lock.

A grant is one connection (company + scopes) with a 5-year hard limit. Each refresh issues a
new refresh token; the one presented keeps working for `refresh_grace` (24 h) after its first
use. A refresh token unused for `refresh_ttl` (100 days) lapses. Times come from time.time()
at call time, so freezegun moves them.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from .clock import epoch
from .state import EmulatorState


def new_grant(st: EmulatorState, realm: str, scope: str) -> str:
    grant_id = uuid.uuid4().hex
    st.store.data["oauth"]["grants"][grant_id] = {
        "realm": realm,
        "scope": scope,
        "revoked": False,
        "hard_expires": epoch() + st.config.refresh_hard_ttl,
    }
    return grant_id


def live_refresh_grant(st: EmulatorState, token_value: str) -> str | None:
    """The grant behind a refresh token that still works, else None (-> invalid_grant)."""
    record = st.store.data["oauth"]["refresh"].get(token_value)
    if record is None:
        return None
    grant = st.store.data["oauth"]["grants"].get(record["grant"])
    now = epoch()
    config = st.config
    if (
        grant is None
        or grant["revoked"]
        or now >= record["expires"]
        or now >= grant["hard_expires"]
    ):
        return None
    superseded = record.get("superseded_at")
    if superseded is not None and now >= superseded + config.refresh_grace:
        return None
    return str(record["grant"])


def prune(st: EmulatorState, now: float) -> None:
    """Forget tokens that can never work again, so a long-lived state file stays small.
    (An unknown token and a dead one get the same answer.)"""
    data = st.store.data["oauth"]
    grace = st.config.refresh_grace
    for key in [k for k, v in data["access"].items() if v["expires"] < now - 86400]:
        del data["access"][key]
    for key, record in list(data["refresh"].items()):
        superseded = record.get("superseded_at")
        if record["expires"] < now or (superseded is not None and superseded + grace < now):
            del data["refresh"][key]


def issue(st: EmulatorState, grant_id: str) -> dict[str, Any]:
    """A fresh access + refresh token pair for a grant, in Intuit's answer shape."""
    config = st.config
    grant = st.store.data["oauth"]["grants"][grant_id]
    now = epoch()
    prune(st, now)
    access = "eyJ" + secrets.token_urlsafe(48)
    refresh = "RT1-" + secrets.token_urlsafe(36)
    st.store.data["oauth"]["access"][access] = {
        "grant": grant_id,
        "realm": grant["realm"],
        "expires": now + config.access_ttl,
    }
    # The rolling 100-day life never reaches past the grant's hard limit.
    refresh_expires = min(now + config.refresh_ttl, grant["hard_expires"])
    st.store.data["oauth"]["refresh"][refresh] = {"grant": grant_id, "expires": refresh_expires}
    return {
        "token_type": "bearer",
        "access_token": access,
        "expires_in": config.access_ttl,
        "refresh_token": refresh,
        "x_refresh_token_expires_in": max(0, round(refresh_expires - now)),
        "x_refresh_token_hard_expires_in": max(0, round(grant["hard_expires"] - now)),
    }


def revoke_grant(st: EmulatorState, token_value: str) -> bool:
    """Revoking either token of a connection revokes the whole connection (the grant)."""
    data = st.store.data["oauth"]
    with st.store.lock:
        record = data["access"].get(token_value) or data["refresh"].get(token_value)
        if record is None:
            return False
        grant_id = record["grant"]
        data["grants"][grant_id]["revoked"] = True
        for key in [k for k, v in data["access"].items() if v["grant"] == grant_id]:
            del data["access"][key]
    st.store.save()
    return True


def access_status(st: EmulatorState, token_value: str, realm: str | None) -> tuple[str, str | None]:
    data = st.store.data["oauth"]
    record = data["access"].get(token_value)
    if record is None:
        return "unauthorized", "Token revoked or invalid"
    if record["expires"] <= epoch():
        return "unauthorized", "Token expired"
    grant = data["grants"].get(record["grant"])
    if grant is None or grant["revoked"]:
        return "unauthorized", "Token revoked"
    if realm is not None and record["realm"] != realm:
        return "forbidden", f"Token is not authorized for company {realm}"
    return "ok", None
