"""A customer's first invoice paid in full in QuickBooks brings exactly one review request:
the QuickBooks sweep sees the payment, the review plugin hears it as ``invoice.paid``, one mail
goes out through a real SMTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.builtin import quickbooks as quickbooks_plugin
from hub.builtin import review_requests
from hub.builtin.quickbooks import connect, links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.config import load_config
from hub.hub import Hub
from hub.queue.worker import run_due
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.quickbooks.test_from_quickbooks import send_invoice, sweep
from tests.review_requests.conftest import REVIEW_URL, mail  # noqa: F401  (a fixture)


def test_a_first_payment_in_quickbooks_sends_one_review_request(
    tmp_path: Path, emulator: Emulator, mail: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    host = Recorder()
    hub = Hub(load_config({**qbo_env(tmp_path, emulator), "HUB_SMTP_URL": mail.url},
                          dotenv=False), entrypoints=False,
              plugins=[("quickbooks", quickbooks_plugin),
                       ("review_requests", review_requests), ("host", host)])
    try:
        hub.states.update_settings("review_requests", {"review_url": REVIEW_URL})
        grant = emulator.connect()
        connect.with_refresh_token(qbo_ctx(hub), grant["realmId"], grant["refresh_token"])
        send_invoice(hub, "invoice.sent", "evt_1")
        sweep(hub)
        assert mail.inbox.messages == []
        qbo_id = links.get(qbo_ctx(hub), "invoice", "inv-1")["qbo_id"]
        emulator.record_payment(qbo_id)  # paid in full, in QuickBooks
        sweep(hub)
        run_due(hub)
        [message] = mail.inbox.messages
        assert message["To"] == "Dana Whitfield <parent@example.com>"
        assert REVIEW_URL in message.get_body().get_content()
        sweep(hub)  # the same news again, and restarts of the sweep: nothing more
        run_due(hub)
        assert len(mail.inbox.messages) == 1
    finally:
        hub.close()
