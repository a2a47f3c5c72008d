"""Batch (per-item answers and faults) and change data capture, raw and via python-quickbooks."""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from hub.builtin.quickbooks.emulator.clock import now
from hub.builtin.quickbooks.emulator.testing import Emulator

from .conftest import Api


def test_batch_answers_each_item(api: Api) -> None:
    invoice = api.query("select * from Invoice").json()["QueryResponse"]["Invoice"][0]
    answer = api.post(
        "batch",
        {
            "BatchItemRequest": [
                {"bId": "b1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
                {"bId": "b2", "operation": "create", "Customer": {"DisplayName": "batch one"}},
                {"bId": "b3", "Query": "select * from Customer where DisplayName = 'Batch One'"},
                {
                    "bId": "b4",
                    "operation": "update",
                    "Invoice": {
                        "Id": invoice["Id"],
                        "SyncToken": "999",
                        "sparse": True,
                        "PrivateNote": "x",
                    },
                },
                {"bId": "b5", "operation": "delete", "Invoice": {"Id": "424242", "SyncToken": "0"}},
            ]
        },
    )
    assert answer.status_code == 200
    items = {item["bId"]: item for item in answer.json()["BatchItemResponse"]}
    assert items["b1"]["Customer"]["DisplayName"] == "Batch One"
    assert items["b2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["b3"]["QueryResponse"]["Customer"][0]["Id"] == items["b1"]["Customer"]["Id"]
    assert items["b4"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["b5"]["Fault"]["Error"][0]["code"] == "610"


def test_batch_is_capped_at_30_items(api: Api) -> None:
    items = [{"bId": str(n), "Query": "select * from Item"} for n in range(31)]
    answer = api.post("batch", {"BatchItemRequest": items})
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["code"] == "1040"


def test_python_quickbooks_batch_create(qb: QuickBooks) -> None:
    customers = []
    for name in ("Batch A", "Batch B", "Batch A"):
        customer = Customer()
        customer.DisplayName = name
        customers.append(customer)
    result = batch_create(customers, qb=qb)
    assert sorted(c.DisplayName for c in result.successes) == ["Batch A", "Batch B"]
    assert len(result.faults) == 1 and result.faults[0].Error[0].code == "6240"


def test_cdc_includes_changes_and_deletions(emulator: Emulator, qb: QuickBooks, api: Api) -> None:
    since = (now() - timedelta(seconds=2)).isoformat()
    customer = Customer()
    customer.DisplayName = "CDC Person"
    customer = customer.save(qb=qb)
    invoice = api.post(
        "invoice",
        {
            "CustomerRef": {"value": customer.Id},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}],
        },
    ).json()["Invoice"]
    api.post(
        "invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="delete"
    )
    emulator.add_customer(DisplayName="Made In QuickBooks")

    answer = api.get("cdc", entities="Customer,Invoice", changedSince=since).json()
    responses = answer["CDCResponse"][0]["QueryResponse"]
    names = {c["DisplayName"] for c in responses[0]["Customer"]}
    assert {"CDC Person", "Made In QuickBooks"} <= names
    # The seeded invoices may share the window; the deleted one shows as a tombstone.
    deleted = [i for i in responses[1]["Invoice"] if i["Id"] == invoice["Id"]]
    assert len(deleted) == 1
    assert deleted[0]["status"] == "Deleted" and deleted[0]["domain"] == "QBO"
    assert set(deleted[0]) == {"domain", "status", "Id", "MetaData"}

    result = change_data_capture([Customer, Invoice], since, qb=qb)
    assert {c.DisplayName for c in result.Customer} >= {"CDC Person"}


def test_cdc_window_is_30_days(emulator: Emulator, api: Api) -> None:
    too_old = (now() - timedelta(days=31)).isoformat()
    answer = api.get("cdc", entities="Customer", changedSince=too_old)
    assert answer.status_code == 400
    missing = api.get("cdc", entities="Customer")
    assert missing.json()["Fault"]["Error"][0]["code"] == "2020"


def test_cdc_returns_at_most_1000_objects(emulator: Emulator) -> None:
    with freeze_time("2026-05-01 09:00:00") as clock:
        token = emulator.connect()
        api = Api(emulator, token["access_token"])
        start = now().isoformat()
        clock.tick(timedelta(seconds=1))
        emulator.set_limits(batch_per_minute=100)
        for b in range(34):
            batch = [
                {"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"Bulk {b}-{n}"}}
                for n in range(30)
            ]
            assert api.post("batch", {"BatchItemRequest": batch}).status_code == 200
        answer = api.get("cdc", entities="Customer", changedSince=start).json()
        assert len(answer["CDCResponse"][0]["QueryResponse"][0]["Customer"]) == 1000
        api.http.close()
