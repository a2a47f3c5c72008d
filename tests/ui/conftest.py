"""Fixtures for the settings UI: a hub with a recorder that can be told to fail, the app on a real
socket, and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.clock import utcnow
from hub.errors import NeedsOperator
from hub.events import parse_data
from hub.hub import Hub
from hub.plugins.context import Context
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import serving
from tests.plugins import extras
from tests.plugins.recorder import Recorder
from tests.samples import event

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "correct horse battery"


class Switch:
    """Whether the recorder fails its deliveries, flipped by the test."""

    def __init__(self) -> None:
        self.failing = False

    def __call__(self, hook: str, _ctx: Context) -> None:
        if self.failing and hook != "on_host_event":
            raise NeedsOperator("the invoice has no customer email: add one, then retry")


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def ui_hub(make_hub: Any, switch: Switch) -> Hub:
    hub: Hub = make_hub(("recorder", Recorder(fail=switch)), ("extras", extras))
    return hub


@pytest.fixture
def signed_up(ui_hub: Hub) -> Hub:
    """The hub with the operator password already chosen."""
    assert auth.set_first_password(ui_hub, PASSWORD)
    return ui_hub


@pytest.fixture
def ui_client(ui_hub: Hub) -> FlaskClient:
    return create_app(ui_hub).test_client()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def client_sign_in(client: FlaskClient, password: str = PASSWORD) -> str:
    """Sign a test client in through the form; returns the signed-in session's CSRF token
    (a new one: signing in starts a fresh session)."""
    token = csrf_of(client.get("/signin").text)
    answer = client.post("/signin", data={"csrf_token": token, "password": password})
    assert answer.status_code == 302, answer.text
    fresh = csrf_of(client.get("/money").text)
    assert fresh != token
    return fresh


def send(hub: Hub, event_id: str = "evt_1", event_type: str = "invoice.sent",
         **data: Any) -> None:
    body = event(event_type, event_id, **data)
    hub.accept_host_event(event_id, event_type, utcnow(), parse_data(event_type, body["data"]),
                          event_id)


@pytest.fixture
def site(ui_hub: Hub) -> Iterator[str]:
    """The app through the hub's HTTP server on a real socket, as ``hub serve`` runs it."""
    with serving(create_app(ui_hub)) as url:
        yield url


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    # Asks for ``site`` so the browser's keep-alive connections close before the server stops.
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
