"""python-quickbooks, pointed at the right API base with our token and timeouts.

python-quickbooks reads only ``session.access_token`` and calls ``session.request``; it sets no
timeout of its own and misses some faults, so the session adds the timeouts and raises the
others (``hub.builtin.quickbooks.faults``) before python-quickbooks reads the answer. Every request
waits its turn under Intuit's limits (``hub.builtin.quickbooks.limits``) first, and every read is
counted against Intuit's monthly allowance (``hub.builtin.quickbooks.reads``).

Intuit carries out a request for up to 120 s ("Any requests that take longer than 120 seconds
to execute will time out"). A write or a batch is waited for longer than that: given up
sooner, it may still be running at QuickBooks when it is sent again, and how Intuit treats a
``requestid`` whose first request has not answered yet is not documented (there is no first
answer to replay). A read changes nothing: it is given up sooner and asked again later.
"""

from __future__ import annotations

import json
import threading
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from quickbooks import QuickBooks

from hub.builtin.quickbooks import faults, limits

if TYPE_CHECKING:
    from hub import Context

MINOR_VERSION = 75
INTUIT_GIVES_UP = 120.0  # seconds Intuit runs a request before it times out
WRITE_TIMEOUT = INTUIT_GIVES_UP + 10.0  # writes and batches: past Intuit's own limit
READ_TIMEOUT = 30.0  # reads (GET, query, CDC): short
TIMEOUT = WRITE_TIMEOUT  # the longest any call is waited for (a batch's lease counts on it)


def reads_in(method: str, path: str, data: Any) -> int:
    """How many metered reads (Intuit's "CorePlus" calls) one request is: a GET (an object,
    the change feed, the company's settings) or a query is one; a batch is one per query it
    carries (Intuit does not say how a batch is metered, so it is counted high); a write,
    none."""
    if method == "GET" or path.endswith("/query"):
        return 1
    if path.endswith("/batch"):
        try:
            body = json.loads(data) if isinstance(data, (str, bytes)) else data
            items = body.get("BatchItemRequest") or []
        except (ValueError, AttributeError):
            return 0
        return sum(1 for item in items if isinstance(item, dict) and "Query" in item)
    return 0


class TokenSession(requests.Session):
    def __init__(self, access_token: str, realm_id: str = "", ctx: Context | None = None) -> None:
        super().__init__()
        self.access_token = access_token
        self.ctx = ctx
        self.limit = limits.company(realm_id, ctx)
        self.realm_id = realm_id

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        verb = (method.decode() if isinstance(method, bytes) else method).upper()
        path = urlsplit(url.decode() if isinstance(url, bytes) else url).path.rstrip("/")
        batch = path.endswith("/batch")
        reads = reads_in(verb, path, kwargs.get("data"))
        meter = self.limit.meter
        kwargs.setdefault("timeout", READ_TIMEOUT if reads and not batch else WRITE_TIMEOUT)
        if reads:
            meter.check()  # past the monthly allowance reads wait; writes go on
        try:
            with self.limit.request(batch=batch):
                sent_at = meter.clock()
                answer = super().request(verb, url, *args, **kwargs)
        except requests.RequestException as exc:
            raise faults.Unavailable(f"QuickBooks did not answer ({exc.__class__.__name__})"
                                     ) from None
        if answer.status_code == 429:
            if reads and meter.refused(sent_at):
                raise meter.held()  # refused past the minute: the allowance, not the minute
            self.limit.throttled()
        elif reads:
            meter.answered(reads)
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = None
            raise faults.from_response(answer.status_code, body, answer.text)
        return answer

    def finish(self) -> None:
        """The end of one delivery's calls: its reads are counted; the connection stays."""
        if self.ctx is not None:
            self.limit.meter.flush(self.ctx, self.realm_id)

    def close(self) -> None:
        self.finish()
        super().close()


# In ctx.memory: each thread's session per company (a threading.local), so a delivery reuses
# the HTTPS connection to Intuit the thread's previous delivery opened instead of a new TLS
# handshake each time; every session, weakly, to close them all on disconnect; and how many
# disconnects there were, so a thread drops its session from before one.
_SESSIONS = "client sessions"
_OPEN = "client open sessions"
_GENERATION = "client generation"
_LOCK = "client lock"


def session_for(ctx: Context, realm_id: str, access_token: str) -> TokenSession:
    """This thread's session to ``realm_id``'s company in ``ctx``'s hub, with this token."""
    memory = ctx.memory
    with memory.setdefault(_LOCK, threading.Lock()):
        local = memory.setdefault(_SESSIONS, threading.local())
        generation = memory.get(_GENERATION, 0)
    mine: dict[str, tuple[int, TokenSession]] = local.__dict__.setdefault("by_realm", {})
    found = mine.get(realm_id)
    if found is not None and found[0] == generation:
        session = found[1]
        session.access_token = access_token
        session.limit = limits.company(realm_id, ctx)
        return session
    session = TokenSession(access_token, realm_id, ctx)
    mine[realm_id] = (generation, session)
    with memory[_LOCK]:
        memory.setdefault(_OPEN, weakref.WeakSet()).add(session)
    return session


def close_sessions(ctx: Context) -> None:
    """Close every thread's session (on disconnect): none outlives the connection."""
    memory = ctx.memory
    with memory.setdefault(_LOCK, threading.Lock()):
        memory[_GENERATION] = memory.get(_GENERATION, 0) + 1
        sessions = list(memory.pop(_OPEN, ()))
    for session in sessions:
        requests.Session.close(session)


def make_client(api_base: str, realm_id: str, access_token: str,
                ctx: Context | None = None) -> QuickBooks:
    """``ctx``: whose database the company's minute is shared through (PostgreSQL), and its
    reads are counted in (without one, they are counted at the next call that has one)."""
    qb = QuickBooks(company_id=realm_id, minorversion=MINOR_VERSION)
    qb.api_url_v3 = api_base
    qb.sandbox_api_url_v3 = api_base
    qb.session = (session_for(ctx, realm_id, access_token) if ctx is not None
                  else TokenSession(access_token, realm_id, ctx))
    return qb
