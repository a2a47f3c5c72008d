"""Talking OAuth 2.0 to Intuit (or the emulator) with authlib: authorize, exchange, refresh,
revoke. Endpoints come from the OpenID discovery document, as Intuit recommends.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from hub.clock import utcnow
from hub.config import Config

SCOPE = "com.intuit.quickbooks.accounting"
DISCOVERY = {
    "sandbox": "https://developer.api.intuit.com/.well-known/openid_sandbox_configuration",
    "production": "https://developer.api.intuit.com/.well-known/openid_configuration",
}
API_BASE = {
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3",
    "production": "https://quickbooks.api.intuit.com/v3",
}
TIMEOUT = 20
_DISCOVERED = "oauth discovered"
_LOCK = "oauth lock"


class OAuthFailure(Exception):
    """Intuit refused: ``code`` is the OAuth error (``invalid_grant`` means reconnect)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NotConfigured(Exception):
    """QBO_CLIENT_ID / QBO_CLIENT_SECRET missing."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    refresh_hard_expires_at: datetime | None


def discovery_url(config: Config, environment: str) -> str:
    return config.qbo_discovery_url or DISCOVERY[environment]


def api_base(config: Config, environment: str) -> str:
    return (config.qbo_api_base or API_BASE[environment]).rstrip("/")


def endpoints(config: Config, environment: str,
              memory: dict[str, Any] | None = None) -> dict[str, Any]:
    """The discovery document, fetched once an hour at most while kept in ``memory`` (the
    hub's memory of the plugin, ``ctx.memory``: each hub its own, none shared in the process);
    without one, fetched every time."""
    url = discovery_url(config, environment)
    lock = memory.setdefault(_LOCK, threading.Lock()) if memory is not None else None
    if memory is not None and lock is not None:
        with lock:
            cached = memory.setdefault(_DISCOVERED, {}).get(url)
        if cached and time.monotonic() - cached[0] < 3600:
            return cached[1]  # type: ignore[no-any-return]
    try:
        answer = requests.get(url, timeout=TIMEOUT)
        answer.raise_for_status()
        document: dict[str, Any] = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise OAuthFailure("discovery", f"Intuit's OpenID discovery document at {url} could "
                           f"not be read ({exc.__class__.__name__}); check QBO_DISCOVERY_URL "
                           "and the network") from None
    if memory is not None and lock is not None:
        with lock:
            memory.setdefault(_DISCOVERED, {})[url] = (time.monotonic(), document)
    return document


def _session(config: Config, **kwargs: Any) -> OAuth2Session:
    if not config.qbo_client_id or not config.qbo_client_secret:
        raise NotConfigured("set QBO_CLIENT_ID and QBO_CLIENT_SECRET to your Intuit app's "
                            "keys (developer.intuit.com → your app → Keys & credentials)")
    return OAuth2Session(config.qbo_client_id, config.qbo_client_secret, scope=SCOPE,
                         redirect_uri=config.qbo_redirect_uri,
                         token_endpoint_auth_method="client_secret_basic",
                         timeout=TIMEOUT, **kwargs)


def authorization_url(config: Config, environment: str,
                      memory: dict[str, Any] | None = None) -> tuple[str, str, str]:
    """(url, state, code_verifier) for the browser connect, with PKCE (S256)."""
    session = _session(config, code_challenge_method="S256")
    verifier = generate_token(64)
    state = secrets.token_urlsafe(32)
    url, _ = session.create_authorization_url(
        endpoints(config, environment, memory)["authorization_endpoint"], state=state,
        code_verifier=verifier)
    return url, state, verifier


def _tokens(answer: dict[str, Any], now: datetime) -> Tokens:
    def after(key: str) -> datetime | None:
        seconds = answer.get(key)
        return now + timedelta(seconds=int(seconds)) if seconds else None

    if not answer.get("access_token") or not answer.get("refresh_token"):
        raise OAuthFailure("invalid_response", "Intuit's token answer had no tokens")
    return Tokens(
        access_token=answer["access_token"], refresh_token=answer["refresh_token"],
        access_expires_at=after("expires_in") or now + timedelta(hours=1),
        refresh_expires_at=after("x_refresh_token_expires_in"),
        refresh_hard_expires_at=after("x_refresh_token_hard_expires_in"),
    )


def _token_call(call: Any) -> dict[str, Any]:
    try:
        return dict(call())
    except OAuthError as exc:
        raise OAuthFailure(exc.error or "oauth_error",
                           exc.description or exc.error or "refused") from None
    except requests.RequestException as exc:
        raise OAuthFailure("unreachable", f"Intuit's token endpoint did not answer "
                           f"({exc.__class__.__name__})") from None


# Intuit reports the 5-year limit (x_refresh_token_hard_expires_in) only to a token call that
# asks for it with this header (its SDKs' release notes: Java v6.5.4, .NET V14.7.1.4); without
# it, the warning 14 days before the limit could never fire.
TOKEN_HEADERS = {"Accept": "application/json",
                 "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
                 "x-include-refresh-token-hard-expires-in": "true"}


def exchange_code(config: Config, environment: str, code: str, verifier: str,
                  memory: dict[str, Any] | None = None) -> Tokens:
    session = _session(config)
    url = endpoints(config, environment, memory)["token_endpoint"]
    now = utcnow()
    return _tokens(_token_call(lambda: session.fetch_token(
        url, grant_type="authorization_code", code=code, code_verifier=verifier,
        headers=dict(TOKEN_HEADERS))), now)


def refresh(config: Config, environment: str, refresh_token: str,
            memory: dict[str, Any] | None = None) -> Tokens:
    session = _session(config)
    url = endpoints(config, environment, memory)["token_endpoint"]
    now = utcnow()
    return _tokens(_token_call(lambda: session.refresh_token(
        url, refresh_token=refresh_token, headers=dict(TOKEN_HEADERS))), now)


def revoke(config: Config, environment: str, token: str,
           memory: dict[str, Any] | None = None) -> None:
    session = _session(config)
    url = endpoints(config, environment, memory).get("revocation_endpoint")
    if not url:
        raise OAuthFailure("discovery", "the discovery document names no revocation endpoint")
    try:
        answer = session.revoke_token(url, token=token, token_type_hint="refresh_token")
    except requests.RequestException as exc:
        raise OAuthFailure("unreachable", f"Intuit did not answer the revocation "
                           f"({exc.__class__.__name__})") from None
    if answer.status_code >= 400:
        raise OAuthFailure("revoke_failed", f"Intuit answered {answer.status_code} to the "
                           "revocation")
