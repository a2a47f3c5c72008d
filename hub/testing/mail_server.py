"""A real SMTP server on loopback keeping what it is sent (``SmtpSink``), and its handler
(``Inbox``), which a test can refuse recipients with.

Separate from the HTTP sinks: it runs on aiosmtpd, imported only when one is started, so a
plugin's tests that send no mail need not install it.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from hub.testing.loopback import free_port


class Inbox:
    """An aiosmtpd handler: every message accepted, kept parsed. ``refuse`` maps a recipient
    to the reply that refuses it (``"550 no such user"``)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on loopback keeping every message; ``url`` is for HUB_SMTP_URL."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """The configuration sending the hub's mail here: ``plugin_hub(..., env=sink.env)``."""
        return {"HUB_SMTP_URL": self.url}

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    @property
    def refuse(self) -> dict[str, str]:
        return self.inbox.refuse

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=5)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
