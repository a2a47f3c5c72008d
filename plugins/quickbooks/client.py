"""python-quickbooks, pointed at the right API base with our token and a timeout.

python-quickbooks reads only ``session.access_token`` and calls ``session.request``; it sets no
timeout of its own and misses some faults, so the session adds the one and raises the others
(``plugins.quickbooks.faults``) before python-quickbooks reads the answer. Every request waits
its turn under Intuit's limits (``plugins.quickbooks.limits``) first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from quickbooks import QuickBooks

from plugins.quickbooks import faults, limits

if TYPE_CHECKING:
    from hub.hub import Hub

MINOR_VERSION = 75
TIMEOUT = 30


class TokenSession(requests.Session):
    def __init__(self, access_token: str, realm_id: str = "", hub: Hub | None = None) -> None:
        super().__init__()
        self.access_token = access_token
        self.limit = limits.company(realm_id, hub)

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        path = urlsplit(url.decode() if isinstance(url, bytes) else url).path
        try:
            with self.limit.request(batch=path.rstrip("/").endswith("/batch")):
                answer = super().request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            raise faults.Unavailable(f"QuickBooks did not answer ({exc.__class__.__name__})"
                                     ) from None
        if answer.status_code == 429:
            self.limit.throttled()
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = None
            raise faults.from_response(answer.status_code, body, answer.text)
        return answer


def make_client(api_base: str, realm_id: str, access_token: str,
                hub: Hub | None = None) -> QuickBooks:
    """``hub``: whose database the company's minute is shared through (PostgreSQL)."""
    qb = QuickBooks(company_id=realm_id, minorversion=MINOR_VERSION)
    qb.api_url_v3 = api_base
    qb.sandbox_api_url_v3 = api_base
    qb.session = TokenSession(access_token, realm_id, hub)
    return qb
