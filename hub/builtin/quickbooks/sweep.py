"""QuickBooks → host: the change sweep.

Runs every ``poll_minutes`` and at once when Intuit's webhook says something changed. The first
sweep after connecting imports what is there (customers; invoices too with ``import_invoices``);
later ones read the change feed (CDC) from a saved cursor. Everything it learns is idempotent to
process again, so the cursor moves back a little for safety and a repeated webhook costs nothing.

CDC answers at most 1,000 objects, and Intuit does not say which it leaves out of a fuller
answer, so a full answer is never taken as all there is, nor as the oldest changes (moving the
cursor to its newest change would skip whatever was dropped before it). CDC takes no end time,
so a window cannot be split in time; it is split by entity (each answer has its own 1,000), and
an entity still full is read by a query on ``MetaData.LastUpdatedTime``, which pages without a
cap. Beyond CDC's 30 days there is only that query. A query shows no deletions: a deleted
invoice is found by asking QuickBooks for the ids of the invoices the mirror holds (customers
are never deleted in QuickBooks, only made inactive, which a query shows).

No loops: what the hub made is recognised by its link (or, if the link was never saved, by the
marker it wrote) and is not imported; a linked invoice is told to the host only when QuickBooks
shows a balance the host does not know, which the hub's own payments never cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from hub import Context
from hub.builtin.quickbooks import (
    connection,
    currencies,
    customers,
    links,
    mirror,
    paging,
    preview,
)
from hub.builtin.quickbooks.api import Api, calling, quote
from hub.builtin.quickbooks.models import QboConnection
from hub.builtin.quickbooks.settings import Settings
from hub.clock import iso, utcnow
from hub.events import Invoice

if TYPE_CHECKING:
    from hub import Context

PAGE = 1000  # CDC's most objects per answer, and a query's most per page
CDC_WINDOW = timedelta(days=29)  # CDC answers 30 days back; keep a day's margin
OVERLAP = timedelta(seconds=5)
# Payments too: one recorded or left unapplied (credit) moves its customer's Balance, which
# QuickBooks does not show as a change of the customer.
ENTITIES = ("Customer", "Invoice", "Payment")
IDS_PER_QUERY = 200  # ids named in one ``Id IN (...)``


def _cdc(api: Api, entities: Sequence[str], since: datetime) -> dict[str, list[dict[str, Any]]]:
    answer = api.qb.make_request("GET", f"{api.qb.api_url}/company/{api.realm_id}/cdc",
                                 params={"entities": ",".join(entities),
                                         "changedSince": iso(since)})
    out: dict[str, list[dict[str, Any]]] = {e: [] for e in entities}
    for response in (answer.get("CDCResponse") or [{}])[0].get("QueryResponse") or []:
        for entity in entities:
            out[entity] += response.get(entity, [])
    return out


def _changes(api: Api, ctx: Context,
             since: datetime) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """Every Customer, Invoice and Payment changed since ``since``, deleted ones included,
    and how they were read when it was not one answer of the change feed."""
    if utcnow() - since > CDC_WINDOW:
        return (_queried(api, ctx, since, ENTITIES),
                "older than the change feed's 30 days: read by LastUpdatedTime")
    both = _cdc(api, ENTITIES, since)
    if sum(len(found) for found in both.values()) < PAGE:
        return both, ""
    out: dict[str, list[dict[str, Any]]] = {}
    queried = []
    for entity in ENTITIES:
        alone = _cdc(api, (entity,), since)[entity]
        if len(alone) < PAGE:
            out[entity] = alone
        else:
            out[entity] = _queried(api, ctx, since, (entity,))[entity]
            queried.append(entity)
    how = "the change feed was full (1,000): read again per entity"
    if queried:
        how += f", {' and '.join(queried)} by LastUpdatedTime"
    return out, how


def _queried(api: Api, ctx: Context, since: datetime,
             entities: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """What changed since ``since`` by query: current objects, paged without a cap, and for
    invoices those deleted meanwhile (a query does not show them)."""
    stamp = quote(iso(since))
    out = {}
    for entity in entities:
        active = " AND Active IN (true, false)" if entity == "Customer" else ""
        out[entity] = paging.every(api, entity, f"MetaData.LastUpdatedTime > {stamp}{active}")
    if "Invoice" in out:
        out["Invoice"] += _deleted_invoices(api, ctx)
    return out


def _ids(api: Api, where: str, start: int = 1) -> list[str]:
    answer = api.qb.query(f"SELECT Id FROM Invoice{where} ORDERBY Id STARTPOSITION {start} "
                          f"MAXRESULTS {PAGE}")
    return [str(i["Id"]) for i in (answer.get("QueryResponse") or {}).get("Invoice", [])]


def _deleted_invoices(api: Api, ctx: Context) -> list[dict[str, Any]]:
    """The mirror's invoices that QuickBooks no longer has, as CDC would show them deleted:
    every invoice id is listed (a read per 1,000), and any the list lacks is asked after by
    id, since a deletion while the list was paged may have moved a live one past a page."""
    with ctx.reading() as conn:  # before the list: an invoice mirrored later is newer
        mirrored = set(conn.execute(select(mirror.INVOICES.c.qbo_id)).scalars())
    if not mirrored:
        return []
    present: set[str] = set()
    while True:
        page = _ids(api, "", len(present) + 1)
        present.update(page)
        if len(page) < PAGE:
            break
    missing = sorted(mirrored - present, key=lambda i: (len(i), i))
    for n in range(0, len(missing), IDS_PER_QUERY):
        chunk = missing[n:n + IDS_PER_QUERY]
        present.update(_ids(api, f" WHERE Id IN ({', '.join(quote(i) for i in chunk)})"))
    return [{"domain": "QBO", "status": "Deleted", "Id": i} for i in missing if i not in present]


def warnings(ctx: Context) -> list[str]:
    """What the operator should know of the sweep: a cursor past CDC's reach."""
    cursor = hub_connection_cursor(ctx)
    if cursor is None or utcnow() - cursor <= CDC_WINDOW:
        return []
    return [f"QuickBooks was last swept on {cursor:%Y-%m-%d}, longer ago than the 30 days its "
            "change feed keeps: the next sweep reads what changed by LastUpdatedTime, which "
            "shows no deletions. Invoices deleted meanwhile are found by their ids (a read per "
            "1,000 invoices); other records deleted in QuickBooks meanwhile are not seen"]


