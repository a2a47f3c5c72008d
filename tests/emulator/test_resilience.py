"""Idempotent replays, throttling, and faults on command (errors, latency, lost answers)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer

from hub.builtin.quickbooks.emulator.testing import Emulator, Limits, start_emulator

from .conftest import Api, make_client


def new_customer(name: str) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    return customer


def test_replay_returns_stored_status_and_body(api: Api, emulator: Emulator) -> None:
    body = {"DisplayName": "Replay Me"}
    first = api.post("customer", body, requestid="rq-1")
    second = api.post("customer", body, requestid="rq-1")
    assert (second.status_code, second.text) == (first.status_code, first.text)
    failed = api.post("customer", body, requestid="rq-2")  # a new request: duplicate name
    assert failed.status_code == 400
    again = api.post("customer", {"DisplayName": "Something Else"}, requestid="rq-2")
    assert (again.status_code, again.text) == (failed.status_code, failed.text)
    assert [c["DisplayName"] for c in emulator.objects("Customer")].count("Something Else") == 0


def test_lost_answer_then_replay_creates_one_invoice(emulator: Emulator, api: Api) -> None:
    customer = api.post("customer", {"DisplayName": "Lost Answer"}).json()["Customer"]
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 40.0,
                "SalesItemLineDetail": {"Qty": 1, "UnitPrice": 40.0},
            }
        ],
    }
    before = len(emulator.objects("Invoice"))
    emulator.drop_next()
    with pytest.raises(requests.ConnectionError):
        api.post("invoice", body, requestid="delivery-7")
    assert len(emulator.objects("Invoice")) == before + 1, "the write was committed"
    replay = api.post("invoice", body, requestid="delivery-7")
    assert replay.status_code == 200
    assert len(emulator.objects("Invoice")) == before + 1, "the replay created nothing"


def test_requests_per_minute_limit(emulator: Emulator, qb: QuickBooks, api: Api) -> None:
    emulator.set_limits(per_minute=3)
    for _ in range(3):
        Customer.all(qb=qb)
    with pytest.raises(ValidationException) as caught:
        Customer.all(qb=qb)
    assert caught.value.error_code == 3001
    raw = api.get("companyinfo/" + emulator.realm_id)
    assert raw.status_code == 429
    fault = raw.json()["Fault"]
    assert (
        fault["Error"][0]["code"] == "3001" and "ThrottleExceeded" in fault["Error"][0]["Message"]
    )


def test_concurrency_limit(emulator: Emulator, api: Api, token: dict[str, Any]) -> None:
    emulator.set_limits(concurrent=1)
    emulator.set_latency(0.3)
    answers: list[int] = []

    def slow_call() -> None:
        with requests.Session() as http:
            answers.append(
                http.get(
                    api.base + "/companyinfo/" + emulator.realm_id,
                    headers={"Authorization": f"Bearer {token['access_token']}"},
                    timeout=5,
                ).status_code
            )

    worker = threading.Thread(target=slow_call)
    worker.start()
    assert emulator.wait_in_flight(1)
    emulator.set_latency(0)
    assert api.get("companyinfo/" + emulator.realm_id).status_code == 429
    worker.join(5)
    assert answers == [200]


def test_batch_calls_per_minute(emulator: Emulator, api: Api) -> None:
    emulator.set_limits(batch_per_minute=2)
    request = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Item"}]}
    assert [api.post("batch", request).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("preferences").status_code == 200


def test_limits_from_the_constructor() -> None:
    emu = start_emulator(limits=Limits(per_minute=1))
    try:
        qb = make_client(emu, emu.connect()["access_token"])
        Customer.all(qb=qb)
        with pytest.raises(QuickbooksException):
            Customer.all(qb=qb)
        qb.session.close()
    finally:
        emu.stop()


def test_next_calls_fail_on_command(emulator: Emulator, qb: QuickBooks, api: Api) -> None:
    emulator.fail_next(1, status=500)
    answer = api.get("preferences")
    assert answer.status_code == 500 and answer.json()["Fault"]["type"] == "SystemFault"
    requests.post(
        emulator.base_url + "/_emulator/faults", json={"count": 1, "status": 503}, timeout=5
    )
    with pytest.raises(QuickbooksException) as caught:
        new_customer("Not Saved").save(qb=qb)
    assert caught.value.error_code == 10000  # python-quickbooks cannot read the HTML page
    assert "Not Saved" not in [c["DisplayName"] for c in emulator.objects("Customer")]
    assert api.get("preferences").status_code == 200


def test_latency_via_control_api(emulator: Emulator, api: Api) -> None:
    answer = requests.post(
        emulator.base_url + "/_emulator/latency", json={"seconds": 0.2}, timeout=5
    )
    assert answer.json() == {"ok": True}
    with pytest.raises(requests.Timeout):
        api.http.get(api.base + "/preferences", timeout=0.05)
    emulator.set_latency(0)


def test_unauthenticated_calls_get_401(emulator: Emulator) -> None:
    answer = requests.get(
        f"{emulator.api_base}/company/{emulator.realm_id}/preferences",
        headers={"Authorization": "Bearer nope"},
        timeout=5,
    )
    assert answer.status_code == 401
    assert answer.json()["fault"]["error"][0]["code"] == "3200"


def test_token_for_another_company_is_refused(emulator: Emulator, token: dict[str, Any]) -> None:
    emulator.add_company("1234", "Other Co")
    other = Api(emulator, token["access_token"], realm="1234")
    answer = other.get("preferences")
    assert answer.status_code == 403
    other.http.close()


def test_malformed_bodies_are_400_and_change_nothing(api: Api, emulator: Emulator) -> None:
    before = len(emulator.objects("Invoice"))
    for body in (
        {"CustomerRef": {"value": "1"}, "Line": "not a list"},
        {"CustomerRef": "1", "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 1}]},
        {
            "CustomerRef": {"value": "1"},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "ten"}],
        },
    ):
        answer = api.post("invoice", body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["Fault"]["Error"][0]["code"] in {"2010", "2020", "2050"}
    not_json = api.http.post(
        api.base + "/invoice", data="{oops", timeout=5, headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert len(emulator.objects("Invoice")) == before


def test_racing_replays_write_once(api: Api, emulator: Emulator, token: dict[str, Any]) -> None:
    """Two workers retrying the same delivery at the same moment: one customer, one answer."""
    start = threading.Barrier(6)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post() -> None:
        with requests.Session() as http:
            start.wait(5)
            answer = http.post(
                api.base + "/customer",
                json={"DisplayName": "Raced"},
                params={"requestid": "race-1", "minorversion": 75},
                headers={"Authorization": f"Bearer {token['access_token']}"},
                timeout=5,
            )
            with lock:
                answers.append((answer.status_code, answer.text))

    workers = [threading.Thread(target=post) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert len(answers) == 6 and len(set(answers)) == 1 and answers[0][0] == 200
    assert [c["DisplayName"] for c in emulator.objects("Customer")].count("Raced") == 1
