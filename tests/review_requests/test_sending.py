"""A customer's first fully paid invoice: one mail through a real SMTP server and one
``review.requested`` for the host; never a second, whatever arrives after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.builtin.review_requests.models import REVIEW_REQUESTS
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.review_requests.conftest import (
    REVIEW_URL,
    HostInbox,
    MailServer,
    delivery,
    delivery_pk,
    paid,
    send_paid,
)
from tests.samples import CONTACT


def rows(hub: Hub) -> list[dict[str, Any]]:
    with reading(hub.engine) as conn:
        return [dict(r) for r in conn.execute(select(REVIEW_REQUESTS)).mappings()]


def test_first_fully_paid_invoice_sends_one_mail_and_tells_the_host(
        reviews_hub: Hub, mail: MailServer, host: HostInbox) -> None:
    client = create_app(reviews_hub).test_client()
    answer = client.post("/api/v1/events", headers={"Authorization": f"Bearer {API_KEY}"},
                         json={"id": "evt_paid", "type": "invoice.paid",
                               "occurred_at": "2026-03-28T15:04:05Z", "data": paid()})
    assert answer.status_code == 202, answer.get_json()
    run_due(reviews_hub)

    [message] = mail.inbox.messages
    assert message["Subject"] == "Thank you, Dana Whitfield"
    assert message["To"] == "Dana Whitfield <dana@example.com>"
    assert message["From"] == "Tutoring <shop@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert "Hello Dana Whitfield," in body and "invoice 1001" in body and REVIEW_URL in body
    message_id = message["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith("@example.com>")

    state = delivery(reviews_hub, "evt_paid")
    assert state["status"] == "done"
    assert "review request sent to dana@example.com for invoice 1001" in state["result"]

    [told] = host.of_type("review.requested")
    assert told["data"] == {
        "email": "dana@example.com", "name": "Dana Whitfield",
        "contact": {"external_id": "c-1"}, "invoice": {"external_id": "inv-1", "number": "1001"},
        "review_url": REVIEW_URL, "message_id": message_id, "paid_via": "host",
        "sent_at": told["data"]["sent_at"],
    }
    [row] = rows(reviews_hub)
    assert row["customer"] == "dana@example.com" and row["status"] == "sent"
    assert row["message_id"] == message_id and row["sent_at"] is not None


def test_a_partly_paid_or_void_invoice_asks_nothing(reviews_hub: Hub, mail: MailServer,
                                                    host: HostInbox) -> None:
    send_paid(reviews_hub, "evt_part", paid(status="partially_paid", amount_paid="100.00"))
    send_paid(reviews_hub, "evt_void", paid("inv-2", status="void", amount_paid="0.00"))
    run_due(reviews_hub)
    part = delivery(reviews_hub, "evt_part")
    assert part["status"] == "skipped"
    assert "not fully paid (balance 89.98)" in part["result"]
    assert delivery(reviews_hub, "evt_void")["result"] == "invoice 1001 is void"
    assert mail.inbox.messages == [] and host.messages == [] and rows(reviews_hub) == []

    # Paid in full later: that is the customer's first fully paid invoice.
    send_paid(reviews_hub, "evt_rest", paid())
    run_due(reviews_hub)
    assert len(mail.inbox.messages) == 1


def test_one_request_per_customer_whatever_the_case_spacing_or_source(
        reviews_hub: Hub, mail: MailServer, host: HostInbox) -> None:
    send_paid(reviews_hub, "evt_1", paid())
    run_due(reviews_hub)
    # A second invoice, billed to the same address written differently.
    send_paid(reviews_hub, "evt_2", paid("inv-2", "1002", billing_email="  DANA@Example.COM "))
    # The first invoice's payment seen again in QuickBooks, published by the sync.
    assert reviews_hub.publish("quickbooks", "invoice.paid", paid(), key="qbo-payment-77")
    # The host replays its event (same id), and sends the payment again under a new id.
    assert not send_paid(reviews_hub, "evt_1", paid())
    send_paid(reviews_hub, "evt_1_again", paid())
    run_due(reviews_hub)

    assert len(mail.inbox.messages) == 1 and len(host.of_type("review.requested")) == 1
    for event_id, source in [("evt_2", "host"), ("qbo-payment-77", "quickbooks"),
                             ("evt_1_again", "host")]:
        state = delivery(reviews_hub, event_id, source)
        assert state["status"] == "skipped", (event_id, state)
        assert state["result"].startswith("dana@example.com was already asked for a review on ")
        assert "(invoice 1001); a customer is asked once" in state["result"]


def test_a_customer_without_a_billing_email_is_known_by_the_contact_email(
        reviews_hub: Hub, mail: MailServer) -> None:
    send_paid(reviews_hub, "evt_1", paid(billing_email="accounts@example.org"))
    send_paid(reviews_hub, "evt_2", paid("inv-2", contact={**CONTACT, "email": "Accounts@"
                                                           "Example.org"}))
    send_paid(reviews_hub, "evt_3", paid("inv-3", contact={**CONTACT, "email": None}))
    run_due(reviews_hub)
    [message] = mail.inbox.messages
    assert message["To"] == "Dana Whitfield <accounts@example.org>"
    assert delivery(reviews_hub, "evt_2")["status"] == "skipped"
    assert "has no billing_email and its contact no email" in delivery(reviews_hub,
                                                                      "evt_3")["result"]


def test_a_delivery_run_again_after_it_marked_the_mail_sent_sends_nothing(
        reviews_hub: Hub, mail: MailServer, host: HostInbox) -> None:
    send_paid(reviews_hub, "evt_1", paid())
    run_due(reviews_hub)
    # The worker died after committing "sent" but before the hub recorded the delivery done:
    # the lease runs out and the same delivery is handed out again.
    from sqlalchemy import update

    from hub.queue.store import DELIVERIES
    pk = delivery_pk(reviews_hub, "evt_1")
    reviews_hub.write(lambda conn: conn.execute(
        update(DELIVERIES).where(DELIVERIES.c.pk == pk).values(status="pending")))
    mail.stop()  # finishing needs no mail server: nothing is sent
    assert run_due(reviews_hub) == 1
    assert len(mail.inbox.messages) == 1 and len(host.of_type("review.requested")) == 1
    assert "already sent by this delivery" in delivery(reviews_hub, "evt_1")["result"]


def test_the_same_delivery_retried_after_a_crash_between_sending_and_marking_resends_with_the_same_message_id(  # noqa: E501
        reviews_hub: Hub, mail: MailServer, host: HostInbox, monkeypatch: Any) -> None:
    """The documented gap, pinned: the repeat is possible only here, and carries the same
    Message-ID so the receiver can drop it; the host is still told once."""
    from hub.builtin.review_requests import models

    real = models.mark_sent
    calls = {"n": 0}

    def crash_once(*args: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed between the server's 250 and our commit")
        return real(*args)

    monkeypatch.setattr(models, "mark_sent", crash_once)
    send_paid(reviews_hub, "evt_1", paid())
    run_due(reviews_hub)
    assert delivery(reviews_hub, "evt_1")["status"] == "pending"
    # A different delivery for the same customer meanwhile: the reservation holds, no mail.
    send_paid(reviews_hub, "evt_2", paid("inv-2", "1002"))
    run_due(reviews_hub)
    assert delivery(reviews_hub, "evt_2")["status"] == "skipped"
    assert "already under way for invoice 1001 (event evt_1)" in delivery(reviews_hub,
                                                                         "evt_2")["result"]
    reviews_hub.retry([delivery_pk(reviews_hub, "evt_1")])
    run_due(reviews_hub)
    first, second = mail.inbox.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert delivery(reviews_hub, "evt_1")["status"] == "done"
    assert len(host.of_type("review.requested")) == 1


def test_nothing_is_sent_until_review_url_is_set(make_reviews_hub: Any, mail: MailServer,
                                                 host: HostInbox) -> None:
    hub = make_reviews_hub(mail.url, review_url=None)
    send_paid(hub, "evt_1", paid())
    run_due(hub)
    state = delivery(hub, "evt_1")
    assert state["status"] == "skipped"
    assert state["result"].startswith("review_url is not set, so no review request is sent")
    assert "hub plugins set review_requests review_url=" in state["result"]
    assert mail.inbox.messages == [] and host.messages == [] and rows(hub) == []

    # Set, then retried by the operator: the customer is asked after all, once.
    hub.states.update_settings("review_requests", {"review_url": REVIEW_URL})
    assert hub.retry([delivery_pk(hub, "evt_1")]) == 1
    run_due(hub)
    assert len(mail.inbox.messages) == 1 and delivery(hub, "evt_1")["status"] == "done"


def test_switched_off_the_plugin_is_not_even_handed_the_event(reviews_hub: Hub,
                                                              mail: MailServer) -> None:
    reviews_hub.states.set_enabled("review_requests", False)
    send_paid(reviews_hub, "evt_1", paid())
    run_due(reviews_hub)
    assert mail.inbox.messages == []
    view = reviews_hub.event("evt_1")
    assert view is not None
    assert all(d["plugin"] != "review_requests" for d in view["deliveries"])


def test_without_hub_smtp_url_the_delivery_waits_for_the_operator(
        make_reviews_hub: Any, mail: MailServer, host: HostInbox) -> None:
    hub = make_reviews_hub(None)
    send_paid(hub, "evt_1", paid())
    run_due(hub)
    state = delivery(hub, "evt_1")
    assert state["status"] == "dead" and state["attempts"] == 1
    assert state["last_error"].startswith("HUB_SMTP_URL is not set, so review requests cannot "
                                          "be mailed")
    assert rows(hub) == []  # nothing reserved: a later invoice may still ask
    [failed] = host.of_type("sync.failed")
    assert failed["data"]["plugin"] == "review_requests"


def test_the_mail_server_refusing_the_recipient_needs_the_operator(
        reviews_hub: Hub, mail: MailServer) -> None:
    mail.inbox.refuse["dana@example.com"] = "550 5.1.1 no such mailbox"
    send_paid(reviews_hub, "evt_1", paid())
    run_due(reviews_hub)
    state = delivery(reviews_hub, "evt_1")
    assert state["status"] == "dead"
    assert state["last_error"] == (f"the mail server at 127.0.0.1:{mail.port} answered 550 to "
                                   "the recipient")
    mail.inbox.refuse["dana@example.com"] = "451 4.3.0 try again later"
    reviews_hub.retry([delivery_pk(reviews_hub, "evt_1")])
    run_due(reviews_hub)
    assert delivery(reviews_hub, "evt_1")["status"] == "pending"
    del mail.inbox.refuse["dana@example.com"]
    reviews_hub.retry([delivery_pk(reviews_hub, "evt_1")])
    run_due(reviews_hub)
    assert len(mail.inbox.messages) == 1


def test_the_message_id_is_stable_per_delivery(reviews_hub: Hub) -> None:
    from hub.plugins.context import Context

    send_paid(reviews_hub, "evt_1", paid())
    run_due(reviews_hub)
    [row] = rows(reviews_hub)
    ctx = Context(hub=reviews_hub, plugin="review_requests", source="host", event_id="evt_1",
                  event_type="invoice.paid", occurred_at=row["reserved_at"])
    assert row["message_id"] == f"<{ctx.request_id('review-request')}@example.com>"


def test_a_restarted_hub_remembers_who_was_asked(make_reviews_hub: Any,
                                                 mail: MailServer) -> None:
    before = make_reviews_hub(mail.url)
    send_paid(before, "evt_1", paid())
    run_due(before)
    before.close()  # the process stops; a new one starts on the same database

    after = make_reviews_hub(mail.url)
    send_paid(after, "evt_2", paid("inv-2", "1002"))
    assert not send_paid(after, "evt_1", paid())
    run_due(after)
    assert len(mail.inbox.messages) == 1
    assert delivery(after, "evt_2")["status"] == "skipped"
