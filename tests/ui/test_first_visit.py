"""The first visit needs the setup code the web process logs: reaching the address first is not
enough to own the hub. In the browser where the operator meets it, the rest through Flask's
test client."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import delete, select

from hub.hub import Hub
from hub.queue.db import reading
from hub.roles.serve import first_visit
from hub.ui import auth
from tests.ui.conftest import PASSWORD, csrf_of, shot


def logged_first_visit(hub: Hub, site: str, caplog: pytest.LogCaptureFixture) -> str:
    """The address ``hub serve`` logs at start while no password is set."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hub.serve"):
        first_visit(hub, "127.0.0.1", int(site.rsplit(":", 1)[1]))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("First visit")]
    assert len(lines) == 1, lines
    return lines[0].removeprefix("First visit: ")


def stored_text(hub: Hub) -> str:
    with reading(hub.engine) as conn:
        rows = conn.execute(select(auth.META.c.key, auth.META.c.value)).all()
    return " ".join(f"{key} {value}" for key, value in rows)


@pytest.mark.browser
def test_the_first_visit_needs_the_logged_setup_code(
        browser: Any, page: Any, site: str, ui_hub: Hub,
        caplog: pytest.LogCaptureFixture) -> None:
    page.goto(site + "/integrations")
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.locator("h1")).to_have_text("This page needs the setup code")
    expect(page.locator("main p").first).to_contain_text(
        "open the address on the line that starts with \u201cFirst visit:\u201d in the hub's log")
    expect(page.locator("form")).to_have_count(0)
    shot(page, "setup-needs-code")

    url = logged_first_visit(ui_hub, site, caplog)
    assert re.fullmatch(re.escape(site) + r"/setup\?code=[A-Za-z0-9_-]{20,}", url)
    code = url.split("code=")[1]
    assert code not in stored_text(ui_hub)  # kept only as its hash
    page.goto(site + "/setup?code=" + code[:-1])
    expect(page.locator("h1")).to_have_text("This page needs the setup code")

    page.goto(url)
    expect(page.locator("h1")).to_have_text("Welcome to Ledgerline Hub")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/integrations$"))

    # Used once, and gone: another browser with the same address is sent to sign in.
    other = browser.new_context()
    try:
        second = other.new_page()
        second.goto(url)
        expect(second).to_have_url(re.compile(r"/signin$"))
    finally:
        other.close()
    assert not auth.setup_code_is_good(ui_hub, code)
    assert auth.SETUP_CODE_PREFIX not in stored_text(ui_hub)


def test_setup_without_the_code_refuses_and_stores_nothing(
        ui_client: FlaskClient, ui_hub: Hub) -> None:
    code = auth.issue_setup_code(ui_hub)
    token = csrf_of(ui_client.get("/setup?code=" + code).text)
    form = {"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD}
    for given in ({}, {"code": ""}, {"code": "guess"}, {"code": code.upper()},
                  {"code": "x" * 5000}):
        answer = ui_client.post("/setup", data=form | given)
        assert answer.status_code == 403, given
        assert "This page needs the setup code" in answer.text
        assert "<form" not in answer.text.split("<main>")[1]
    assert not auth.password_is_set(ui_hub)
    answer = ui_client.post("/setup", data=form | {"code": code})
    assert answer.status_code == 302 and answer.location == "/integrations"
    assert auth.check_password(ui_hub, PASSWORD)


def test_a_setup_code_opens_setup_once(ui_client: FlaskClient, ui_hub: Hub) -> None:
    """Even when the password is later removed by hand, the code that set it opens nothing."""
    first, second = auth.issue_setup_code(ui_hub), auth.issue_setup_code(ui_hub)
    token = csrf_of(ui_client.get("/setup?code=" + first).text)
    form = {"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD}
    assert ui_client.post("/setup", data=form | {"code": first}).status_code == 302
    ui_hub.write(lambda conn: conn.execute(
        delete(auth.META).where(auth.META.c.key == auth.PASSWORD_KEY)))
    for used in (first, second):  # setting the password ended every code
        assert ui_client.get("/setup?code=" + used).status_code == 403


def test_a_short_password_keeps_the_code_for_the_next_try(
        ui_client: FlaskClient, ui_hub: Hub) -> None:
    code = auth.issue_setup_code(ui_hub)
    token = csrf_of(ui_client.get("/setup?code=" + code).text)
    short = ui_client.post("/setup", data={"csrf_token": token, "code": code,
                                           "password": "eleven char", "confirm": "eleven char"})
    assert short.status_code == 422 and "Use at least 12 characters." in short.text
    assert f'name="code" value="{code}"' in short.text
    assert auth.setup_code_is_good(ui_hub, code)


def test_no_setup_code_while_the_password_comes_from_the_environment(
        tmp_path: Any, make_hub: Any, caplog: pytest.LogCaptureFixture) -> None:
    from hub.config import load_config
    from tests.conftest import base_env

    env = base_env(tmp_path) | {"HUB_ADMIN_PASSWORD": PASSWORD}
    hub = make_hub(cfg=load_config(env, dotenv=False))
    with caplog.at_level(logging.INFO, logger="hub.serve"):
        first_visit(hub, "127.0.0.1", 8000)
    assert not [r for r in caplog.records if "First visit" in r.getMessage()]
    assert auth.SETUP_CODE_PREFIX not in stored_text(hub)
