"""The Reconcile page in a real browser: Check now, the findings in plain words, Fix on one,
Accept QuickBooks' version on another, Fix all safe ones, and a check afterwards finding
nothing, against the emulator's books changed by hand."""

from __future__ import annotations

from typing import Any

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_connect_browser import (  # noqa: F401  (site_and_hub: a fixture)
    connect_in_browser,
    site_and_hub,
)
from tests.quickbooks.test_from_quickbooks import told
from tests.quickbooks.test_invoices import invoice_data, post
from tests.ui.conftest import shot


def _invoices(hub: Hub, emulator: Emulator, count: int) -> list[dict[str, Any]]:
    client = create_app(hub).test_client()
    for n in range(count):
        post(client, "invoice.sent", f"evt_{n}",
             invoice_data(external_id=f"inv-{n}", number=f"10{n}"))
    run_due(hub)
    found = []
    for n in range(count):
        link = links.get(qbo_ctx(hub), "invoice", f"inv-{n}")
        assert link is not None
        found.append(emulator.get("Invoice", link["qbo_id"]))
    return found


def _check(page: Any, hub: Hub) -> None:
    page.click("button:has-text('Check now')")
    page.wait_for_selector("[data-reconcile=checking]")
    run_due(hub)  # the worker runs the reconcile-work job
    page.reload()


def test_the_reconcile_page_fixes_what_differs(browser: Any,
                                               site_and_hub: tuple[str, Hub],  # noqa: F811
                                               emulator: Emulator, host: Recorder) -> None:
    site, hub = site_and_hub
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        connect_in_browser(page, site)
        deleted, edited, accepted, voided = _invoices(hub, emulator, 4)
        emulator.delete("Invoice", deleted["Id"])
        emulator.edit_invoice(edited["Id"], TxnDate="2026-03-30")
        emulator.edit_invoice(accepted["Id"], DueDate="2026-05-01")
        emulator.void("Invoice", voided["Id"])
        page.goto(site + "/")
        page.click("a:has-text('Reconcile')")
        page.wait_for_selector("h1:has-text('Reconcile')")
        assert "Not checked yet" in page.inner_text("[data-reconcile=summary]")
        _check(page, hub)
        rows = page.inner_text("[data-reconcile=findings]")
        assert "invoice_missing" in rows and "deleted there" in rows
        assert "date 2026-03-30 (the host's 2026-03-28)" in rows
        assert "invoice_voided" in rows
        shot(page, "quickbooks-reconcile-findings")

        row = "tr[data-subject='invoice:inv-2']"
        page.click(f"{row} button:has-text(\"Accept QuickBooks'\")")
        page.wait_for_selector(f"{row} [data-fix=asked]")
        page.click("tr[data-subject='invoice:inv-0'] button:has-text('Fix')")
        page.wait_for_selector("tr[data-subject='invoice:inv-0'] [data-fix=asked]")
        page.click("button:has-text('Fix all safe ones')")
        page.wait_for_selector("tr[data-subject='invoice:inv-1'] [data-fix=asked]")
        run_due(hub)
        page.reload()
        assert page.locator("[data-fix=done]").count() == 4
        shot(page, "quickbooks-reconcile-fixed")

        _check(page, hub)
        assert "nothing to fix" in page.inner_text("[data-reconcile=summary]")
    finally:
        context.close()
    live = [i for i in emulator.objects("Invoice") if not i.get("_deleted")
            and links.marked(i.get("PrivateNote")) == "inv-0"]
    assert len(live) == 1  # made again, once
    assert emulator.get("Invoice", edited["Id"])["TxnDate"] == "2026-03-28"  # type: ignore[index]
    assert emulator.get("Invoice", accepted["Id"])["DueDate"] == "2026-05-01"  # type: ignore[index]
    [changed] = told(host, "invoice.changed_in_quickbooks")
    assert changed["data"]["external_id"] == "inv-2"
    assert [m["data"]["status"] for m in told(host, "invoice.payment_updated")] == ["void"]
