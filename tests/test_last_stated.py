"""``ctx.last_stated``: what the host last said about a subject, for a plugin comparing it with
its outside system (the QuickBooks reconcile). Latest by when it happened at the host, not by
arrival; typed as its hook gets it; on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from hub import hookimpl
from hub.events import Contact, Invoice
from hub.hub import Hub
from hub.testing import sample_event


class Quiet:
    @hookimpl
    def on_invoice_sent(self, invoice: Any, ctx: Any) -> None:
        pass


@pytest.fixture
def hub(plugin_hub: Any, database_url: str) -> Hub:
    return plugin_hub(("quiet", Quiet()),  # type: ignore[no-any-return]
                      env={"HUB_DATABASE_URL": database_url})


def test_the_latest_statement_by_when_it_happened(hub: Hub, hub_client: Any) -> None:
    sent = sample_event("invoice.sent", "evt_sent")
    sent["occurred_at"] = "2026-03-28T10:00:00Z"
    late = sample_event("invoice.updated", "evt_old_update")
    late["occurred_at"] = "2026-03-27T10:00:00Z"  # arrives after, happened before
    late["data"] = {**late["data"], "due_date": "2026-05-01"}
    contact = sample_event("contact", "evt_contact")
    for body in (sent, late, contact):
        assert hub_client.post("/api/v1/events", json=body).status_code == 202

    ctx = hub.context("quiet", "test", "-")
    said = ctx.last_stated(["invoice:inv-1", "contact:c-1", "invoice:never-sent"])

    assert set(said) == {"invoice:inv-1", "contact:c-1"}
    invoice = said["invoice:inv-1"]
    assert invoice.event_id == "evt_sent" and invoice.event_type == "invoice.sent"
    assert isinstance(invoice.value, Invoice) and str(invoice.value.due_date) == "2026-04-04"
    assert isinstance(said["contact:c-1"].value, Contact)
    assert ctx.host_subjects("invoice") == ["invoice:inv-1"]
    assert ctx.host_subjects("contact") == ["contact:c-1"]
