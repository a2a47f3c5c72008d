"""Fixtures: a live emulator on a free port per test, and python-quickbooks wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from quickbooks import QuickBooks

from hub.builtin.quickbooks.emulator.testing import Emulator, start_emulator

from .receiver import Receiver


class BearerSession(requests.Session):
    """What python-quickbooks needs from a session: `access_token` and `request`."""

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self.access_token = access_token


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = start_emulator(retry_scale=0.001)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback webhook endpoint answering 200."""
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def token(emulator: Emulator) -> dict[str, Any]:
    return emulator.connect()


def make_client(emulator: Emulator, access_token: str, realm: str | None = None) -> QuickBooks:
    qb = QuickBooks(company_id=realm or emulator.realm_id, minorversion=75)
    # The design notes: point the client at the API base on the instance, hand it a session.
    qb.api_url_v3 = emulator.api_base
    qb.sandbox_api_url_v3 = emulator.api_base
    qb.session = BearerSession(access_token)
    return qb


@pytest.fixture
def qb(emulator: Emulator, token: dict[str, Any]) -> Iterator[QuickBooks]:
    client = make_client(emulator, token["access_token"])
    try:
        yield client
    finally:
        client.session.close()


class Api:
    """Raw HTTP against one company, for what python-quickbooks does not expose."""

    def __init__(self, emulator: Emulator, access_token: str, realm: str | None = None) -> None:
        self.base = f"{emulator.api_base}/company/{realm or emulator.realm_id}"
        self.http = requests.Session()
        self.http.headers.update(
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.base}/{path}", params={"minorversion": 75} | params, timeout=5)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.http.post(
            f"{self.base}/{path}", json=body, params={"minorversion": 75} | params, timeout=5
        )

    def query(self, text: str) -> requests.Response:
        return self.http.post(
            f"{self.base}/query",
            data=text,
            params={"minorversion": 75},
            headers={"Content-Type": "application/text"},
            timeout=5,
        )


@pytest.fixture
def api(emulator: Emulator, token: dict[str, Any]) -> Iterator[Api]:
    client = Api(emulator, token["access_token"])
    try:
        yield client
    finally:
        client.http.close()
