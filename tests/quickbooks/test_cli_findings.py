"""An operator's try-out of the command line, against the emulator over real sockets: the
import preview says plainly that invoices are not imported while ``import_invoices`` is off (and
the import then brings none), and ``reconcile --fix`` says what happened to the fixes it asked
for (queued for a worker) and, once the worker applied them, no longer suggests
``hub jobs run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.roles.cli import build_cli
from tests.plugins.recorder import Recorder
from tests.quickbooks.conftest import qbo_env
from tests.quickbooks.test_from_quickbooks import told
from tests.quickbooks.test_reconcile import marked, sent


def _cli(tmp_path: Path, emulator: Emulator, *args: str) -> str:
    said = CliRunner().invoke(build_cli(), list(args), env=qbo_env(tmp_path, emulator))
    assert said.exit_code == 0, said.output
    return said.output


def test_invoices_are_not_counted_as_imported_while_the_setting_is_off(
        qbo_hub: Hub, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    owed = [i for i in emulator.objects("Invoice") if float(i["TotalAmt"])]
    assert owed, "the emulator seeds invoices"
    grant = emulator.connect()
    env = {**qbo_env(tmp_path, emulator), "QBO_REFRESH_TOKEN": grant["refresh_token"]}
    said = CliRunner().invoke(build_cli(), ["quickbooks", "connect", "--realm-id",
                                            grant["realmId"], "--review-first"], env=env)
    assert said.exit_code == 0, said.output

    text = _cli(tmp_path, emulator, "quickbooks", "import", "--preview", "--invoices")
    assert "import_invoices is off: historical invoices are not imported" in text
    assert "`hub plugins set quickbooks import_invoices=true` before the first import" in text
    assert f"With it on, {len(owed)} invoices would be imported" in text
    assert not any(line.startswith(f"{len(owed)} invoices would be imported")
                   for line in text.splitlines())
    # The import agrees: it brings none.
    _cli(tmp_path, emulator, "quickbooks", "import")
    run_due(qbo_hub)
    assert told(host, "invoice.imported") == []
    # Nor does one after turning the setting on: only what changes from then on comes, as the
    # preview now says.
    _cli(tmp_path, emulator, "plugins", "set", "quickbooks", "import_invoices=true")
    text = _cli(tmp_path, emulator, "quickbooks", "import", "--preview")
    assert (f"The first import has run: an import now brings only what changed in QuickBooks "
            f"since, so none of these {len(owed)} invoices") in text
    assert "invoices would be imported" not in text
    _cli(tmp_path, emulator, "quickbooks", "import")
    run_due(qbo_hub)
    assert told(host, "invoice.imported") == []


def test_with_the_setting_on_the_first_import_brings_what_the_preview_counts(
        make_qbo_hub: Any, emulator: Emulator, host: Recorder, tmp_path: Path) -> None:
    hub = make_qbo_hub()
    _cli(tmp_path, emulator, "plugins", "set", "quickbooks", "import_invoices=true")
    grant = emulator.connect()
    env = {**qbo_env(tmp_path, emulator), "QBO_REFRESH_TOKEN": grant["refresh_token"]}
    said = CliRunner().invoke(build_cli(), ["quickbooks", "connect", "--realm-id",
                                            grant["realmId"], "--review-first"], env=env)
    assert said.exit_code == 0, said.output
    owed = [i for i in emulator.objects("Invoice") if float(i["TotalAmt"])]
    text = _cli(tmp_path, emulator, "quickbooks", "import", "--preview")
    assert f"{len(owed)} invoices would be imported" in text
    assert "import_invoices is off" not in text
    _cli(tmp_path, emulator, "quickbooks", "import")
    run_due(hub)
    assert len(told(host, "invoice.imported")) == len(owed)


def test_reconcile_fix_says_queued_and_no_more_once_the_worker_applied_them(
        connected: Hub, emulator: Emulator, tmp_path: Path) -> None:
    first = sent(connected, emulator)
    emulator.delete("Invoice", first["Id"])

    said = _cli(tmp_path, emulator, "quickbooks", "reconcile", "--fix")
    assert "1 safe fixes: 1 queued for the reconcile-work job" in said
    assert "with no hub running, `hub jobs run quickbooks.reconcile-work`" in said
    run_due(connected)
    assert len(marked(emulator)) == 1
    said = _cli(tmp_path, emulator, "quickbooks", "reconcile", "--fix")
    assert "no safe fixes to ask for" in said and "hub jobs run" not in said
