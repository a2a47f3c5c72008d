"""Valid event bodies of every type, as a host would send them: the same samples the plugin
test kit ships (``hub.testing``), under the names our tests have always used."""

from __future__ import annotations

from typing import Any

from hub.testing import SAMPLE_DATA, sample_event

DATA: dict[str, dict[str, Any]] = SAMPLE_DATA
CONTACT = DATA["contact"]
INVOICE = DATA["invoice.sent"]
LINE = INVOICE["lines"][0]
HOOKS = {"contact": "on_contact", "payment": "on_payment", "invoice.sent": "on_invoice_sent",
         "invoice.updated": "on_invoice_updated", "invoice.paid": "on_invoice_paid",
         "booking": "on_booking"}
event = sample_event
