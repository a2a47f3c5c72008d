"""Valid event bodies of every type, as a host would send them."""

from __future__ import annotations

import copy
from typing import Any

CONTACT = {"external_id": "c-1", "name": "Dana Whitfield", "email": "dana@example.com",
           "phone": "+1 555 0100",
           "address": {"line1": "1 Main St", "city": "Springfield", "region": "IL",
                       "postal_code": "62701", "country": "US"}}
LINE = {"item": "1-Hour Math Tutoring", "description": "March 28, 2026", "quantity": "1",
        "unit_price": "65.00", "service_date": "2026-03-28"}
INVOICE = {"external_id": "inv-1", "number": "1001", "contact": CONTACT, "status": "sent",
           "issue_date": "2026-03-28", "due_date": "2026-04-04", "currency": "USD",
           "lines": [LINE, {**LINE, "quantity": "2", "service_date": "2026-03-29"}],
           "discount": {"percent": "10"}, "tax": {"rate_percent": "8.25"}, "total": "189.98"}
DATA: dict[str, dict[str, Any]] = {
    "contact": CONTACT,
    "payment": {"external_id": "pay-1", "contact": CONTACT, "amount": "49.00",
                "currency": "USD", "paid_at": "2026-03-28T15:04:05Z", "method": "card",
                "source": "membership"},
    "invoice.sent": INVOICE,
    "invoice.updated": {**INVOICE, "due_date": "2026-04-11"},
    "invoice.paid": {**INVOICE, "status": "paid", "amount_paid": "189.98"},
    "booking": {"external_id": "bk-1", "contact": CONTACT, "service": "Math Tutoring",
                "start": "2026-03-28T15:00:00-05:00", "duration_minutes": 60, "rate": "65.00",
                "status": "completed", "billing": "per_session"},
}
HOOKS = {"contact": "on_contact", "payment": "on_payment", "invoice.sent": "on_invoice_sent",
         "invoice.updated": "on_invoice_updated", "invoice.paid": "on_invoice_paid",
         "booking": "on_booking"}


def event(event_type: str = "invoice.sent", event_id: str = "evt_1",
          **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DATA[event_type])
    data.update(changes)
    return {"id": event_id, "type": event_type, "occurred_at": "2026-03-28T15:04:05Z",
            "data": data}
