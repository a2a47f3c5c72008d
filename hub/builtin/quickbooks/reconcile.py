"""Reconcile: what the host last said of each linked contact, invoice and payment
(``ctx.last_stated``) against what QuickBooks holds now, as findings that each name the host
object, what the host says, what QuickBooks says, and the fix.

QuickBooks is read as few times as it can be: the linked objects are asked for by id, 30 ids
to a query (``Id IN (...)``) and 30 queries to a batch call, so 1,000 invoices to 100 customers,
half of them paid through the hub, cost 55 metered reads in 2 calls (each query in a batch is
counted as a read, as ``client.reads_in`` counts them; bench/reconcile_reads.py). A deleted
invoice or sales receipt is one a query by its id does not answer; a voided one is zeroed, as
Intuit voids. Nothing is written here: the fixes
are applied by ``reconcile_fixes``, as deliveries; the comparisons are ``reconcile_checks``,
the findings ``reconcile_findings``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from hub import Context
from hub.builtin.quickbooks import batch, links, payments
from hub.builtin.quickbooks import reconcile_checks as checks
from hub.builtin.quickbooks.api import Api, calling, quote
from hub.builtin.quickbooks.customers import CURRENCY_MARK, contact_id
from hub.builtin.quickbooks.reconcile_findings import TELLS_HOST, Progress, Report
from hub.events import Contact, HostStatement, Invoice, Payment

IDS_PER_QUERY = 30  # ids in one query's IN list: short, as marked_invoices keeps them


def _all_links(ctx: Context, kinds: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
    table = links.TABLE
    with ctx.reading() as conn:
        rows = conn.execute(select(table).where(table.c.kind.in_(list(kinds)))).mappings()
        return {(row["kind"], row["external_id"]): dict(row) for row in rows}


def read_by_id(api: Api, wanted: dict[str, list[str]], report: Report,
               progress: Progress) -> dict[str, dict[str, dict[str, Any]]]:
    """Each entity's objects by id, ``IDS_PER_QUERY`` ids to a query, 30 queries to a batch
    call (reads: no requestid, or QuickBooks could answer a later run with this one's
    answer). An id not answered is not in QuickBooks (deleted)."""
    queries: list[tuple[str, batch.Query]] = []
    for entity, ids in wanted.items():
        unique = sorted(set(ids), key=lambda i: (len(i), i))
        active = " AND Active IN (true, false)" if entity == "Customer" else ""
        for start in range(0, len(unique), IDS_PER_QUERY):
            chunk = ", ".join(quote(i) for i in unique[start:start + IDS_PER_QUERY])
            queries.append((entity, batch.Query(
                f"q{len(queries)}", f"SELECT * FROM {entity} WHERE Id IN ({chunk}){active} "
                f"MAXRESULTS {IDS_PER_QUERY}")))
    found: dict[str, dict[str, dict[str, Any]]] = {entity: {} for entity in wanted}
    total = sum(len(set(ids)) for ids in wanted.values())
    done = 0
    for start in range(0, len(queries), batch.MAX_ITEMS):
        part = queries[start:start + batch.MAX_ITEMS]
        answers = batch.send(api, batch.request_body([q for _, q in part]), None)
        report.calls += 1
        report.reads += len(part)
        for entity, query in part:
            answer = answers[query.bid]
            if answer.fault is not None:
                raise answer.fault
            for obj in (answer.value or {}).get(entity, []):
                found[entity][str(obj["Id"])] = obj
            done += query.text.count("'") // 2
        progress(min(done, total), total, "reconcile: QuickBooks objects read")
    return found


@dataclass
class _Held:
    """What the host holds, gathered from its statements."""

    invoices: dict[str, tuple[HostStatement, Invoice]] = field(default_factory=dict)
    payments: dict[str, tuple[HostStatement, Payment]] = field(default_factory=dict)
    contacts: dict[str, tuple[HostStatement, Contact]] = field(default_factory=dict)


def _held(ctx: Context, since: date | None) -> _Held:
    subjects = [s for kind in ("invoice", "payment", "contact") for s in ctx.host_subjects(kind)]
    held = _Held()
    for subject, stated in ctx.last_stated(subjects).items():
        if since is not None and _day(stated.occurred_at) < since:
            continue
        value = stated.value
        if isinstance(value, Invoice) and subject.startswith("invoice:"):
            held.invoices[value.external_id] = (stated, value)
        elif isinstance(value, Payment) and subject.startswith("payment:"):
            held.payments[value.external_id] = (stated, value)
        elif isinstance(value, Contact) and subject.startswith("contact:"):
            held.contacts[value.external_id] = (stated, value)
    # The contacts the host named on its invoices and payments, where it sent none itself.
    named: list[tuple[HostStatement, Invoice | Payment]] = [
        *held.invoices.values(), *held.payments.values()]
    for stated, value in named:
        held.contacts.setdefault(value.contact.external_id, (stated, value.contact))
    return held


def _day(moment: Any) -> date:
    """The day of a statement's ``occurred_at`` (the core hands it as stored: an ISO string on
    SQLite, though typed a datetime)."""
    if isinstance(moment, str):
        return date.fromisoformat(moment[:10])
    return moment.date() if isinstance(moment, datetime) else date.fromisoformat(str(moment)[:10])


def run(ctx: Context, since: date | None = None, progress: Progress | None = None) -> Report:
    """Compare, and answer the findings (and what was checked, and what it cost)."""
    shown = progress or (lambda _done, _total, _what: None)
    report = Report(since=since)
    held = _held(ctx, since)
    known = _all_links(ctx, ("invoice", "customer", "sales_receipt", payments.KIND))
    # The hub's payments by invoice (linked ``<invoice>@<balance>``).
    paid_by_hub: dict[str, list[str]] = {}
    for (kind, key), link in known.items():
        if kind == payments.KIND:
            paid_by_hub.setdefault(key.rpartition("@")[0], []).append(str(link["qbo_id"]))
    invoices = {x: (s, v, known[("invoice", x)]) for x, (s, v) in held.invoices.items()
                if ("invoice", x) in known and known[("invoice", x)]["origin"] != "qbo"}
    receipts = {x: (s, v, known[("sales_receipt", x)]) for x, (s, v) in held.payments.items()
                if ("sales_receipt", x) in known}
    customers: dict[str, tuple[HostStatement, Contact, dict[str, Any]]] = {}
    for (kind, key), link in known.items():
        if kind == "customer" and link["origin"] != "qbo" and contact_id(key) in held.contacts:
            stated, contact = held.contacts[contact_id(key)]
            customers[key] = (stated, contact, link)
    report.checked = {"invoices": len(invoices), "contacts": len(customers),
                      "payments": len(receipts)}
    wanted = {"Invoice": [str(i[2]["qbo_id"]) for i in invoices.values()],
              "Customer": [str(c[2]["qbo_id"]) for c in customers.values()],
              "SalesReceipt": [str(r[2]["qbo_id"]) for r in receipts.values()],
              "Payment": [p for x in invoices for p in paid_by_hub.get(x, [])]}
    wanted = {entity: ids for entity, ids in wanted.items() if ids}
    if not wanted:
        shown(0, 0, "reconcile: nothing linked to check")
        return report
    with calling(ctx) as api:
        found = read_by_id(api, wanted, report, shown)
    qbo_invoices = found.get("Invoice", {})
    qbo_customers = found.get("Customer", {})
    # A customer merged away keeps nothing: its invoices name the one kept.
    survivors = _survivors(invoices, known, qbo_invoices)
    for key, (stated, contact, link) in customers.items():
        checks.customer(report, key, stated, contact, link, qbo_customers.get(str(link["qbo_id"])),
                  survivors.get(str(link["qbo_id"])))
    merged = {f.detail["from"]: f.detail["into"] for f in report.findings
              if f.kind == "customer_merged"}
    qbo_payments = found.get("Payment", {})
    for external_id, (stated, invoice, link) in invoices.items():
        customer = known.get(("customer", _customer_key(invoice, known)))
        standing = [qbo_payments[p] for p in paid_by_hub.get(external_id, [])
                    if p in qbo_payments and payments.unapplied(qbo_payments[p]) > 0]
        checks.invoice(report, stated, invoice, link, qbo_invoices.get(str(link["qbo_id"])),
                 str(customer["qbo_id"]) if customer else None, merged, standing)
    for _external_id, (stated, payment, link) in receipts.items():
        checks.receipt(report, stated, payment, link,
                 found.get("SalesReceipt", {}).get(str(link["qbo_id"])))
    told = _told(ctx)
    report.findings = [f for f in report.findings if f.id not in told]
    return report


def _customer_key(invoice: Invoice | Payment, known: dict[tuple[str, str], Any]) -> str:
    """The customer link an invoice's contact has in the invoice's currency."""
    foreign = f"{invoice.contact.external_id}{CURRENCY_MARK}{invoice.currency}"
    if invoice.currency and ("customer", foreign) in known:
        return foreign
    return invoice.contact.external_id


def _survivors(invoices: dict[str, Any], known: dict[tuple[str, str], Any],
               qbo_invoices: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Linked customer id → (the customer its invoices name now, its name)."""
    out: dict[str, tuple[str, str]] = {}
    for _stated, invoice, link in invoices.values():
        held = qbo_invoices.get(str(link["qbo_id"]))
        customer = known.get(("customer", _customer_key(invoice, known)))
        if held is None or customer is None:
            continue
        ref = held.get("CustomerRef") or {}
        if str(ref.get("value")) != str(customer["qbo_id"]):
            out.setdefault(str(customer["qbo_id"]), (str(ref.get("value")),
                                                     str(ref.get("name") or "")))
    return out


def _told(ctx: Context) -> set[str]:
    """Findings already settled without a write: told to the host, or QuickBooks' version
    accepted (their ids change when QuickBooks or the host changes the object)."""
    from hub.builtin.quickbooks.reconcile_store import FIXES

    with ctx.reading() as conn:
        rows = conn.execute(select(FIXES.c.finding_id, FIXES.c.kind, FIXES.c.action).where(
            FIXES.c.status == "done")).all()
    return {row.finding_id for row in rows
            if row.action == "accept" or row.kind in TELLS_HOST}
