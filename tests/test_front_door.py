"""One front door: an event or a booking check is answered by the same function whichever way
it arrives, in front of Flask (a body with a length) or through Flask's route (a chunked body,
which only Flask reads): the same status, the same JSON, the same headers that matter."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import API_KEY
from tests.samples import event

AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}


def _post(url: str, path: str, body: bytes, headers: dict[str, str],
          chunked: bool) -> tuple[int, Any, dict[str, str]]:
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        if chunked:
            conn.putrequest("POST", path)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            conn.send(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        else:
            conn.request("POST", path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read()), dict(answer.getheaders())
    finally:
        conn.close()


CASES = [
    ("new event", "/api/v1/events", event(event_id="evt_door_1"), AUTH),
    ("replay", "/api/v1/events", event(event_id="evt_door_1"), AUTH),
    ("conflict", "/api/v1/events", event(event_id="evt_door_1", number="X-2"), AUTH),
    ("invalid", "/api/v1/events", event(event_id="evt_door_2", total="abc"), AUTH),
    ("no key", "/api/v1/events", event(event_id="evt_door_3"),
     {"Content-Type": "application/json"}),
    ("not JSON", "/api/v1/events", "{", AUTH),
    ("wrong type", "/api/v1/events", event(event_id="evt_door_4"),
     {**AUTH, "Content-Type": "text/plain"}),
    ("check", "/api/v1/bookings/check", {"email": "a@example.com"}, AUTH),
    ("bad check", "/api/v1/bookings/check", {"email": "nobody"}, AUTH),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_both_transports_answer_alike(served: str, case: Any) -> None:
    _name, path, body, headers = case
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    if _name in ("replay", "conflict"):  # the event as first sent, before either transport
        first = json.dumps(event(event_id="evt_door_1")).encode()
        assert _post(served, path, first, AUTH, chunked=False)[0] == 202
    fast = _post(served, path, raw, headers, chunked=False)
    routed = _post(served, path, raw, headers, chunked=True)
    # The first sending of the new event is a 202, the second (whichever transport) a replay.
    if _name == "new event":
        assert (fast[0], routed[0]) == (202, 200)
        assert routed[1]["id"] == fast[1]["id"]
    else:
        assert fast[0] == routed[0]
        assert fast[1] == routed[1]
    for name in ("Location", "WWW-Authenticate", "X-Content-Type-Options", "Cache-Control"):
        assert fast[2].get(name) == routed[2].get(name), name
