"""Secrets out of what the hub stores and logs about a delivery.

A plugin's raise may carry a secret: an exception text quoting a webhook URL with its token, a
library echoing the password it was given. Before an error or result is stored, logged or sent
to the host, the plugin's ``SecretStr`` settings and the hub's own secrets (API key, secret and
encryption keys, admin password, Intuit's client secret and verifier token, the host webhook
secret, and the credentials and query of the host's webhook URL, the SMTP and database URLs'
passwords) are replaced by ``***``, as they are and percent-encoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from pydantic import BaseModel, SecretStr

from hub.config import Config

if TYPE_CHECKING:
    from hub.hub import Hub

# Shorter values are not taken out: they would cut ordinary words and numbers out of every
# message, and a value that short protects nothing.
MIN_SECRET = 4
HIDDEN = "***"
QUERY_TOKEN = 8  # a query value this long in the host's webhook URL is taken for a token


def _variants(value: str) -> set[str]:
    """A secret as it may appear in a message: as is, and percent-encoded in a URL."""
    return {v for v in (value, quote(value, safe=""), quote_plus(value, safe=""))
            if len(v) >= MIN_SECRET}


def _url_secrets(url: str | None, query: bool) -> set[str]:
    """What in a URL is secret: its credentials, and with ``query`` its query string whole and
    each value long enough to be a token (``format=json`` names no secret)."""
    if not url:
        return set()
    try:
        parts = urlsplit(url)
        found = {parts.password or ""}
        if query:
            found.add(parts.query)
            found.update(value for _key, value in parse_qsl(parts.query)
                         if len(value) >= QUERY_TOKEN)
    except ValueError:
        return {url}
    return {v for v in found if v}


def hub_secrets(config: Config) -> tuple[str, ...]:
    """The hub's own secrets, in every form they may take, longest first (a secret holding
    another is taken out whole). Worked out once per hub (``Hub.secret_values``)."""
    values: set[str] = set()
    # Every setting marked secret (hub/config.py), so a new one is scrubbed without a word
    # here: the keys, the password, Intuit's client secret, refresh and verifier tokens. A URL
    # loses only its credentials (below), so the operator still reads where it pointed.
    for name, setting in type(config).model_fields.items():
        extra = setting.json_schema_extra
        if isinstance(extra, dict) and extra.get("secret"):
            value = getattr(config, name)
            values.update(v for v in (value if isinstance(value, tuple) else (value,))
                          if isinstance(v, str) and v and "://" not in v)
    values |= _url_secrets(config.host_webhook_url, query=True)
    values |= _url_secrets(config.smtp_url, query=False)
    values |= _url_secrets(config.database_url, query=False)
    out: set[str] = set()
    for value in values:
        out |= _variants(value)
    return tuple(sorted(out, key=len, reverse=True))


def _secret_values(value: Any) -> Iterable[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _secret_values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))


def secrets_of(hub: Hub, plugin: str) -> tuple[str, ...]:
    """Every value to take out of what ``plugin``'s deliveries store and log: its ``SecretStr``
    settings and the hub's own secrets."""
    found = hub.secret_values
    try:
        settings = hub.states.settings(plugin) if plugin in hub.infos else None
    except Exception:  # stored settings that no longer validate: nothing readable to hide
        settings = None
    if settings is None:
        return found
    own: set[str] = set()
    for value in _secret_values(settings):
        own |= _variants(value)
    if not own:
        return found
    return tuple(sorted(own | set(found), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, HIDDEN)
    return text
