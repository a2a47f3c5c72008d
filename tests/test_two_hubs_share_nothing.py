"""Two hubs in one process (a test run, an embedding host) share nothing: neither the secrets
taken out of what each stores and logs, nor the CSRF guard of each one's web app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.config import load_config
from hub.redact import secrets_of
from hub.testing import base_env
from hub.web.app import create_app


def test_each_hub_keeps_its_own_secrets(make_hub: Any, tmp_path: Path) -> None:
    one = make_hub()
    other_env = {**base_env(tmp_path / "other"), "HUB_API_KEY": "k" * 40}
    (tmp_path / "other").mkdir()
    other = make_hub(cfg=load_config(other_env, dotenv=False))
    assert "k" * 40 in secrets_of(other, "-")
    assert "k" * 40 not in secrets_of(one, "-")
    assert one.config.api_key not in secrets_of(other, "-")


def test_each_app_has_its_own_csrf_guard_and_both_guard(make_hub: Any) -> None:
    first, second = create_app(make_hub()), create_app(make_hub())
    assert first.extensions["csrf"] is not second.extensions["csrf"]
    for app in (first, second):
        client = app.test_client()
        # A form post with no token is refused; the host API (a bearer key) is exempt.
        assert client.post("/signin", data={"password": "x"}).status_code == 400
        assert client.post("/api/v1/events", json={}).status_code == 401
