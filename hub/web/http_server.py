"""The hub's HTTP server: granian's Rust HTTP/1.1 server, embedded in this process through its
public API, calling the WSGI app in a pool of threads.

Why granian: parsing, keep-alive and writing answers happen in Rust threads that do not hold
the interpreter's lock, which the hub's own work needs. Measured on the 2-core benchmark machine
with a do-nothing app: waitress answered at most ~3,200 requests/s (~0.3 ms of the
interpreter's time each, more than accepting an event costs), granian ~23,000/s.

How it is run: granian's launcher (``granian.Granian``) runs WSGI apps only in child processes
on builds of Python with the interpreter lock, but the hub's callers hand it apps that must run
here: tests serve closures and in-memory hubs, and ``hub serve`` keeps its web role beside the
delivery workers, whose first delivery takes the event the request already validated (run as
two processes, the roles measured lower: docs/performance.md). So the hub embeds granian
(``granian.server.embed.Server``, its public embedding API), which serves RSGI, granian's own
interface, on a uvloop loop in a thread of this process; each request's WSGI call runs in one
of ``threads`` threads, which answer it whole. This costs ~60-80 us of CPU a request more than
granian's WSGI worker, which the hub used to start through granian's private modules (pinned
exactly for it): RSGI hands the body over as an awaitable. Nothing private of granian's is
used now, so granian is required as a range (2.8 on, before 3).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from granian.constants import HTTPModes, Interfaces, TaskImpl
from granian.server.embed import Server

log = logging.getLogger("hub.http")
SERVER_NAME = "ledgerline-hub"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# What PEP 3333 asks of every environ beyond the request's own keys.
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
    "wsgi.input_terminated": True,  # wsgi.input holds the whole body, chunked or not
}
_FAILED = b'{"error":"internal_error","message":"the hub failed to answer; see its log"}\n'
_SPECIAL = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_Answer = tuple[int, list[tuple[str, str]], bytes]


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
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._app_threads: list[threading.Thread] = []
        self._answered: deque[asyncio.Future[None]] = deque()
        self._waking = False
        self._in_app = 0  # requests handed to the app and not yet answered (loop thread only)
        self._drained: asyncio.Event | None = None
        self._stop_timeout = 10.0

    def start(self) -> None:
        """Listen and serve; raises OSError, saying where, when the address cannot be had."""
        for attempt in range(5):
            port = self.port or _free_port(self.host)
            try:
                self._start_on(port)
            except OSError:
                # A free port picked for 0 can be taken before granian binds it: pick again.
                if self.port or attempt == 4:
                    raise
                continue
            self.port = port
            return

    def _start_on(self, port: int) -> None:
        try:
            refuse_if_listened_on(self.host, port)
        except OSError as exc:
            raise OSError(f"cannot listen on {self.host}:{port}: {exc.strerror or exc}") from None
        self._loop = loop = _new_loop()
        self._requests = queue.SimpleQueue()
        self._app_threads = [
            threading.Thread(target=self._app_thread, args=(loop,), name=f"hub-http-{n}",
                             daemon=True) for n in range(self.threads)]
        for thread in self._app_threads:
            thread.start()
        server = Server(
            self._call, address=self.host, port=port, interface=Interfaces.RSGI,
            http=HTTPModes.http1,  # no TLS, so no HTTP/2 to negotiate: put a proxy in front
            websockets=False, runtime_threads=1,  # one Rust thread runs the sockets
            backlog=self.backlog, log_enabled=False,
            # A request runs as an asyncio task: granian's other task type registers a stand-in
            # task, process-wide, that breaks asyncio.all_tasks() for other libraries here.
            task_impl=TaskImpl.asyncio,
        )
        listening = threading.Event()
        failed: list[BaseException] = []
        # Called once granian has bound the address (here is where a taken port fails); its
        # worker then listens on a socket of its own, made as it starts (see _wait_listening).
        server.on_startup(listening.set)

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve())
                loop.run_until_complete(self._drain())
            except BaseException as exc:  # noqa: BLE001 - handed to start(), or logged
                if listening.is_set():
                    log.exception("the HTTP server stopped")
                failed.append(exc)
            finally:
                listening.set()

        self._thread = threading.Thread(target=run, name="hub-http-loop", daemon=True)
        self._thread.start()
        listening.wait()
        if failed:
            self._thread.join()
            self._close()
            reason = str(failed[0]).splitlines()[0] if str(failed[0]) else type(failed[0]).__name__
            raise OSError(f"cannot listen on {self.host}:{port}: {reason}") from None
        self._server = server
        _wait_listening(self.host, port, thread=self._thread)

    def stop(self, timeout: float = 10.0) -> None:
        server, loop, thread = self._server, self._loop, self._thread
        if server is None or loop is None or thread is None:
            return
        self._server = None
        self._stop_timeout = timeout
        loop.call_soon_threadsafe(server.stop)  # granian's own loop state: set from its loop
        thread.join(timeout + 5)
        self._close()

    async def _drain(self) -> None:
        """After granian stops accepting: wait for the answers still in the app."""
        if self._in_app:
            self._drained = asyncio.Event()
            try:
                await asyncio.wait_for(self._drained.wait(), self._stop_timeout)
            except TimeoutError:
                log.warning("stopped with %d requests still unanswered", self._in_app)

    def _close(self) -> None:
        for _ in self._app_threads:
            self._requests.put(None)
        self._app_threads = []
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()

    async def _call(self, scope: Any, proto: Any) -> None:
        """One request, as granian hands it over (RSGI): answered through ``proto``."""
        environ = _BASE_ENVIRON | {
            "REQUEST_METHOD": scope.method,
            "PATH_INFO": _wsgi_str(scope.path),
            "QUERY_STRING": scope.query_string,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "wsgi.url_scheme": scope.scheme,
        }
        host, _, port = scope.server.rpartition(":")
        environ["SERVER_NAME"], environ["SERVER_PORT"] = host, port
        environ["REMOTE_ADDR"], _, environ["REMOTE_PORT"] = scope.client.rpartition(":")
        for name, value in scope.headers.items():
            key = _SPECIAL.get(name) or "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        environ["wsgi.input"] = BytesIO(await proto())
        assert self._loop is not None
        answered = self._loop.create_future()
        self._in_app += 1
        try:
            self._requests.put((environ, proto, answered))
            await answered
        finally:
            self._in_app -= 1
            if not self._in_app and self._drained is not None:
                self._drained.set()

    def _app_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        """One of the app's threads: calls the app for each request handed over, answers it
        from here, then lets the request's coroutine end (granian answers 500 to one that ends
        unanswered)."""
        wake, answered_ones = loop.call_soon_threadsafe, self._answered
        for environ, proto, answered in iter(self._requests.get, None):
            try:
                proto.response_bytes(*self._answer(environ))
            except Exception:  # the client went away meanwhile: nothing to answer
                log.debug("%s %s: the answer could not be sent", environ.get("REQUEST_METHOD"),
                          environ.get("PATH_INFO"), exc_info=True)
            finally:
                answered_ones.append(answered)
                # One wake-up of the loop for all the answers given meanwhile: under load
                # each costs a loop turn and a write to its self-pipe.
                if not self._waking:
                    self._waking = True
                    wake(self._settle)

    def _settle(self) -> None:
        """In the loop: end the coroutines of the requests answered since the last call."""
        self._waking = False  # first: an answer appended from here on wakes the loop again
        answered_ones = self._answered
        while answered_ones:
            answered = answered_ones.popleft()
            if not answered.done():  # cancelled when the loop stopped under it
                answered.set_result(None)

    def _answer(self, environ: dict[str, Any]) -> _Answer:
        """The app's answer to one request, in one of the app's threads."""
        started: list[Any] = []
        written: list[bytes] = []  # PEP 3333's write(), for apps from before iterables

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return written.append

        try:
            body = self.app(environ, start_response)
            try:
                written.extend(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        except Exception:
            # The app's own error handling failed (Flask answers its errors itself).
            log.exception("%s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            return 500, [("Content-Type", "application/json"), ("Server", SERVER_NAME)], _FAILED
        status, headers = started
        headers.append(("Server", SERVER_NAME))  # neither Flask nor the hot calls name one
        return status, headers, b"".join(written)


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed (granian's ``uvloop`` extra): each request wakes the loop from
    other threads twice (its body read, its answer), which costs asyncio's own loop about
    twice what it costs uvloop's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _wsgi_str(text: str) -> str:
    """PEP 3333's form of a decoded path: its UTF-8 bytes, each read as one latin-1 char."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


def _wait_listening(host: str, port: int, thread: threading.Thread, within: float = 10.0) -> None:
    """Returns once a connection to ``host:port`` is accepted. granian's public API tells when
    the address is bound, not when its worker, started next on the loop, listens: on Linux
    each worker listens on its own socket (SO_REUSEPORT), made a moment later."""
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection((target, port), timeout=1).close()
            return
        except OSError:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"cannot listen on {host}:{port}: the server did not start") from None
            time.sleep(0.001)  # a few milliseconds at start, never per request


def refuse_if_listened_on(host: str, port: int) -> None:
    """Raises OSError (EADDRINUSE) when something already listens on ``host:port``.

    granian binds with SO_REUSEPORT, so that its worker's own socket can share the port with
    the one it bound first; but a second hub's granian binds beside the first one's just as
    well, and the kernel then hands connections to the two hubs in turn. A socket without
    SO_REUSEPORT cannot be bound beside any listener, so one is bound, and closed, before
    granian binds. SO_REUSEADDR only keeps the connections of a server stopped a moment ago
    (TIME_WAIT) from counting: on Linux it never allows a bind beside a listener."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _free_port(host: str) -> int:
    """A port nothing listens on now, for ``port=0``: granian's public API binds by number."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
