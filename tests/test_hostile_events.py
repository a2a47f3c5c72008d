"""What a hostile host sent, each answered at the door: a 422 naming the field, never a 5xx, and
nothing stored that a delivery could not read back. Over real sockets, through the server and
the hot path `hub serve` uses (tests/conftest.py's ``served``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from hub.bounds import MAX_JSON_DEPTH
from hub.queue.worker import run_due
from tests.conftest import API_KEY
from tests.samples import CONTACT, LINE, event

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(url: str, body: Any) -> requests.Response:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(f"{url}/api/v1/events", data=raw, timeout=10,
                         headers={**AUTH, "Content-Type": "application/json"})


def fields(answer: requests.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


def with_line(**changes: Any) -> dict[str, Any]:
    return event("invoice.sent", lines=[{**LINE, **changes}], total=None)


def test_a_year_eleven_is_refused_not_stored(served: str, hub, recorder) -> None:
    # Seen: accepted (202), stored as "11-01-09 02:36:01", and from then on every claim failed.
    answer = post(served, {**event("contact"), "occurred_at": "0011-01-09T02:36:01Z"})
    assert "1900-01-01" in fields(answer)["occurred_at"]
    assert post(served, event("contact", "evt_plain")).status_code == 202
    run_due(hub)
    assert recorder.hooks() == ["on_contact"]


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                     "2200-01-01T00:00:00Z", "1899-12-31T23:59:59Z"])
def test_instants_a_business_cannot_mean_are_refused(served: str, instant: str) -> None:
    # Seen: 500 (OverflowError) for the first two, when turned to UTC.
    answer = post(served, {**event("contact"), "occurred_at": instant})
    assert "must be an instant from 1900-01-01" in fields(answer)["occurred_at"]


@pytest.mark.parametrize("instant", ["1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59-14:00"])
def test_the_edges_of_the_range_are_accepted_whatever_the_offset(served: str, hub, instant: str
                                                                ) -> None:
    assert post(served, {**event("contact"), "occurred_at": instant}).status_code == 202
    assert requests.get(f"{served}/api/v1/events/evt_1", headers=AUTH,
                        timeout=10).status_code == 200


def test_a_type_that_is_not_a_string_is_a_422(served: str) -> None:
    # Seen: 500 (unhashable dict).
    for bad in ({}, [], 7, None):
        answer = post(served, {**event("contact"), "type": bad})
        assert "type" in fields(answer)


def test_a_quantity_of_four_hundred_nines_is_a_422(served: str) -> None:
    # Seen: 500 (decimal.InvalidOperation from the line's amount).
    answer = post(served, with_line(quantity="9" * 400))
    assert "15 digits" in fields(answer)["data.lines[0].quantity"]


def test_amounts_past_what_quickbooks_holds_are_refused(served: str) -> None:
    answer = post(served, with_line(quantity="9999999999", unit_price="9999999999999.99"))
    assert "more than QuickBooks can hold" in fields(answer)["data.lines[0]"]
    answer = post(served, with_line(unit_price="99999999999999.00"))
    assert "data.lines[0].unit_price" in fields(answer)
    answer = post(served, with_line(unit_price="٦٥.٠٠"))  # Arabic-Indic digits
    assert "decimal string" in fields(answer)["data.lines[0].unit_price"]


def test_json_nested_thousands_deep_is_a_422(served: str) -> None:
    # Seen: 500 (RecursionError).
    deep = "[" * 2000 + "]" * 2000
    assert "nests deeper" in fields(post(served, deep))["body"]
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH + 1):
        nested = {"a": nested}
    answer = post(served, {**event("contact"), "data": {**CONTACT, "extra": nested}})
    assert "nests deeper" in fields(answer)["body"]


def test_a_date_no_business_means_is_refused(served: str) -> None:
    answer = post(served, event("invoice.sent", issue_date="0001-01-01", due_date=None))
    assert "1900-01-01 to 2199-12-31" in fields(answer)["data.issue_date"]
    answer = post(served, with_line(service_date="2999-01-01"))
    assert "data.lines[0].service_date" in fields(answer)


@pytest.mark.parametrize("name", ["Dana\x00Whitfield", "Dana\nWhitfield", "Dana\x1bW",
                                  "Dana\x85W", "Dana\ud800W"])
def test_control_characters_in_a_name_are_refused(served: str, name: str) -> None:
    # Seen: a NUL accepted; PostgreSQL cannot store it and QuickBooks refuses it.
    answer = post(served, event("contact", name=name))
    message = fields(answer)["data.name"]
    # A lone surrogate is refused by pydantic itself, in its own words.
    assert "control characters" in message or "unicode" in message


def test_a_description_may_run_over_lines_but_hold_no_nul(served: str) -> None:
    assert post(served, with_line(description="Week 1\nWeek 2\tdone")).status_code == 202
    answer = post(served, {**with_line(description="Week\x001"), "id": "evt_2"})
    assert "control characters" in fields(answer)["data.lines[0].description"]


def test_the_booking_check_is_held_to_the_same_bounds(served: str) -> None:
    url = f"{served}/api/v1/bookings/check"
    for body in ({"email": "dana@example.com", "service": "Math\x00"},
                 {"email": "dana\x00@example.com"}, "[" * 3000 + "]" * 3000, [], "null"):
        raw = body if isinstance(body, str) else json.dumps(body)
        answer = requests.post(url, data=raw, timeout=10,
                               headers={**AUTH, "Content-Type": "application/json"})
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["errors"][0]["field"]


def test_what_is_stored_reads_back_exactly(served: str, hub, recorder) -> None:
    body = event("payment", amount="1234567890123.45", paid_at="1900-01-01T00:00:00+14:00")
    assert post(served, {**body, "occurred_at": "2199-12-31T23:59:59.999999-14:00"}
                ).status_code == 202
    view = requests.get(f"{served}/api/v1/events/evt_1", headers=AUTH, timeout=10).json()
    assert view["occurred_at"] == "2200-01-01T13:59:59.999999Z"
    run_due(hub)
    [(hook, payment, ctx)] = recorder.calls
    assert hook == "on_payment" and str(payment.amount) == "1234567890123.45"
    assert payment.paid_at.isoformat() == "1900-01-01T00:00:00+14:00"
    assert ctx.occurred_at.isoformat() == "2200-01-01T13:59:59.999999"


@pytest.mark.parametrize("email", ["", "   "])
def test_an_empty_email_is_no_email(served: str, email: str) -> None:
    # Seen: a 500 (the length of None asked after "" was read as no email).
    assert post(served, event("contact", email=email)).status_code == 202


@pytest.mark.parametrize("value", [0, 86400, "1711584000", "2026-03-28T00:00:00", True])
def test_a_date_is_written_as_the_contract_says(served: str, value: Any) -> None:
    # Seen by the fuzzer: a number (seconds since 1970) was taken for a service_date.
    answer = post(served, with_line(service_date=value))
    assert "YYYY-MM-DD" in fields(answer)["data.lines[0].service_date"]


@pytest.mark.parametrize("value", [0, "1711584000", 1711584000.5])
def test_an_instant_is_written_as_the_contract_says(served: str, value: Any) -> None:
    answer = post(served, {**event("contact"), "occurred_at": value})
    assert "RFC 3339" in fields(answer)["occurred_at"]
