"""QuickBooks → host: the change sweep.

Runs every ``poll_minutes`` and at once when Intuit's webhook says something changed. The first
sweep after connecting imports what is there (customers; invoices too with ``import_invoices``);
later ones read the change feed (CDC) from a saved cursor, 1,000 objects a call, or beyond CDC's
30 days a query on ``MetaData.LastUpdatedTime``. Everything it learns is idempotent to process
again, so the cursor moves back a little for safety and a repeated webhook costs nothing.

No loops: what the hub made is recognised by its link (or, if the link was never saved, by the
marker it wrote) and is not imported; a linked invoice is told to the host only when QuickBooks
shows a balance the host does not know, which the hub's own payments never cause.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from hub.clock import as_utc, iso, utcnow
from hub.context import Context
from plugins.quickbooks import customers, links, mirror, paging
from plugins.quickbooks.api import Api, calling, quote
from plugins.quickbooks.models import QboConnection
from plugins.quickbooks.settings import Settings

if TYPE_CHECKING:
    from hub.hub import Hub

PAGE = 1000  # CDC's most changes per answer
CDC_WINDOW = timedelta(days=29)  # CDC answers 30 days back; keep a day's margin
OVERLAP = timedelta(seconds=5)
ENTITIES = ("Customer", "Invoice")


def _changes(api: Api, since: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every Customer and Invoice changed since ``since``, deleted ones included."""
    out: dict[str, list[dict[str, Any]]] = {e: [] for e in ENTITIES}
    if utcnow() - since > CDC_WINDOW:
        stamp = quote(iso(since))
        for entity in ENTITIES:
            active = " AND Active IN (true, false)" if entity == "Customer" else ""
            out[entity] = paging.every(api, entity, f"MetaData.LastUpdatedTime > {stamp}{active}")
        return out
    cursor = since
    while True:
        answer = api.qb.make_request("GET", f"{api.qb.api_url}/company/{api.realm_id}/cdc",
                                     params={"entities": ",".join(ENTITIES),
                                             "changedSince": iso(cursor)})
        count = 0
        latest = cursor
        for response in (answer.get("CDCResponse") or [{}])[0].get("QueryResponse") or []:
            for entity in ENTITIES:
                for obj in response.get(entity, []):
                    out[entity].append(obj)
                    count += 1
                    latest = max(latest, _updated(obj) or latest)
        # A full page means more may wait: ask again from the newest change seen.
        if count < PAGE or latest <= cursor:
            return out
        cursor = latest


def _updated(obj: dict[str, Any]) -> datetime | None:
    stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime")
    if not stamp:
        return None
    return as_utc(datetime.fromisoformat(stamp.replace("Z", "+00:00")))


def run(ctx: Context) -> None:
    hub = ctx.hub
    settings = ctx.settings
    assert isinstance(settings, Settings)
    started = utcnow()
    with calling(hub) as api:
        connection_row = hub_connection_cursor(hub)
        if connection_row is None:
            customers = paging.every(api, "Customer", "Active IN (true, false)")
            invoices = paging.every(api, "Invoice")
            first = True
        else:
            changed = _changes(api, connection_row - OVERLAP)
            customers, invoices = changed["Customer"], changed["Invoice"]
            first = False
    mirror.mirror_customers(hub, customers)
    mirror.mirror_invoices(hub, invoices)
    imported = told = 0
    for n, c in enumerate(customers, start=1):
        imported += _customer(ctx, settings, c)
        ctx.progress(n, len(customers), "customers looked at")
    for n, i in enumerate(invoices, start=1):
        told += _invoice(ctx, settings, i)
        ctx.progress(n, len(invoices), "invoices looked at")
    hub.write(lambda conn: conn.execute(update(QboConnection.__table__).where(
        QboConnection.__table__.c.id == 1).values(cdc_cursor=started, last_sync_at=utcnow())))
    ctx.note(f"{'first import' if first else 'sweep'}: {len(customers)} customers, "
             f"{len(invoices)} invoices seen; {imported} contacts imported, {told} invoice "
             "changes told to the host")


def hub_connection_cursor(hub: Hub) -> datetime | None:
    from plugins.quickbooks.connection import row

    current = row(hub)
    return current["cdc_cursor"] if current else None


def _customer(ctx: Context, settings: Settings, customer: dict[str, Any]) -> int:
    if customer.get("status") == "Deleted":
        return 0
    qbo_id = str(customer["Id"])
    if links.by_qbo_id(ctx.hub, "customer", qbo_id):
        return 0  # the hub's own, or already imported
    ours = links.marked(customer.get("Notes"))
    if ours:  # made by the hub, link lost: restore it rather than import it back
        links.put(ctx.hub, "customer", ours, qbo_id, sync_token=None, digest=None)
        return 0
    external_id = f"qbo:{qbo_id}"
    links.put(ctx.hub, "customer", external_id, qbo_id,
              sync_token=str(customer.get("SyncToken")), digest=None, origin="qbo")
    if not settings.import_contacts:
        return 0
    ctx.notify_host("contact.imported", mirror.contact_from(customer, external_id),
                    key=f"customer:{qbo_id}")
    return 1


def _contact_for(ctx: Context, customer_id: str) -> Any:
    """The invoice's contact as the host knows it, from the mirror: no call to QuickBooks."""
    link = links.by_qbo_id(ctx.hub, "customer", customer_id)
    # A contact's customer in another currency is linked per currency: the contact is the same.
    external_id = customers.contact_id(link["external_id"]) if link else f"qbo:{customer_id}"
    known = mirror.customer(ctx.hub, customer_id) or {}
    return mirror.contact_from({"Id": customer_id, "DisplayName": known.get("display_name"),
                                "PrimaryEmailAddr": {"Address": known.get("email")}},
                               external_id)


def _invoice(ctx: Context, settings: Settings, qbo: dict[str, Any]) -> int:
    if qbo.get("status") == "Deleted":
        return 0
    qbo_id = str(qbo["Id"])
    link = links.by_qbo_id(ctx.hub, "invoice", qbo_id)
    if link is None:
        ours = links.marked(qbo.get("PrivateNote"))
        if ours:
            links.put(ctx.hub, "invoice", ours, qbo_id, sync_token=None, digest=None)
            return 0
        if not settings.import_invoices:
            return 0
        external_id = f"qbo:{qbo_id}"
        contact = _contact_for(ctx, str(qbo["CustomerRef"]["value"]))
        invoice = mirror.invoice_from(qbo, external_id, contact)
        links.put(ctx.hub, "invoice", external_id, qbo_id, sync_token=None, digest=None,
                  origin="qbo", balance=str(invoice.balance))
        ctx.notify_host("invoice.imported", invoice, key=f"invoice:{qbo_id}")
        return 1
    known = link["balance"]
    now = Decimal(str(qbo.get("Balance", "0")))
    if known is None or Decimal(known) == now:
        return 0  # nothing the host does not know (the hub's own payments end here)
    contact = _contact_for(ctx, str(qbo["CustomerRef"]["value"]))
    invoice = mirror.invoice_from(qbo, link["external_id"], contact)
    key = f"invoice:{qbo_id}:{qbo.get('SyncToken')}"
    ctx.notify_host("invoice.payment_updated", invoice, key=key)
    if now < Decimal(known):
        # Paid (in part) in QuickBooks: the other plugins hear it as a payment.
        ctx.publish("invoice.paid", invoice, key=key)
    links.set_balance(ctx.hub, "invoice", link["external_id"], str(now))
    return 1
