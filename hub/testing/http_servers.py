"""HTTP servers on loopback standing in for what a plugin calls (``HttpSink``: every request
kept, answered as told) and for the host receiving the hub's messages (``WebhookReceiver``:
each Standard Webhooks signature checked as it arrives).

Separate from the mail sink and the hubs: a plugin's tests use these alone to see what the
plugin sent out, and ``standardwebhooks`` is imported only to check a signature.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from hub.testing.loopback import loopback_http

#: A Standard Webhooks secret for :class:`WebhookReceiver`.
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


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
