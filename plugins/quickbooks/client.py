"""python-quickbooks, pointed at the right API base with our token and timeouts.

python-quickbooks reads only ``session.access_token`` and calls ``session.request``; it sets no
timeout of its own and misses some faults, so the session adds the timeouts and raises the
others (``plugins.quickbooks.faults``) before python-quickbooks reads the answer. Every request
waits its turn under Intuit's limits (``plugins.quickbooks.limits``) first, and every read is
counted against Intuit's monthly allowance (``plugins.quickbooks.reads``).

Intuit carries out a request for up to 120 s ("Any requests that take longer than 120 seconds
to execute will time out"). A write or a batch is waited for longer than that: given up
sooner, it may still be running at QuickBooks when it is sent again, and how Intuit treats a
``requestid`` whose first request has not answered yet is not documented (there is no first
answer to replay). A read changes nothing: it is given up sooner and asked again later.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from quickbooks import QuickBooks

from plugins.quickbooks import faults, limits

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
                answer = super().request(method, url, *args, **kwargs)
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

    def close(self) -> None:
        if self.ctx is not None:
            self.limit.meter.flush(self.ctx, self.realm_id)
        super().close()


def make_client(api_base: str, realm_id: str, access_token: str,
                ctx: Context | None = None) -> QuickBooks:
    """``ctx``: whose database the company's minute is shared through (PostgreSQL), and its
    reads are counted in (without one, they are counted at the next call that has one)."""
    qb = QuickBooks(company_id=realm_id, minorversion=MINOR_VERSION)
    qb.api_url_v3 = api_base
    qb.sandbox_api_url_v3 = api_base
    qb.session = TokenSession(access_token, realm_id, ctx)
    return qb
