"""What plugins contribute besides event handling: tables, routes, commands, read-API facts,
booking decisions."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import inspect

from hub.events import Verdict
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.web.app import create_app
from tests.conftest import API_KEY, base_env
from tests.plugins import extras
from tests.samples import event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_a_plugin_brings_its_own_migrations(make_hub) -> None:
    hub = make_hub(("extras", extras))
    assert "extras_note" in inspect(hub.engine).get_table_names()
    make_hub(("extras", extras))  # a second start finds them applied
    make_hub()  # and a hub without the plugin still starts on the same database


def test_a_plugin_adds_web_routes(make_hub) -> None:
    client = create_app(make_hub(("extras", extras))).test_client()
    assert client.get("/extras/ping").get_json() == {"pong": "extras"}


def test_a_plugin_contributes_its_card(make_hub) -> None:
    from hub.plugins.context import CallContext
    from hub.plugins.registry import call_for

    hub = make_hub(("extras", extras))
    assert "ready" in call_for(hub.pm, "ui_card", "extras", ctx=CallContext(hub, "ui", "-"))


def test_a_plugin_answers_what_a_customer_owes(make_hub) -> None:
    hub = make_hub(("extras", extras))
    owed = hub.customer_balance("owes@example.com")
    assert owed is not None and owed.outstanding == Decimal("130.00") and owed.source == "extras"
    assert hub.customer_balance("clear@example.com") is None


def test_a_plugin_adds_commands(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HUB_PLUGINS", "extras=tests.plugins.extras")
    result = CliRunner().invoke(build_cli(), ["extras-hello", "ann"], env=base_env(tmp_path))
    assert result.output == "hello ann from extras\n"
    rotated = CliRunner().invoke(build_cli(), ["keys", "rotate"], env=base_env(tmp_path))
    assert "extras: re-encrypted 0 stored secrets" in rotated.output
    monkeypatch.delenv("HUB_PLUGINS")
    assert "extras-hello" not in build_cli().commands  # nothing left behind


def test_read_api_merges_what_plugins_know(make_hub, recorder) -> None:
    hub = make_hub(("extras", extras), ("recorder", recorder))
    client = create_app(hub).test_client()
    assert client.get("/api/v1/invoices/inv-1", headers=AUTH).status_code == 200
    client.post("/api/v1/events", json=event(), headers=AUTH)
    run_due(hub)
    invoice = client.get("/api/v1/invoices/inv-1", headers=AUTH).get_json()
    assert invoice["total"] == "189.98" and invoice["balance"] == "189.98"
    assert invoice["status"] == "sent" and invoice["quickbooks_id"] == "qb-inv-1"
    assert client.get("/api/v1/invoices/inv-9", headers=AUTH).status_code == 404
    client.post("/api/v1/events", json=event("contact", "evt_c"), headers=AUTH)
    contact = client.get("/api/v1/contacts/c-1", headers=AUTH).get_json()
    assert contact["email"] == "dana@example.com" and contact["outstanding"] == "130.00"
    assert contact["plugin_seen"] == "extras"


def test_booking_check_asks_the_decision_plugins(make_hub, recorder) -> None:
    hub = make_hub(("recorder", recorder))
    client = create_app(hub).test_client()
    ask = {"email": "dana@example.com"}
    answer = client.post("/api/v1/bookings/check", json=ask, headers=AUTH).get_json()
    assert answer == {"allowed": True, "reason": None, "balance": None, "threshold": None,
                      "stale": False}
    recorder.verdict = Verdict(
        allowed=False, balance=Decimal("130"), threshold=Decimal("100"),
        reason="Outstanding balance $130.00 exceeds the $100.00 limit (1 invoice overdue)")
    answer = client.post("/api/v1/bookings/check", json=ask, headers=AUTH).get_json()
    assert answer["allowed"] is False and answer["balance"] == "130.00"
    assert answer["threshold"] == "100.00" and answer["reason"].startswith("Outstanding")
    assert recorder.calls[-1][0] == "check_booking"
    bad = client.post("/api/v1/bookings/check", json={"email": "dana"}, headers=AUTH)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "email"
    hub.states.set_enabled("recorder", False)
    answer = client.post("/api/v1/bookings/check", json=ask, headers=AUTH).get_json()
    assert answer["allowed"] is True  # the gate off: allowed


def test_billing_decisions_ask_every_plugin(make_hub, recorder) -> None:
    from hub.events import Booking
    from tests.samples import DATA

    hub = make_hub(("recorder", recorder))
    booking = Booking.model_validate(DATA["booking"])
    assert hub.check_billing(booking).allowed is True  # no opinion: allowed
    recorder.verdict = Verdict(allowed=False, reason="refused at the gate")
    verdict = hub.check_billing(booking)
    assert verdict.allowed is False and verdict.reason == "refused at the gate"
    assert recorder.calls[-1][0] == "check_billing"


def test_a_plugin_answers_the_money_report(make_hub) -> None:
    report = make_hub(("extras", extras)).receivables()
    assert report is not None and report.months[0].outstanding == Decimal("65")
