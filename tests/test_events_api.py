"""Every answer of POST /api/v1/events and GET /api/v1/events/{id}, as the contract lists."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from hub.config import load_config
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import API_KEY, base_env
from tests.plugins.recorder import Recorder
from tests.samples import DATA, HOOKS, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(client: FlaskClient, body: object, **headers: str) -> tuple[int, dict]:
    answer = client.post("/api/v1/events", json=body, headers={**AUTH, **headers})
    return answer.status_code, answer.get_json()


def test_accepted_event_is_stored_before_the_answer_and_delivered(
    client: FlaskClient, hub: Hub, recorder: Recorder
) -> None:
    status, body = post(client, event())
    assert status == 202
    assert body["id"] == "evt_1" and body["status"] == "pending"
    assert body["deliveries"] == [{"plugin": "recorder", "status": "pending", "attempts": 0,
                                   "last_error": None, "result": None,
                                   "next_attempt_at": body["deliveries"][0]["next_attempt_at"]}]
    # A second hub on the same database (another process) sees it: it was committed.
    other = Hub(hub.config, plugins=[("recorder", Recorder())], entrypoints=False)
    assert other.event("evt_1")["status"] == "pending"
    other.close()
    assert run_due(hub) == 1
    done = client.get("/api/v1/events/evt_1", headers=AUTH).get_json()
    assert done["status"] == "done"
    assert done["deliveries"][0]["status"] == "done" and done["deliveries"][0]["attempts"] == 1
    hook, invoice, _ctx = recorder.calls[0]
    assert hook == "on_invoice_sent"
    assert invoice.total == Decimal("189.98") and invoice.lines[1].quantity == Decimal("2")


@pytest.mark.parametrize("event_type", sorted(DATA))
def test_each_event_type_reaches_its_hook_as_a_typed_value(
    client: FlaskClient, hub: Hub, recorder: Recorder, event_type: str
) -> None:
    assert post(client, event(event_type))[0] == 202
    run_due(hub)
    [(hook, value, ctx)] = [c for c in recorder.calls if c[0] != "on_host_event"]
    assert hook == HOOKS[event_type]
    assert type(value).__name__ == {"contact": "Contact", "payment": "Payment",
                                    "booking": "Booking"}.get(event_type, "Invoice")
    assert ctx.event_id == "evt_1" and ctx.event_type == event_type and ctx.attempt == 1
    if event_type == "payment":
        assert value.amount == Decimal("49.00") and value.paid_at.tzinfo is not None
    if event_type == "booking":
        assert value.amount == Decimal("65.00") and value.duration_minutes == 60


def test_replay_with_the_same_body_answers_200_and_is_processed_once(
    client: FlaskClient, hub: Hub, recorder: Recorder
) -> None:
    body = event()
    assert post(client, body)[0] == 202
    # The same JSON with its keys in another order is the same body.
    reordered = json.loads(json.dumps(body, sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    status, answer = post(client, reordered)
    assert status == 200 and answer["id"] == "evt_1"
    run_due(hub)
    assert post(client, body)[1]["status"] == "done"
    assert recorder.hooks() == ["on_invoice_sent"]


def test_known_id_with_a_different_body_is_a_conflict(client: FlaskClient) -> None:
    assert post(client, event())[0] == 202
    status, answer = post(client, event(number="1002"))
    assert status == 409
    assert answer["errors"][0]["field"] == "id"
    assert "different body" in answer["errors"][0]["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {API_KEY}"}])
def test_no_or_wrong_key_is_401(client: FlaskClient, headers: dict[str, str]) -> None:
    answer = client.post("/api/v1/events", json=event(), headers=headers)
    assert answer.status_code == 401
    assert "HUB_API_KEY" in answer.get_json()["errors"][0]["message"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/events/evt_1", headers=headers).status_code == 401


def test_a_hub_without_an_api_key_refuses_every_call(tmp_path, make_hub) -> None:
    env = base_env(tmp_path)
    del env["HUB_API_KEY"]
    hub = make_hub(cfg=load_config(env, dotenv=False))
    client = create_app(hub).test_client()
    answer = client.post("/api/v1/events", json=event(), headers={"Authorization": "Bearer "})
    assert answer.status_code == 401
    assert "set HUB_API_KEY" in answer.get_json()["errors"][0]["message"]


def test_over_one_mebibyte_is_413(served: str) -> None:
    big = event(lines=[{**DATA["invoice.sent"]["lines"][0], "description": "x" * 4000}] * 300)
    raw = json.dumps(big).encode()
    assert len(raw) > 1024 * 1024
    answer = requests.post(f"{served}/api/v1/events", data=raw,
                           headers={**AUTH, "Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 413
    assert "1 MiB" in answer.json()["errors"][0]["message"]
    # Sent in chunks, with no Content-Length to refuse it by: still a 413, not a 422 for the
    # truncated JSON the first MiB makes.
    chunked = requests.post(f"{served}/api/v1/events",
                            data=iter([raw[i:i + 65536] for i in range(0, len(raw), 65536)]),
                            headers={**AUTH, "Content-Type": "application/json"}, timeout=10)
    assert chunked.status_code == 413
    assert "1 MiB" in chunked.json()["errors"][0]["message"]


def test_not_json_is_415(client: FlaskClient) -> None:
    answer = client.post("/api/v1/events", data="id=evt_1", headers={
        **AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415
    assert answer.get_json()["errors"][0]["field"] == "Content-Type"


def test_malformed_json_is_422_naming_the_body(client: FlaskClient) -> None:
    answer = client.post("/api/v1/events", data='{"id": "evt_1",',
                         headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "body"


def test_invalid_event_lists_every_problem_by_field(client: FlaskClient, hub: Hub) -> None:
    body = event()
    body["occurred_at"] = "yesterday"
    body["data"]["lines"][0]["unit_price"] = 65.0
    del body["data"]["contact"]["name"]
    body["data"]["billing_email"] = "not-an-email"
    status, answer = post(client, body)
    assert status == 422
    fields = {e["field"]: e["message"] for e in answer["errors"]}
    assert set(fields) == {"occurred_at", "data.lines[0].unit_price", "data.contact.name",
                           "data.billing_email"}
    assert "decimal string" in fields["data.lines[0].unit_price"]
    assert hub.event("evt_1") is None  # nothing stored


def test_a_total_that_does_not_add_up_is_refused_to_the_cent(client: FlaskClient) -> None:
    status, answer = post(client, event(total="189.99"))
    assert status == 422
    [error] = answer["errors"]
    assert error["field"] == "data.total"  # the field, as the contract says every error names
    assert "189.98" in error["message"] and "189.99" in error["message"]


@pytest.mark.parametrize(("change", "field"), [
    ({"due_date": "2026-03-01"}, "data.due_date"),
    ({"discount": {"amount": "500.00"}, "total": None}, "data.discount"),
    ({"amount_paid": "200.00"}, "data.amount_paid"),
])
def test_each_rule_names_the_field_it_is_about(client: FlaskClient, change: dict[str, Any],
                                               field: str) -> None:
    status, answer = post(client, event(**change))
    assert status == 422 and [e["field"] for e in answer["errors"]] == [field]


def test_unknown_type_and_unknown_fields_are_refused(client: FlaskClient) -> None:
    body = event()
    body["type"] = "invoice.deleted"
    status, answer = post(client, body)
    assert status == 422 and answer["errors"][0]["field"] == "type"
    status, answer = post(client, event(colour="blue"))
    assert status == 422 and answer["errors"][0]["field"] == "data.colour"


def test_unknown_event_is_404(client: FlaskClient) -> None:
    answer = client.get("/api/v1/events/evt_nope", headers=AUTH)
    assert answer.status_code == 404 and answer.get_json()["errors"][0]["field"] == "id"


def test_openapi_document_comes_from_the_validating_models(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json", headers=AUTH).get_json()
    assert doc["openapi"].startswith("3.")
    schemas = doc["components"]["schemas"]
    assert {"EventIn", "Invoice", "Contact", "Payment", "Booking", "Line"} <= set(schemas)
    assert "unit_price" in schemas["Line"]["required"]
    post_op = doc["paths"]["/api/v1/events"]["post"]
    assert set(post_op["responses"]) == {"200", "202", "401", "409", "413", "415", "422"}


def test_event_over_a_real_socket(served: str, hub: Hub) -> None:
    answer = requests.post(f"{served}/api/v1/events", json=event(), headers=AUTH, timeout=10)
    assert answer.status_code == 202
    assert answer.headers["Location"] == "/api/v1/events/evt_1"
    status = requests.get(f"{served}/api/v1/events/evt_1", headers=AUTH, timeout=10)
    assert status.json()["status"] == "pending"


def test_the_location_of_an_id_with_reserved_characters_leads_back_to_the_event(
        served: str) -> None:
    # Host ids are any printable ASCII: '#', '?', '%' and '/' must be quoted in Location, or
    # following it would ask for another event (or none).
    strange = "ord#7?x=1%/b"
    answer = requests.post(f"{served}/api/v1/events", json=event(event_id=strange),
                           headers=AUTH, timeout=10)
    assert answer.status_code == 202
    assert answer.json()["id"] == strange
    found = requests.get(served + answer.headers["Location"], headers=AUTH, timeout=10)
    assert found.status_code == 200 and found.json()["id"] == strange
