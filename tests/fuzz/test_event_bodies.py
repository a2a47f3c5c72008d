"""Event bodies drawn by Hypothesis (tests/fuzz/strategies.py), posted over a real socket to the
hub's HTTP server in this process: what is accepted is delivered, and what is refused is a 422
naming the field that is wrong, never a 5xx.

Valid bodies of every type must be accepted (202) and reach the recorder plugin, with the value
the host sent. Almost-valid bodies (one field broken) must be refused with a 422 whose
``errors`` name that field (``data.lines[0].unit_price``)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hub.events import dump
from hub.hub import Hub
from hub.worker import run_due
from tests.conftest import API_KEY
from tests.fuzz.strategies import (
    DEEP,
    EVENT_TYPES,
    HOOK_OF,
    Broken,
    almost_valid_events,
    names_field,
    valid_events,
)
from tests.plugins.recorder import Recorder

# The hub and its server live for the whole test, across examples; each example's event has
# an id of its own.
SHARED = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                        HealthCheck.too_slow,
                                                        HealthCheck.data_too_large])


def bounded(max_examples: int) -> settings:
    return settings(SHARED, max_examples=max_examples)


_numbers = itertools.count()


@pytest.fixture
def api(served: str) -> Any:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {API_KEY}"
        yield served, session


def _own_id(body: dict[str, Any]) -> str:
    """The drawn id made unique to this example (a repeated id would be a replay or a 409)."""
    event_id = f"{next(_numbers)}.{body['id']}"[:255]
    body["id"] = event_id
    return event_id


def _post(api: Any, body: Any) -> requests.Response:
    url, session = api
    # The body exactly as drawn: json.dumps escapes what is not ASCII (lone surrogates too).
    return session.post(f"{url}/api/v1/events", data=json.dumps(body),
                        headers={"Content-Type": "application/json"}, timeout=10)


def _show(body: Any) -> str:
    return json.dumps(body, ensure_ascii=True)


def _delivered(api: Any, hub: Hub, recorder: Recorder, body: dict[str, Any]) -> None:
    """The accepted event reaches the recorder once, with what was sent, and reads ``done``."""
    url, session = api
    before = len(recorder.calls)
    run_due(hub)
    status = session.get(f"{url}/api/v1/events/{quote(body['id'], safe='')}", timeout=10)
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "done", (status.json(), _show(body))
    calls = recorder.calls[before:]
    assert [(hook, ctx.event_id) for hook, _value, ctx in calls] == \
        [(HOOK_OF[body["type"]], body["id"])], _show(body)
    # What the plugin received is what the host sent: each of the data's own values, read
    # as the contract reads it (text without its surrounding spaces, "65" and "65.00" one
    # amount, "Z" and "+00:00" one offset).
    received = dump(calls[0][1])
    for key, sent in body["data"].items():
        if isinstance(sent, str) and sent.strip():
            assert _same(received.get(key), sent), (key, received.get(key), _show(body))


def _same(received: Any, sent: str) -> bool:
    if received == sent.strip():
        return True
    for read in (Decimal, datetime.fromisoformat):
        try:
            return bool(read(str(received)) == read(sent))
        except (InvalidOperation, ValueError):
            continue
    return False


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@bounded(40)
@given(data=st.data())
def test_a_valid_body_is_accepted_and_delivered(api: Any, hub: Hub, recorder: Recorder,
                                                event_type: str, data: st.DataObject) -> None:
    body = data.draw(valid_events(event_type), label="body")
    _own_id(body)
    answer = _post(api, body)
    assert answer.status_code == 202, f"{answer.status_code} {answer.text}\nfor {_show(body)}"
    _delivered(api, hub, recorder, body)


@bounded(300)
@given(broken=almost_valid_events())
def test_an_almost_valid_body_is_refused_naming_the_field(api: Any, hub: Hub,
                                                          recorder: Recorder,
                                                          broken: Broken) -> None:
    event(broken.mutation)  # pytest --hypothesis-show-statistics: how often each was drawn
    body = broken.body
    if isinstance(body.get("id"), str) and broken.path != "id" and body["id"] != DEEP:
        _own_id(body)
    url, session = api
    answer = session.post(f"{url}/api/v1/events", data=broken.json(),
                          headers={"Content-Type": "application/json"}, timeout=10)
    said = f"{broken.mutation} at {broken.path}: {answer.status_code} {answer.text}\n" \
           f"for {broken.json()[:2000]}"
    assert answer.status_code < 500, said
    if answer.status_code == 202:
        _delivered(api, hub, recorder, body)  # accepted must mean delivered, at least
    assert answer.status_code == 422, said
    errors = answer.json()["errors"]
    assert errors and all(e.get("field") and e.get("message") for e in errors), said
    assert any(names_field(e["field"], broken.path) for e in errors), said
