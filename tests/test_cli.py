"""The ``hub`` command: plugins listed, switched and configured; parked work retried."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.config import load_config
from hub.hub import Hub
from hub.roles.cli import build_cli
from tests.conftest import base_env


@pytest.fixture
def run(tmp_path: Path):
    env = {**base_env(tmp_path), "HUB_PLUGINS": "recorder=tests.plugins.cli_recorder"}
    cli = build_cli()

    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_plugins_list_shows_built_ins_and_installed(run) -> None:
    result = run("plugins", "list")
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.output.splitlines()}
    assert {"host_webhooks", "quickbooks", "review_requests", "booking_gate",
            "recorder"} <= set(rows)
    assert "built-in" in rows["quickbooks"] and "enabled" in rows["quickbooks"]
    assert "disabled" in rows["booking_gate"]  # off until the operator sets a threshold
    assert "installed" in rows["recorder"]


def test_enable_and_disable_persist(run) -> None:
    assert run("plugins", "disable", "quickbooks").output.strip() == "quickbooks disabled"
    assert "disabled" in [line for line in run("plugins", "list").output.splitlines()
                          if line.startswith("quickbooks")][0]
    assert run("plugins", "enable", "quickbooks").exit_code == 0
    result = run("plugins", "enable", "quickbook")
    assert result.exit_code == 1 and "no plugin named 'quickbook'" in result.output


def test_set_validates_against_the_declared_settings(run, tmp_path: Path) -> None:
    ok = run("plugins", "set", "quickbooks", "poll_minutes=10",
             "monthly_clients=ann@example.com, bo@example.com")
    assert ok.exit_code == 0, ok.output
    shown = run("plugins", "show", "quickbooks").output
    assert "poll_minutes = 10" in shown
    assert '"ann@example.com", "bo@example.com"' in shown
    # Each setting says its default, as the command's help promises.
    poll = next(line for line in shown.splitlines() if line.startswith("poll_minutes ="))
    assert poll.endswith("; default 5"), poll

    bad = run("plugins", "set", "quickbooks", "poll_minutes=soon", "pol_minutes=3")
    assert bad.exit_code == 2
    assert "quickbooks.pol_minutes: quickbooks has no setting 'pol_minutes'" in bad.output
    bad = run("plugins", "set", "quickbooks", "poll_minutes=0")
    assert "quickbooks.poll_minutes: Input should be greater than or equal to 1" in bad.output
    bad = run("plugins", "set", "booking_gate", "threshold=12.345")
    assert "booking_gate.threshold: must have at most two decimal places" in bad.output
    assert run("plugins", "set", "quickbooks", "nonsense").exit_code == 1
    bad = run("plugins", "set", "quickbooks", "timezone=America/Los_Angles")
    assert ("quickbooks.timezone: 'America/Los_Angles' is not a time zone: use an "
            "IANA name such as America/Los_Angeles") in bad.output
    # Nothing of the refused values was stored.
    assert "poll_minutes = 10" in run("plugins", "show", "quickbooks").output


def test_secret_settings_are_encrypted_at_rest_and_never_shown(run, tmp_path: Path) -> None:
    assert run("plugins", "set", "recorder", "token=sk_live_abcdefghijklmnop").exit_code == 0
    shown = run("plugins", "show", "recorder").output
    assert "sk_live" not in shown and "…mnop" in shown
    assert b"sk_live_abcdefghijklmnop" not in (tmp_path / "hub.db").read_bytes()
    hub = Hub(load_config({**base_env(tmp_path),
                           "HUB_PLUGINS": "recorder=tests.plugins.cli_recorder"},
                          dotenv=False), entrypoints=False)
    assert hub.states.settings("recorder").token.get_secret_value() == \
        "sk_live_abcdefghijklmnop"
    hub.close()


def test_failed_and_retry(run, tmp_path: Path) -> None:
    assert run("events", "failed").output.strip() == "nothing parked or waiting"
    result = run("events", "retry")
    assert result.exit_code == 1 and "name an event id" in result.output
    assert run("events", "retry", "evt_unknown").output.strip() == "0 deliveries queued again"


def test_events_list_shows_the_newest_ids_and_their_deliveries(run, tmp_path: Path) -> None:
    """Seen: to undo or show an event, an operator had to find its id in Activity; the command
    line had no list of events."""
    from hub.web.app import create_app
    from tests.conftest import API_KEY
    from tests.samples import event

    assert run("events", "list").output.strip() == "no events yet"
    hub = Hub(load_config({**base_env(tmp_path),
                           "HUB_PLUGINS": "recorder=tests.plugins.cli_recorder"},
                          dotenv=False), entrypoints=False)
    client = create_app(hub).test_client()
    for n, kind in enumerate(("contact", "invoice.sent", "invoice.sent")):
        answer = client.post("/api/v1/events", json=event(kind, f"evt_{n}"),
                             headers={"Authorization": f"Bearer {API_KEY}"})
        assert answer.status_code == 202, answer.get_json()
    hub.close()
    lines = run("events", "list", "--limit", "2").output.splitlines()
    assert [line.split()[1:3] for line in lines] == [["invoice.sent", "evt_2"],
                                                    ["invoice.sent", "evt_1"]]
    only = run("events", "list", "--type", "contact").output.splitlines()
    assert [line.split()[2] for line in only] == ["evt_0"]
    assert only[0].endswith("recorder pending")  # the one plugin that takes contacts
    assert run("events", "list", "--limit", "0").exit_code == 2
