"""``hub.testing``: the hub in a plugin's own tests, as a pytest plugin.

Installed with the hub and registered through the ``pytest11`` entry point, so a plugin's
tests have these fixtures with nothing to import::

    def test_a_paid_invoice_is_posted(plugin_hub, deliver, http_sink):
        plugin_hub(("my_plugin", my_plugin), settings={"url": http_sink.url})
        result = deliver(sample_event("invoice.paid"))
        assert result.status("my_plugin") == "done" and len(http_sink.requests) == 1

``plugin_hub``
    a factory: ``plugin_hub(("name", module), ..., settings={...}, env={...})`` makes a hub on
    a temporary SQLite database with those plugins registered and switched on (a plain string
    ``"name"`` is the plugin as installed: its ``hub.plugins`` entry point, or ``HUB_PLUGINS``),
    ``settings`` stored for the first one through the operator's own validation, ``env`` added
    to the test configuration. Closed at the end of the test.
``hub_client``
    a Flask test client of the real app (host API and settings UI) for the last hub made,
    sending the API key: ``hub_client.post("/api/v1/events", json=...)``.
``deliver``
    ``deliver(event)`` posts an event through the API, then runs every delivery due to its end
    on a frozen clock moved past each retry's wait; returns a :class:`Delivered`.
``smtp_sink``
    a real SMTP server on loopback (aiosmtpd) keeping what it is sent: ``.url`` for
    ``HUB_SMTP_URL``, ``.messages``, ``.refuse``.
``http_sink``
    an HTTP server on loopback recording every request (``.requests``) and answering as told
    (``.answer_with(500, 200)``), for plugins that call out.
``webhook_receiver``
    the host application: an HTTP sink that checks each message's Standard Webhooks
    signature; ``.env`` configures the hub to send to it, ``.messages`` are the verified ones.

``freezegun`` and ``aiosmtpd`` are imported only by the fixtures that use them: a plugin's
tests need ``ledgerline-hub[test]`` (or ``pytest``, ``freezegun`` and ``aiosmtpd``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# The kit's parts live in modules of their own (environment, loopback, samples, hubs,
# mail_server, http_servers: no module is named like a fixture, which would replace it as an
# attribute of this package); this module is what the pytest11 entry point loads, so it holds
# the fixtures, and every name a test imported from hub.testing is still here.
from hub.testing.environment import API_KEY, AUTH, base_env
from hub.testing.http_servers import WEBHOOK_SECRET, HttpSink, Request, WebhookReceiver
from hub.testing.hubs import (
    Deliver,
    Delivered,
    HubClient,
    PluginHubs,
    installed_plugin,
    run_to_end,
)
from hub.testing.loopback import free_port, loopback_http, wait_for
from hub.testing.mail_server import Inbox, SmtpSink
from hub.testing.samples import SAMPLE_DATA, sample_event

__all__ = [
    "API_KEY", "AUTH", "SAMPLE_DATA", "WEBHOOK_SECRET", "Deliver", "Delivered", "HttpSink",
    "HubClient", "Inbox", "PluginHubs", "Request", "SmtpSink", "WebhookReceiver", "base_env",
    "deliver", "free_port", "http_sink", "hub_client", "installed_plugin", "loopback_http",
    "plugin_hub", "run_to_end", "sample_event", "smtp_sink", "wait_for", "webhook_receiver",
]


@pytest.fixture
def plugin_hub(tmp_path: Path) -> Iterator[PluginHubs]:
    """``plugin_hub(("name", module), settings={...}, env={...}) -> Hub``: a hub on SQLite in
    ``tmp_path`` with those plugins registered and enabled (``"name"`` alone: as installed)."""
    hubs = PluginHubs(tmp_path)
    yield hubs
    hubs.close()


@pytest.fixture
def hub_client(plugin_hub: PluginHubs) -> HubClient:
    """A Flask test client, with the API key, for the last hub ``plugin_hub`` made."""
    return HubClient(plugin_hub)


@pytest.fixture
def deliver(plugin_hub: PluginHubs, hub_client: HubClient) -> Deliver:
    """``deliver(event) -> Delivered``: posted through the API, delivered to the end."""
    return Deliver(plugin_hub, hub_client)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback: ``.url``, ``.env``, ``.messages``, ``.refuse``."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    """An HTTP server on loopback recording requests: ``.url``, ``.requests``,
    ``.answer_with(...)``."""
    with HttpSink().running() as sink:
        yield sink


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """The host application on loopback, checking signatures: ``.env``, ``.messages``."""
    receiver = WebhookReceiver()
    with receiver.running():
        yield receiver
