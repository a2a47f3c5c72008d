"""Configuration read at start: a wrong value is one error naming the variable and the fix,
not a failure later; what is shown of it never holds a password."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.config import config_table, load_config, masked_url
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


def test_the_readme_table_is_the_fields() -> None:
    """The README's table is rendered from the fields: change a field, run
    ``python -c "from hub.config import config_table; print(config_table())"`` and paste."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start = readme.index("<!-- config-table")
    held = readme[readme.index("-->", start) + 3:readme.index("<!-- /config-table -->")]
    assert held.strip() == config_table().strip()


def test_a_wrong_value_says_what_it_must_be(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as wrong:
        config(tmp_path, HUB_WORKER_THREADS="four")
    assert str(wrong.value) == 'HUB_WORKER_THREADS must be a whole number from 1 to 64, not "four"'


def test_every_wrong_value_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as wrong:
        config(tmp_path, QBO_ENVIRONMENT="prod", HUB_POLL_SECONDS="0", HUB_PLUGINS="=x")
    said = str(wrong.value)
    assert 'QBO_ENVIRONMENT must be sandbox or production, not "prod"' in said
    assert 'HUB_POLL_SECONDS must be a number of seconds above 0, not "0"' in said
    assert 'HUB_PLUGINS must be name=package.module pairs separated by commas, not "=x"' in said


SECRET = "a-secret-that-must-never-be-shown"


@pytest.mark.parametrize("name", ["HUB_API_KEY", "HUB_ADMIN_PASSWORD", "QBO_CLIENT_SECRET",
                                  "QBO_WEBHOOK_VERIFIER_TOKEN", "HUB_ENCRYPTION_KEYS",
                                  "QBO_REFRESH_TOKEN"])
def test_a_secret_is_never_printed(tmp_path: Path, name: str) -> None:
    cfg = config(tmp_path, **{name: SECRET})
    for printed in (repr(cfg), str(cfg), repr(cfg.shown()), f"{cfg}"):
        assert SECRET not in printed and "***" in printed
    assert "test-secret-key" not in repr(cfg)


def test_a_wrong_secret_is_not_quoted_in_its_error(tmp_path: Path) -> None:
    wrong = "whsec_" + "A" * 8
    with pytest.raises(ConfigError) as refused:
        config(tmp_path, HUB_HOST_WEBHOOK_SECRET=wrong, HUB_TRUSTED_PROXIES="two")
    assert "A" * 8 not in str(refused.value) and "not shown" in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_tokens_in_a_webhook_address_are_not_shown(tmp_path: Path) -> None:
    cfg = config(tmp_path, HUB_HOST_WEBHOOK_URL="https://host.example.com/hook?token=" + SECRET,
                 HUB_SMTP_URL=f"smtp://mail:{SECRET}@mail.example.com")
    assert SECRET not in repr(cfg) and SECRET not in repr(cfg.shown())


def test_values_are_read_as_before(tmp_path: Path) -> None:
    cfg = config(tmp_path, HUB_ENCRYPTION_KEYS=" k1, k2 ,", HUB_SQLITE_SYNCHRONOUS="extra",
                 HUB_PLUGINS="ledger=tests.plugins.ledger, tests.plugins.other",
                 HUB_API_KEY="", QBO_ENVIRONMENT="")
    assert cfg.encryption_keys == ("k1", "k2") and cfg.sqlite_synchronous == "EXTRA"
    assert cfg.plugins == (("ledger", "tests.plugins.ledger"), ("other", "tests.plugins.other"))
    assert cfg.api_key is None and cfg.qbo_environment == "sandbox"
    assert cfg.max_attempts == 4 and cfg.poll_seconds == 0.05
    # hub.redact caches by Config, so equal settings must hash alike.
    same = config(tmp_path, HUB_ENCRYPTION_KEYS="k1,k2", HUB_SQLITE_SYNCHRONOUS="EXTRA",
                  HUB_PLUGINS="ledger=tests.plugins.ledger,other=tests.plugins.other",
                  HUB_API_KEY="")
    assert same == cfg and hash(same) == hash(cfg)


def test_the_generated_key_sits_beside_the_database(tmp_path: Path) -> None:
    cfg = config(tmp_path, HUB_SECRET_KEY="")
    assert (tmp_path / "hub.db.secret").read_text().strip() == cfg.secret_key
    assert config(tmp_path, HUB_SECRET_KEY="").secret_key == cfg.secret_key


def test_a_dotenv_file_supplies_what_the_environment_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("HUB_", "QBO_")):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(f"HUB_DATABASE_URL=sqlite:///{tmp_path}/hub.db\n"
                                   "HUB_WORKER_THREADS=7\nHUB_SECRET_KEY=from-the-file\n"
                                   "HUB_MAX_ATTEMPTS=\nQBO_REFRESH_TOKEN=from-the-file\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUB_SECRET_KEY", "from-the-environment")
    cfg = load_config()
    assert cfg.worker_threads == 7 and cfg.secret_key == "from-the-environment"
    assert cfg.max_attempts == 12 and cfg.qbo_refresh_token == "from-the-file"
    # Read as configuration (hub quickbooks connect asks it), never exported to the process.
    assert "QBO_REFRESH_TOKEN" not in os.environ
    assert load_config(dotenv=False).worker_threads == 4
