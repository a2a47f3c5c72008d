"""Deliveries in one thread reuse its connection pool to Intuit instead of opening a new one (and
a TLS handshake) each: one session per company and thread, kept in the plugin's memory.

The emulator runs on werkzeug, which closes every connection after its answer ("Connection:
close"), so what is shown is what Intuit's keep-alive would reuse: the same session, and the
same urllib3 pool for both, over real sockets."""

from __future__ import annotations

from typing import Any

from hub.builtin.quickbooks import client, connection
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from tests.quickbooks.conftest import qbo_ctx


def _pool(session: Any, url: str) -> Any:
    return session.get_adapter(url).poolmanager.connection_from_url(url)


def test_two_deliveries_in_one_thread_use_one_session_and_connection(
    connected: Hub, emulator: Emulator
) -> None:
    seen = []
    for _ in range(2):  # each a delivery's calls, as a worker thread makes them in turn
        with calling(qbo_ctx(connected)) as api:
            api.query("Customer")
            pool = _pool(api.qb.session, emulator.api_base)
            seen.append((api.qb.session, pool))
    (first, first_pool), (second, second_pool) = seen
    assert second is first and second_pool is first_pool


def test_disconnecting_drops_every_session(connected: Hub, emulator: Emulator) -> None:
    ctx = qbo_ctx(connected)
    with calling(ctx) as api:
        api.query("Customer")
        session = api.qb.session
    assert client.session_for(ctx, api.realm_id, "token") is session
    connection.disconnect(ctx)
    assert client.session_for(ctx, api.realm_id, "token") is not session
