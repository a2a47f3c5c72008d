"""``hub review-requests test EMAIL`` and the ``send_test`` function behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hub.builtin.review_requests.mailer import MailError
from hub.builtin.review_requests.sending import send_test
from hub.roles.cli import build_cli
from tests.conftest import base_env
from tests.review_requests.conftest import PASSWORD, REVIEW_URL, MailServer


def send_to(hub: Any, to_email: str) -> str:
    return send_test(hub.context("review_requests", "test", "-"), to_email)


def invoke(tmp_path: Path, *args: str, **env: str) -> Any:
    return CliRunner().invoke(build_cli(), list(args), env={**base_env(tmp_path), **env})


def test_the_test_command_sends_the_configured_message(tmp_path: Path) -> None:
    mail = MailServer(auth=True)
    mail.start()
    try:
        assert invoke(tmp_path, "plugins", "set", "review_requests",
                      f"review_url={REVIEW_URL}").exit_code == 0
        result = invoke(tmp_path, "review-requests", "test", "owner@example.com",
                        HUB_SMTP_URL=mail.url, HUB_MAIL_FROM="shop@example.com")
    finally:
        mail.stop()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (f"sent a test review request to owner@example.com "
                                     f"through 127.0.0.1:{mail.port}")
    [message] = mail.inbox.messages
    assert message["Subject"] == "[test] Thank you, Test Customer"
    assert message["To"] == "Test Customer <owner@example.com>"
    assert REVIEW_URL in message.get_content() and "TEST-0001" in message.get_content()


def test_the_test_command_says_why_it_failed_without_the_password(tmp_path: Path) -> None:
    down = MailServer(auth=True)  # never started
    result = invoke(tmp_path, "review-requests", "test", "owner@example.com",
                    HUB_SMTP_URL=down.url)
    assert result.exit_code == 1
    assert (f"Error: could not reach the mail server at 127.0.0.1:{down.port} "
            "(ConnectionRefusedError)") in result.output
    assert PASSWORD not in result.output

    result = invoke(tmp_path, "review-requests", "test", "owner@example.com")
    assert result.exit_code == 1 and "HUB_SMTP_URL is not set" in result.output


def test_send_test_reminds_the_operator_what_is_missing(make_reviews_hub: Any,
                                                        mail: MailServer) -> None:
    hub = make_reviews_hub(mail.url, review_url=None)
    said = send_to(hub, "owner@example.com")
    assert said.endswith("; review_url is not set, so customers are not asked yet (the test "
                         "used https://example.com/review)")
    hub.states.update_settings("review_requests", {"review_url": REVIEW_URL})
    hub.states.set_enabled("review_requests", False)
    assert send_to(hub, "owner@example.com").endswith(
        "; the plugin is disabled, so customers are not asked")
    assert len(mail.inbox.messages) == 2
    with pytest.raises(MailError, match="'owner' is not an email address"):
        send_to(hub, "owner")
