"""Two customers merged in QuickBooks: the host's contact linked to the one merged away is
linked to the one kept, as Intuit's webhook says (``Merge`` with ``deletedId``, or CloudEvents'
``qbo.customer.merged.v1`` with ``data.deletedid``). Seen: the merge was not read, so the
host's next change of the contact brought the merged-away customer back to life."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.builtin.quickbooks import links
from hub.builtin.quickbooks.emulator.testing import Emulator
from hub.hub import Hub
from hub.queue.worker import run_due
from hub.web.app import create_app
from tests.conftest import serving
from tests.quickbooks.conftest import qbo_ctx
from tests.quickbooks.test_invoices import delivery, invoice_data, post
from tests.samples import DATA


@pytest.fixture
def served_hub(connected: Hub) -> Iterator[str]:
    with serving(create_app(connected)) as url:
        yield url


@pytest.mark.parametrize("fmt", ["cloudevents", "legacy"])
def test_a_merge_relinks_the_hosts_contact_to_the_customer_kept(
        connected: Hub, emulator: Emulator, served_hub: str, fmt: str) -> None:
    client = create_app(connected).test_client()
    post(client, "contact", "evt_1", {**DATA["contact"], "email": "dana@example.com"})
    run_due(connected)
    ctx = qbo_ctx(connected)
    gone = links.get(ctx, "customer", "c-1")["qbo_id"]  # type: ignore[index]
    kept = emulator.add_customer(DisplayName="Dana Whitfield-Lee",
                                 PrimaryEmailAddr={"Address": "dana.lee@example.com"})
    customers_before = len(emulator.objects("Customer"))
    emulator.configure_webhooks(url=f"{served_hub}/quickbooks/webhooks", format=fmt)
    attempts = len(emulator.webhook_attempts())
    emulator.merge_customers(gone, kept["Id"])  # by hand, in QuickBooks
    emulator.wait_for_webhooks(attempts + 1)
    emulator.configure_webhooks(url=None)

    link = links.get(ctx, "customer", "c-1")
    assert link is not None and link["qbo_id"] == kept["Id"]
    run_due(connected)
    # The host's next words on Dana go to the customer kept; the merged one stays inactive.
    post(client, "contact", "evt_2", {**DATA["contact"], "email": "dana@example.com",
                                      "phone": "+1 555 0199"})
    post(client, "invoice.sent", "evt_3", invoice_data())
    run_due(connected)
    assert emulator.get("Customer", gone)["Active"] is False  # type: ignore[index]
    assert len(emulator.objects("Customer")) == customers_before  # none made
    invoice = emulator.get("Invoice", links.get(ctx, "invoice", "inv-1")["qbo_id"])  # type: ignore[index]
    assert invoice is not None and invoice["CustomerRef"]["value"] == kept["Id"]


def test_merges_read_from_both_formats() -> None:
    from hub.builtin.quickbooks.webhooks import merges

    legacy: Any = {"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [
        {"name": "Customer", "id": "123", "operation": "Merge", "deletedId": "27"},
        {"name": "Customer", "id": "9", "operation": "Update"},
        {"name": "Customer", "id": "5", "operation": "Merge", "deletedId": {"x": 1}}]}}]}
    cloud = [{"type": "qbo.customer.merged.v1", "intuitentityid": "123",
              "data": {"deletedid": "27"}},
             {"type": "qbo.customer.merged.v1", "intuitentityid": "123", "data": "27"}]
    assert merges(legacy) == [("27", "123")]
    assert merges(cloud) == [("27", "123")]


def _sweep(hub: Hub) -> None:
    from hub.clock import utcnow
    from hub.plugins.jobs import fire

    fire(hub, hub.jobs()["quickbooks.sweep"], utcnow())
    run_due(hub)


def _invoiced_and_swept(hub: Hub) -> Any:
    """Dana and her invoice in QuickBooks, and swept since: the mirror holds the invoice."""
    client = create_app(hub).test_client()
    post(client, "contact", "evt_1", {**DATA["contact"], "email": "dana@example.com"})
    post(client, "invoice.sent", "evt_2", invoice_data())
    run_due(hub)
    _sweep(hub)  # the first import
    _sweep(hub)
    return client


def test_a_merge_seen_only_in_the_change_feed_relinks_too(connected: Hub,
                                                          emulator: Emulator) -> None:
    """No webhook (none set up, or lost): the sweep's change feed shows the merged customer
    inactive and its invoices naming the one kept, and the contact follows the merge."""
    client = _invoiced_and_swept(connected)
    ctx = qbo_ctx(connected)
    gone = links.get(ctx, "customer", "c-1")["qbo_id"]  # type: ignore[index]
    kept = emulator.add_customer(DisplayName="Dana Whitfield-Lee",
                                 PrimaryEmailAddr={"Address": "dana.lee@example.com"})
    customers_before = len(emulator.objects("Customer"))
    emulator.merge_customers(gone, kept["Id"])  # by hand, in QuickBooks; no webhook
    _sweep(connected)

    link = links.get(ctx, "customer", "c-1")
    assert link is not None and link["qbo_id"] == kept["Id"]
    post(client, "contact", "evt_3", {**DATA["contact"], "email": "dana@example.com",
                                      "phone": "+1 555 0199"})
    post(client, "invoice.sent", "evt_4", invoice_data(external_id="inv-2"))
    run_due(connected)
    assert emulator.get("Customer", gone)["Active"] is False  # type: ignore[index]
    assert len(emulator.objects("Customer")) == customers_before  # none made
    second = emulator.get("Invoice", links.get(ctx, "invoice", "inv-2")["qbo_id"])  # type: ignore[index]
    assert second is not None and second["CustomerRef"]["value"] == kept["Id"]


def test_a_customer_only_made_inactive_is_not_taken_for_a_merge(connected: Hub,
                                                                emulator: Emulator) -> None:
    _invoiced_and_swept(connected)
    ctx = qbo_ctx(connected)
    customer = links.get(ctx, "customer", "c-1")["qbo_id"]  # type: ignore[index]
    emulator.hand_edit("Customer", customer, Active=False)
    _sweep(connected)
    assert links.get(ctx, "customer", "c-1")["qbo_id"] == customer  # type: ignore[index]


def test_two_host_contacts_merged_into_one_customer_do_not_overwrite_it_in_turn(
        connected: Hub, emulator: Emulator, served_hub: str) -> None:
    """Seen: Dana and Lee are two contacts in the host, and the bookkeeper merged Dana's
    customer into Lee's in QuickBooks. Both contacts then pointed at Lee's customer, and each
    contact's next change wrote its own name and email over the other's, back and forth."""
    client = create_app(connected).test_client()
    lee = {**DATA["contact"], "external_id": "c-2", "name": "Lee Whitfield",
           "email": "lee@example.com"}
    post(client, "contact", "evt_1", DATA["contact"])
    post(client, "contact", "evt_2", lee)
    run_due(connected)
    ctx = qbo_ctx(connected)
    gone = links.get(ctx, "customer", "c-1")["qbo_id"]  # type: ignore[index]
    kept = links.get(ctx, "customer", "c-2")["qbo_id"]  # type: ignore[index]
    emulator.configure_webhooks(url=f"{served_hub}/quickbooks/webhooks", format="legacy")
    attempts = len(emulator.webhook_attempts())
    emulator.merge_customers(gone, kept)  # by hand, in QuickBooks
    emulator.wait_for_webhooks(attempts + 1)
    emulator.configure_webhooks(url=None)
    customers_before = len(emulator.objects("Customer"))

    post(client, "contact", "evt_3", {**DATA["contact"], "phone": "+1 555 0101"})
    post(client, "contact", "evt_4", {**lee, "phone": "+1 555 0202"})
    post(client, "contact", "evt_5", {**DATA["contact"], "phone": "+1 555 0103"})
    post(client, "invoice.sent", "evt_6", {**invoice_data(), "contact": DATA["contact"]})
    run_due(connected)
    customer = emulator.get("Customer", kept)
    assert customer is not None
    # Lee's customer stays Lee's, with her own change; Dana's changes write nothing over it.
    assert customer["DisplayName"] == "Lee Whitfield"
    assert customer["PrimaryEmailAddr"]["Address"] == "lee@example.com"
    assert customer["PrimaryPhone"]["FreeFormNumber"] == "+1 555 0202"
    assert len(emulator.objects("Customer")) == customers_before  # none made
    # Dana's invoice goes to the customer kept, as the merge says.
    invoice = emulator.get("Invoice", links.get(ctx, "invoice", "inv-1")["qbo_id"])  # type: ignore[index]
    assert invoice is not None and invoice["CustomerRef"]["value"] == kept
    said = delivery(connected, "evt_5")["result"]
    assert f"QuickBooks merged customer {gone} into it, and host contact c-2" in said


def test_two_host_contacts_with_one_email_share_a_customer_the_first_one_writes(
        connected: Hub, emulator: Emulator) -> None:
    """Seen: two contacts in the host with one billing email (a parent's, for two children)
    found the one customer by that email, as they should (never a duplicate), and then each
    one's change wrote its own name over the other's, back and forth."""
    client = create_app(connected).test_client()
    first = {**DATA["contact"], "external_id": "c-1", "name": "Dana Whitfield"}
    second = {**DATA["contact"], "external_id": "c-2", "name": "Robin Whitfield"}
    post(client, "contact", "evt_1", first)
    run_due(connected)
    ctx = qbo_ctx(connected)
    customer = links.get(ctx, "customer", "c-1")["qbo_id"]  # type: ignore[index]
    customers_before = len(emulator.objects("Customer"))
    post(client, "contact", "evt_2", second)
    post(client, "contact", "evt_3", {**second, "phone": "+1 555 0303"})
    run_due(connected)

    assert links.get(ctx, "customer", "c-2")["qbo_id"] == customer  # type: ignore[index]
    assert len(emulator.objects("Customer")) == customers_before  # none made
    held = emulator.get("Customer", customer)
    assert held is not None and held["DisplayName"] == "Dana Whitfield"
    assert held["PrimaryPhone"]["FreeFormNumber"] == first["phone"]  # not the second's
    post(client, "contact", "evt_4", {**first, "phone": "+1 555 0404"})
    run_due(connected)
    held = emulator.get("Customer", customer)
    assert held is not None and held["PrimaryPhone"]["FreeFormNumber"] == "+1 555 0404"
    assert "host contact c-1 has it already" in delivery(connected, "evt_2")["result"]
    assert "host contact c-1 writes it" in delivery(connected, "evt_3")["result"]
