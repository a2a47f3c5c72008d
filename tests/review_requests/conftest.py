"""A real SMTP server on loopback that keeps what it is sent, a recorder of the host's messages,
and a hub with the review_requests plugin wired to both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hub import hookimpl
from hub.builtin import review_requests
from hub.clock import utcnow
from hub.config import Config, load_config
from hub.events import parse_data
from hub.hub import Hub
from hub.plugins.context import Context
from hub.queue.store import body_hash
from hub.testing import SmtpSink
from tests.conftest import base_env
from tests.samples import DATA

REVIEW_URL = "https://g.page/r/tutoring/review"
USER, PASSWORD = "mailer", "s3cret-pa55"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


class MailServer(SmtpSink):
    """The kit's SMTP sink, optionally asking for a login, started and stopped again on the
    same port: the mail server going down and back."""

    def __init__(self, auth: bool = False) -> None:
        super().__init__()
        self.auth = auth

    @property
    def url(self) -> str:
        login = f"{USER}:{PASSWORD}@" if self.auth else ""
        return f"smtp://{login}127.0.0.1:{self.port}"

    def start(self) -> None:
        if not self.auth:
            super().start()
            return
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=5, authenticator=_authenticate,
                                      auth_require_tls=False)
        self._controller.start()


class HostInbox:
    """A plugin that records the messages the hub queues for the host application."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    @hookimpl
    def on_host_event(self, message: dict[str, Any], ctx: Context) -> None:
        self.messages.append(message)

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == message_type]


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def host() -> HostInbox:
    return HostInbox()


def hub_config(tmp_path: Path, smtp_url: str | None, database_url: str | None = None,
               **extra: str) -> Config:
    env = {**base_env(tmp_path, database_url), "HUB_MAIL_FROM": "Tutoring <shop@example.com>",
           **extra}
    if smtp_url:
        env["HUB_SMTP_URL"] = smtp_url
    return load_config(env, dotenv=False)


@pytest.fixture
def make_reviews_hub(make_hub: Any, tmp_path: Path, host: HostInbox) -> Any:
    """A hub with review_requests (review_url set unless told otherwise) and the host recorder."""

    def make(smtp_url: str | None, review_url: str | None = REVIEW_URL,
             database_url: str | None = None) -> Hub:
        hub: Hub = make_hub(("review_requests", review_requests), ("host", host),
                            cfg=hub_config(tmp_path, smtp_url, database_url))
        if review_url:
            hub.states.update_settings("review_requests", {"review_url": review_url})
        return hub

    return make


@pytest.fixture
def reviews_hub(make_reviews_hub: Any, mail: MailServer) -> Hub:
    return make_reviews_hub(mail.url)  # type: ignore[no-any-return]


def paid(external_id: str = "inv-1", number: str | None = "1001", **changes: Any
         ) -> dict[str, Any]:
    """A fully paid invoice for Dana (dana@example.com) unless ``changes`` say otherwise."""
    data = {**DATA["invoice.paid"], "external_id": external_id, **changes}
    if number is not None:
        data["number"] = number
    return data


def send_paid(hub: Hub, event_id: str, data: dict[str, Any]) -> bool:
    value = parse_data("invoice.paid", data)
    return hub.accept_host_event(event_id, "invoice.paid", utcnow(), value,
                                 body_hash(data)).created


def delivery(hub: Hub, event_id: str, source: str = "host") -> dict[str, Any]:
    view = hub.event(event_id, source)
    assert view is not None, event_id
    [found] = [d for d in view["deliveries"] if d["plugin"] == "review_requests"]
    return found  # type: ignore[no-any-return]


def delivery_pk(hub: Hub, event_id: str, source: str = "host") -> int:
    from sqlalchemy import select

    from hub.queue.db import reading
    from hub.queue.store import DELIVERIES, EVENTS

    with reading(hub.engine) as conn:
        return int(conn.execute(
            select(DELIVERIES.c.pk).join(EVENTS, EVENTS.c.pk == DELIVERIES.c.event_pk)
            .where(EVENTS.c.source == source, EVENTS.c.key == event_id,
                   DELIVERIES.c.plugin == "review_requests")).scalar_one())
