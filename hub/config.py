"""Configuration from the environment (a ``.env`` file may supply it), as the host contract lists.

The fields are pydantic-settings' (``Config``): each names its variable, type, default and what
it is for, and the README's table is rendered from them (``config_table``), so the two cannot
drift. A wrong value stops the hub at start with a ``ConfigError`` naming the variable and what
it must be. Secrets are held here as plain strings (the rest of the hub reads them so) but never
shown: not in ``repr``/``str``, not in ``shown()``, not in an error.

How values are shown, errors worded and the table rendered is ``hub/config_text.py``; the
generated secret key's file is ``hub/secret_key.py``. Both are importable from here as before.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hub.config_text import Shown, env_name, explained, masked_url, shown_value, variables_table
from hub.errors import ConfigError
from hub.secret_key import generated_secret, secret_key_file

__all__ = ["LOCAL_REDIRECT", "Config", "config_table", "load_config", "masked_url",
           "plugin_modules", "secret_key_file"]

LOCAL_REDIRECT = "http://127.0.0.1:8000/quickbooks/callback"

# The environment load_config was handed, read instead of os.environ (tests, a subprocess's
# own): a context variable rather than a class attribute, so two threads loading at once do not
# read each other's.
_GIVEN: ContextVar[Mapping[str, str] | None] = ContextVar("hub_config_env", default=None)


def _setting(default: Any, env: str, description: str, must: str, *, secret: bool = False,
             url: bool = False, shown_default: str | None = None, **constraints: Any) -> Any:
    """A field read from ``env``; ``must`` finishes "``env`` must be …" in its error, ``url``
    marks a URL that may carry a password or a token in its query (masked when shown, though
    not a secret), and ``shown_default`` is what the README says of a default that is worked
    out, not fixed."""
    extra: dict[str, Any] = {"must": must, "secret": secret}
    if url:
        extra["url"] = True
    if shown_default is not None:
        extra["shown_default"] = shown_default
    return Field(default, validation_alias=env, description=description,
                 json_schema_extra=extra, **constraints)


class _GivenEnv(EnvSettingsSource):
    def _load_env_vars(self) -> Mapping[str, str | None]:
        given = _GIVEN.get()
        if given is None:
            return super()._load_env_vars()
        return {k: v for k, v in given.items() if not (self.env_ignore_empty and v == "")}


class Config(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,  # hashed by hub.redact's cache, and shared by every thread
        extra="ignore",  # the environment holds much that is not ours
        case_sensitive=True,
        env_ignore_empty=True,  # VAR= in a .env or a compose file means "the default"
        populate_by_name=True,
        env_file=None,  # load_config chooses the file: the cwd's, when reading the real env
    )

    database_url: str = _setting(
        "sqlite:///hub.db", "HUB_DATABASE_URL",
        "SQLAlchemy URL; `postgresql://…` uses psycopg 3",
        "a SQLAlchemy URL such as sqlite:///hub.db or postgresql://user@host/hub", url=True)
    api_key: str | None = _setting(
        None, "HUB_API_KEY", "bearer key for the host API", "the host API's bearer key",
        secret=True, shown_default="none: the API refuses every call")
    secret_key_path: str | None = _setting(
        None, "HUB_SECRET_KEY_FILE",
        "where the generated `HUB_SECRET_KEY` is kept instead (e.g. `/etc/ledgerline/secret`, "
        "outside the data folder and its backups; made once, mode 600)",
        "a file path", shown_default="beside the database")
    secret_key: str = _setting(
        "", "HUB_SECRET_KEY",
        "signs sessions; derives the encryption key unless `HUB_ENCRYPTION_KEYS` is set",
        "a long random string", secret=True, validate_default=True,
        shown_default="generated once and kept beside the database (`hub.db.secret`; "
        "`hub.secret` in the working directory on PostgreSQL), so a copy of the data folder "
        "carries the QuickBooks tokens and the key that opens them: set it, or "
        "`HUB_SECRET_KEY_FILE`, for a key kept elsewhere")
    encryption_keys: Annotated[tuple[str, ...], NoDecode] = _setting(
        (), "HUB_ENCRYPTION_KEYS", "comma-separated Fernet keys, newest first",
        "Fernet keys separated by commas", secret=True,
        shown_default="derived from `HUB_SECRET_KEY`")
    admin_password: str | None = _setting(
        None, "HUB_ADMIN_PASSWORD",
        "the settings UI's operator password, at least 12 characters",
        "a password of at least 12 characters", secret=True,
        shown_default="none: the first visit, with the setup link `hub serve` logs, chooses one")
    public_url: str | None = _setting(
        None, "HUB_PUBLIC_URL",
        "the address operators, Intuit and the host reach the hub at, e.g. "
        "`https://hub.example.com`; with `https`, cookies are `Secure`, HSTS is sent, and "
        "`QBO_REDIRECT_URI` defaults to `HUB_PUBLIC_URL/quickbooks/callback`",
        "the address people reach the hub at, such as https://hub.example.com (a scheme and a "
        "host, no query)", url=True, shown_default="none: `http://127.0.0.1:<port>`")
    trusted_proxies: int = _setting(
        0, "HUB_TRUSTED_PROXIES",
        "how many proxies in front are trusted for `X-Forwarded-For/-Proto/-Host` (0 to 10); "
        "with 0 those headers are ignored",
        "the number of proxies in front of the hub, a whole number from 0 (none: "
        "X-Forwarded-* ignored) to 10", ge=0, le=10)
    qbo_client_id: str | None = _setting(
        None, "QBO_CLIENT_ID", "your Intuit app's client id", "your Intuit app's client id")
    qbo_client_secret: str | None = _setting(
        None, "QBO_CLIENT_SECRET", "your Intuit app's client secret",
        "your Intuit app's client secret", secret=True)
    qbo_redirect_uri: str = _setting(
        "", "QBO_REDIRECT_URI", "OAuth callback", "the OAuth callback URL",
        validate_default=True,
        shown_default=f"`HUB_PUBLIC_URL/quickbooks/callback`, else `{LOCAL_REDIRECT}`")
    qbo_environment: Literal["sandbox", "production"] = _setting(
        "sandbox", "QBO_ENVIRONMENT", "`sandbox` or `production`", "sandbox or production")
    qbo_refresh_token: str | None = _setting(
        None, "QBO_REFRESH_TOKEN",
        "`hub quickbooks connect`'s refresh token when `--refresh-token` is left out (else it "
        "is read from standard input), so it stays out of `ps` and the shell's history",
        "a QuickBooks refresh token", secret=True)
    qbo_webhook_verifier_token: str | None = _setting(
        None, "QBO_WEBHOOK_VERIFIER_TOKEN", "verifies Intuit's webhook signatures",
        "your Intuit app's webhook verifier token", secret=True,
        shown_default="none: webhooks refused")
    qbo_api_base: str | None = _setting(
        None, "QBO_API_BASE", "point the hub at another QuickBooks API (the emulator)",
        "a URL", url=True, shown_default="Intuit's")
    qbo_discovery_url: str | None = _setting(
        None, "QBO_DISCOVERY_URL",
        "point the hub at another QuickBooks sign-in (the emulator's discovery document)",
        "a URL", url=True, shown_default="Intuit's")
    smtp_url: str | None = _setting(
        None, "HUB_SMTP_URL", "where mail goes", "an smtp:// URL", secret=True)
    mail_from: str = _setting(
        "hub@localhost", "HUB_MAIL_FROM", "whom mail is from", "a mail address")
    host_webhook_url: str | None = _setting(
        None, "HUB_HOST_WEBHOOK_URL",
        "where the hub tells the host what changed, signed per Standard Webhooks; no redirect "
        "is followed, and a message is retried for about 3 days before it is parked. While "
        "it is unset, messages are skipped (Activity shows each), not kept for later: set it "
        "before connecting QuickBooks, or the first import's `contact.imported` messages are "
        "not sent",
        "a URL", url=True)
    host_webhook_secret: str | None = _setting(
        None, "HUB_HOST_WEBHOOK_SECRET",
        "signs the messages to the host (a `whsec_` secret, checked at start; unset, the "
        "messages go unsigned and the Integrations page says so)",
        "a whsec_ secret", secret=True)
    plugins: Annotated[tuple[tuple[str, str], ...], NoDecode] = _setting(
        (), "HUB_PLUGINS",
        "extra plugin modules not installed as packages: `name=package.module,…`",
        "name=package.module pairs separated by commas")
    # Delivery tuning; the defaults give about a day of retries before a delivery is parked.
    max_attempts: int = _setting(
        12, "HUB_MAX_ATTEMPTS",
        "attempts before a delivery is parked for an operator (messages to the host keep their "
        "own 12 over about 3 days)", "a whole number from 1 to 1000", ge=1, le=1000)
    retry_base_seconds: float = _setting(
        30.0, "HUB_RETRY_BASE_SECONDS", "backoff's first wait (doubling, with jitter)",
        "a number of seconds above 0", gt=0, allow_inf_nan=False)
    retry_max_seconds: float = _setting(
        4 * 3600.0, "HUB_RETRY_MAX_SECONDS", "backoff's longest wait",
        "a number of seconds above 0", gt=0, allow_inf_nan=False)
    lease_seconds: float = _setting(
        300.0, "HUB_LEASE_SECONDS",
        "how long a silent worker's claim holds before others take it over",
        "a number of seconds above 0", gt=0, allow_inf_nan=False)
    worker_threads: int = _setting(
        4, "HUB_WORKER_THREADS", "delivery threads per worker process",
        "a whole number from 1 to 64", ge=1, le=64)
    poll_seconds: float = _setting(
        1.0, "HUB_POLL_SECONDS", "how often an idle worker looks for due work",
        "a number of seconds above 0", gt=0, allow_inf_nan=False)
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = _setting(
        "FULL", "HUB_SQLITE_SYNCHRONOUS",
        "`FULL` (every accepted event on disk before the answer) or `NORMAL`",
        "FULL, NORMAL or EXTRA")

    def __init__(self, **values: Any) -> None:
        # pydantic's own message quotes every input, secrets too: it must not get out.
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(explained(type(self), exc)) from None

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _GivenEnv(settings_cls), dotenv_settings

    @property
    def https(self) -> bool:
        return (self.public_url or "").lower().startswith("https://")

    def shown(self) -> dict[str, str]:
        """Every variable as it may be printed or logged: secrets masked, URLs' passwords too."""
        model = type(self)
        return {env_name(model, name): shown_value(model, name, getattr(self, name))
                for name in model.model_fields}

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Both repr() and str() are built from this.
        model = type(self)
        for name in model.model_fields:
            yield name, Shown(shown_value(model, name, getattr(self, name)))

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str, info: ValidationInfo) -> str:
        if value:
            return value
        url = info.data.get("database_url", "sqlite:///hub.db")
        return generated_secret(secret_key_file(url, info.data.get("secret_key_path")))

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @field_validator("plugins", mode="before")
    @classmethod
    def _plugins(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return plugin_modules(value)
            except ConfigError:
                raise ValueError("") from None  # the field's own wording, and the value
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
                or parts.fragment:
            raise ValueError("")
        return url

    @field_validator("qbo_redirect_uri")
    @classmethod
    def _redirect(cls, value: str, info: ValidationInfo) -> str:
        if value:
            return value
        public = info.data.get("public_url")
        return f"{public}/quickbooks/callback" if public else LOCAL_REDIRECT

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("host_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        """Checked now rather than at the first send: a Standard Webhooks secret is whsec_
        followed by base64 of at least 24 bytes."""
        if not value:
            return None
        if value.startswith("whsec_"):
            try:
                key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) < 24:
                raise ValueError(
                    "whsec_ followed by base64 of at least 24 random bytes; make one with: "
                    "python -c \"import base64,os;print('whsec_'+base64.b64encode("
                    "os.urandom(32)).decode())\"")
        elif len(value) < 24:
            raise ValueError("a whsec_ secret (whsec_ and base64 of 32 random bytes) or at "
                             "least 24 characters; the one given is shorter than 24")
        return value


def config_table() -> str:
    """The README's table of variables, rendered from the fields (tests/test_config.py holds
    the README to it)."""
    return variables_table(Config)


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


def load_config(env: Mapping[str, str] | None = None, dotenv: bool = True) -> Config:
    """The hub's configuration from ``env`` alone when given, else from the process's
    environment and (with ``dotenv``) the working directory's ``.env``, which the environment
    overrides. Raises ``ConfigError`` naming each wrong variable."""
    if env is not None:
        token = _GIVEN.set(env)
        try:
            return Config(_env_file=None)
        finally:
            _GIVEN.reset(token)
    env_file = Path.cwd() / ".env" if dotenv else None
    return Config(_env_file=env_file if env_file is not None and env_file.is_file() else None)
