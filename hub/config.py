"""Configuration from the environment (a ``.env`` file may supply it), as the host contract lists.

Secrets are held here but never printed: ``Config.__repr__`` masks them.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from dotenv import load_dotenv

from hub.errors import ConfigError

SECRET_FIELDS = {"api_key", "secret_key", "admin_password", "qbo_client_secret",
                 "qbo_webhook_verifier_token", "smtp_url", "host_webhook_secret",
                 "encryption_keys"}


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///hub.db"
    api_key: str | None = None
    secret_key: str = ""
    encryption_keys: tuple[str, ...] = ()
    admin_password: str | None = None
    qbo_client_id: str | None = None
    qbo_client_secret: str | None = None
    qbo_redirect_uri: str = "http://127.0.0.1:8000/quickbooks/callback"
    qbo_environment: str = "sandbox"
    qbo_webhook_verifier_token: str | None = None
    qbo_api_base: str | None = None
    qbo_discovery_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "hub@localhost"
    host_webhook_url: str | None = None
    host_webhook_secret: str | None = None
    # Where operators, Intuit and the host reach the hub (e.g. https://hub.example.com); with
    # https, cookies are Secure and HSTS is sent. None: http://127.0.0.1:<port>, as run locally.
    public_url: str | None = None
    # How many proxies in front of the hub are trusted for X-Forwarded-For/-Proto/-Host; with 0
    # those headers are ignored (anyone could send them).
    trusted_proxies: int = 0
    # Where the generated HUB_SECRET_KEY is kept, when not beside the database (a copy of the
    # data folder would carry the tokens and the key that opens them).
    secret_key_path: str | None = None
    # Delivery tuning; the defaults give about a day of retries before a delivery is parked.
    max_attempts: int = 12
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 4 * 3600.0
    lease_seconds: float = 300.0
    worker_threads: int = 4
    poll_seconds: float = 1.0
    sqlite_synchronous: str = "FULL"
    plugins: tuple[tuple[str, str], ...] = ()

    @property
    def https(self) -> bool:
        return (self.public_url or "").lower().startswith("https://")

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            elif f.name == "database_url":
                value = masked_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Config({', '.join(shown)})"


def masked_url(url: str) -> str:
    """A URL as it may be shown or logged: its password (a database's, say) replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None


def secret_key_file(database_url: str, chosen: str | None = None) -> Path:
    """Where a generated ``HUB_SECRET_KEY`` lives: ``HUB_SECRET_KEY_FILE`` if set, else beside
    an SQLite file, else in the cwd."""
    if chosen:
        return Path(chosen).expanduser()
    if database_url.startswith("sqlite:///") and database_url != "sqlite:///:memory:":
        return Path(database_url.removeprefix("sqlite:///") + ".secret")
    return Path("hub.secret")


def _generated_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on one key, not each write its own.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def plugin_modules(raw: str | None) -> tuple[tuple[str, str], ...]:
    """``HUB_PLUGINS``: ``name=package.module`` pairs, for plugins not installed as packages."""
    found = []
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, module = item.partition("=")
        if not sep:
            name, module = item.rsplit(".", 1)[-1], item
        if not name.strip() or not module.strip():
            raise ConfigError(f"HUB_PLUGINS entry {item!r}: write name=package.module")
        found.append((name.strip(), module.strip()))
    return tuple(found)


def _public_url(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ConfigError(f"HUB_PUBLIC_URL={raw!r}: give the address people reach the hub at, "
                          "such as https://hub.example.com (a scheme and a host, no query)")
    return url


def _webhook_secret(raw: str | None) -> str | None:
    """HUB_HOST_WEBHOOK_SECRET, checked now rather than at the first send: a Standard Webhooks
    secret is whsec_ followed by base64 of at least 24 bytes."""
    if not raw:
        return None
    if raw.startswith("whsec_"):
        try:
            key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) < 24:
            raise ConfigError("HUB_HOST_WEBHOOK_SECRET: a whsec_ secret is whsec_ followed by "
                              "base64 of at least 24 random bytes; make one with: python -c "
                              "\"import base64,os;print('whsec_'+base64.b64encode(os.urandom(32))"
                              ".decode())\"")
    elif len(raw) < 24:
        raise ConfigError("HUB_HOST_WEBHOOK_SECRET is shorter than 24 characters: use a "
                          "whsec_ secret (whsec_ and base64 of 32 random bytes)")
    return raw


def load_config(env: dict[str, str] | None = None, dotenv: bool = True) -> Config:
    if env is None:
        if dotenv:
            load_dotenv(Path.cwd() / ".env", override=False)
        env = dict(os.environ)
    database_url = env.get("HUB_DATABASE_URL") or "sqlite:///hub.db"
    environment = env.get("QBO_ENVIRONMENT") or "sandbox"
    if environment not in ("sandbox", "production"):
        raise ConfigError(f"QBO_ENVIRONMENT={environment!r}: use sandbox or production")
    synchronous = (env.get("HUB_SQLITE_SYNCHRONOUS") or "FULL").upper()
    if synchronous not in ("FULL", "NORMAL", "EXTRA"):
        raise ConfigError("HUB_SQLITE_SYNCHRONOUS: use FULL, NORMAL or EXTRA")
    keys = tuple(k.strip() for k in (env.get("HUB_ENCRYPTION_KEYS") or "").split(",") if k.strip())
    key_path = env.get("HUB_SECRET_KEY_FILE") or None
    public_url = _public_url(env.get("HUB_PUBLIC_URL"))
    trusted = _int(env, "HUB_TRUSTED_PROXIES", 0)
    if not 0 <= trusted <= 10:
        raise ConfigError(f"HUB_TRUSTED_PROXIES={trusted}: the number of proxies in front of "
                          "the hub, from 0 (none: X-Forwarded-* ignored) to 10")
    return Config(
        database_url=database_url,
        api_key=env.get("HUB_API_KEY") or None,
        secret_key=env.get("HUB_SECRET_KEY")
        or _generated_secret(secret_key_file(database_url, key_path)),
        encryption_keys=keys,
        admin_password=env.get("HUB_ADMIN_PASSWORD") or None,
        qbo_client_id=env.get("QBO_CLIENT_ID") or None,
        qbo_client_secret=env.get("QBO_CLIENT_SECRET") or None,
        qbo_redirect_uri=env.get("QBO_REDIRECT_URI")
        or (f"{public_url}/quickbooks/callback" if public_url else Config.qbo_redirect_uri),
        qbo_environment=environment,
        qbo_webhook_verifier_token=env.get("QBO_WEBHOOK_VERIFIER_TOKEN") or None,
        qbo_api_base=env.get("QBO_API_BASE") or None,
        qbo_discovery_url=env.get("QBO_DISCOVERY_URL") or None,
        smtp_url=env.get("HUB_SMTP_URL") or None,
        mail_from=env.get("HUB_MAIL_FROM") or "hub@localhost",
        host_webhook_url=env.get("HUB_HOST_WEBHOOK_URL") or None,
        host_webhook_secret=_webhook_secret(env.get("HUB_HOST_WEBHOOK_SECRET")),
        public_url=public_url,
        trusted_proxies=trusted,
        secret_key_path=key_path,
        max_attempts=_int(env, "HUB_MAX_ATTEMPTS", Config.max_attempts),
        retry_base_seconds=_float(env, "HUB_RETRY_BASE_SECONDS", Config.retry_base_seconds),
        retry_max_seconds=_float(env, "HUB_RETRY_MAX_SECONDS", Config.retry_max_seconds),
        lease_seconds=_float(env, "HUB_LEASE_SECONDS", Config.lease_seconds),
        worker_threads=_int(env, "HUB_WORKER_THREADS", Config.worker_threads),
        poll_seconds=_float(env, "HUB_POLL_SECONDS", Config.poll_seconds),
        sqlite_synchronous=synchronous,
        plugins=plugin_modules(env.get("HUB_PLUGINS")),
    )
