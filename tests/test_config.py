"""Configuration read at start: a wrong value is one error naming the variable and the fix,
not a failure later; what is shown of it never holds a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config, masked_url
from hub.errors import ConfigError
from tests.conftest import base_env


def config(tmp_path: Path, **extra: str):  # type: ignore[no-untyped-def]
    return load_config({**base_env(tmp_path), **extra}, dotenv=False)


@pytest.mark.parametrize(("name", "value", "said"), [
    ("HUB_PUBLIC_URL", "hub.example.com", "HUB_PUBLIC_URL"),
    ("HUB_PUBLIC_URL", "ftp://hub.example.com", "https://hub.example.com"),
    ("HUB_TRUSTED_PROXIES", "-1", "HUB_TRUSTED_PROXIES"),
    ("HUB_TRUSTED_PROXIES", "two", "HUB_TRUSTED_PROXIES"),
    ("HUB_HOST_WEBHOOK_SECRET", "whsec_not-base64!", "base64 of at least 24"),
    ("HUB_HOST_WEBHOOK_SECRET", "whsec_c2hvcnQ=", "base64 of at least 24"),
    ("HUB_HOST_WEBHOOK_SECRET", "hunter2", "shorter than 24"),
])
def test_a_wrong_value_is_refused_at_start_naming_the_variable(
        tmp_path: Path, name: str, value: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        config(tmp_path, **{name: value})


def test_the_public_url_sets_the_oauth_redirect_and_https(tmp_path: Path) -> None:
    cfg = config(tmp_path, HUB_PUBLIC_URL="https://hub.example.com/")
    assert cfg.public_url == "https://hub.example.com" and cfg.https
    assert cfg.qbo_redirect_uri == "https://hub.example.com/quickbooks/callback"
    assert not config(tmp_path).https


def test_the_generated_key_can_live_away_from_the_data(tmp_path: Path) -> None:
    elsewhere = tmp_path / "keys" / "hub.key"
    cfg = config(tmp_path, HUB_SECRET_KEY="", HUB_SECRET_KEY_FILE=str(elsewhere))
    assert elsewhere.read_text().strip() == cfg.secret_key
    assert not (tmp_path / "hub.db.secret").exists()


def test_a_database_password_is_never_shown(tmp_path: Path) -> None:
    url = "postgresql+psycopg://hub:s3cret-pw@db.example.com:5432/hub"
    assert masked_url(url) == "postgresql+psycopg://hub:***@db.example.com:5432/hub"
    assert "s3cret-pw" not in repr(config(tmp_path, HUB_DATABASE_URL=url))
