"""paid_webhook on a real hub, through hub.testing's fixtures."""

from __future__ import annotations

from typing import Any

from hub.testing import HttpSink, WebhookReceiver, sample_event

import ledgerline_hub_paid_webhook as plugin

NAME = "paid_webhook"


def test_the_hub_finds_it_as_installed(plugin_hub: Any) -> None:
    hub = plugin_hub(NAME)
    assert hub.infos[NAME].module is plugin and hub.infos[NAME].version == "0.1.0"
    assert all(f.description for f in plugin.Settings.model_fields.values())


def test_a_fully_paid_invoice_is_posted_signed_and_the_host_told(
        plugin_hub: Any, deliver: Any, http_sink: HttpSink,
        webhook_receiver: WebhookReceiver) -> None:
    plugin_hub(NAME, settings={"url": http_sink.url + "/paid", "signing_secret": "s3cret"},
               env=webhook_receiver.env)
    result = deliver(sample_event("invoice.paid", "evt_1"))
    assert result.status(NAME) == "done"
    [posted] = http_sink.requests
    assert posted.path == "/paid" and posted.json()["paid"] == "189.98"
    assert posted.headers["x-signature"] == plugin.signature("s3cret", posted.body)
    [told] = webhook_receiver.of_type("invoice.forwarded")
    assert told["data"] == {"external_id": "inv-1", "url": http_sink.url + "/paid"}


def test_a_part_paid_invoice_is_not_posted(plugin_hub: Any, deliver: Any,
                                           http_sink: HttpSink, hub_client: Any) -> None:
    plugin_hub(NAME, settings={"url": http_sink.url})
    result = deliver(sample_event("invoice.paid", "evt_2", amount_paid="100.00"))
    assert result.status(NAME) == "done" and http_sink.requests == []
    # What the operator (and the host's GET) reads of it.
    view = hub_client.get("/api/v1/events/evt_2").get_json()
    [delivery] = [d for d in view["deliveries"] if d["plugin"] == NAME]
    assert delivery["result"] == "89.98 still owed on inv-1: not posted"


def test_an_outage_is_retried_with_the_same_key_and_a_refusal_parked(
        plugin_hub: Any, deliver: Any, http_sink: HttpSink) -> None:
    plugin_hub(NAME, settings={"url": http_sink.url})
    http_sink.answer_with(503, 503, 200)
    assert deliver(sample_event("invoice.paid", "evt_3")).deliveries[NAME]["attempts"] == 3
    assert len({r.headers["idempotency-key"] for r in http_sink.requests}) == 1
    assert "x-signature" not in http_sink.requests[0].headers  # no secret, no signature

    http_sink.answer_with(404)
    refused = deliver(sample_event("invoice.paid", "evt_4", external_id="inv-2"))
    assert refused.status(NAME) == "dead" and refused.deliveries[NAME]["attempts"] == 1
    assert "refused the post with 404" in refused.deliveries[NAME]["last_error"]


def test_without_a_url_nothing_is_posted(plugin_hub: Any, deliver: Any) -> None:
    plugin_hub(NAME)
    assert deliver(sample_event("invoice.paid")).status(NAME) == "skipped"
