"""``HUB_SMTP_URL`` parsed without ever echoing it; messages composed safely."""

from __future__ import annotations

import pytest

from hub.builtin.review_requests.mailer import (
    MailRefused,
    SmtpServer,
    compose,
    domain_of,
    parse_smtp_url,
)


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://127.0.0.1:1025", SmtpServer("127.0.0.1", 1025)),
    ("smtp://mail.example.com", SmtpServer("mail.example.com", 25)),
    ("smtps://u:p@mail.example.com", SmtpServer("mail.example.com", 465, tls=True, user="u",
                                                password="p")),
    ("smtp://u%40x.com:p%2Fw@mail.example.com:587?starttls=1",
     SmtpServer("mail.example.com", 587, starttls=True, user="u@x.com", password="p/w")),
])
def test_smtp_urls(url: str, expected: SmtpServer) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(("url", "message"), [
    ("http://u:hunter2@mail.example.com", "HUB_SMTP_URL must start with smtp:// or smtps://"),
    ("smtp://u:hunter2@", "HUB_SMTP_URL names no host"),
    ("smtp://u:hunter2@mail.example.com:99999", "HUB_SMTP_URL is not a valid URL"),
    ("smtps://u:hunter2@mail.example.com?starttls=1", "smtps:// is TLS already"),
])
def test_a_bad_url_is_refused_without_echoing_it(url: str, message: str) -> None:
    with pytest.raises(MailRefused) as caught:
        parse_smtp_url(url)
    assert message in str(caught.value) and "hunter2" not in str(caught.value)


def test_the_password_is_not_in_the_repr() -> None:
    assert "hunter2" not in repr(parse_smtp_url("smtp://u:hunter2@mail.example.com"))


def test_a_line_break_in_a_name_cannot_add_a_header() -> None:
    message = compose(mail_from="Shop <shop@example.com>", to_email="ann@example.com",
                      to_name="Ann\r\nBcc: all@example.com", subject="Thanks Ann\r\nBcc: x@y.z",
                      body="hi", message_id="<1@example.com>")
    text = message.as_string()
    assert "\nBcc:" not in text and message["Subject"] == "Thanks Ann Bcc: x@y.z"
    assert domain_of("Shop <shop@example.com>") == "example.com"
    assert domain_of("nobody") == "ledgerline-hub.invalid"
