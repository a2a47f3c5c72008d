"""Changes made in QuickBooks are announced to a receiver: signed, in both formats, retried."""

from __future__ import annotations

import json

import requests
from quickbooks import QuickBooks

from hub.builtin.quickbooks.emulator.testing import Emulator

from .conftest import Api
from .receiver import Receiver, signed


def test_cloudevents_announcement(emulator: Emulator, receiver: Receiver, qb: QuickBooks) -> None:
    emulator.configure_webhooks(url=receiver.url, format="cloudevents")
    customer = emulator.add_customer(DisplayName="Walk-in Customer")
    body, headers = receiver.wait(1)[0]
    assert signed(body, headers, emulator.verifier_token)
    # python-quickbooks' own check agrees (it compares with ==; the hub should not).
    assert qb.validate_webhook_signature(
        body.decode(), headers["intuit-signature"], emulator.verifier_token
    )
    events = json.loads(body)
    assert isinstance(events, list) and len(events) == 1
    event = events[0]
    assert event["specversion"] == "1.0" and event["type"] == "qbo.customer.created.v1"
    assert event["intuitentityid"] == customer["Id"]
    assert event["intuitaccountid"] == emulator.realm_id
    assert {"id", "source", "time", "datacontenttype", "data"} <= set(event)


def test_legacy_announcement_of_a_payment(emulator: Emulator, receiver: Receiver, api: Api) -> None:
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    invoice = next(i for i in emulator.objects("Invoice") if i["Balance"] > 20)
    payment = emulator.record_payment(invoice["Id"], amount=20.0)
    body, headers = receiver.wait(1)[0]
    assert signed(body, headers, emulator.verifier_token)
    notification = json.loads(body)["eventNotifications"][0]
    assert notification["realmId"] == emulator.realm_id
    changed = {
        (e["name"], e["id"], e["operation"]) for e in notification["dataChangeEvent"]["entities"]
    }
    assert ("Payment", payment["Id"], "Create") in changed
    assert ("Invoice", invoice["Id"], "Update") in changed
    assert all(e["lastUpdated"].endswith("Z") for e in notification["dataChangeEvent"]["entities"])
    fresh = api.get(f"invoice/{invoice['Id']}").json()["Invoice"]
    assert fresh["Balance"] == invoice["Balance"] - 20.0


def test_invoice_edit_by_a_person(emulator: Emulator, receiver: Receiver, api: Api) -> None:
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    invoice = emulator.objects("Invoice")[0]
    edited = emulator.edit_invoice(invoice["Id"], PrivateNote="Changed at the front desk")
    assert edited["SyncToken"] == str(int(invoice["SyncToken"]) + 1)
    body, _ = receiver.wait(1)[0]
    entity = json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"][0]
    assert (entity["name"], entity["operation"]) == ("Invoice", "Update")
    # The client's copy is now stale.
    stale = api.post(
        "invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
            "PrivateNote": "mine",
        },
    )
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"


def test_control_api_changes(emulator: Emulator, receiver: Receiver) -> None:
    requests.post(
        emulator.base_url + "/_emulator/webhooks",
        json={"url": receiver.url, "format": "cloudevents"},
        timeout=5,
    )
    added = requests.post(
        f"{emulator.base_url}/_emulator/companies/{emulator.realm_id}/customers",
        json={"DisplayName": "From The Control API"},
        timeout=5,
    ).json()
    assert added["Customer"]["Id"]
    duplicate = requests.post(
        f"{emulator.base_url}/_emulator/companies/{emulator.realm_id}/customers",
        json={"DisplayName": "From The Control API"},
        timeout=5,
    )
    assert duplicate.status_code == 400
    assert json.loads(receiver.wait(1)[0][0])[0]["type"] == "qbo.customer.created.v1"


def test_failed_delivery_is_retried(emulator: Emulator) -> None:
    failing = Receiver(statuses=[500, 503])
    try:
        emulator.configure_webhooks(url=failing.url, retry_scale=0.001)
        emulator.add_customer(DisplayName="Retry Me")
        received = failing.wait(3)
        assert received[0][0] == received[1][0] == received[2][0], "the same notification again"
        attempts = emulator.wait_for_webhooks(3)
        assert [a["status"] for a in attempts[:3]] == [500, 503, 200]
    finally:
        failing.stop()


def test_api_changes_are_announced_too(emulator: Emulator, receiver: Receiver, api: Api) -> None:
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    created = api.post("customer", {"DisplayName": "Via The API"}).json()["Customer"]
    entity = json.loads(receiver.wait(1)[0][0])["eventNotifications"][0]["dataChangeEvent"][
        "entities"
    ][0]
    assert (entity["name"], entity["id"]) == ("Customer", created["Id"])
