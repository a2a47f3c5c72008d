"""The hub's HTTP server: granian's Rust HTTP/1.1 server, calling the WSGI app in this process.

Why granian: parsing, keep-alive and writing answers happen in Rust threads that do not hold
the interpreter's lock, which the hub's own work needs. Measured on the 2-core benchmark machine
with a do-nothing app: waitress answered at most ~3,200 requests/s (~0.3 ms of the
interpreter's time each, more than accepting an event costs), granian ~23,000/s.

Why it is started here and not by granian's launcher: that launcher runs its workers as child
processes (threads only on free-threaded Python builds), and ``hub serve`` is one process, as
the host contract says. So the hub starts granian's WSGI worker itself, as granian's thread mode
does. Those entry points are granian's internals: the version is pinned exactly in
``pyproject.toml``, and every test that talks to the hub over a socket goes through this module.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from granian import _granian
from granian._futures import _CBScheduler
from granian.http import HTTP1Settings
from granian.net import SocketSpec

log = logging.getLogger("hub.http")
SERVER_NAME = "ledgerline-hub"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# What PEP 3333 asks of every environ beyond the request's own keys, which granian supplies.
# Not os.environ, as CGI servers add: an HTTP_PROXY variable there would read as a header.
_BASE_ENVIRON = {
    "GATEWAY_INTERFACE": "CGI/1.1",
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": SERVER_NAME,
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,  # granian ends wsgi.input at the body's end, chunked or not
}
_FAILED = b'{"error":"internal_error","message":"the hub failed to answer; see its log"}\n'


class HTTPServer:
    """Serves ``app`` on ``host:port`` (0: any free port) with ``threads`` threads for the app.

    ``start()`` returns once the socket listens; ``stop()`` stops accepting, lets the requests
    already in the app finish (up to ``timeout`` seconds), and returns."""

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 16, backlog: int = 1024) -> None:
        self.app = app
        self.host = host
        self.threads = threads
        self.backlog = backlog
        self.port = port
        self._signal: Any = None
        self._loop: asyncio.AbstractEventLoop
        # The threads in the app now, one request each. A set: adding and discarding are
        # atomic, where a counter behind a lock had every request queue on that lock.
        self._in_app: set[int] = set()

    def start(self) -> None:
        """Listen and serve; raises OSError, saying where, when the address cannot be had."""
        try:
            listener = SocketSpec(self.host, self.port, self.backlog).build()
        except (RuntimeError, OSError) as exc:  # granian's own error carries a Rust backtrace
            reason = str(exc).splitlines()[0]
            raise OSError(f"cannot listen on {self.host}:{self.port}: {reason}") from None
        with socket.socket(fileno=os.dup(listener.get_fd())) as bound:
            self.port = int(bound.getsockname()[1])
        self._signal = _granian.WorkerSignal()
        # Called as granian 2.8.7's own thread mode calls it (its type stubs are older).
        worker_class: Any = _granian.WSGIWorker
        worker = worker_class(
            1, (None, listener), None,
            1, 512,  # Rust threads: one runs the sockets; more would only contend for 2 cores
            self.threads, 30,  # threads that call the app; seconds before an idle one ends
            self.backlog, "1", HTTP1Settings(), None, None,  # HTTP/1.1, no static files
            False, None, None, None, "tls1.3", None, [], False,  # no TLS: put a proxy in front
            (None, _granian.MetricsAggregator(1)),
        )
        # granian's scheduler wants an event loop, which WSGI calls never use. Built directly:
        # its factory also registers a stand-in asyncio task, process-wide, that breaks
        # asyncio.all_tasks() for any other library in the process.
        self._loop = asyncio.new_event_loop()
        worker.serve_mtr(_CBScheduler(self._loop, self._call, None, None, None), self._loop,
                         self._signal)

    def stop(self, timeout: float = 10.0) -> None:
        if self._signal is None:
            return
        self._signal.set()
        self._signal = None
        deadline = time.monotonic() + timeout
        while self._in_app and time.monotonic() < deadline:
            time.sleep(0.01)  # stopping is rare; a wait here costs nothing per request
        if self._in_app:
            log.warning("stopped with %d requests still unanswered", len(self._in_app))
        self._loop.close()

    def _call(self, proto: Any, scope: dict[str, Any]) -> int:
        """One request, as granian hands it over: answered through ``proto``."""
        me = threading.get_ident()
        self._in_app.add(me)
        try:
            return self._answer(proto, _BASE_ENVIRON | scope)
        finally:
            self._in_app.discard(me)

    def _answer(self, proto: Any, environ: dict[str, Any]) -> int:
        started: list[Any] = []
        written: list[bytes] = []  # PEP 3333's write(), for apps from before iterables

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return written.append

        try:
            body = self.app(environ, start_response)
        except Exception:
            # The app's own error handling failed (Flask answers its errors itself).
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            proto.response_bytes(500, [("Content-Type", "application/json"),
                                       ("Server", SERVER_NAME)], _FAILED)
            return 500
        status, headers = started
        headers.append(("Server", SERVER_NAME))  # neither Flask nor the hot calls name one
        if written:
            rest = list(body)
            close = getattr(body, "close", None)
            if close is not None:
                close()
            body = [*written, *rest]
        if isinstance(body, list):
            proto.response_bytes(status, headers, b"".join(body))
        else:
            proto.response_iter(status, headers, _Closing(body))
        return int(status)


class _Closing:
    """An app's answer iterated by granian, closed when done as PEP 3333 requires."""

    __slots__ = ("__next__", "inner")

    def __init__(self, inner: Iterable[bytes]) -> None:
        self.inner = inner
        self.__next__ = iter(inner).__next__

    def __iter__(self) -> _Closing:
        return self

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
