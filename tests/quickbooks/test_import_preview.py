"""``hub quickbooks import --preview``: what the first import would do, shown before it runs
(new contacts, customers matching a host contact by email, shared emails and which customer is
linked, invoices and their total), and the import then doing just that: a customer the host
already has is linked to the host's contact, not sent back to it as a second contact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from hub.builtin.quickbooks import connect, links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from hub.web.app import create_app
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_ctx, qbo_env
from tests.quickbooks.test_from_quickbooks import told
from tests.quickbooks.test_invoices import post
from tests.samples import DATA


def _preview(tmp_path: Path, emulator: Emulator, *args: str) -> Any:
    said = CliRunner().invoke(build_cli(), ["quickbooks", "import", "--preview", *args],
                              env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 0, said.output
    return json.loads(said.output) if "--json" in args else said.output


def test_the_preview_says_what_the_import_then_does(qbo_hub: Hub, emulator: Emulator,
                                                    host: Recorder, tmp_path: Path) -> None:
    older = emulator.add_customer(DisplayName="Dana W", Active=False,
                                  PrimaryEmailAddr={"Address": "dana@example.com"})
    newer = emulator.add_customer(DisplayName="Dana Whitfield",
                                  PrimaryEmailAddr={"Address": "Dana@Example.com "})
    stranger = emulator.add_customer(DisplayName="Sam Stranger",
                                     PrimaryEmailAddr={"Address": "sam@example.com"})
    grant = emulator.connect()
    connect.with_refresh_token(qbo_ctx(qbo_hub), grant["realmId"], grant["refresh_token"])
    # The host already has Dana (its contact c-1), told before the import has run.
    post(create_app(qbo_hub).test_client(), "contact", "evt_1",
         {**DATA["contact"], "email": "dana@example.com"})

    shown = _preview(tmp_path, emulator, "--json", "--invoices")

    assert [c["qbo_id"] for c in shown["matching"]] == [newer["Id"]]
    assert shown["matching"][0]["contact"] == "c-1"
    [shared] = shown["shared_emails"]
    assert shared == {"email": "dana@example.com", "customers": [older["Id"], newer["Id"]],
                      "linked": newer["Id"], "why": "the only active one"}
    to_import = {c["qbo_id"] for c in shown["to_import"]}
    assert stranger["Id"] in to_import and older["Id"] in to_import
    assert newer["Id"] not in to_import
    owed = emulator.objects("Invoice")
    assert owed, "the emulator seeds invoices: the preview must list them"
    assert len(shown["invoices"]) == len(owed)
    assert shown["invoices_total"] == f"{sum(float(i['TotalAmt']) for i in owed):.2f}"
    text = _preview(tmp_path, emulator)
    assert "1 match a host contact by email and would be linked to it" in text
    assert f"dana@example.com: customers {older['Id']}, {newer['Id']}; {newer['Id']} is the " \
           "one linked (the only active one)" in text
    assert "Nothing was imported" in text
    # A preview only reads.
    assert told(host, "contact.imported") == []
    assert links.by_qbo_id(qbo_ctx(qbo_hub), "customer", stranger["Id"]) is None

    run_due(qbo_hub)  # the import connecting queued, and the host's contact

    imported = {m["data"]["external_id"] for m in told(host, "contact.imported")}
    assert f"qbo:{stranger['Id']}" in imported
    assert f"qbo:{newer['Id']}" not in imported  # the host has her: linked, not sent back
    link = links.get(qbo_ctx(qbo_hub), "customer", "c-1")
    assert link is not None and link["qbo_id"] == newer["Id"]
    assert len([c for c in emulator.objects("Customer")
                if "dana" in str(c.get("PrimaryEmailAddr")).lower()]) == 2  # none made


def test_import_before_connecting_says_how(qbo_hub: Hub, emulator: Emulator,
                                           tmp_path: Path) -> None:
    said = CliRunner().invoke(build_cli(), ["quickbooks", "import", "--preview"],
                              env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 1
    assert "QuickBooks is not connected: `hub quickbooks connect` first" in said.output


def test_connect_review_first_holds_the_import_until_the_go(qbo_hub: Hub, emulator: Emulator,
                                                             host: Recorder,
                                                             tmp_path: Path) -> None:
    """Without a browser too, the first import can wait for a look: ``connect --review-first``
    imports nothing (the sweep waits) until ``hub quickbooks import``."""
    emulator.add_customer(DisplayName="Sam Stranger",
                          PrimaryEmailAddr={"Address": "sam@example.com"})
    grant = emulator.connect()
    env = {**qbo_env(tmp_path, emulator), "QBO_REFRESH_TOKEN": grant["refresh_token"]}
    said = CliRunner().invoke(build_cli(), ["quickbooks", "connect", "--realm-id",
                                            grant["realmId"], "--review-first"], env=env)
    assert said.exit_code == 0, said.output
    assert "The first import waits: `hub quickbooks import --preview`" in said.output
    run_due(qbo_hub)
    assert told(host, "contact.imported") == []
    assert "Sam Stranger <sam@example.com>" in _preview(tmp_path, emulator)

    said = CliRunner().invoke(build_cli(), ["quickbooks", "import"], env=env)
    assert said.exit_code == 0, said.output
    run_due(qbo_hub)
    assert any(m["data"]["name"] == "Sam Stranger" for m in told(host, "contact.imported"))
