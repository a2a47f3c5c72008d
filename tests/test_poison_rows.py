"""Defence in depth: an event row no delivery can use (written by hand, or by a release that let
it in) is parked with the reason, shown in Activity and ``hub events failed``, and never stops
the claims of any other delivery. Seen: one year-11 row made every claim fail, for good.
On SQLite and PostgreSQL, with the worker threads ``hub serve`` runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from hub import hookimpl
from hub.clock import utcnow
from hub.config import load_config
from hub.events import Contact
from hub.plugins.context import Context
from hub.queue.store import sqlite_time
from hub.queue.worker import Worker, run_due
from hub.roles.cli import build_cli
from hub.ui import auth
from hub.web.app import create_app
from tests.conftest import base_env
from tests.samples import CONTACT
from tests.ui.conftest import PASSWORD, client_sign_in


class Contacts:
    def __init__(self) -> None:
        self.got: list[str] = []
        self.good = threading.Event()

    @hookimpl
    def on_contact(self, contact: Contact, ctx: Context) -> None:
        self.got.append(contact.external_id)
        if contact.external_id == "good":
            self.good.set()


def poison(conn: Any, key: str, occurred_at: str, data: str, type_: str = "contact") -> None:
    now = sqlite_time(utcnow())
    pk = conn.execute(text(
        "INSERT INTO hub_event (source, key, type, occurred_at, received_at, body_hash, data, "
        "subject) VALUES ('host', :key, :type, " + occurred_at + ", :now, 'x', :data, NULL) "
        "RETURNING pk"), {"key": key, "type": type_, "now": now, "data": data}).scalar()
    conn.execute(text(
        "INSERT INTO hub_delivery (event_pk, plugin, hook, subject, status, attempts, "
        "next_attempt_at, updated_at) VALUES (:pk, 'contacts', 'on_contact', NULL, 'pending', "
        "0, :now, :now)"), {"pk": pk, "now": now})


@pytest.fixture
def db_hub(tmp_path: Path, database_url: str, make_hub: Any) -> Any:
    def make(*plugins: tuple[str, Any]) -> Any:
        return make_hub(*plugins, cfg=load_config(base_env(tmp_path, database_url),
                                                  dotenv=False))
    return make


def test_rows_no_delivery_can_use_are_parked_and_the_rest_delivered(
        db_hub: Any, database_url: str, tmp_path: Path) -> None:
    contacts = Contacts()
    hub = db_hub(("contacts", contacts))
    postgres = database_url.startswith("postgresql")
    # A time no datetime holds: what SQLite was given for the year 11; a BC date on PostgreSQL.
    bad_time = "'0044-03-15 00:00:00 BC'" if postgres else "'11-01-09 02:36:01.000000'"
    good_time = "'2026-03-28 15:04:05'"
    with hub.engine.begin() as conn:
        poison(conn, "evt_bad_time", bad_time, '{"external_id": "x", "name": "X"}')
        poison(conn, "evt_not_json", good_time, "{not json")
        poison(conn, "evt_no_name", good_time, '{"external_id": "x"}')
        poison(conn, "evt_unknown", good_time, "{}", type_="contact.v9")
    hub.accept_host_event("evt_good", "contact", utcnow(),
                          Contact.model_validate({**CONTACT, "external_id": "good"}), "h")
    worker = Worker(hub, threads=2)
    worker.start()
    try:
        assert contacts.good.wait(20), "the good event waited behind the poisoned ones"
    finally:
        worker.stop()
    assert contacts.got == ["good"]
    reasons = {}
    for key in ("evt_bad_time", "evt_not_json", "evt_no_name", "evt_unknown"):
        [delivery] = hub.event(key)["deliveries"]
        assert delivery["status"] == "dead", (key, delivery)
        reasons[key] = delivery["last_error"]
    assert "is not a time" in reasons["evt_bad_time"]
    assert "no longer passes the checks (name: Field required)" in reasons["evt_no_name"]
    assert "contact.v9" in reasons["evt_unknown"]
    assert "dismiss this delivery" in reasons["evt_not_json"]
    assert hub.event("evt_bad_time")["occurred_at"] is None  # the API reads it, says unknown

    # The operator sees each one, with its reason, on the command line and in Activity.
    env = {**base_env(tmp_path, database_url), "HUB_PLUGINS": ""}
    failed = CliRunner().invoke(build_cli(), ["events", "failed"], env=env)
    assert failed.exit_code == 0, failed.output
    for key in reasons:
        assert key in failed.output
    assert auth.set_first_password(hub, PASSWORD)
    client = create_app(hub).test_client()
    client_sign_in(client)
    page = client.get("/activity?status=attention")
    assert page.status_code == 200
    for key in reasons:
        assert key in page.text
    with hub.engine.connect() as conn:
        pk = conn.execute(text("SELECT pk FROM hub_event WHERE key = 'evt_bad_time'")).scalar()
    detail = client.get(f"/activity/events/{pk}")
    assert detail.status_code == 200 and "is not a time" in detail.text


class Raising:
    @hookimpl
    def on_contact(self, contact: Contact, ctx: Context) -> None:
        # A plugin's error carrying what a database cannot store (PostgreSQL: a NUL).
        raise RuntimeError("QuickBooks said \x00 and \ud800" + "x" * 10_000)


def test_an_error_no_database_can_store_is_recorded_all_the_same(db_hub: Any) -> None:
    hub = db_hub(("raising", Raising()))
    hub.accept_host_event("evt_1", "contact", utcnow(), Contact.model_validate(CONTACT), "h")
    assert run_due(hub) == 1
    [delivery] = hub.event("evt_1")["deliveries"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_error"].startswith("RuntimeError: QuickBooks said \\x00 and ?")
    assert len(delivery["last_error"]) <= 4000
