"""Sign-in, sessions and CSRF through Flask's test client: the parts a browser need not drive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time

from hub import hookimpl
from hub.config import load_config
from hub.hub import Hub
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import API_KEY, base_env
from tests.plugins.recorder import Recorder
from tests.ui.conftest import PASSWORD, client_sign_in, csrf_of

PAGES = ["/", "/integrations", "/activity", "/activity/events/1", "/money"]
POSTS = ["/integrations/recorder/enabled", "/integrations/recorder/settings",
         "/activity/deliveries/1/retry", "/activity/deliveries/1/dismiss", "/signout"]


def test_every_page_needs_the_password_chosen_then_a_sign_in(
        ui_client: FlaskClient, ui_hub: Hub) -> None:
    for path in PAGES:
        assert ui_client.get(path).location == "/setup", path
    auth.set_first_password(ui_hub, PASSWORD)
    for path in PAGES:
        answer = ui_client.get(path)
        assert answer.status_code == 302 and answer.location.startswith("/signin"), path
    token = csrf_of(ui_client.get("/signin").text)
    for path in POSTS:
        answer = ui_client.post(path, data={"csrf_token": token, "enabled": "off"})
        assert answer.status_code == 302 and answer.location.startswith("/signin"), path
    assert ui_hub.states.enabled("recorder") is True
    assert ui_client.get("/setup").location == "/signin"  # chosen once, not again


def test_a_post_without_the_token_is_refused(ui_client: FlaskClient, signed_up: Hub) -> None:
    token = client_sign_in(ui_client)
    answer = ui_client.post("/integrations/recorder/enabled", data={"enabled": "off"})
    assert answer.status_code == 400 and "This form has expired" in answer.text
    answer = ui_client.post("/integrations/recorder/enabled",
                            data={"enabled": "off", "csrf_token": "forged"})
    assert answer.status_code == 400
    assert signed_up.states.enabled("recorder") is True
    answer = ui_client.post("/integrations/recorder/enabled",
                            data={"enabled": "off", "csrf_token": token})
    assert answer.status_code == 302 and signed_up.states.enabled("recorder") is False
    # The sign-in form carries one too: a forged sign-in (login CSRF) is refused.
    fresh = create_app(signed_up).test_client()
    assert fresh.post("/signin", data={"password": PASSWORD}).status_code == 400


def test_session_cookie_is_httponly_lax_and_secure_over_https(
        ui_client: FlaskClient, signed_up: Hub) -> None:
    plain = ui_client.get("/signin").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = create_app(signed_up).test_client()
    cookie = secure.get("/signin", base_url="https://hub.example").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_pages_are_not_framed_cached_or_scripted(ui_client: FlaskClient, signed_up: Hub) -> None:
    client_sign_in(ui_client)
    headers = ui_client.get("/integrations").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_the_host_api_keeps_its_bearer_key(ui_client: FlaskClient, signed_up: Hub) -> None:
    client_sign_in(ui_client)  # a UI session opens nothing in the API
    answer = ui_client.get("/api/v1/events/evt_9")
    assert answer.status_code == 401 and answer.is_json
    answer = ui_client.get("/api/v1/events/evt_9",
                           headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 404 and answer.is_json
    assert ui_client.get("/healthz").get_json() == {"status": "ok"}


def test_the_rate_limit_lifts_after_fifteen_minutes(
        ui_client: FlaskClient, signed_up: Hub) -> None:
    def attempt(password: str) -> Any:
        return ui_client.post("/signin", data={"csrf_token": token, "password": password})

    with freeze_time(datetime(2026, 3, 28, 15, 0, tzinfo=UTC)) as clock:
        # Inside the frozen clock: the session cookie's signature is timestamped too.
        token = csrf_of(ui_client.get("/signin").text)
        for _ in range(5):
            assert attempt("guess").status_code == 401
            clock.tick(timedelta(seconds=30))
        refused = attempt(PASSWORD)
        assert refused.status_code == 429
        assert "try again in 13 minutes" in refused.text  # the first failure ages out first
        clock.tick(timedelta(minutes=13))
        assert attempt(PASSWORD).status_code == 302
    # Another address is never locked out by this one's guesses.
    other = create_app(signed_up).test_client()
    assert other.get("/signin", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_a_session_ends_after_a_working_day_and_when_the_password_changes(
        ui_client: FlaskClient, signed_up: Hub) -> None:
    with freeze_time(datetime(2026, 3, 28, 8, 0, tzinfo=UTC)) as clock:
        client_sign_in(ui_client)
        assert ui_client.get("/integrations").status_code == 200
        clock.tick(timedelta(hours=auth.SESSION_HOURS, seconds=1))
        assert ui_client.get("/integrations").location.startswith("/signin")


def test_hub_admin_password_wins_over_a_stored_one(
        tmp_path: Any, make_hub: Any, signed_up: Hub) -> None:
    env = base_env(tmp_path) | {"HUB_ADMIN_PASSWORD": "from the environment"}
    hub = make_hub(("recorder", Recorder()), cfg=load_config(env, dotenv=False))
    client = create_app(hub).test_client()
    assert client.get("/setup").location == "/signin"
    token = csrf_of(client.get("/signin").text)
    stored = client.post("/signin", data={"csrf_token": token, "password": PASSWORD})
    assert stored.status_code == 401  # the password stored earlier no longer opens it
    client_sign_in(client, "from the environment")
    assert client.get("/integrations").status_code == 200
    assert auth.set_first_password(hub, "anything else entirely") is False


def test_a_signed_in_browser_is_signed_out_when_the_password_changes(
        tmp_path: Any, make_hub: Any, signed_up: Hub) -> None:
    app = create_app(signed_up)
    client = app.test_client()
    client_sign_in(client)
    cookie = client.get_cookie("session")
    assert cookie is not None
    env = base_env(tmp_path) | {"HUB_ADMIN_PASSWORD": "a new password now"}
    hub = make_hub(("recorder", Recorder()), cfg=load_config(env, dotenv=False))
    moved = create_app(hub).test_client()
    moved.set_cookie("session", cookie.value)
    assert moved.get("/integrations").location.startswith("/signin")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil",
                                    "/\t/evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(
        ui_client: FlaskClient, signed_up: Hub, target: str) -> None:
    token = csrf_of(ui_client.get("/signin").text)
    answer = ui_client.post("/signin", data={"csrf_token": token, "password": PASSWORD,
                                             "next": target})
    assert answer.location == "/integrations"


class Poster:
    """A third party's plugin with a page of its own that changes something, written without
    any guard: CSRF must protect it all the same."""

    def __init__(self) -> None:
        self.done = 0

    @hookimpl
    def register_blueprints(self, register: Any) -> None:
        from flask import Blueprint

        bp = Blueprint("poster", __name__)

        @bp.post("/poster/do")
        def do() -> str:
            self.done += 1
            return "done"

        register(bp)


def test_a_plugins_own_post_route_is_protected_without_asking(make_hub: Any) -> None:
    poster = Poster()
    hub = make_hub(("poster", poster))
    assert auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    token = client_sign_in(client)
    refused = client.post("/poster/do", data={})
    assert refused.status_code == 400 and "This form has expired" in refused.text
    assert client.post("/poster/do", data={"csrf_token": "forged"}).status_code == 400
    assert poster.done == 0
    assert client.post("/poster/do", data={"csrf_token": token}).status_code == 200
    assert client.post("/poster/do", headers={"X-CSRF-Token": token}).status_code == 200
    assert poster.done == 2
