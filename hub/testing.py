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

import copy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from hub.config import Config
    from hub.hub import Hub

API_KEY = "test-key-0123456789"
#: The ``Authorization`` header the host sends, with :data:`API_KEY`.
AUTH = {"Authorization": f"Bearer {API_KEY}"}
#: A Standard Webhooks secret for :class:`WebhookReceiver`.
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def base_env(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    """The test configuration: SQLite in ``tmp_path``, the API key, quick retries."""
    return {
        "HUB_DATABASE_URL": database_url or f"sqlite:///{tmp_path}/hub.db",
        "HUB_API_KEY": API_KEY,
        "HUB_SECRET_KEY": "test-secret-key-not-for-production",
        "HUB_RETRY_BASE_SECONDS": "60",
        "HUB_MAX_ATTEMPTS": "4",
        "HUB_POLL_SECONDS": "0.05",
        # The tests' machines are not the place to pay for fsync on every commit.
        "HUB_SQLITE_SYNCHRONOUS": "NORMAL",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait on another thread's or process's progress: poll its visible effect, with a
    deadline."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def loopback_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on loopback answering with ``handler``; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- event bodies ---------------------------------------------------------------------------

_CONTACT = {"external_id": "c-1", "name": "Dana Whitfield", "email": "dana@example.com",
            "phone": "+1 555 0100",
            "address": {"line1": "1 Main St", "city": "Springfield", "region": "IL",
                        "postal_code": "62701", "country": "US"}}
_LINE = {"item": "1-Hour Math Tutoring", "description": "March 28, 2026", "quantity": "1",
         "unit_price": "65.00", "service_date": "2026-03-28"}
_INVOICE = {"external_id": "inv-1", "number": "1001", "contact": _CONTACT, "status": "sent",
            "issue_date": "2026-03-28", "due_date": "2026-04-04", "currency": "USD",
            "lines": [_LINE, {**_LINE, "quantity": "2", "service_date": "2026-03-29"}],
            "discount": {"percent": "10"}, "tax": {"rate_percent": "8.25"},
            "total": "189.98"}
#: A valid ``data`` of every event type, as a host sends it (the invoice totals 189.98).
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "contact": _CONTACT,
    "payment": {"external_id": "pay-1", "contact": _CONTACT, "amount": "49.00",
                "currency": "USD", "paid_at": "2026-03-28T15:04:05Z", "method": "card",
                "source": "membership"},
    "invoice.sent": _INVOICE,
    "invoice.updated": {**_INVOICE, "due_date": "2026-04-11"},
    "invoice.paid": {**_INVOICE, "status": "paid", "amount_paid": "189.98"},
    "booking": {"external_id": "bk-1", "contact": _CONTACT, "service": "Math Tutoring",
                "start": "2026-03-28T15:00:00-05:00", "duration_minutes": 60, "rate": "65.00",
                "status": "completed", "billing": "per_session"},
}


def sample_event(event_type: str = "invoice.sent", event_id: str = "evt_1",
                 **changes: Any) -> dict[str, Any]:
    """A valid event body of ``event_type``, its ``data`` updated with ``changes``
    (``sample_event("invoice.paid", "evt_2", amount_paid="50.00")``)."""
    data = copy.deepcopy(SAMPLE_DATA[event_type])
    data.update(changes)
    return {"id": event_id, "type": event_type, "occurred_at": "2026-03-28T15:04:05Z",
            "data": data}


# -- hubs -----------------------------------------------------------------------------------

def installed_plugin(name: str) -> Any:
    """The plugin ``name`` as the hub would find it: its ``hub.plugins`` entry point, or an
    entry of ``HUB_PLUGINS`` in the environment (a plugin tried before it is packaged)."""
    import importlib
    import os
    from importlib.metadata import entry_points

    from hub.config import plugin_modules
    from hub.plugins.registry import ENTRY_POINT_GROUP

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    for found, module in plugin_modules(os.environ.get("HUB_PLUGINS")):
        if found == name:
            return importlib.import_module(module)
    raise LookupError(f"no plugin named {name!r} is installed: no {ENTRY_POINT_GROUP!r} entry "
                      f"point has that name (pip install -e your package) and HUB_PLUGINS "
                      f"does not name it")


class PluginHubs:
    """The ``plugin_hub`` fixture: makes hubs, remembers the last, closes them all."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[Hub] = []

    def __call__(self, *plugins: tuple[str, Any] | str, settings: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None) -> Hub:
        from hub.config import load_config
        from hub.hub import Hub

        pairs = [(p, installed_plugin(p)) if isinstance(p, str) else p for p in plugins]
        folder = self.tmp_path / f"hub{len(self.made)}" if self.made else self.tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        config: Config = load_config({**base_env(folder), **(env or {})}, dotenv=False)
        hub = Hub(config, plugins=pairs, entrypoints=False)
        self.made.append(hub)
        for name, _plugin in pairs:
            hub.states.set_enabled(name, True)
        if settings:
            if not pairs:
                raise ValueError("settings are for the first plugin given; none was")
            hub.states.update_settings(pairs[0][0], settings)
        return hub

    @property
    def last(self) -> Hub:
        if not self.made:
            raise RuntimeError("no hub yet: call plugin_hub(...) first")
        return self.made[-1]

    def close(self) -> None:
        for hub in self.made:
            hub.close()


class HubClient:
    """A Flask test client of the app for the last hub ``plugin_hub`` made (or ``for_hub``),
    sending the host's API key; any ``FlaskClient`` method works on it."""

    def __init__(self, hubs: PluginHubs) -> None:
        self._hubs = hubs
        self._clients: dict[int, FlaskClient] = {}

    def for_hub(self, hub: Hub) -> FlaskClient:
        if id(hub) not in self._clients:
            from hub.web.app import create_app

            client = create_app(hub).test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = AUTH["Authorization"]
            self._clients[id(hub)] = client
        return self._clients[id(hub)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.for_hub(self._hubs.last), name)


@dataclass
class Delivered:
    """What ``deliver`` saw: the API's answer and the event with its deliveries at the end."""

    id: str
    answer_status: int
    answer: dict[str, Any]
    #: The event's status at the end (``done``, ``failed``, ``dead``...), as the API gives it.
    event_status: str
    #: Each plugin's delivery of the event at the end: status, attempts, last_error, result.
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def status(self, plugin: str) -> str:
        """``plugin``'s delivery status: ``done``, ``dead``, ``skipped``, ``waiting``..."""
        if plugin not in self.deliveries:
            raise KeyError(f"{plugin!r} got no delivery of {self.id}; deliveries went to: "
                           f"{', '.join(self.deliveries) or 'none'}")
        return str(self.deliveries[plugin]["status"])


def run_to_end(hub: Hub, clock: Any, rounds: int = 1_000) -> int:
    """Run every delivery in ``hub`` due now, then move the frozen ``clock`` to the next
    retry and again, until none is pending (those held by ``Hold`` wait); returns how many
    attempts ran."""
    from sqlalchemy import func, select

    from hub.queue.db import reading
    from hub.queue.store import DELIVERIES
    from hub.queue.worker import run_due

    ran = 0
    for _ in range(rounds):
        ran += run_due(hub)
        with reading(hub.engine) as conn:
            due = conn.execute(select(func.min(DELIVERIES.c.next_attempt_at))
                               .where(DELIVERIES.c.status == "pending")).scalar()
        if due is None:
            return ran
        clock.move_to(due)
    raise AssertionError(f"deliveries still pending after {rounds} rounds of retries")


class Deliver:
    """The ``deliver`` fixture."""

    def __init__(self, hubs: PluginHubs, client: HubClient) -> None:
        self._hubs = hubs
        self._client = client

    def __call__(self, event: dict[str, Any], hub: Hub | None = None,
                 at: datetime | None = None) -> Delivered:
        """Post ``event`` to ``POST /api/v1/events`` of ``hub`` (the last made), expecting it
        accepted, and run its deliveries, and any they cause (messages to the host, events
        published), to their end on a clock frozen at ``at`` (now) and moved past each
        retry's wait."""
        from freezegun import freeze_time

        from hub.clock import utcnow

        hub = hub or self._hubs.last
        client = self._client.for_hub(hub)
        with freeze_time(at or utcnow().replace(tzinfo=UTC)) as clock:
            answer = client.post("/api/v1/events", json=event)
            if answer.status_code not in (200, 202):
                raise AssertionError(f"the API refused the event with {answer.status_code}: "
                                     f"{answer.get_data(as_text=True)}")
            run_to_end(hub, clock)
        view = hub.event(str(event["id"])) or {"status": "unknown", "deliveries": []}
        return Delivered(id=str(event["id"]), answer_status=answer.status_code,
                         answer=answer.get_json(), event_status=view["status"],
                         deliveries={d["plugin"]: d for d in view["deliveries"]})


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


# -- mail -----------------------------------------------------------------------------------

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


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback: ``.url``, ``.env``, ``.messages``, ``.refuse``."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


# -- HTTP -----------------------------------------------------------------------------------

@dataclass
class Request:
    """One request as it arrived at an :class:`HttpSink`."""

    method: str
    path: str
    headers: dict[str, str]  # names lowercased
    body: bytes
    #: For a :class:`WebhookReceiver`: ``"ok"``, or why the signature was refused on arrival.
    verified: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class HttpSink:
    """An HTTP server on loopback keeping every request; it answers each with the next of its
    answers (``answer_with(500, (200, {"x": "y"}, b"body"))``), the last one again and again."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.url = ""
        self._answers: list[tuple[int, dict[str, str], bytes]] = [(200, {}, b"ok")]
        self._lock = threading.Lock()

    def answer_with(self, *answers: int | tuple[Any, ...]) -> None:
        """Each answer a status, or (status, headers) or (status, headers, body)."""
        shaped: list[tuple[int, dict[str, str], bytes]] = []
        for answer in answers:
            parts = (answer,) if isinstance(answer, int) else tuple(answer)
            headers = parts[1] if len(parts) > 1 else {}
            body = parts[2] if len(parts) > 2 else b"ok"
            shaped.append((int(parts[0]), dict(headers), bytes(body)))
        with self._lock:
            self._answers = shaped or [(200, {}, b"ok")]

    def check(self, body: bytes, headers: dict[str, str]) -> str | None:
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Request(handler.command, handler.path, headers, body,
                                         self.check(body, headers)))
            answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        status, answer_headers, answer_body = answer
        handler.send_response(status)
        for name, value in answer_headers.items():
            handler.send_header(name, value)
        handler.send_header("content-length", str(len(answer_body)))
        handler.end_headers()
        handler.wfile.write(answer_body)

    @contextmanager
    def running(self) -> Iterator[HttpSink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                sink._handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        with loopback_http(Handler) as self.url:
            yield self


class WebhookReceiver(HttpSink):
    """The host application receiving the hub's messages, checking each one's Standard
    Webhooks signature with the spec's own package as it arrives."""

    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        super().__init__()
        self.secret = secret

    @property
    def env(self) -> dict[str, str]:
        """The configuration sending the hub's messages here: ``plugin_hub(..., env=...)``."""
        return {"HUB_HOST_WEBHOOK_URL": self.url + "/hooks",
                "HUB_HOST_WEBHOOK_SECRET": self.secret}

    def check(self, body: bytes, headers: dict[str, str]) -> str | None:
        from standardwebhooks import Webhook, WebhookVerificationError

        try:
            Webhook(self.secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as exc:
            return str(exc)
        return "ok"

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages that arrived correctly signed, parsed."""
        return [r.json() for r in self.requests if r.verified == "ok"]

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == message_type]


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

