"""Event bodies as a host sends them: a valid ``data`` of every event type (``SAMPLE_DATA``) and
a whole event with changes of a test's own (``sample_event``).

Separate because the project's own tests build their events on them without the fixtures
(``tests/samples.py``), and they change with the contract, not with the fixtures.
"""

from __future__ import annotations

import copy
from typing import Any

_CONTACT = {"external_id": "c-1", "name": "Dana Whitfield", "email": "dana@example.com",
            "phone": "+1 555 0100",
            "address": {"line1": "1 Main St", "city": "Springfield", "region": "IL",
                        "postal_code": "62701", "country": "US"}}
_LINE = {"item": "1-Hour Math Tutoring", "description": "March 28, 2026", "quantity": "1",
         "unit_price": "65.00", "service_date": "2026-03-28"}
_INVOICE = {"external_id": "inv-1", "number": "1001", "contact": _CONTACT, "status": "sent",
            "issue_date": "2026-03-28", "due_date": "2026-04-04", "currency": "USD",
            "lines": [_LINE, {**_LINE, "quantity": "2", "service_date": "2026-03-29"}],
            "discount": {"percent": "10"}, "tax": {"rate_percent": "8.25"},
            "total": "189.98"}
#: A valid ``data`` of every event type, as a host sends it (the invoice totals 189.98).
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "contact": _CONTACT,
    "payment": {"external_id": "pay-1", "contact": _CONTACT, "amount": "49.00",
                "currency": "USD", "paid_at": "2026-03-28T15:04:05Z", "method": "card",
                "source": "membership"},
    "invoice.sent": _INVOICE,
    "invoice.updated": {**_INVOICE, "due_date": "2026-04-11"},
    "invoice.paid": {**_INVOICE, "status": "paid", "amount_paid": "189.98"},
    "booking": {"external_id": "bk-1", "contact": _CONTACT, "service": "Math Tutoring",
                "start": "2026-03-28T15:00:00-05:00", "duration_minutes": 60, "rate": "65.00",
                "status": "completed", "billing": "per_session"},
}


def sample_event(event_type: str = "invoice.sent", event_id: str = "evt_1",
                 **changes: Any) -> dict[str, Any]:
    """A valid event body of ``event_type``, its ``data`` updated with ``changes``
    (``sample_event("invoice.paid", "evt_2", amount_paid="50.00")``)."""
    data = copy.deepcopy(SAMPLE_DATA[event_type])
    data.update(changes)
    return {"id": event_id, "type": event_type, "occurred_at": "2026-03-28T15:04:05Z",
            "data": data}
