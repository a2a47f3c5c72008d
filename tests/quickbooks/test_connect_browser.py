"""Connecting QuickBooks as an operator does it: in a real browser, from the Integrations
page's QuickBooks card, through the emulator's consent page and back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.builtin.quickbooks import connection
from hub.hub import Hub
from hub.web.app import create_app
from tests.conftest import free_port, serving
from tests.quickbooks.conftest import qbo_ctx
from tests.ui.conftest import PASSWORD, shot


@pytest.fixture
def site_and_hub(make_qbo_hub: Any) -> Iterator[tuple[str, Hub]]:
    port = free_port()  # known before the hub: it is in the OAuth redirect URI
    hub = make_qbo_hub(QBO_REDIRECT_URI=f"http://127.0.0.1:{port}/quickbooks/callback",
                       HUB_ADMIN_PASSWORD=PASSWORD)
    with serving(create_app(hub), port) as url:
        yield url, hub


def connect_in_browser(page: Any, site: str, shoot: bool = False) -> None:
    """Sign in, Connect QuickBooks, approve on Intuit's consent page (the emulator's)."""
    page.goto(site + "/")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.click("button:has-text('Connect QuickBooks')")
    page.wait_for_selector("button:has-text('Connect')")
    if shoot:
        shot(page, "quickbooks-consent")
    page.click("button[value=connect]")
    page.wait_for_selector("h1:has-text('QuickBooks connected')")


def test_connect_and_disconnect_from_the_quickbooks_card(browser: Any,  # noqa: F811
                                                         site_and_hub: tuple[str, Hub]) -> None:
    site, hub = site_and_hub
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        connect_in_browser(page, site, shoot=True)
        assert "(sandbox)" in page.inner_text("main")
        shot(page, "quickbooks-connected")
        assert connection.status(qbo_ctx(hub))["status"] == "connected"
        page.goto(site + "/")
        card = page.inner_text("body")
        assert "QuickBooks connected" in card and "Environment" in card
        shot(page, "integrations-quickbooks-connected")
        page.click("button:has-text('Disconnect')")
        page.wait_for_selector("h1:has-text('QuickBooks disconnected')")
        assert connection.status(qbo_ctx(hub))["status"] == "disconnected"
    finally:
        context.close()
