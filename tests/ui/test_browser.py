"""The operator's main paths in a real headless Chromium against the app on a real socket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from hub.hub import Hub
from hub.queue.worker import run_due
from hub.ui import auth
from tests.ui.conftest import PASSWORD, Switch, send, shot

pytestmark = pytest.mark.browser


def sign_in(page: Any, site: str, password: str = PASSWORD) -> None:
    page.goto(site + "/signin")
    page.fill("#password", password)
    page.click("button:has-text('Sign in')")


def card(page: Any, plugin: str) -> Any:
    return page.locator(f"#plugin-{plugin}")


def test_first_visit_sets_the_password_then_sign_out_and_back_in(
        page: Any, site: str, ui_hub: Hub) -> None:
    page.goto(site + "/setup?code=" + auth.issue_setup_code(ui_hub))
    expect(page.locator("h1")).to_have_text("Welcome to Ledgerline Hub")
    shot(page, "setup")
    page.fill("#password", "short")
    page.fill("#confirm", "short")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("at least 12 characters")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/integrations$"))
    expect(page.locator(".notice")).to_have_text("Password saved. You are signed in.")

    page.click("button:has-text('Sign out')")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto(site + "/integrations")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.fill("#password", "not the password")
    page.click("button:has-text('Sign in')")
    expect(page.locator(".error")).to_have_text(
        "That password is not right. Check it and try again.")
    shot(page, "signin-wrong-password")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    expect(page).to_have_url(re.compile(r"/integrations$"))  # back where the operator was going


def test_repeated_wrong_passwords_pause_signing_in(page: Any, site: str, signed_up: Hub) -> None:
    page.goto(site + "/signin")

    def again(password: str) -> None:  # the refusal page has the form again
        page.fill("#password", password)
        page.click("button:has-text('Sign in')")

    for _ in range(4):
        again("guess")
        expect(page.locator(".error")).to_contain_text("not right")
    again("guess")
    expect(page.locator(".error")).to_contain_text("last try for now: try again in 15 minutes")
    again(PASSWORD)  # even the right one waits
    expect(page.locator(".error")).to_contain_text("Too many wrong passwords")
    expect(page).to_have_url(re.compile(r"/signin$"))


def test_integrations_toggle_persists(page: Any, site: str, signed_up: Hub) -> None:
    sign_in(page, site)
    recorder = card(page, "recorder")
    expect(recorder.locator("h2")).to_have_text("Recorder")
    expect(recorder.locator(".health .pill")).to_have_text("Ready")
    expect(card(page, "extras").locator(".plugin-card")).to_contain_text("extras is ready")
    expect(card(page, "host_webhooks").locator(".tag")).to_have_text("Built-in")
    shot(page, "integrations")
    recorder.locator("button.switch").click()
    expect(page.locator(".notice")).to_have_text("Recorder is now off.")
    expect(card(page, "recorder").locator("button.switch")).to_have_attribute(
        "aria-checked", "false")
    assert signed_up.states.enabled("recorder") is False
    card(page, "recorder").locator("button.switch").click()
    expect(card(page, "recorder").locator(".switch-text")).to_have_text("On")
    assert signed_up.states.enabled("recorder") is True


def test_settings_errors_beside_the_field_then_saved_and_secrets_not_echoed(
        page: Any, site: str, signed_up: Hub) -> None:
    sign_in(page, site)
    recorder = card(page, "recorder")
    recorder.locator("summary").click()
    recorder.locator("input[name=label]").fill("front desk")
    recorder.locator("input[name=limit]").fill("0")
    recorder.locator("input[name=token]").fill("tok-s3cret-XYZ")
    recorder.locator("button:has-text('Save Recorder settings')").click()

    limit = card(page, "recorder").locator("[data-field=limit]")
    expect(limit.locator(".error")).to_have_text("Input should be greater than or equal to 1")
    expect(limit.locator("input")).to_have_attribute("aria-invalid", "true")
    expect(limit.locator("input")).to_have_value("0")  # what was typed is kept
    expect(card(page, "recorder").locator("input[name=label]")).to_have_value("front desk")
    expect(card(page, "recorder").locator("[data-field=label] .error")).to_have_count(0)
    expect(card(page, "recorder").locator("input[name=token]")).to_have_value("")
    assert "tok-s3cret-XYZ" not in page.content()
    shot(page, "integrations-setting-error")
    assert signed_up.states.settings("recorder").limit == 3  # nothing saved

    recorder = card(page, "recorder")
    recorder.locator("input[name=limit]").fill("7")
    recorder.locator("input[name=token]").fill("tok-s3cret-XYZ")
    recorder.locator("button:has-text('Save Recorder settings')").click()
    expect(page.locator(".notice")).to_have_text("Recorder settings saved.")
    saved = signed_up.states.settings("recorder")
    assert (saved.label, saved.limit) == ("front desk", 7)
    assert saved.token.get_secret_value() == "tok-s3cret-XYZ"
    assert "tok-s3cret-XYZ" not in page.content()
    recorder = card(page, "recorder")
    recorder.locator("summary").click()
    token = recorder.locator("input[name=token]")
    expect(token).to_have_value("")
    expect(token).to_have_attribute("placeholder", re.compile("leave empty to keep"))
    expect(recorder.locator("input[name=limit]")).to_have_value("7")

    # Saving again with the secret left empty keeps it.
    recorder.locator("input[name=limit]").fill("8")
    recorder.locator("button:has-text('Save Recorder settings')").click()
    expect(page.locator(".notice")).to_have_text("Recorder settings saved.")
    saved = signed_up.states.settings("recorder")
    assert saved.limit == 8 and saved.token.get_secret_value() == "tok-s3cret-XYZ"


def test_retry_a_stopped_delivery_from_activity(
        page: Any, site: str, signed_up: Hub, switch: Switch) -> None:
    switch.failing = True
    send(signed_up, "evt_1", external_id="INV-7")
    send(signed_up, "evt_2", "contact")
    run_due(signed_up)
    assert _status(signed_up, "evt_1") == "dead"
    sign_in(page, site)
    page.click("nav >> text=Activity")
    event = page.locator("[data-event=evt_1]")
    delivery = event.locator("[data-plugin=recorder]")
    expect(delivery.locator(".pill")).to_have_text("Stopped")
    expect(delivery.locator(".problem")).to_have_text(
        "the invoice has no customer email: add one, then retry")
    shot(page, "activity")

    page.fill("#about", "INV-7")
    page.click("button:has-text('Filter')")
    expect(page.locator("article.event")).to_have_count(1)
    expect(page.locator("[data-event=evt_2]")).to_have_count(0)

    switch.failing = False
    page.locator("[data-event=evt_1] [data-plugin=recorder] button:has-text('Retry')").click()
    expect(page.locator(".notice")).to_contain_text("Sent again")
    expect(page).to_have_url(re.compile(r"about=INV-7"))  # back on the same filtered view
    assert _status(signed_up, "evt_1") == "pending"
    run_due(signed_up)
    assert _status(signed_up, "evt_1") == "done"
    page.reload()
    expect(page.locator("[data-event=evt_1] [data-plugin=recorder] .pill")).to_have_text("Done")

    page.click("[data-event=evt_1] a.event-type")
    expect(page.locator("h1")).to_contain_text("invoice.sent")
    expect(page.locator("pre.data")).to_contain_text('"external_id": "INV-7"')
    shot(page, "event-detail")


def test_money_and_a_phone_sized_screen(
        browser: Any, site: str, signed_up: Hub) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, site)
        shot(page, "phone-integrations")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the page scrolls sideways on a phone"
        page.click("nav >> text=Money")
        # The extras test plugin answers the report: one month, 65.00 still outstanding.
        expect(page.locator("h2").first).to_have_text("Who owes what")
        monthly = page.locator("section:has(h2:has-text('Monthly report')) table")
        expect(monthly).to_contain_text("2026-03")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the Money page scrolls sideways on a phone"
        shot(page, "phone-money")
    finally:
        context.close()


def _status(hub: Hub, key: str) -> str:
    view = hub.event(key)
    assert view is not None
    return {d["plugin"]: d["status"] for d in view["deliveries"]}["recorder"]  # type: ignore[no-any-return]
