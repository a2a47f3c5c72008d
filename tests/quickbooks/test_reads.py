"""Reads metered by Intuit: counted per company and month, shown to the operator with a warning
at 80 % of the allowance, and, once QuickBooks refuses reads past the minute, held back an hour
at a time while writes go on. Against the emulator with a monthly allowance set."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from freezegun import freeze_time

from hub.builtin.quickbooks import reads
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.clock import utcnow
from hub.hub import Hub
from hub.plugins.jobs import fire
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import API_KEY
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.samples import event
from tests.ui.conftest import PASSWORD, client_sign_in

AUTH = {"Authorization": f"Bearer {API_KEY}"}
ALLOWED = "the monthly read allowance may be used up"


_signed_in: dict[Hub, FlaskClient] = {}  # by the hub itself: an id could be reused


def card(hub: Hub, sign_in: bool = False) -> str:
    """The QuickBooks card's text, as the operator sees it on the Integrations page."""
    client = _signed_in.get(hub)
    if client is None or sign_in:  # signing in is slow on purpose (the password's hash): once a hub
        auth.set_first_password(hub, PASSWORD)
        client = _signed_in[hub] = create_app(hub).test_client()
        client_sign_in(client)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/integrations").text))


def status(hub: Hub, tmp_path: Path, emulator: Emulator) -> str:
    answer = CliRunner().invoke(build_cli(), ["quickbooks", "status"],
                                env=qbo_env(tmp_path, emulator))
    assert answer.exit_code == 0, answer.output
    return answer.output


def contact(hub: Hub, event_id: str, **data: Any) -> None:
    body = event("contact", event_id)
    body["data"] = data
    assert create_app(hub).test_client().post("/api/v1/events", json=body,
                                               headers=AUTH).status_code == 202


def delivery(hub: Hub, event_id: str) -> dict[str, Any]:
    [found] = [d for d in hub.event(event_id)["deliveries"] if d["plugin"] == "quickbooks"]
    return found


def sweep(hub: Hub) -> None:
    fire(hub, hub.jobs()["quickbooks.sweep"], utcnow())
    run_due(hub)


def counted(hub: Hub, emulator: Emulator) -> int:
    return int(reads.usage(qbo_ctx(hub), emulator.realm_id, 500_000)["reads"])


def test_reads_are_counted_per_company_and_month_as_quickbooks_counts_them(
    connected: Hub, emulator: Emulator, tmp_path: Path,
) -> None:
    run_due(connected)  # the first import, queued by connecting
    contact(connected, "evt_1", external_id="c-1", name="Ana Read", email="ana@example.com")
    contact(connected, "evt_2", external_id="c-2", name="Ben Write")  # no email: no read
    run_due(connected)
    sweep(connected)
    # Every read the emulator metered (the company's facts read at connect, the import, the
    # lookup, the sweep's change feed) was counted by the hub, and no write.
    used = emulator.reads()["used"]
    assert used >= 5 and counted(connected, emulator) == used
    assert f"Reads {used} of 500,000 this month (0%)" in card(connected)
    assert f"reads            {used} of 500,000 this month (0%)" in status(
        connected, tmp_path, emulator)
    now = utcnow()
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=1)
    with freeze_time(next_month):  # a month of its own
        sweep(connected)
        assert counted(connected, emulator) == emulator.reads()["used"] == 1  # the feed, once
        assert "Reads 1 of 500,000 this month" in card(connected, sign_in=True)


def test_the_operator_is_warned_at_80_percent_of_the_allowance(
    connected: Hub, emulator: Emulator, tmp_path: Path,
) -> None:
    run_due(connected)
    connected.states.update_settings("quickbooks", {"monthly_read_allowance": "10"})
    while counted(connected, emulator) < 8:
        sweep(connected)
    shown = card(connected)
    assert "80%" in shown and "of the 10 allowed (monthly_read_allowance)" in shown
    assert "warning: 8 QuickBooks reads this month, 80% of the 10 allowed" in status(
        connected, tmp_path, emulator)


def test_past_the_allowance_reads_wait_an_hour_at_a_time_and_writes_go_on(
    connected: Hub, emulator: Emulator, tmp_path: Path,
) -> None:
    run_due(connected)
    with freeze_time(utcnow()) as clock:
        emulator.set_limits(reads_per_month=10)
        emulator.reads(used=10)  # the app's month is spent, by this hub or another
        contact(connected, "evt_read", external_id="c-r", name="Rae Read",
                email="rae@example.com")  # looked up by email first: a read
        run_due(connected)
        # One 429 is what a spent minute looks like too: the minute is waited out.
        first = delivery(connected, "evt_read")
        assert first["status"] == "pending" and "throttled" in first["last_error"]
        assert ALLOWED not in card(connected)
        clock.tick(timedelta(seconds=61))
        run_due(connected)
        again = delivery(connected, "evt_read")
        assert again["status"] == "pending" and ALLOWED in again["last_error"]
        assert again["attempts"] == 0  # waiting is not failing
        assert ALLOWED in card(connected) and ALLOWED in status(connected, tmp_path, emulator)
        # Writes go on; reads are not even sent.
        emulator.reset_calls()
        contact(connected, "evt_write", external_id="c-w", name="Will Write")  # no email
        sweep(connected)
        assert delivery(connected, "evt_write")["status"] == "done"
        assert emulator.calls() == {"POST customer": 1}
        # An hour on, one read tries again: refused still, reads wait another hour.
        clock.tick(timedelta(minutes=61))
        run_due(connected)
        assert emulator.calls().get("POST query", 0) + emulator.calls().get("GET cdc", 0) == 1
        assert ALLOWED in delivery(connected, "evt_read")["last_error"]
        # The allowance is back (a new month, a higher tier): the next try finds it.
        emulator.set_limits(reads_per_month=None)
        clock.tick(timedelta(minutes=61))
        run_due(connected)
        assert delivery(connected, "evt_read")["status"] == "done"
        assert ALLOWED not in card(connected)


@pytest.mark.parametrize("where", ["card", "status"])
def test_a_hold_written_by_one_process_is_shown_by_another(
    connected: Hub, emulator: Emulator, tmp_path: Path, make_qbo_hub: Any, where: str,
) -> None:
    run_due(connected)
    clock = [100.0]
    meter = reads.Meter(clock=lambda: clock[0])  # another process's, on its own clock
    assert not meter.refused(clock[0])  # a read refused: the minute, maybe
    clock[0] += 61
    assert meter.refused(clock[0])  # refused again past the minute
    meter.flush(qbo_ctx(connected), emulator.realm_id)
    other = make_qbo_hub()
    shown = card(other) if where == "card" else status(other, tmp_path, emulator)
    assert ALLOWED in shown
