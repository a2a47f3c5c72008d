"""Messages to the host over real HTTP, to a receiver on loopback that answers as it is told:
no redirect followed, the same message (body, id, a valid signature) at every attempt, about
3 days of retries, then parked and said so on the Activity page and the plugin's card, with a
Retry all that sends them again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from hub.clock import utcnow
from hub.config import Config, load_config
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import DELIVERIES
from hub.queue.worker import run_due
from hub.testing import WebhookReceiver
from hub.web.app import create_app
from tests.conftest import base_env
from tests.ui.conftest import PASSWORD, client_sign_in, csrf_of

T0 = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def host_config(tmp_path: Path, url: str, secret: str | None = SECRET, **extra: str) -> Config:
    tmp_path.mkdir(exist_ok=True)
    env = {**base_env(tmp_path), "HUB_HOST_WEBHOOK_URL": url, "HUB_ADMIN_PASSWORD": PASSWORD,
           **extra}
    if secret:
        env["HUB_HOST_WEBHOOK_SECRET"] = secret
    return load_config(env, dotenv=False)


def delivery(hub: Hub) -> dict[str, Any]:
    with reading(hub.engine) as conn:
        [found] = conn.execute(select(DELIVERIES).where(
            DELIVERIES.c.plugin == "host_webhooks")).mappings().all()
    return dict(found)


def move_to_next_attempt(clock: Any, hub: Hub) -> None:
    clock.move_to(delivery(hub)["next_attempt_at"])


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    # The kit's receiver: it checks each message's Standard Webhooks signature with the spec's
    # own package, as a host would, the moment it arrives.
    with WebhookReceiver(SECRET).running() as running:
        yield running


def test_a_redirect_is_a_failure_and_every_attempt_posts_the_same_message(
        tmp_path: Path, make_hub: Any, receiver: WebhookReceiver) -> None:
    receiver.answer_with((302, {"location": "/moved?token=abc"}), (500, {}), (500, {}),
                         (200, {}))
    hub: Hub = make_hub(cfg=host_config(tmp_path, receiver.url + "/hooks"))
    with freeze_time(T0) as clock:
        hub.notify_host("test", "contact.imported", {"external_id": "c-1"}, key="c-1")
        run_due(hub)
        first = delivery(hub)
        assert first["status"] == "pending", first
        assert first["last_error"].startswith(
            f"the host answered 302, a redirect to {receiver.url}/moved, which is not followed")
        for _ in range(3):
            move_to_next_attempt(clock, hub)
            assert run_due(hub) == 1
    assert delivery(hub)["status"] == "done" and delivery(hub)["attempts"] == 4
    # Four POSTs to the address itself; the redirect's target was never asked for.
    assert [(a.method, a.path) for a in receiver.requests] == [("POST", "/hooks")] * 4
    bodies = {a.body for a in receiver.requests}
    assert len(bodies) == 1
    message = json.loads(bodies.pop())
    assert message["type"] == "contact.imported" and message["data"] == {"external_id": "c-1"}
    assert {a.headers["webhook-id"] for a in receiver.requests} == {message["id"]}
    for a in receiver.requests:
        assert a.verified == "ok", a.verified  # and so within five minutes of being signed
        assert a.headers["content-type"] == "application/json"


def test_the_host_is_asked_for_about_three_days_then_the_message_is_parked_and_said_so(
        tmp_path: Path, make_hub: Any, receiver: WebhookReceiver) -> None:
    receiver.answer_with((500, {}))
    # HUB_MAX_ATTEMPTS=4 in the tests: the other plugins' budget is not the host's.
    hub: Hub = make_hub(cfg=host_config(tmp_path, receiver.url + "/hooks"))
    tried_at = []
    with freeze_time(T0) as clock:
        hub.notify_host("test", "invoice.imported", {"external_id": "inv-1"}, key="inv-1")
        while delivery(hub)["status"] == "pending":
            tried_at.append(utcnow())
            assert run_due(hub) == 1
            if delivery(hub)["status"] == "pending":
                move_to_next_attempt(clock, hub)
        parked = delivery(hub)
        assert parked["status"] == "dead" and parked["attempts"] == 12
        window = tried_at[-1] - tried_at[0]
        assert timedelta(hours=69) <= window <= timedelta(hours=77), window
        # Close together first, hours apart later.
        assert tried_at[1] - tried_at[0] < timedelta(minutes=2)
        assert tried_at[-1] - tried_at[-2] >= timedelta(hours=12)
        assert parked["last_error"] == ("the host answered 500; it is asked again later (gave "
                                        "up after 12 attempts over about 3 days)")
        assert len(receiver.requests) == 12

        client = create_app(hub).test_client()
        client_sign_in(client)
        page = client.get("/activity").text
        assert 'data-notice="host-webhooks-parked"' in page
        assert "1 message to your app stopped</strong> after about 3 days of retries" in page
        card = client.get("/integrations").text.split('id="plugin-host_webhooks"')[1]
        card = card.split("</section>")[0]
        assert 'data-host-webhooks="parked"' in card
        assert "1 message stopped</strong> after about 3 days of retries" in card
        assert "Retry all 1" in card

        # The host is fixed; the operator sends it again from the Activity page's notice.
        receiver.answer_with((200, {}))
        answer = client.post("/activity/plugins/host_webhooks/retry",
                             data={"csrf_token": csrf_of(page), "next": "/activity"})
        assert answer.status_code == 302 and answer.location == "/activity"
        assert run_due(hub) == 1
    assert delivery(hub)["status"] == "done"
    assert len({a.headers["webhook-id"] for a in receiver.requests}) == 1
    assert len(receiver.requests) == 13
    assert 'data-notice="host-webhooks-parked"' not in client.get("/activity").text


def test_the_card_says_where_messages_go_and_whether_they_are_signed(
        tmp_path: Path, make_hub: Any) -> None:
    url = "https://app.example.com/hooks?token=sekrit-token-1234"
    unsigned: Hub = make_hub(cfg=host_config(tmp_path / "a", url, secret=None))
    client = create_app(unsigned).test_client()
    client_sign_in(client)
    card = client.get("/integrations").text.split('id="plugin-host_webhooks"')[1]
    card = card.split("</section>")[0]
    assert 'data-host-webhooks="unsigned"' in card
    assert "<code>HUB_HOST_WEBHOOK_SECRET</code> is not set" in card
    assert "Sending to <code>https://app.example.com/hooks</code>" in card
    assert "sekrit-token-1234" not in card  # the URL's query may be the host's token

    signed: Hub = make_hub(cfg=host_config(tmp_path / "b", url))
    client = create_app(signed).test_client()
    client_sign_in(client)
    card = client.get("/integrations").text.split('id="plugin-host_webhooks"')[1]
    card = card.split("</section>")[0]
    assert 'data-host-webhooks="signed"' in card and "Unsigned" not in card

    nowhere: Hub = make_hub(cfg=load_config({**base_env(tmp_path),
                                             "HUB_ADMIN_PASSWORD": PASSWORD}, dotenv=False))
    client = create_app(nowhere).test_client()
    client_sign_in(client)
    assert "<code>HUB_HOST_WEBHOOK_URL</code> is not set" in client.get("/integrations").text
