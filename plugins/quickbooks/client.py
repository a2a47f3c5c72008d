"""python-quickbooks, pointed at the right API base with our token and a timeout.

python-quickbooks reads only ``session.access_token`` and calls ``session.request``; it sets no
timeout of its own, so the session adds one.
"""

from __future__ import annotations

from typing import Any

import requests
from quickbooks import QuickBooks

MINOR_VERSION = 75
TIMEOUT = 30


class TokenSession(requests.Session):
    def __init__(self, access_token: str) -> None:
        super().__init__()
        self.access_token = access_token

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def make_client(api_base: str, realm_id: str, access_token: str) -> QuickBooks:
    qb = QuickBooks(company_id=realm_id, minorversion=MINOR_VERSION)
    qb.api_url_v3 = api_base
    qb.sandbox_api_url_v3 = api_base
    qb.session = TokenSession(access_token)
    return qb
