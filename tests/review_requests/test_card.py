"""The plugin's card on the settings UI: how many were asked, and what stops it sending."""

from __future__ import annotations

from typing import Any

from hub.builtin import review_requests
from hub.queue.worker import run_due
from tests.review_requests.conftest import MailServer, paid, send_paid


def card(hub: Any) -> str:
    ctx = hub.context("review_requests", "ui", "card")
    shown = review_requests.ui_card(ctx)
    assert shown is not None
    return shown


def test_the_card_counts_requests_and_names_what_is_missing(make_reviews_hub: Any,
                                                            mail: MailServer) -> None:
    unconfigured = make_reviews_hub(None, review_url=None)
    shown = card(unconfigured)
    assert "Customers asked for a review: 0." in shown
    assert "review_url is not set, so nothing is sent" in shown
    assert "HUB_SMTP_URL is not set, so mail cannot be sent" in shown
    unconfigured.close()

    hub = make_reviews_hub(mail.url)
    send_paid(hub, "evt_1", paid())
    run_due(hub)
    shown = card(hub)
    assert "Customers asked for a review: 1." in shown and "warning" not in shown
    assert mail.url not in shown
