"""Sessions the server can end: signing out ends every copy of that browser's cookie, and
``hub admin sign-out-all`` ends every session. In the browser where the operator notices;
the stored side and the password through Flask's test client."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from hub.hub import Hub
from hub.queue.db import reading
from hub.roles.cli import cli
from hub.ui import auth
from hub.web.app import create_app
from tests.ui.conftest import PASSWORD, client_sign_in, shot


def signed_in_page(browser: Any, site: str) -> Any:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    page.goto(site + "/signin")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(re.compile(r"/integrations$"))
    return page


def still_signed_in(page: Any, site: str) -> bool:
    page.goto(site + "/integrations")
    return not page.url.split("?")[0].endswith("/signin")


@pytest.mark.browser
def test_signing_out_ends_every_copy_of_the_cookie_and_sign_out_all_ends_the_rest(
        browser: Any, site: str, signed_up: Hub) -> None:
    laptop = signed_in_page(browser, site)
    phone = signed_in_page(browser, site)  # the operator's other device, signed in apart
    # Someone copies the laptop's cookie into a browser of their own.
    thief = browser.new_context()
    thief.add_cookies(laptop.context.cookies())
    stolen = thief.new_page()
    try:
        assert still_signed_in(stolen, site)  # a copied cookie works while the session lives

        laptop.click("button:has-text('Sign out')")
        expect(laptop.locator(".notice")).to_have_text("You are signed out.")
        assert not still_signed_in(stolen, site)  # ended with the session, not just deleted
        expect(stolen.locator("h1")).to_have_text("Sign in")
        shot(stolen, "signed-out-copy")
        assert still_signed_in(phone, site)  # the phone's own session goes on

        ran = CliRunner().invoke(cli, ["admin", "sign-out-all"], obj=signed_up)
        assert ran.exit_code == 0, ran.output
        assert "1 sign-in session ended: every browser must sign in again" in ran.output
        assert not still_signed_in(phone, site)
        expect(phone.locator("h1")).to_have_text("Sign in")
    finally:
        thief.close()
        laptop.context.close()
        phone.context.close()


def test_sessions_are_kept_as_hashes_and_end_with_a_new_password_or_sign_out_all(
        ui_client: FlaskClient, signed_up: Hub) -> None:
    client_sign_in(ui_client)
    with ui_client.session_transaction() as session:
        session_id = session["session_id"]
    with reading(signed_up.engine) as conn:
        keys = conn.execute(select(auth.META.c.key).where(
            auth.META.c.key.startswith(auth.SESSION_PREFIX))).scalars().all()
    assert len(keys) == 1 and session_id not in keys[0]
    # The stored password is replaced only by setting it again once removed: every session of
    # the old one ends then, as with a new HUB_ADMIN_PASSWORD.
    signed_up.write(lambda conn: conn.execute(
        auth.META.delete().where(auth.META.c.key == auth.PASSWORD_KEY)))
    assert auth.set_first_password(signed_up, "a different password now")
    assert ui_client.get("/integrations").location.startswith("/signin")
    client_sign_in(ui_client, "a different password now")
    assert auth.sign_out_all(signed_up) == 1
    assert ui_client.get("/integrations").location.startswith("/signin")
    assert auth.sign_out_all(signed_up) == 0


def test_an_older_hash_still_signs_in_and_is_made_owasps_scrypt(
        ui_hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "HASH_METHOD", auth.OWASP_SCRYPT)  # the real one, for once
    # What Werkzeug's default made until now (scrypt with N=2^15).
    digest = generate_password_hash(PASSWORD, method="scrypt:32768:8:1")
    ui_hub.write(lambda conn: conn.execute(
        insert(auth.META).values(key=auth.PASSWORD_KEY, value=digest)))
    client = create_app(ui_hub).test_client()
    client_sign_in(client)
    stored = auth.stored_hash(ui_hub)
    assert stored is not None
    method, salt, derived = stored.split("$")
    assert method == "scrypt:131072:8:1"
    # OWASP's N=2^17, r=8, p=1, checked with hashlib itself rather than through Werkzeug.
    assert hashlib.scrypt(PASSWORD.encode(), salt=salt.encode(), n=2**17, r=8, p=1,
                          maxmem=2**28, dklen=64).hex() == derived
    assert client.get("/integrations").status_code == 200  # the upgrade signed no one out
