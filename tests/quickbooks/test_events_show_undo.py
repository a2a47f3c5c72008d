"""``hub events show ID`` on the command line shows what Activity's event page does: each
delivery's status and what it said (a job's notes, or how far it has come), and the undos asked
of the event with how each went. Against the emulator, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.db import reading
from hub.queue.store import EVENTS
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.web.app import create_app
from tests.quickbooks.conftest import qbo_env
from tests.quickbooks.test_invoices import invoice_data, post, qbo_invoice


def _show(tmp_path: Path, emulator: Emulator, event_id: str) -> dict[str, Any]:
    said = CliRunner().invoke(build_cli(), ["events", "show", event_id],
                              env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 0, said.output
    return json.loads(said.output)  # type: ignore[no-any-return]


def test_events_show_lists_the_undo_and_how_it_went(connected: Hub, emulator: Emulator,
                                                    tmp_path: Path) -> None:
    post(create_app(connected).test_client(), "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    invoice = qbo_invoice(connected, emulator)
    assert _show(tmp_path, emulator, "evt_1")["undos"] == []

    said = CliRunner().invoke(build_cli(), ["events", "undo", "evt_1"],
                              env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 0, said.output
    [asked] = _show(tmp_path, emulator, "evt_1")["undos"]
    assert (asked["plugin"], asked["status"]) == ("quickbooks", "pending")
    run_due(connected)

    shown = _show(tmp_path, emulator, "evt_1")
    [undo] = shown["undos"]
    assert undo["status"] == "done", undo
    assert f"Invoice {invoice['Id']} voided" in undo["result"]
    assert undo["asked_at"] and undo["id"].startswith("undo:")
    # The undo's own id shows it too, as an operator's event.
    assert _show(tmp_path, emulator, undo["id"])["source"] == "operator"


def test_events_show_finds_a_jobs_run_and_its_notes(connected: Hub, emulator: Emulator,
                                                    tmp_path: Path) -> None:
    with reading(connected.engine) as conn:
        [key] = conn.execute(select(EVENTS.c.key).where(
            EVENTS.c.source == "scheduler", EVENTS.c.key.like("quickbooks.sweep@%"))).scalars()
    shown = _show(tmp_path, emulator, key)
    assert shown["source"] == "scheduler"
    [run] = shown["deliveries"]
    assert run["status"] == "done" and "first import" in run["result"], run


def test_what_quickbooks_told_the_hub_is_listed_and_shown_too(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    """Seen: a payment recorded by hand in QuickBooks reached the other plugins as an
    ``invoice.paid`` from quickbooks, shown in Activity, but ``hub events list`` listed only
    the host's events and ``hub events show invoice:132:1`` answered "no event"."""
    from tests.quickbooks.test_from_quickbooks import sweep

    post(create_app(connected).test_client(), "invoice.sent", "evt_1", invoice_data())
    run_due(connected)
    invoice = qbo_invoice(connected, emulator)
    sweep(connected)
    emulator.record_payment(invoice["Id"], 20)  # by hand, in QuickBooks
    sweep(connected)

    def run(*args: str) -> str:
        said = CliRunner().invoke(build_cli(), ["events", *args],
                                  env=qbo_env(tmp_path, emulator))
        assert said.exit_code == 0, said.output
        return said.output

    assert "evt_1" in run("list") and "from quickbooks" not in run("list")
    [line] = run("list", "--source", "quickbooks", "--type", "invoice.paid").splitlines()
    key = line.split()[2]
    assert key.startswith(f"invoice:{invoice['Id']}:") and "(from quickbooks)" in line
    assert "evt_1" in run("list", "--source", "all")
    shown = _show(tmp_path, emulator, key)
    assert shown["source"] == "quickbooks" and shown["type"] == "invoice.paid"
