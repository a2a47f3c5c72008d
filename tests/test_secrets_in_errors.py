"""A plugin's raise may carry a secret (an exception text quoting a webhook URL with its token):
the dispatcher takes the plugin's secret settings and the hub's own secrets out of what it
stores, logs, shows in ``hub events failed`` and tells the host."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from sqlalchemy import select

from hub.clock import utcnow
from hub.config import load_config
from hub.errors import NeedsOperator
from hub.events import parse_data
from hub.hub import Hub
from hub.plugins.context import Context
from hub.queue.db import reading
from hub.queue.store import DELIVERIES
from hub.queue.worker import run_due
from hub.roles.cli import cli
from tests.conftest import API_KEY, base_env
from tests.plugins.recorder import Recorder
from tests.samples import event

T0 = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)
TOKEN = "tok_live_9f8e7d6c5b4a/+="  # the plugin's SecretStr setting; quoted differently in URLs
HOOK_PASSWORD = "hookpass-9931"
HOOK_TOKEN = "hosttoken-1234567"
SMTP_PASSWORD = "smtp-pa55word"
HOST_URL = f"https://hub:{HOOK_PASSWORD}@app.example.com/hooks?token={HOOK_TOKEN}&format=json"


def leak(hook: str, ctx: Context) -> None:
    """A plugin whose every outcome quotes secrets, as a library's exception text might."""
    token = ctx.settings.token.get_secret_value()  # type: ignore[union-attr]
    config = ctx.config
    if hook == "on_contact":
        ctx.note(f"posted to https://hooks.example.com/x?key={token}")
        # What an author logs goes through the same redaction, as text or as an argument.
        ctx.log.info("posting to %s", f"https://hooks.example.com/x?key={token}")
        ctx.log.warning(f"the key {token} was accepted, the hub's is {config.api_key}")
    elif hook == "on_payment":
        raise NeedsOperator(f"https://hooks.example.com/x?key={quote(token, safe='')} refused "
                            f"the key; the hub's is {config.api_key}")
    elif hook == "on_invoice_sent":
        raise RuntimeError(f"POST https://hooks.example.com/x?key={token} answered 401 (host "
                           f"{config.host_webhook_url}, mail {config.smtp_url}, "
                           f"signing {config.secret_key})")


def send(hub: Hub, event_type: str, event_id: str) -> None:
    body = event(event_type, event_id)
    hub.accept_host_event(event_id, event_type, utcnow(),
                          parse_data(event_type, body["data"]), event_id)


def rows(hub: Hub) -> list[dict[str, Any]]:
    with reading(hub.engine) as conn:
        return [dict(r) for r in conn.execute(
            select(DELIVERIES).where(DELIVERIES.c.plugin == "leaky",
                                     DELIVERIES.c.hook != "on_host_event")
            .order_by(DELIVERIES.c.pk)).mappings()]


def test_no_secret_reaches_the_stored_errors_the_log_the_cli_or_the_host(
        tmp_path: Path, make_hub: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    config = load_config({**base_env(tmp_path), "HUB_HOST_WEBHOOK_URL": HOST_URL,
                          "HUB_SMTP_URL": f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:2525"},
                         dotenv=False)
    host = Recorder()
    hub: Hub = make_hub(("leaky", Recorder(fail=leak)), ("host", host), cfg=config)
    hub.states.set_enabled("host_webhooks", False)  # app.example.com is not ours to call
    hub.states.update_settings("leaky", {"token": TOKEN})
    secrets = [TOKEN, quote(TOKEN, safe=""), API_KEY, HOOK_PASSWORD, HOOK_TOKEN, SMTP_PASSWORD,
               config.secret_key]
    with freeze_time(T0) as clock:
        send(hub, "contact", "evt_contact")
        send(hub, "payment", "evt_payment")
        send(hub, "invoice.sent", "evt_invoice")
        run_due(hub)
        while pending := [r["next_attempt_at"] for r in rows(hub) if r["status"] == "pending"]:
            clock.move_to(min(pending))
            run_due(hub)  # and the host's sync.failed messages
    done, needs_operator, gave_up = rows(hub)
    assert done["status"] == "done" and done["result"] == "posted to https://hooks.example." \
        "com/x?key=***"
    assert needs_operator["status"] == "dead"
    assert needs_operator["last_error"] == ("https://hooks.example.com/x?key=*** refused the "
                                            "key; the hub's is ***")
    assert gave_up["status"] == "dead" and gave_up["attempts"] == 4
    assert gave_up["last_error"].startswith("RuntimeError: POST https://hooks.example.com/x?"
                                            "key=*** answered 401 (host https://hub:***@app."
                                            "example.com/hooks?***, mail smtp://mailer:***@")
    failed = CliRunner().invoke(cli, ["events", "failed"], obj=hub)
    assert failed.exit_code == 0 and "key=***" in failed.output
    told = [m for hook, m, _ in host.calls if hook == "on_host_event"]
    assert [m["type"] for m in told] == ["sync.failed", "sync.failed"]
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "answered 401" in logged and "Traceback" in logged  # the checks below see something
    shown = [str(done), str(needs_operator), str(gave_up), failed.output, str(told), logged]
    for secret in secrets:
        for where in shown:
            assert secret not in where, (secret, where)


def test_what_is_taken_out_and_what_is_left(tmp_path: Path, make_hub: Any) -> None:
    from hub.redact import scrub, secrets_of

    config = load_config({**base_env(tmp_path), "HUB_HOST_WEBHOOK_URL": HOST_URL},
                         dotenv=False)
    hub: Hub = make_hub(("leaky", Recorder()), cfg=config)
    hub.states.update_settings("leaky", {"token": TOKEN})
    secrets = secrets_of(hub, "leaky")
    # A query value too short to be a token, and words, are left alone.
    assert scrub("format=json; 401 Unauthorized", secrets) == "format=json; 401 Unauthorized"
    assert scrub(f"key {TOKEN}, quoted {quote(TOKEN, safe='')}", secrets) == \
        "key ***, quoted ***"
    # Another plugin's secret settings are not this one's business, the hub's always are.
    assert TOKEN not in secrets_of(hub, "host_webhooks")
    assert API_KEY in secrets_of(hub, "host_webhooks")


def test_every_setting_marked_secret_is_taken_out(tmp_path: Path, make_hub: Any) -> None:
    """Seen: QBO_REFRESH_TOKEN is marked secret, yet the hub's own list of secrets to scrub
    named the settings one by one and left it out, so an error quoting it was stored whole."""
    from hub.config import Config
    from hub.redact import scrub, secrets_of

    refresh = "AB11700000000refreshtokenxyz"
    config = load_config({**base_env(tmp_path), "QBO_REFRESH_TOKEN": refresh,
                          "QBO_CLIENT_SECRET": "client-secret-4321",
                          "QBO_WEBHOOK_VERIFIER_TOKEN": "verifier-token-8765"}, dotenv=False)
    hub: Hub = make_hub(("leaky", Recorder()), cfg=config)
    secrets = secrets_of(hub, "leaky")
    marked = [name for name, f in Config.model_fields.items()
              if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("secret")]
    for name in marked:
        value = getattr(config, name)
        for one in value if isinstance(value, tuple) else (value,):
            if isinstance(one, str) and one and "://" not in one:  # URLs: their credentials
                assert scrub(f"the value {one} leaked", secrets) == "the value *** leaked", name
    assert "qbo_refresh_token" in marked
    assert scrub(f"refresh_token={refresh}", secrets) == "refresh_token=***"
