"""Intuit's webhook endpoint, tried as a hostile sender holding the verifier token would: every
body is signed, so each one gets past the signature to the parsing behind it. No answer is a
5xx, nothing queued breaks the sweep, and a plain notification still works afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.builtin.quickbooks.webhooks import signature
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import serving


@pytest.fixture
def quiet(connected: Hub) -> Hub:
    """Connected, and what connecting queued (the first import) already run: any firing
    pending from here on was queued by a notification."""
    run_due(connected)
    assert _pending_sweeps(connected) == 0
    return connected


@pytest.fixture
def served_hub(quiet: Hub) -> Iterator[str]:
    with serving(create_app(quiet)) as url:
        yield url


def post(url: str, token: str, body: bytes, **headers: str) -> requests.Response:
    return requests.post(f"{url}/quickbooks/webhooks", data=body, timeout=10,
                         headers={"intuit-signature": signature(token, body), **headers})


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def legacy(realm: Any, entities: Any, **note: Any) -> dict[str, Any]:
    return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities},
                                    **note}]}


def cloudevent(realm: Any, **fields: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "e1", "source": "intuit.test",
            "type": "qbo.customer.created.v1", "time": "2026-03-01T10:00:00Z",
            "intuitentityid": "1", "intuitaccountid": realm, "data": {}, **fields}


# Bodies that are no notification at all: 400, so Intuit's delivery log shows it; nothing lost,
# as the sweep polls anyway.
UNREADABLE = {
    "not JSON": b"realmId=1&x",
    "not UTF-8": b'{"eventNotifications": "\xff\xfe"}',
    "nested 2,000 deep": nested(2000),
    "nested 900 deep": nested(900),  # parses, but no notification is that deep
    "deep in a notification": json.dumps(legacy("1", [])).encode().replace(
        b'"entities": []', b'"entities": ' + nested(100)),
    "a number": b"12345",
    "a string": b'"eventNotifications"',
    "null": b"null",
}


@pytest.mark.parametrize("body", list(UNREADABLE.values()), ids=list(UNREADABLE))
def test_a_signed_body_that_is_no_notification_is_a_400(
        served_hub: str, emulator: Emulator, quiet: Hub, body: bytes) -> None:
    answer = post(served_hub, emulator.verifier_token, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert _pending_sweeps(quiet) == 0


def shapes(realm: str) -> dict[str, Any]:
    """Notifications of a known format whose entries hold what Intuit never sends."""
    entity = {"name": "Customer", "id": "1", "operation": "Create",
              "lastUpdated": "2026-03-01T10:00:00Z"}
    return {
        "eventNotifications an object": {"eventNotifications": {"realmId": realm}},
        "eventNotifications a number": {"eventNotifications": 5},
        "eventNotifications a string": {"eventNotifications": realm},
        "a notification a list": {"eventNotifications": [[realm], 7, None]},
        "{} as the realm id": legacy({}, [entity]),
        "a list as the realm id": legacy([realm], [entity]),
        "true as the realm id": legacy(True, [entity]),
        "dataChangeEvent a list": {"eventNotifications": [
            {"realmId": "1", "dataChangeEvent": [entity]}]},
        "entities a string": legacy("1", "Customer"),
        "an entity a number": legacy("1", [1, None, "Customer", [entity]]),
        "an entity's name an object": legacy("1", [{**entity, "name": {"a": 1}}]),
        "NUL and a lone surrogate in names and ids": legacy(
            "\ud800" + realm, [{**entity, "name": "Cust\x00omer", "id": "\udfff\x00"}]),
        "year 0001 and 9999 with -14:00": legacy("1", [
            {**entity, "lastUpdated": "0001-01-01T00:00:00+14:00"},
            {**entity, "lastUpdated": "9999-12-31T23:59:59-14:00"}]),
        "a CloudEvent a list": [[cloudevent("1")], 3, "x"],
        "a CloudEvent's type an object": [cloudevent("1", type={"qbo": "customer"})],
        "a CloudEvent's time out of range": [cloudevent("1", time="9999-12-31T23:59:59-14:00")],
        "a CloudEvent's realm {}": [cloudevent({})],
        "5,000 entities": legacy("1", [entity] * 5_000),
    }


def test_entries_of_the_wrong_shape_are_passed_over_with_a_200(
        served_hub: str, emulator: Emulator, quiet: Hub) -> None:
    """Intuit retries anything but a 2xx, and an entry it cannot read fails on every retry:
    acknowledged, and what cannot be about our company queues nothing."""
    for name, payload in shapes("1").items():
        answer = post(served_hub, emulator.verifier_token, json.dumps(payload).encode())
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json() == {"queued": False}, name
    assert _pending_sweeps(quiet) == 0


def test_a_readable_entry_for_our_company_is_used_beside_unreadable_ones(
        served_hub: str, emulator: Emulator, quiet: Hub) -> None:
    realm = emulator.realm_id
    entity = {"name": "Customer", "id": "1", "operation": "Create",
              "lastUpdated": "0001-01-01T00:00:00+14:00"}
    bodies = [
        {"eventNotifications": [7, [realm], {"realmId": {}}, {"realmId": realm,
                                                               "dataChangeEvent": [1]}]},
        legacy(realm, [1, "x", {"name": ["Preferences"]}, entity,
                       {**entity, "lastUpdated": "9999-12-31T23:59:59-14:00"}]),
        legacy(realm, {"name": "Preferences"}),
        [3, [cloudevent(realm)], cloudevent(realm, type=7, time="0001-01-01T00:00:00+14:00")],
        [cloudevent(realm, time="9999-12-31T23:59:59-14:00", data=[[]])],
    ]
    for payload in bodies:
        answer = post(served_hub, emulator.verifier_token, json.dumps(payload).encode())
        assert answer.status_code == 200, (payload, answer.text)
        assert answer.json() == {"queued": True}, payload
    # What was queued is an ordinary firing of the sweep: it runs, and nothing is left over.
    assert _pending_sweeps(quiet) == 1
    run_due(quiet)
    assert _statuses(quiet) == {"done"}


def test_a_body_over_a_mebibyte_is_a_413(served_hub: str, emulator: Emulator) -> None:
    payload = legacy(emulator.realm_id, [{"name": "Customer", "id": "x" * (1024 * 1024)}])
    body = json.dumps(payload).encode()
    assert post(served_hub, emulator.verifier_token, body).status_code == 413
    # Chunked, with no length to refuse it by: still a 413, not a 401 for a body cut short.
    chunks = iter([body[:512 * 1024], body[512 * 1024:]])
    chunked = requests.post(f"{served_hub}/quickbooks/webhooks", data=chunks, timeout=10,
                            headers={"intuit-signature": signature(emulator.verifier_token,
                                                                   body)})
    assert chunked.status_code == 413, chunked.text


def test_after_every_hostile_body_a_plain_notification_still_sweeps(
        served_hub: str, emulator: Emulator, quiet: Hub) -> None:
    for body in [*UNREADABLE.values(),
                 *(json.dumps(p).encode() for p in shapes(emulator.realm_id).values())]:
        assert post(served_hub, emulator.verifier_token, body).status_code < 500
    run_due(quiet)
    answer = post(served_hub, emulator.verifier_token,
                  json.dumps(legacy(emulator.realm_id, [])).encode())
    assert answer.status_code == 200 and answer.json() == {"queued": True}
    run_due(quiet)
    assert _statuses(quiet) == {"done"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(st.characters(codec=None)),  # lone surrogates too
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["realmId", "eventNotifications", "dataChangeEvent",
                                       "entities", "name", "type", "intuitaccountid", "time",
                                       "lastUpdated", "x"]) | st.text(), children, max_size=4),
    max_leaves=20)


def test_any_json_in_either_format_is_answered_without_a_5xx(
        quiet: Hub, emulator: Emulator) -> None:
    client = create_app(quiet).test_client()
    realm = emulator.realm_id

    @settings(max_examples=300, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(JSON, st.sampled_from(["legacy", "note", "cloudevents", "bare"]))
    def check(value: Any, where: str) -> None:
        payload = {"legacy": {"eventNotifications": value},
                   "note": legacy(realm, value, dataChangeEvent=value),
                   "cloudevents": [value, cloudevent(realm, type=value, time=value)],
                   "bare": value}[where]
        body = json.dumps(payload).encode()
        answer = client.post("/quickbooks/webhooks", data=body,
                             headers={"intuit-signature": signature(emulator.verifier_token,
                                                                    body)})
        assert answer.status_code in (200, 400), (payload, answer.text)

    check()
    run_due(quiet)
    assert _statuses(quiet) <= {"done"}


def _pending_sweeps(hub: Hub) -> int:
    from sqlalchemy import func, select

    from hub.queue.db import reading
    from hub.queue.store import DELIVERIES

    with reading(hub.engine) as conn:
        return int(conn.execute(select(func.count()).select_from(DELIVERIES).where(
            DELIVERIES.c.subject.like("job:quickbooks.%"),
            DELIVERIES.c.status == "pending")).scalar_one())


def _statuses(hub: Hub) -> set[str]:
    from sqlalchemy import select

    from hub.queue.db import reading
    from hub.queue.store import DELIVERIES

    with reading(hub.engine) as conn:
        return set(conn.execute(select(DELIVERIES.c.status).where(
            DELIVERIES.c.subject.like("job:quickbooks.%"))).scalars())
