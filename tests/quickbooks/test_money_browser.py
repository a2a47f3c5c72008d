"""The Money page as an operator reads it: who owes what with overdue flagged, the monthly
report with its chart, and the CSV download — in a real browser, from the QuickBooks mirror."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hub.builtin.quickbooks import connect
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_connect_browser import site_and_hub  # noqa: F401  (a fixture)
from tests.quickbooks.test_from_quickbooks import sweep
from tests.ui.conftest import PASSWORD, shot


def test_money_shows_balances_the_monthly_report_and_a_csv(
    browser: Any, site_and_hub: tuple[str, Hub], emulator: Emulator  # noqa: F811
) -> None:
    site, hub = site_and_hub
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
    owing = [i for i in emulator.objects("Invoice") if float(i["Balance"]) > 0]
    # The seeded invoices fall due on the company's today: make one a week late, so it is
    # overdue at any hour of the day the test runs.
    today = date.today()
    emulator.edit_invoice(owing[0]["Id"], TxnDate=(today - timedelta(days=37)).isoformat(),
                          DueDate=(today - timedelta(days=7)).isoformat())
    sweep(hub)
    context = browser.new_context(viewport={"width": 1100, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto(site + "/money")
        page.fill("#password", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.wait_for_selector("h2:has-text('Who owes what')")
        rows = page.locator("table.money").first.locator("tbody tr")
        assert rows.count() == len({i["CustomerRef"]["value"] for i in owing})
        assert page.locator("tr.overdue .pill:has-text('Overdue')").count() >= 1
        assert page.locator("svg.chart rect.invoiced").count() >= 1
        shot(page, "money")
        with page.expect_download() as download:
            page.click("a:has-text('Download CSV')")
        lines = open(download.value.path()).read().splitlines()
        assert lines[0] == "month,invoiced,collected,outstanding" and len(lines) > 1
    finally:
        context.close()
