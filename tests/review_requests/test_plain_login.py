"""No SMTP password in the clear: a login over a connection that is neither TLS nor STARTTLS is
refused before connecting, unless the server is on loopback (the real servers of the other
tests, on 127.0.0.1, log in as before)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.builtin.review_requests import mailer
from hub.queue.worker import run_due
from tests.review_requests.conftest import delivery, paid, send_paid

# TEST-NET-1 (RFC 5737): off this machine, and nothing there answers.
AWAY = "192.0.2.10"


@pytest.mark.parametrize("url", [
    "smtp://u:hunter22@mail.example.com:587",
    f"smtp://u:hunter22@{AWAY}:2525",
    "smtp://u:hunter22@[::ffff:10.0.0.5]:25",
    "smtp://u:hunter22@localhost.example.com",  # a name is not looked up, nor trusted
    "smtp://u@mail.example.com",  # a user without a password still logs in
])
def test_a_login_in_the_clear_off_this_machine_is_refused(url: str) -> None:
    refusal = mailer.plain_login_refusal(mailer.parse_smtp_url(url))
    assert isinstance(refusal, mailer.MailRefused)
    text = str(refusal)
    assert text.startswith("HUB_SMTP_URL logs in to ") and "without TLS" in text
    assert "smtps://" in text and "?starttls=1" in text and "hunter22" not in text


@pytest.mark.parametrize("url", [
    "smtps://u:hunter22@mail.example.com",
    "smtp://u:hunter22@mail.example.com:587?starttls=1",
    "smtp://mail.example.com",  # no login: nothing secret goes over the wire
    "smtp://u:hunter22@127.0.0.1:1025",
    "smtp://u:hunter22@127.8.9.10:1025",
    "smtp://u:hunter22@localhost:1025",
    "smtp://u:hunter22@[::1]:1025",
    "smtp://u:hunter22@[::ffff:127.0.0.1]:1025",
])
def test_tls_starttls_no_login_or_loopback_are_allowed(url: str) -> None:
    assert mailer.plain_login_refusal(mailer.parse_smtp_url(url)) is None


def test_the_session_refuses_before_connecting() -> None:
    server = mailer.parse_smtp_url(f"smtp://u:hunter22@{AWAY}:2525")
    # Were it to connect, this would be a MailDown after the connection timed out.
    with pytest.raises(mailer.MailRefused, match=f"logs in to {AWAY}:2525 without TLS"), \
            mailer.session(server):
        pass


def test_a_review_request_over_a_clear_login_needs_the_operator(make_reviews_hub: Any) -> None:
    hub = make_reviews_hub(f"smtp://mailer:s3cret-pa55@{AWAY}:2525")
    send_paid(hub, "evt_1", paid())
    run_due(hub)
    state = delivery(hub, "evt_1")
    assert state["status"] == "dead" and state["attempts"] == 1
    assert state["last_error"].startswith(f"HUB_SMTP_URL logs in to {AWAY}:2525 without TLS")
    assert "s3cret-pa55" not in state["last_error"]