def run(ctx: Context) -> None:
    settings = ctx.settings
    assert isinstance(settings, Settings)
    started = utcnow()
    if connection.first_import_held(ctx):
        ctx.note("the first import waits for the operator: Import now or Review first on the "
                 "QuickBooks card, or `hub quickbooks import [--preview]`")
        return
    with calling(ctx) as api:
        home = currencies.home(api.company)
        connection_row = hub_connection_cursor(ctx)
        how = ""
        if connection_row is None:
            customers = paging.every(api, "Customer", "Active IN (true, false)")
            invoices = paging.every(api, "Invoice")
            moved: list[dict[str, Any]] = []
            first = True
        else:
            changed, how = _changes(api, ctx, connection_row - OVERLAP)
            customers, invoices = changed["Customer"], changed["Invoice"]
            moved = _balances_moved(api, ctx, customers, invoices, changed["Payment"])
            first = False
    # Before the mirror takes the moved invoices: it still says whose they were.
    merged = [] if first else _merges(ctx, customers, invoices)
    for gone, kept in merged:
        links.relink(ctx, "customer", gone, kept)
        ctx.note(f"customer {gone} was merged into customer {kept} in QuickBooks: the host's "
                 "contact is linked to the customer kept")
    mirror.mirror_customers(ctx, customers + moved, home)
    mirror.mirror_invoices(ctx, invoices)
    imported = told = 0
    hosts = preview.host_contacts_by_email(ctx) if customers else {}
    for n, c in enumerate(customers, start=1):
        imported += _customer(ctx, settings, c, hosts, customers, home)
        ctx.progress(n, len(customers), "customers looked at")
    for n, i in enumerate(invoices, start=1):
        told += _invoice(ctx, settings, i)
        ctx.progress(n, len(invoices), "invoices looked at")
    table = QboConnection.__table__  # type: ignore[attr-defined]
    ctx.write(lambda conn: conn.execute(update(table).where(
        table.c.id == 1).values(cdc_cursor=started, last_sync_at=utcnow())))
    ctx.note(f"{'first import' if first else 'sweep'}: {len(customers)} customers, "
             f"{len(invoices)} invoices seen; {imported} contacts imported, {told} invoice "
             "changes told to the host" + (f" ({how})" if how else ""))


