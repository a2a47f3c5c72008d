"""The mail server down, a wrong password, and two workers racing for one customer."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from hub.queue import claims, dispatch
from hub.queue.worker import run_due
from tests.review_requests.conftest import (
    PASSWORD,
    HostInbox,
    MailServer,
    delivery,
    paid,
    send_paid,
)

T0 = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)


def test_mail_server_down_is_retried_later_and_sends_once_when_back(
        make_reviews_hub: Any, host: HostInbox, caplog: pytest.LogCaptureFixture) -> None:
    mail = MailServer(auth=True)  # not started: the port refuses connections
    hub = make_reviews_hub(mail.url)
    caplog.set_level(logging.DEBUG)
    try:
        with freeze_time(T0) as clock:
            send_paid(hub, "evt_1", paid())
            run_due(hub)
            state = delivery(hub, "evt_1")
            assert state["status"] == "pending" and state["attempts"] == 1
            assert state["last_error"] == (
                f"could not reach the mail server at 127.0.0.1:{mail.port} "
                "(ConnectionRefusedError); trying again later")
            assert run_due(hub) == 0  # backing off: not due again yet
            clock.tick(timedelta(minutes=2))  # past the first backoff (60 s in the tests)
            assert run_due(hub) == 1
            state = delivery(hub, "evt_1")
            assert state["status"] == "pending" and state["attempts"] == 2

            mail.start()
            clock.tick(timedelta(minutes=5))
            assert run_due(hub) >= 1
            assert delivery(hub, "evt_1")["status"] == "done"
            clock.tick(timedelta(hours=6))
            run_due(hub)
    finally:
        mail.stop()
    assert len(mail.inbox.messages) == 1 and len(host.of_type("review.requested")) == 1
    # The password is in HUB_SMTP_URL: it must appear in no error and no log line.
    assert PASSWORD not in (state["last_error"] or "") and PASSWORD not in caplog.text


def test_a_refused_password_needs_the_operator_and_is_never_shown(
        make_reviews_hub: Any, host: HostInbox) -> None:
    mail = MailServer(auth=True)
    mail.start()
    try:
        hub = make_reviews_hub(mail.url.replace(PASSWORD, "wrong-password"))
        send_paid(hub, "evt_1", paid())
        run_due(hub)
    finally:
        mail.stop()
    state = delivery(hub, "evt_1")
    assert state["status"] == "dead"
    assert state["last_error"] == (
        f"the mail server at 127.0.0.1:{mail.port} refused the user name or password in "
        "HUB_SMTP_URL (535); fix it and restart the hub, then retry")
    assert mail.inbox.messages == []
    assert "wrong-password" not in str(host.messages)


@pytest.mark.parametrize("run", range(2))
def test_two_workers_on_one_database_paying_two_invoices_of_one_customer_send_one_mail(
        run: int, make_reviews_hub: Any, mail: MailServer, host: HostInbox,
        database_url: str) -> None:
    first = make_reviews_hub(mail.url, database_url=database_url)
    second = make_reviews_hub(mail.url, review_url=None, database_url=database_url)
    send_paid(first, "evt_1", paid("inv-1", "1001"))
    send_paid(second, "evt_2", paid("inv-2", "1002", billing_email="Dana@Example.com"))
    # Each worker takes one delivery, then both run at the same instant.
    owner = claims.owner_id()
    claimed = [claims.claim(hub, owner, limit=1)[0] for hub in (first, second)]
    assert {c.plugin for c in claimed} == {"review_requests"}
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(hub: Any, job: Any) -> None:
        try:
            start.wait(5)
            dispatch.run(hub, job, owner)
        except BaseException as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=pair) for pair in zip((first, second),
                                                                        claimed, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(mail.inbox.messages) == 1
    states = sorted(delivery(first, e)["status"] for e in ("evt_1", "evt_2"))
    assert states == ["done", "skipped"]
    run_due(first)
    run_due(second)
    assert len(host.of_type("review.requested")) == 1
