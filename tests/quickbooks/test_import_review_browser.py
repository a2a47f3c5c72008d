"""Connecting in the browser offers "Import now" or "Review first": nothing is imported until
the operator says so, the review shows what the import would bring, and Import now brings it.
In a real browser, against the emulator's consent page."""

from __future__ import annotations

from typing import Any

from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from tests.plugins.recorder import Recorder
from tests.quickbooks.test_connect_browser import (  # noqa: F401  (site_and_hub: a fixture)
    connect_in_browser,
    site_and_hub,
)
from tests.quickbooks.test_from_quickbooks import told
from tests.ui.conftest import shot


def test_review_first_then_import_now(browser: Any, site_and_hub: tuple[str, Hub],  # noqa: F811
                                      emulator: Emulator, host: Recorder) -> None:
    site, hub = site_and_hub
    walk_in = emulator.add_customer(DisplayName="Walk-in Client",
                                    PrimaryEmailAddr={"Address": "walkin@example.com"})
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        connect_in_browser(page, site)
        assert "Nothing is imported yet" in page.inner_text("main")
        run_due(hub)  # the sweep's slot comes and goes: it waits for the operator
        assert told(host, "contact.imported") == []

        page.click("a:has-text('Review first')")
        page.wait_for_selector("h1:has-text('What the import would bring')")
        rows = page.inner_text("[data-preview=to-import]")
        assert "Walk-in Client" in rows and "walkin@example.com" in rows
        shot(page, "quickbooks-import-preview")
        assert told(host, "contact.imported") == []  # a review only reads

        page.click("button:has-text('Import now')")
        page.wait_for_selector("h1:has-text('QuickBooks import started')")
    finally:
        context.close()
    run_due(hub)
    imported = {m["data"]["external_id"] for m in told(host, "contact.imported")}
    assert f"qbo:{walk_in['Id']}" in imported