def _balances_moved(api: Api, ctx: Context, customers: list[dict[str, Any]],
                    invoices: list[dict[str, Any]],
                    payments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The customers whose invoices or payments changed, read again for their Balance
    (QuickBooks moves a customer's Balance without changing the customer, so the change feed
    does not show it); those the feed showed already are not. A deleted invoice's customer is
    the mirror's; a deleted payment names none, and its customer is read again only when
    something else of hers changes."""
    whose = {str((t.get("CustomerRef") or {}).get("value")) for t in invoices + payments
             if t.get("status") != "Deleted" and (t.get("CustomerRef") or {}).get("value")}
    gone = [str(t["Id"]) for t in invoices if t.get("status") == "Deleted"]
    if gone:
        with ctx.reading() as conn:
            whose.update(str(c) for c in conn.execute(
                select(mirror.INVOICES.c.customer_id)
                .where(mirror.INVOICES.c.qbo_id.in_(gone))).scalars())
    ids = sorted(whose - {str(c["Id"]) for c in customers}, key=lambda i: (len(i), i))
    found: list[dict[str, Any]] = []
    for n in range(0, len(ids), IDS_PER_QUERY):
        chunk = ", ".join(quote(i) for i in ids[n:n + IDS_PER_QUERY])
        found += paging.every(api, "Customer", f"Id IN ({chunk}) AND Active IN (true, false)")
    return found


def hub_connection_cursor(ctx: Context) -> datetime | None:
    from hub.builtin.quickbooks.connection import row

    current = row(ctx)
    return current["cdc_cursor"] if current else None


def _merges(ctx: Context, customers: list[dict[str, Any]],
            invoices: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The merges of linked customers the change feed shows, as (merged away, kept).

    Intuit documents no CDC entry of its own for a merge (the webhook says ``Merge``; a
    missed or late webhook leaves only the feed): the customer merged away is made inactive and
    every transaction it had names the customer kept, so a linked customer now inactive whose
    mirrored invoices all appear, all naming one other customer, was merged into that one."""
    inactive = {str(c["Id"]) for c in customers
                if c.get("status") != "Deleted" and c.get("Active") is False}
    if not inactive:
        return []
    now = {str(i["Id"]): str((i.get("CustomerRef") or {}).get("value"))
           for i in invoices if i.get("status") != "Deleted"}
    with ctx.reading() as conn:
        before = conn.execute(select(mirror.INVOICES.c.qbo_id, mirror.INVOICES.c.customer_id)
                              .where(mirror.INVOICES.c.customer_id.in_(inactive))).all()
    held: dict[str, set[str]] = {}  # customer → whose its invoices are now ("": not in the feed)
    for qbo_id, was in before:
        held.setdefault(str(was), set()).add(now.get(str(qbo_id), ""))
    return [(gone, next(iter(kept))) for gone, kept in held.items()
            if len(kept) == 1 and "" not in kept and not kept & inactive
            and links.by_qbo_id(ctx, "customer", gone) is not None]


def _customer(ctx: Context, settings: Settings, customer: dict[str, Any],
              hosts: dict[str, str], seen: list[dict[str, Any]], home: str) -> int:
    if customer.get("status") == "Deleted":
        return 0
    qbo_id = str(customer["Id"])
    if links.by_qbo_id(ctx, "customer", qbo_id):
        return 0  # the hub's own, or already imported
    ours = links.marked(customer.get("Notes"))
    if ours:  # made by the hub, link lost: restore it rather than import it back
        if links.get(ctx, "customer", ours) is None:
            # Unless the contact is linked to another customer now: this one was merged into
            # it, and linking it back would bring the merged-away customer to life again.
            links.put(ctx, "customer", ours, qbo_id, sync_token=None, digest=None)
        return 0
    contact = preview.host_contact_key(ctx, customer, hosts, seen, home)
    if contact:
        # The host has this client already: linked, not imported as a second contact. With no
        # digest, the host's next word on the contact brings the customer up to date.
        links.put(ctx, "customer", contact, qbo_id, sync_token=None, digest=None)
        return 0
    external_id = f"qbo:{qbo_id}"
    links.put(ctx, "customer", external_id, qbo_id,
              sync_token=str(customer.get("SyncToken")), digest=None, origin="qbo")
    if not settings.import_contacts:
        return 0
    ctx.notify_host("contact.imported", mirror.contact_from(customer, external_id),
                    key=f"customer:{qbo_id}")
    return 1


def _contact_for(ctx: Context, customer_id: str) -> Any:
    """The invoice's contact as the host knows it, from the mirror: no call to QuickBooks."""
    link = links.by_qbo_id(ctx, "customer", customer_id)
    # A contact's customer in another currency is linked per currency: the contact is the same.
    external_id = customers.contact_id(link["external_id"]) if link else f"qbo:{customer_id}"
    known = mirror.customer(ctx, customer_id) or {}
    return mirror.contact_from({"Id": customer_id, "DisplayName": known.get("display_name"),
                                "PrimaryEmailAddr": {"Address": known.get("email")}},
                               external_id)


def _invoice(ctx: Context, settings: Settings, qbo: dict[str, Any]) -> int:
    qbo_id = str(qbo["Id"])
    link = links.by_qbo_id(ctx, "invoice", qbo_id)
    if qbo.get("status") == "Deleted":
        if link is None:
            return 0
        # Deleted by hand in QuickBooks: the host is told (once: the key names the invoice),
        # and nothing is written back; an operator's reconcile fix creates it again.
        links.mark_deleted(ctx, "invoice", qbo_id)
        return int(ctx.notify_host("invoice.deleted_in_quickbooks", {
            "external_id": link["external_id"], "quickbooks_id": qbo_id},
            key=f"invoice:{qbo_id}:deleted"))
    if link is None:
        ours = links.marked(qbo.get("PrivateNote"))
        if ours:
            links.put(ctx, "invoice", ours, qbo_id, sync_token=None, digest=None)
            return 0
        if not settings.import_invoices:
            return 0
        external_id = f"qbo:{qbo_id}"
        contact = _contact_for(ctx, str(qbo["CustomerRef"]["value"]))
        invoice = mirror.invoice_from(qbo, external_id, contact)
        links.put(ctx, "invoice", external_id, qbo_id, sync_token=None, digest=None,
                  origin="qbo", balance=str(invoice.balance))
        ctx.notify_host("invoice.imported", invoice, key=f"invoice:{qbo_id}")
        return 1
    known = link["balance"]
    now = Decimal(str(qbo.get("Balance", "0")))
    if known is None or Decimal(known) == now:
        return 0  # nothing the host does not know (the hub's own payments end here)
    if links.older(link, qbo):
        # Read while the hub was changing it (an invoice made again and its payment applied,
        # an undo's payments deleted): the hub's own write since is what stands.
        return 0
    contact = _contact_for(ctx, str(qbo["CustomerRef"]["value"]))
    invoice = mirror.invoice_from(qbo, link["external_id"], contact)
    key = f"invoice:{qbo_id}:{qbo.get('SyncToken')}"
    if link["voided_at"] is not None:
        if invoice.status == "void":
            links.set_balance(ctx, "invoice", link["external_id"], str(now))
        # The hub's own void (the host's, or an undo), or a version from before it: Intuit
        # changes nothing of a voided invoice, so nothing the host does not know.
        return 0
    if invoice.status != "void" and _edited_not_paid(ctx, link, invoice, Decimal(known)):
        # Its lines or total were changed by hand, and nothing was paid: that is no payment
        # news. Reconcile shows it (invoice_differs): put back, or accepted and told as
        # invoice.changed_in_quickbooks; the balance the host knows stays as it was.
        return 0
    # A void is a change of status, told as the contract says ("status": "void"); it zeroes
    # the balance, but nothing was paid, so the other plugins hear no invoice.paid.
    ctx.notify_host("invoice.payment_updated", invoice, key=key)
    if now < Decimal(known) and invoice.status != "void":
        # Paid (in part) in QuickBooks: the other plugins hear it as a payment.
        ctx.publish("invoice.paid", invoice, key=key)
    links.set_balance(ctx, "invoice", link["external_id"], str(now))
    return 1


def _edited_not_paid(ctx: Context, link: dict[str, Any], invoice: Invoice,
                     known: Decimal) -> bool:
    """The host's own invoice whose total QuickBooks changed while what is paid stayed what
    the host knows (its total less the balance it knows)."""
    if link["origin"] == "qbo":
        return False  # imported: the host knows it only through what the hub tells it
    stated = ctx.last_stated([f"invoice:{link['external_id']}"]).get(
        f"invoice:{link['external_id']}")
    host = stated.value if stated is not None else None
    if not isinstance(host, Invoice) or host.status == "void":
        return False
    return (invoice.computed_total != host.computed_total
            and invoice.paid == host.computed_total - known)
