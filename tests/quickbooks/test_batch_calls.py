"""The batch helper against the emulator: long lists go 30 to a call, each item is answered
(or refused) on its own, a resent batch is answered from QuickBooks' memory, and Intuit's
limits on a batch's requestid are kept."""

from __future__ import annotations

import json

import pytest

from hub.builtin.quickbooks import batch, faults
from hub.builtin.quickbooks.api import calling
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from tests.quickbooks.conftest import qbo_ctx


def customers(count: int) -> list[batch.Item]:
    items: list[batch.Item] = [batch.Write(f"c{n}", "Customer", "create",
                                           {"DisplayName": f"Batch customer {n}"})
                               for n in range(count)]
    return items


def test_a_long_list_goes_30_to_a_call_and_each_item_is_answered_on_its_own(
    connected: Hub, emulator: Emulator
) -> None:
    items = customers(58)
    items.insert(40, batch.Write("dup", "Customer", "create", {"DisplayName": "batch customer 3"}))
    items.append(batch.Query("q", "SELECT * FROM Item WHERE Name = 'Services'"))
    emulator.reset_calls()
    with calling(qbo_ctx(connected)) as api:
        answers = batch.run(api, items, "close-test-0001")
    assert emulator.calls() == {"POST batch": 2}  # 60 items
    assert list(answers) == [item.bid for item in items]  # every item, in order
    assert answers["c57"].value and answers["c57"].value["DisplayName"] == "Batch customer 57"
    refused = answers["dup"].fault
    assert isinstance(refused, faults.Fault) and refused.code == "6240"
    assert answers["q"].value and answers["q"].value["Item"][0]["Name"] == "Services"
    made = [c for c in emulator.objects("Customer") if c["DisplayName"].startswith("Batch")]
    assert len(made) == 58  # the refused item undid none of the others


def test_the_same_batch_sent_again_is_answered_from_quickbooks_memory(
    connected: Hub, emulator: Emulator
) -> None:
    body = batch.request_body(customers(3))
    with calling(qbo_ctx(connected)) as api:
        first = batch.send(api, json.dumps(body), "replayed-batch")
        again = batch.send(api, json.dumps(body), "replayed-batch")
    assert again == first
    made = [c for c in emulator.objects("Customer") if c["DisplayName"].startswith("Batch")]
    assert len(made) == 3


def test_intuits_limits_on_a_batch_requestid_are_kept(connected: Hub,
                                                      emulator: Emulator) -> None:
    body = batch.request_body(customers(2))
    with calling(qbo_ctx(connected)) as api:
        with pytest.raises(ValueError, match="36 characters"):
            batch.send(api, body, "r" * 37)
        with pytest.raises(ValueError, match="10 characters"):
            batch.send(api, batch.request_body(
                [batch.Write("b" * 11, "Customer", "create", {"DisplayName": "Long bId"})]), "r")
        with pytest.raises(ValueError, match="1 to 30 items"):
            batch.request_body(customers(31))
        # What QuickBooks answers a client that does not keep them: each item refused.
        raw = api.qb.make_request("POST", f"{api.qb.api_url}/company/{api.realm_id}/batch",
                                  json.dumps(body), request_id="r" * 40)
    assert [item["Fault"]["Error"][0]["code"] for item in raw["BatchItemResponse"]] == \
        ["6000", "6000"]
    assert not [c for c in emulator.objects("Customer") if c["DisplayName"].startswith("Batch")]
