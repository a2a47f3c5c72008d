"""Intuit's documented sample requests are accepted and answered in the documented shapes."""

from __future__ import annotations

import copy
import re

from hub.builtin.quickbooks.emulator.testing import Emulator

from . import intuit_examples as ex
from .conftest import Api

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def assert_entity_envelope(body: dict, entity: str) -> dict:
    assert set(body) == {entity, "time"} and ISO.match(body["time"])
    obj = body[entity]
    assert isinstance(obj["Id"], str) and isinstance(obj["SyncToken"], str)
    assert obj["domain"] == "QBO" and obj["sparse"] is False
    assert ISO.match(obj["MetaData"]["CreateTime"]) and ISO.match(
        obj["MetaData"]["LastUpdatedTime"]
    )
    return obj


def test_customer_samples(api: Api) -> None:
    created = assert_entity_envelope(api.post("customer", ex.CUSTOMER_CREATE).json(), "Customer")
    assert created["DisplayName"] == "King's Groceries"
    assert created["FullyQualifiedName"] == "King's Groceries"
    assert created["Balance"] == 0 and created["Active"] is True and created["Job"] is False
    assert created["PrimaryPhone"] == {"FreeFormNumber": "(555) 555-5555"}
    updated = assert_entity_envelope(
        api.post("customer", ex.CUSTOMER_SPARSE_UPDATE).json(), "Customer"
    )
    assert updated["MiddleName"] == "Mark" and updated["SyncToken"] == "1"
    assert updated["DisplayName"] == "Amy's Bird Sanctuary", "sparse keeps what was not sent"


def test_invoice_samples(api: Api) -> None:
    invoice = assert_entity_envelope(api.post("invoice", ex.INVOICE_CREATE).json(), "Invoice")
    assert invoice["TotalAmt"] == 100.0 and invoice["Balance"] == 100.0
    assert invoice["CustomerRef"] == {"value": "1", "name": "Amy's Bird Sanctuary"}
    assert invoice["Line"][0]["LineNum"] == 1 and invoice["Line"][0]["Id"] == "1"
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert invoice["EmailStatus"] == "NotSet" and invoice["DocNumber"]

    sent = api.http.post(
        f"{api.base}/invoice/{invoice['Id']}/send",
        params={"sendTo": "abc@example.com", "minorversion": 75},
        headers={"Content-Type": "application/octet-stream"},
        timeout=5,
    )
    sent_invoice = assert_entity_envelope(sent.json(), "Invoice")
    assert sent_invoice["EmailStatus"] == "EmailSent"
    assert sent_invoice["DeliveryInfo"]["DeliveryType"] == "Email"

    voided = api.post(
        "invoice", {"SyncToken": sent_invoice["SyncToken"], "Id": invoice["Id"]}, operation="void"
    ).json()
    assert assert_entity_envelope(voided, "Invoice")["Balance"] == 0

    other = api.post("invoice", ex.INVOICE_CREATE).json()["Invoice"]
    deleted = api.post(
        "invoice", {"SyncToken": other["SyncToken"], "Id": other["Id"]}, operation="delete"
    ).json()
    assert deleted["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": other["Id"]}
    assert ISO.match(deleted["time"])


def test_item_and_account_samples(api: Api) -> None:
    item = assert_entity_envelope(api.post("item", ex.ITEM_CREATE_INVENTORY).json(), "Item")
    assert item["Type"] == "Inventory" and item["QtyOnHand"] == 10
    assert item["FullyQualifiedName"] == "Garden Supplies"
    account = assert_entity_envelope(api.post("account", ex.ACCOUNT_CREATE).json(), "Account")
    assert (
        account["Classification"] == "Asset" and account["AccountSubType"] == "AccountsReceivable"
    )
    assert account["CurrentBalance"] == 0


def test_payment_samples(api: Api, emulator: Emulator) -> None:
    unapplied = assert_entity_envelope(
        api.post("payment", ex.PAYMENT_CREATE_UNAPPLIED).json(), "Payment"
    )
    assert unapplied["UnappliedAmt"] == 25.0
    invoice = api.post("invoice", ex.INVOICE_CREATE | {"CustomerRef": {"value": "20"}}).json()[
        "Invoice"
    ]
    linked = copy.deepcopy(ex.PAYMENT_CREATE_LINKED)
    linked["Line"][0]["LinkedTxn"][0]["TxnId"] = invoice["Id"]
    payment = assert_entity_envelope(api.post("payment", linked).json(), "Payment")
    assert payment["UnappliedAmt"] == 0
    assert emulator.get("Invoice", invoice["Id"])["Balance"] == 45.0
    voided = api.post(
        "payment",
        {"SyncToken": payment["SyncToken"], "Id": payment["Id"], "sparse": True},
        operation="update",
        include="void",
    ).json()
    assert assert_entity_envelope(voided, "Payment")["TotalAmt"] == 0
    assert emulator.get("Invoice", invoice["Id"])["Balance"] == 100.0


def test_sales_receipt_sample(api: Api) -> None:
    receipt = assert_entity_envelope(
        api.post("salesreceipt", ex.SALES_RECEIPT_CREATE).json(), "SalesReceipt"
    )
    assert receipt["TotalAmt"] == 35.0 and receipt["Balance"] == 0
    assert receipt["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"] == "Pest Control"


def test_batch_sample(api: Api) -> None:
    receipt = api.post("salesreceipt", {**ex.SALES_RECEIPT_CREATE}).json()["SalesReceipt"]
    batch = copy.deepcopy(ex.BATCH)
    batch["BatchItemRequest"][2]["SalesReceipt"]["Id"] = receipt["Id"]
    body = api.post("batch", batch).json()
    assert set(body) == {"BatchItemResponse", "time"}
    answers = {item["bId"]: item for item in body["BatchItemResponse"]}
    assert set(answers["bid1"]) == {"bId", "Fault"}  # vendors are not emulated
    assert answers["bid2"]["Fault"]["Error"][0]["code"] == "610"
    assert answers["bid3"]["SalesReceipt"]["PrivateNote"] == "A private note."
    assert answers["bid4"]["QueryResponse"] == {}


def test_query_samples(api: Api) -> None:
    for text in ex.QUERIES:
        answer = api.get("query", query=text)
        assert answer.status_code == 200, (text, answer.text)
        body = answer.json()
        assert set(body) == {"QueryResponse", "time"}
    assert api.query("Select Count(*) from Customer").json()["QueryResponse"]["totalCount"] == 4


def test_read_samples(api: Api, emulator: Emulator) -> None:
    info = api.get(f"companyinfo/{emulator.realm_id}").json()
    assert assert_entity_envelope(info, "CompanyInfo")["Country"] == "US"
    prefs = api.get("preferences").json()
    assert assert_entity_envelope(prefs, "Preferences")["CurrencyPrefs"]["HomeCurrency"] == {
        "value": "USD"
    }
    customer = api.get("customer/1").json()
    assert assert_entity_envelope(customer, "Customer")["DisplayName"] == "Amy's Bird Sanctuary"
