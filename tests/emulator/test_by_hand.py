"""What a person does in QuickBooks by hand (edits, deletes, voids, customer merges) shows in
the API's answers, in CDC and in signed webhooks as Intuit documents them, and python-quickbooks
reads the result unmodified."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests
from freezegun import freeze_time
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment
from quickbooks.objects.salesreceipt import SalesReceipt

from hub.builtin.quickbooks.emulator.clock import now
from hub.builtin.quickbooks.emulator.faults import QBOFault
from hub.builtin.quickbooks.emulator.testing import Emulator

from .conftest import Api
from .receiver import Receiver, signed

CLASSES = {"Invoice": Invoice, "Payment": Payment, "SalesReceipt": SalesReceipt}


def line(amount: float) -> dict[str, Any]:
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": {}}


def legacy_entities(receiver: Receiver, count: int = 1) -> list[dict[str, Any]]:
    """The entities of the `count`-th legacy notification, its signature checked."""
    body, headers = receiver.wait(count)[count - 1]
    assert signed(body, headers, "ledgerline-emulator-verifier")
    return json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]  # type: ignore[no-any-return]


def cdc(api: Api, since: str, entities: str) -> dict[str, list[dict[str, Any]]]:
    answer = api.get("cdc", entities=entities, changedSince=since).json()
    return {
        name: response.get(name, [])
        for name, response in zip(
            entities.split(","), answer["CDCResponse"][0]["QueryResponse"], strict=True
        )
    }


def a_customer_with_an_invoice(api: Api, name: str, amount: float = 40.0) -> tuple[dict, dict]:
    customer = api.post("customer", {"DisplayName": name}).json()["Customer"]
    invoice = api.post(
        "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(amount)]}
    ).json()["Invoice"]
    return customer, invoice


# -- hand edits ------------------------------------------------------------------------------
def test_a_hand_edit_of_an_invoice_moves_its_version(
    emulator: Emulator, receiver: Receiver, qb: QuickBooks, api: Api
) -> None:
    other, _ = a_customer_with_an_invoice(api, "Someone Else")
    _, invoice = a_customer_with_an_invoice(api, "Edited Invoice Customer")
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    before = Invoice.get(invoice["Id"], qb=qb)
    later = now() + timedelta(minutes=5)
    with freeze_time(later):
        since = (later - timedelta(seconds=1)).isoformat()
        emulator.hand_edit(
            "Invoice",
            invoice["Id"],
            Line=[line(30.0), line(12.5)],
            TxnDate="2026-04-01",
            CustomerRef={"value": other["Id"]},
        )
        after = Invoice.get(invoice["Id"], qb=qb)
        changes = change_data_capture([Invoice], since, qb=qb)
    assert after.SyncToken == str(int(before.SyncToken) + 1)
    assert after.MetaData.LastUpdatedTime > before.MetaData.LastUpdatedTime
    assert after.TotalAmt == 42.5 and after.Balance == 42.5 and after.TxnDate == "2026-04-01"
    assert after.CustomerRef.value == other["Id"]
    assert [i.Id for i in changes.Invoice] == [invoice["Id"]]
    entity = legacy_entities(receiver)[0]
    assert (entity["name"], entity["id"], entity["operation"]) == (
        "Invoice",
        invoice["Id"],
        "Update",
    )
    # The client's copy is stale now, as after any edit made in QuickBooks.
    before.PrivateNote = "mine"
    with pytest.raises(Exception, match="Stale"):
        before.save(qb=qb)


def test_a_hand_edit_keeps_the_rules_of_an_update(emulator: Emulator) -> None:
    paid = next(i for i in emulator.objects("Invoice") if i["Balance"] < i["TotalAmt"])
    with pytest.raises(Exception, match="6000"):
        emulator.hand_edit("Invoice", paid["Id"], Line=[line(1.0)])
    assert emulator.get("Invoice", paid["Id"]) == paid


def test_a_hand_edit_of_a_customer_and_making_it_inactive(
    emulator: Emulator, receiver: Receiver, qb: QuickBooks, api: Api
) -> None:
    customer = api.post("customer", {"DisplayName": "Renamed Later"}).json()["Customer"]
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    since = (now() - timedelta(seconds=1)).isoformat()
    emulator.hand_edit(
        "Customer",
        customer["Id"],
        DisplayName="Renamed By Hand",
        PrimaryEmailAddr={"Address": "new@example.com"},
    )
    read = Customer.get(customer["Id"], qb=qb)
    assert read.DisplayName == "Renamed By Hand" and read.SyncToken == "1"
    assert read.PrimaryEmailAddr.Address == "new@example.com"
    assert legacy_entities(receiver, 1)[0]["operation"] == "Update"

    emulator.hand_edit("customers", customer["Id"], Active=False)
    assert Customer.get(customer["Id"], qb=qb).Active is False
    # Intuit announces a name-list object made inactive as a Delete; CDC shows Active false.
    assert legacy_entities(receiver, 2)[0]["operation"] == "Delete"
    changed = [c for c in cdc(api, since, "Customer")["Customer"] if c["Id"] == customer["Id"]]
    assert changed[0]["Active"] is False and changed[0]["SyncToken"] == "2"


def test_a_hand_edit_of_a_payment(emulator: Emulator, receiver: Receiver, qb: QuickBooks) -> None:
    invoice = next(i for i in emulator.objects("Invoice") if i["Balance"] > 30)
    payment = emulator.record_payment(invoice["Id"], amount=30.0)
    emulator.configure_webhooks(url=receiver.url, format="cloudevents")
    emulator.hand_edit(
        "Payment",
        payment["Id"],
        TxnDate="2026-04-02",
        PaymentRefNum="CHK-1",
        TotalAmt=50.0,
        Line=payment["Line"],
    )
    read = Payment.get(payment["Id"], qb=qb)
    assert read.SyncToken == "1" and read.TxnDate == "2026-04-02" and read.TotalAmt == 50.0
    assert read.UnappliedAmt == 20.0
    body, headers = receiver.wait(1)[0]
    assert signed(body, headers, emulator.verifier_token)
    types = {(e["type"], e["intuitentityid"]) for e in json.loads(body)}
    assert ("qbo.payment.updated.v1", payment["Id"]) in types


# -- deletes ---------------------------------------------------------------------------------
def make(api: Api, entity: str) -> dict[str, Any]:
    customer, invoice = a_customer_with_an_invoice(api, f"Doomed {entity} Customer")
    if entity == "Invoice":
        return invoice
    if entity == "Payment":
        return api.post(
            "payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": 10.0}
        ).json()["Payment"]
    return api.post(
        "salesreceipt", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(9.0)]}
    ).json()["SalesReceipt"]


@pytest.mark.parametrize("entity", ["Invoice", "Payment", "SalesReceipt"])
def test_a_deleted_transaction(
    entity: str, emulator: Emulator, receiver: Receiver, qb: QuickBooks, api: Api
) -> None:
    obj = make(api, entity)
    emulator.configure_webhooks(url=receiver.url, format="cloudevents")
    since = (now() - timedelta(seconds=1)).isoformat()
    answer = emulator.delete(entity, obj["Id"])
    assert answer == {"domain": "QBO", "status": "Deleted", "Id": obj["Id"]}
    # Intuit's 610 for a transaction: "Another user has deleted this transaction."
    with pytest.raises(ObjectNotFoundException) as caught:
        CLASSES[entity].get(obj["Id"], qb=qb)
    assert caught.value.error_code == 610
    assert "Another user has deleted this transaction" in caught.value.detail
    found = api.query(f"select * from {entity} where Id = '{obj['Id']}'").json()
    assert found["QueryResponse"] == {}
    tombstones = [o for o in cdc(api, since, entity)[entity] if o["Id"] == obj["Id"]]
    assert tombstones == [
        {
            "domain": "QBO",
            "status": "Deleted",
            "Id": obj["Id"],
            "MetaData": tombstones[0]["MetaData"],
        }
    ]
    read = change_data_capture([CLASSES[entity]], since, qb=qb)
    assert [o.status for o in getattr(read, entity) if o.Id == obj["Id"]] == ["Deleted"]
    body, headers = receiver.wait(1)[0]
    assert signed(body, headers, emulator.verifier_token)
    events = {(e["type"], e["intuitentityid"]) for e in json.loads(body)}
    assert (f"qbo.{entity.lower()}.deleted.v1", obj["Id"]) in events


def test_a_deleted_payment_gives_its_invoice_back_its_balance(
    emulator: Emulator, receiver: Receiver, api: Api
) -> None:
    invoice = next(i for i in emulator.objects("Invoice") if i["Balance"] > 25)
    payment = emulator.record_payment(invoice["Id"], amount=25.0)
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    emulator.delete("payment", payment["Id"])
    assert api.get(f"invoice/{invoice['Id']}").json()["Invoice"]["Balance"] == invoice["Balance"]
    changed = {(e["name"], e["id"], e["operation"]) for e in legacy_entities(receiver)}
    assert changed == {("Payment", payment["Id"], "Delete"), ("Invoice", invoice["Id"], "Update")}


def test_deleting_a_customer_by_hand_makes_it_inactive(emulator: Emulator, api: Api) -> None:
    customer = api.post("customer", {"DisplayName": "Deleted Person"}).json()["Customer"]
    emulator.delete("Customer", customer["Id"])
    read = api.get(f"customer/{customer['Id']}").json()["Customer"]
    assert read["Active"] is False


# -- voids -----------------------------------------------------------------------------------
@pytest.mark.parametrize("entity", ["Invoice", "Payment", "SalesReceipt"])
def test_a_voided_transaction(
    entity: str, emulator: Emulator, receiver: Receiver, qb: QuickBooks, api: Api
) -> None:
    obj = make(api, entity)
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    since = (now() - timedelta(seconds=1)).isoformat()
    emulator.void(entity, obj["Id"])
    read = CLASSES[entity].get(obj["Id"], qb=qb)
    assert read.TotalAmt == 0 and read.PrivateNote == "Voided"
    assert read.SyncToken == str(int(obj["SyncToken"]) + 1)
    if entity != "Payment":
        assert read.Balance == 0 and all(ln.Amount == 0 for ln in read.Line)
    changed = [o for o in cdc(api, since, entity)[entity] if o["Id"] == obj["Id"]]
    assert changed[0]["TotalAmt"] == 0 and changed[0]["PrivateNote"] == "Voided"
    entities = legacy_entities(receiver)
    assert (entity, obj["Id"], "Void") in {(e["name"], e["id"], e["operation"]) for e in entities}
    with pytest.raises(Exception, match="6000"):
        emulator.void(entity, obj["Id"])


def test_what_cannot_be_done_by_hand(emulator: Emulator) -> None:
    with pytest.raises(Exception, match="Unsupported"):
        emulator.void("Customer", "1")
    with pytest.raises(Exception, match="Unsupported"):
        emulator.delete("Item", "1")
    with pytest.raises(Exception, match="610"):
        emulator.delete("Invoice", "424242")


# -- customer merges -------------------------------------------------------------------------
def test_a_customer_merge(emulator: Emulator, receiver: Receiver, qb: QuickBooks, api: Api) -> None:
    dupe, dupe_invoice = a_customer_with_an_invoice(api, "Dana Whitfield (dupe)", 40.0)
    keep, keep_invoice = a_customer_with_an_invoice(api, "Dana Whitfield", 60.0)
    receipt = api.post(
        "salesreceipt", {"CustomerRef": {"value": dupe["Id"]}, "Line": [line(9.0)]}
    ).json()["SalesReceipt"]
    emulator.configure_webhooks(url=receiver.url, format="cloudevents")
    since = (now() - timedelta(seconds=1)).isoformat()

    kept = emulator.merge_customers(dupe["Id"], keep["Id"])

    assert kept["Id"] == keep["Id"] and kept["Balance"] == 100.0
    gone = Customer.get(dupe["Id"], qb=qb)
    assert gone.Active is False and gone.Balance == 0
    moved = Invoice.get(dupe_invoice["Id"], qb=qb)
    assert moved.CustomerRef.value == keep["Id"] and moved.CustomerRef.name == "Dana Whitfield"
    assert moved.SyncToken == str(int(dupe_invoice["SyncToken"]) + 1)
    assert SalesReceipt.get(receipt["Id"], qb=qb).CustomerRef.value == keep["Id"]
    theirs = Invoice.filter(CustomerRef=keep["Id"], qb=qb)
    assert {i.Id for i in theirs} == {dupe_invoice["Id"], keep_invoice["Id"]}
    assert Invoice.filter(CustomerRef=dupe["Id"], qb=qb) == []

    # Intuit's merged event: the kept customer's Id, and data.deletedid the one merged away.
    body, headers = receiver.wait(1)[0]
    assert signed(body, headers, emulator.verifier_token)
    events = json.loads(body)
    merged = events[0]
    assert merged["type"] == "qbo.customer.merged.v1"
    assert merged["intuitentityid"] == keep["Id"] and merged["data"] == {"deletedid": dupe["Id"]}
    updated = {(e["type"], e["intuitentityid"]) for e in events[1:]}
    assert updated == {
        ("qbo.invoice.updated.v1", dupe_invoice["Id"]),
        ("qbo.salesreceipt.updated.v1", receipt["Id"]),
    }

    changes = cdc(api, since, "Customer,Invoice,SalesReceipt")
    by_id = {c["Id"]: c for c in changes["Customer"]}
    assert by_id[dupe["Id"]]["Active"] is False and keep["Id"] in by_id
    # (Objects made within the last second share the window: the moved ones are there, moved.)
    moved_ids = {i["Id"]: i for i in changes["Invoice"] + changes["SalesReceipt"]}
    assert moved_ids[dupe_invoice["Id"]]["CustomerRef"]["value"] == keep["Id"]
    assert moved_ids[receipt["Id"]]["CustomerRef"]["value"] == keep["Id"]


def test_a_merge_announced_in_the_legacy_format(
    emulator: Emulator, receiver: Receiver, api: Api
) -> None:
    dupe = api.post("customer", {"DisplayName": "Legacy Dupe"}).json()["Customer"]
    keep = api.post("customer", {"DisplayName": "Legacy Keep"}).json()["Customer"]
    emulator.configure_webhooks(url=receiver.url, format="legacy")
    emulator.merge_customers(dupe["Id"], keep["Id"])
    entity = legacy_entities(receiver)[0]
    assert entity["name"] == "Customer" and entity["operation"] == "Merge"
    assert entity["id"] == keep["Id"] and entity["deletedId"] == dupe["Id"]
    assert entity["lastUpdated"].endswith("Z")


def test_merges_refused(emulator: Emulator, api: Api) -> None:
    one = api.post("customer", {"DisplayName": "Merge One"}).json()["Customer"]
    two = api.post("customer", {"DisplayName": "Merge Two"}).json()["Customer"]
    with pytest.raises(QBOFault) as itself:
        emulator.merge_customers(one["Id"], one["Id"])
    assert itself.value.code == "6000" and "itself" in itself.value.detail
    emulator.merge_customers(one["Id"], two["Id"])
    with pytest.raises(QBOFault) as inactive:
        emulator.merge_customers(one["Id"], two["Id"])
    assert "inactive" in inactive.value.detail
    with pytest.raises(Exception, match="610"):
        emulator.merge_customers("424242", two["Id"])


# -- the control API -------------------------------------------------------------------------
def test_the_control_routes(emulator: Emulator, receiver: Receiver, api: Api) -> None:
    base = f"{emulator.base_url}/_emulator/companies/{emulator.realm_id}"
    requests.post(
        emulator.base_url + "/_emulator/webhooks",
        json={"url": receiver.url, "format": "legacy", "notify_api_changes": False},
        timeout=5,
    )
    customer, invoice = a_customer_with_an_invoice(api, "Control Route Customer")
    edited = requests.post(
        f"{base}/customers/{customer['Id']}", json={"CompanyName": "Routes Ltd"}, timeout=5
    ).json()
    assert edited["Customer"]["CompanyName"] == "Routes Ltd"
    edited_invoice = requests.post(
        f"{base}/invoices/{invoice['Id']}", json={"PrivateNote": "by hand"}, timeout=5
    ).json()
    assert edited_invoice["Invoice"]["PrivateNote"] == "by hand"

    receipt = make(api, "SalesReceipt")
    voided = requests.post(f"{base}/salesreceipts/{receipt['Id']}/void", timeout=5).json()
    assert voided["SalesReceipt"]["TotalAmt"] == 0

    payment = make(api, "Payment")
    deleted = requests.post(f"{base}/payments/{payment['Id']}/delete", timeout=5).json()
    assert deleted == {"Payment": {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}}

    other = api.post("customer", {"DisplayName": "Control Route Other"}).json()["Customer"]
    merged = requests.post(
        f"{base}/customers/{other['Id']}/merge", json={"into": customer["Id"]}, timeout=5
    ).json()
    assert merged["Customer"]["Id"] == customer["Id"]
    refused = requests.post(
        f"{base}/customers/{customer['Id']}/merge", json={"into": customer["Id"]}, timeout=5
    )
    assert refused.status_code == 400 and refused.json()["Fault"]["Error"][0]["code"] == "6000"
    unknown = requests.post(f"{base}/bills/1/void", timeout=5)
    assert unknown.status_code == 400 and unknown.json()["Fault"]["Error"][0]["code"] == "4001"
    gone = requests.post(f"{base}/invoices/424242/delete", timeout=5)
    assert gone.status_code == 400 and gone.json()["Fault"]["Error"][0]["code"] == "610"

    operations = [
        (e["name"], e["operation"]) for n in range(5) for e in legacy_entities(receiver, n + 1)
    ]
    assert operations == [
        ("Customer", "Update"),
        ("Invoice", "Update"),
        ("SalesReceipt", "Void"),
        ("Payment", "Delete"),
        ("Customer", "Merge"),
    ]
