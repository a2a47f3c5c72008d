"""hub.testing, the fixtures a plugin's own tests get: loaded through its pytest11 entry point
here as after a plugin author's ``pip install``, and each fixture doing what it says."""

from __future__ import annotations

import smtplib
import types
from email.message import EmailMessage
from typing import Any

import pytest
import requests
from pydantic import BaseModel, Field

import hub.testing
from hub import Context, hookimpl
from hub.errors import RetryLater
from hub.events import Invoice
from hub.testing import Delivered, HttpSink, SmtpSink, WebhookReceiver, sample_event


class Settings(BaseModel):
    url: str = Field("", description="where paid invoices are posted")


class Poster:
    """A plugin calling out: posts each paid invoice to its ``url``, tells the host, and fails
    its first ``failures`` attempts."""

    ENABLED_BY_DEFAULT = False  # the kit switches it on all the same

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts: list[int] = []

    @hookimpl
    def settings_model(self) -> type[BaseModel]:
        return Settings

    @hookimpl
    def on_invoice_paid(self, invoice: Invoice, ctx: Context) -> None:
        self.attempts.append(ctx.attempt)
        if len(self.attempts) <= self.failures:
            raise RetryLater("not yet")
        assert isinstance(ctx.settings, Settings)
        requests.post(ctx.settings.url, json={"invoice": invoice.external_id}, timeout=5)
        ctx.notify_host("invoice.posted", {"external_id": invoice.external_id},
                        key=invoice.external_id)


def test_loaded_through_its_pytest11_entry_point(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.get_plugin("ledgerline_hub") is hub.testing


def test_a_plugin_hub_has_the_plugins_enabled_with_their_settings(plugin_hub: Any) -> None:
    poster = Poster()
    made = plugin_hub(("poster", poster), settings={"url": "http://127.0.0.1:9/x"})
    assert made.states.enabled("poster")
    assert made.context("poster", "test", "-").settings == Settings(url="http://127.0.0.1:9/x")
    # A second hub in the same test has a database of its own.
    other = plugin_hub(("poster", Poster()))
    assert other.context("poster", "test", "-").settings == Settings()


def test_deliver_posts_through_the_api_and_retries_to_the_end(
        plugin_hub: Any, deliver: Any, http_sink: HttpSink,
        webhook_receiver: WebhookReceiver) -> None:
    poster = Poster(failures=2)
    plugin_hub(("poster", poster), settings={"url": http_sink.url + "/paid"},
               env=webhook_receiver.env)
    result: Delivered = deliver(sample_event("invoice.paid", "evt_9"))
    assert result.answer_status == 202 and result.answer["id"] == "evt_9"
    assert result.status("poster") == "done" and result.event_status == "done"
    assert poster.attempts == [1, 2, 3]  # two waits passed on the frozen clock
    [posted] = http_sink.requests
    assert (posted.method, posted.path, posted.json()) == ("POST", "/paid", {"invoice": "inv-1"})
    # The message it queued for the host was delivered too, signed.
    [message] = webhook_receiver.of_type("invoice.posted")
    assert message["data"] == {"external_id": "inv-1"}
    assert [r.verified for r in webhook_receiver.requests] == ["ok"]
    with pytest.raises(KeyError, match="deliveries went to: poster"):
        result.status("absent")


def test_deliver_parks_a_delivery_that_always_fails(plugin_hub: Any, deliver: Any) -> None:
    poster = Poster(failures=99)
    plugin_hub(("poster", poster))
    result = deliver(sample_event("invoice.paid"))
    # HUB_MAX_ATTEMPTS is 4 in the kit's configuration.
    assert result.status("poster") == "dead" and poster.attempts == [1, 2, 3, 4]
    assert result.deliveries["poster"]["last_error"].startswith("not yet")


def test_deliver_refuses_an_event_the_api_refuses(plugin_hub: Any, deliver: Any) -> None:
    plugin_hub(("poster", Poster()))
    with pytest.raises(AssertionError, match="refused the event with 422"):
        deliver(sample_event("invoice.paid", total="not money"))


def test_the_client_sends_the_api_key(plugin_hub: Any, hub_client: Any, deliver: Any) -> None:
    plugin_hub(("poster", Poster()))
    deliver(sample_event("contact", "evt_c"))
    answer = hub_client.get("/api/v1/events/evt_c")
    assert answer.status_code == 200 and answer.get_json()["id"] == "evt_c"


def test_the_http_sink_answers_as_told(http_sink: HttpSink) -> None:
    http_sink.answer_with(500, (201, {"x-seen": "yes"}, b"made"))
    assert requests.get(http_sink.url + "/a", timeout=5).status_code == 500
    second = requests.put(http_sink.url + "/b", data=b"body", timeout=5)
    assert (second.status_code, second.headers["x-seen"], second.content) == (201, "yes",
                                                                              b"made")
    assert requests.get(http_sink.url, timeout=5).status_code == 201  # the last, again
    assert [(r.method, r.path) for r in http_sink.requests] == [
        ("GET", "/a"), ("PUT", "/b"), ("GET", "/")]
    assert http_sink.requests[1].body == b"body"


def test_the_webhook_receiver_tells_a_bad_signature(webhook_receiver: WebhookReceiver) -> None:
    requests.post(webhook_receiver.url + "/hooks", data=b"{}", timeout=5,
                  headers={"webhook-id": "msg_1", "webhook-timestamp": "1",
                           "webhook-signature": "v1,AAAA"})
    [arrived] = webhook_receiver.requests
    assert arrived.verified != "ok" and webhook_receiver.messages == []


class Mailer:
    @hookimpl
    def on_contact(self, contact: Any, ctx: Context) -> None:
        url = ctx.config.smtp_url or ""
        host, port = url.removeprefix("smtp://").split(":")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "hub@example.com", \
            contact.email, "Welcome"
        message.set_content("Hello")
        with smtplib.SMTP(host, int(port), timeout=5) as smtp:
            smtp.send_message(message)


def test_the_smtp_sink_keeps_what_it_is_sent(plugin_hub: Any, deliver: Any,
                                             smtp_sink: SmtpSink) -> None:
    plugin_hub(("mailer", Mailer()), env=smtp_sink.env)
    assert deliver(sample_event("contact")).status("mailer") == "done"
    [mail] = smtp_sink.messages
    assert (mail["To"], mail["Subject"]) == ("dana@example.com", "Welcome")


def test_a_plugin_by_name_is_the_installed_one(plugin_hub: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("kit_installed_plugin")
    module.settings_model = hookimpl(lambda: Settings)  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "kit_installed_plugin", module)
    monkeypatch.setenv("HUB_PLUGINS", "kit=kit_installed_plugin")
    made = plugin_hub("kit", settings={"url": "http://example.com/"})
    assert made.infos["kit"].module is module
    assert made.context("kit", "test", "-").settings == Settings(url="http://example.com/")
    with pytest.raises(LookupError, match="no plugin named 'absent' is installed"):
        plugin_hub("absent")
