"""The operator's pages where a person notices (issue 19), in a real browser: the OAuth
callback inside the UI's layout, every instant read as "2 minutes ago" with the exact time on
hover and never with microseconds, and wide tables that scroll within their card on a phone
rather than widening the page. Screenshots of the callback, Integrations and Money at desktop
and phone widths land in tests/artifacts/."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from tests.quickbooks.test_connect_browser import site_and_hub  # noqa: F401  (a fixture)
from tests.quickbooks.test_from_quickbooks import send_invoice, sweep
from tests.ui.conftest import PASSWORD, shot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}
# A time of day with its seconds, fractions or not ("12:03:44", "12:03:44.512934"): how a
# datetime printed raw reads; the pages say "2 minutes ago" and keep the minute for the title.
RAW = re.compile(r"\d{2}:\d{2}:\d{2}")
FRACTION = re.compile(r"\d{2}:\d{2}:\d{2}[.,]\d")
EXACT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")
MACHINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RELATIVE = re.compile(r"^(just now|in under a minute|(in )?\d+ (minute|hour|day)s?( ago)?)$")
# A host id one long word wide: it must wrap, not push the page past a phone's screen.
LONG_ID = "inv-" + "7" * 60


def instants_read_as_people_read_them(page: Any, scope: str = "main") -> int:
    """No raw datetime in what ``scope`` shows or shows on hover; every <time> relative, with
    the exact minute and zone in its title. Returns how many <time> elements there were."""
    assert not RAW.search(page.inner_text(scope)), page.url
    titles = page.eval_on_selector_all(f"{scope} [title]", "all => all.map(e => e.title)")
    assert not [t for t in titles if FRACTION.search(t)], page.url
    times = page.eval_on_selector_all(
        f"{scope} time", "all => all.map(e => [e.textContent, e.title, e.dateTime])")
    for text, title, machine in times:
        assert RELATIVE.match(text) and EXACT.match(title) and MACHINE.match(machine), \
            (page.url, text, title, machine)
    return len(times)


def in_the_layout(page: Any) -> None:
    expect(page.locator("header.top nav a[aria-current=page]")).to_have_text("Integrations")
    expect(page.locator("header.top button:has-text('Sign out')")).to_be_visible()
    expect(page.locator("link[rel=stylesheet]")).to_have_attribute("href", "/ui/static/hub.css")


def fits_a_phone(page: Any) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width == [PHONE["width"]] * 2, f"{page.url} scrolls sideways on a phone: {width}"


def scrolls_within_its_card(table: Any) -> None:
    inside = table.evaluate(
        "t => { const box = t.closest('.scroll'); return box && [box.scrollWidth, "
        "box.clientWidth, getComputedStyle(box).overflowX]; }")
    assert inside and inside[0] > inside[1] and inside[2] == "auto", inside


def test_callback_instants_and_phone_widths(browser: Any, site_and_hub: tuple[str, Hub],  # noqa: F811
                                            emulator: Emulator) -> None:
    site, hub = site_and_hub
    desktop = browser.new_context(viewport=DESKTOP)
    desktop.set_default_timeout(5000)
    page = desktop.new_page()
    page.goto(site + "/")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")

    # Refused at Intuit: the answer is a page of the UI, with the way back and a retry.
    page.goto(site + "/quickbooks/callback?error=access_denied")
    expect(page.locator("h1")).to_have_text("QuickBooks not connected")
    expect(page.locator("p.notice.bad[role=alert]")).to_contain_text(
        "The connection was not approved in QuickBooks")
    in_the_layout(page)
    shot(page, "quickbooks-callback-refused")
    page.click("button:has-text('Connect again')")
    page.click("button[value=connect]")  # the emulator's consent page
    expect(page.locator("h1")).to_have_text("QuickBooks connected")
    expect(page.locator("p.notice[role=status]")).to_contain_text("(sandbox)")
    in_the_layout(page)
    shot(page, "quickbooks-callback")
    page.set_viewport_size(PHONE)
    shot(page, "phone-quickbooks-callback")
    page.set_viewport_size(DESKTOP)

    page.click("a:has-text('Back to Integrations')")
    card = page.locator("#plugin-quickbooks")
    card.locator("button:has-text('Import now')").click()  # a browser connect waits for the go
    expect(page.locator("h1")).to_have_text("QuickBooks import started")
    run_due(hub)  # the first import, let go
    send_invoice(hub, "invoice.sent", "evt_1", external_id=LONG_ID)
    sweep(hub)  # the sync the QuickBooks card's "Last sync" reports
    page.click("a:has-text('Back to Integrations')")
    last_sync = card.locator("dt:has-text('Last sync') + dd time")
    expect(last_sync).to_have_text("just now")
    expect(last_sync).to_have_attribute("title", EXACT)
    expect(card.locator("dt:has-text('Access token') + dd")).to_have_text("expires in 1 hour")
    expect(card.locator("dt:has-text('Refresh token') + dd")).to_have_text(
        "lapses in 100 days unless used")
    assert instants_read_as_people_read_them(page) == 3
    shot(page, "integrations-after-sync")
    page.click("nav >> text=Activity")
    expect(page.locator("article.event").first).to_be_visible()
    assert instants_read_as_people_read_them(page) >= 4  # each event's "received"
    page.click(f"article:has-text('{LONG_ID}') a.event-type")
    expect(page.locator("dl.facts time")).to_have_count(2)  # happened, received
    # (Not "Data received": that is the event as the host sent it, its instants as written.)
    assert instants_read_as_people_read_them(page, "dl.facts") == 2
    page.click("nav >> text=Money")
    expect(page.locator("main > p.muted time")).to_have_text("just now")  # "as of"
    assert instants_read_as_people_read_them(page) == 1
    shot(page, "money-after-sync")

    phone = browser.new_context(viewport=PHONE, is_mobile=True,
                                storage_state=desktop.storage_state())
    phone.set_default_timeout(5000)
    small = phone.new_page()
    try:
        small.goto(site + "/integrations")
        expect(small.locator("#plugin-quickbooks time").first).to_be_visible()
        fits_a_phone(small)
        shot(small, "phone-integrations-after-sync")
        small.goto(site + "/activity")
        expect(small.locator(f"article:has-text('{LONG_ID}')")).to_be_visible()
        fits_a_phone(small)
        shot(small, "phone-activity")
        small.goto(site + "/money")
        owed = small.locator("section:has(h2:has-text('Who owes what')) table")
        expect(owed).to_contain_text("Dana Whitfield")
        fits_a_phone(small)
        scrolls_within_its_card(owed)
        shot(small, "phone-money-after-sync")
        small.goto(emulator.base_url + "/_emulator/books")
        invoices = small.locator("#invoices table")
        expect(invoices.locator("tbody tr").first).to_contain_text(f"ledgerline:{LONG_ID}")
        fits_a_phone(small)
        scrolls_within_its_card(invoices)
        shot(small, "phone-emulator-books")
    finally:
        phone.close()
        desktop.close()
