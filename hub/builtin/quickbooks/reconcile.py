"""Reconcile: what the host last said of each linked contact, invoice and payment
(``ctx.last_stated``) against what QuickBooks holds now, as findings that each name the host
object, what the host says, what QuickBooks says, and the fix.

QuickBooks is read as few times as it can be: the linked objects are asked for by id, 30 ids
to a query (``Id IN (...)``) and 30 queries to a batch call, so 1,000 invoices to 100 customers
cost 38 metered reads in 2 calls (each query in a batch is counted as a read, as
``client.reads_in`` counts them). A deleted invoice or sales receipt is one a query by its id
does not answer; a voided one is zeroed, as Intuit voids. Nothing is written here: the fixes
are applied by ``reconcile_fixes``, as deliveries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hub import Context
from hub.builtin.quickbooks import batch, links, payments
from hub.builtin.quickbooks.api import Api, calling, quote
from hub.builtin.quickbooks.customers import CURRENCY_MARK, contact_id
from hub.events import Contact, HostStatement, Invoice, Payment

IDS_PER_QUERY = 30  # ids in one query's IN list: short, as marked_invoices keeps them

#: Every kind of finding, as ``--json`` names them under "kind".
KINDS = ("invoice_missing", "invoice_differs", "invoice_voided", "tax_drift", "payment_missing",
         "payment_extra", "payment_unapplied", "customer_inactive", "customer_merged")

#: Fixes that write nothing in QuickBooks and only tell the host: once told, the finding is
#: not shown again until QuickBooks or the host changes the object.
TELLS_HOST = frozenset({"invoice_voided", "payment_extra"})

Progress = Callable[[int, int, str], None]


@dataclass
class Finding:
    kind: str
    subject: str  # invoice:<external_id>, contact:<external_id>, payment:<external_id>
    host_says: str
    quickbooks_says: str
    fix: str  # what the fix does, in plain words
    safe: bool  # writes only what the host says or the hub itself wrote (or tells the host)
    quickbooks_id: str | None
    state: str  # what it rests on (QuickBooks' version, the host's event): part of its id
    accept: str | None = None  # the other way out (invoice_differs: accept QuickBooks')
    detail: dict[str, Any] = field(default_factory=dict)  # what the fix needs
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = hashlib.sha256("\x1f".join(
                (self.kind, self.subject, self.state)).encode()).hexdigest()[:32]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("state")
        return out


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    reads: int = 0  # metered reads (queries) made
    calls: int = 0  # batch calls made
    since: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "checked": self.checked, "reads": self.reads, "calls": self.calls,
                "findings": [f.as_json() for f in self.findings]}


def money(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))


def voided(qbo: dict[str, Any], host_total: Decimal) -> bool:
    """QuickBooks voids by zeroing every amount and noting "Voided" (Intuit prepends it to the
    memo); an invoice of the host's that totals 0 in QuickBooks while the host's does not is
    void too."""
    note = str(qbo.get("PrivateNote") or "")
    return money(qbo.get("TotalAmt")) == 0 and (note.startswith("Voided") or host_total != 0)


def _named(invoice: Invoice) -> str:
    number = f"#{invoice.number} " if invoice.number else ""
    return (f"invoice {number}({invoice.external_id}) of {invoice.computed_total} for "
            f"{invoice.contact.name}")


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
        _customer(report, key, stated, contact, link, qbo_customers.get(str(link["qbo_id"])),
                  survivors.get(str(link["qbo_id"])))
    merged = {f.detail["from"]: f.detail["into"] for f in report.findings
              if f.kind == "customer_merged"}
    qbo_payments = found.get("Payment", {})
    for external_id, (stated, invoice, link) in invoices.items():
        customer = known.get(("customer", _customer_key(invoice, known)))
        standing = [qbo_payments[p] for p in paid_by_hub.get(external_id, [])
                    if p in qbo_payments and payments.unapplied(qbo_payments[p]) > 0]
        _invoice(report, stated, invoice, link, qbo_invoices.get(str(link["qbo_id"])),
                 str(customer["qbo_id"]) if customer else None, merged, standing)
    for _external_id, (stated, payment, link) in receipts.items():
        _receipt(report, stated, payment, link,
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


def _customer(report: Report, key: str, stated: HostStatement, contact: Contact,
              link: dict[str, Any], qbo: dict[str, Any] | None,
              survivor: tuple[str, str] | None) -> None:
    if qbo is None or qbo.get("Active", True) is not False:
        return
    qbo_id = str(link["qbo_id"])
    subject = f"contact:{contact.external_id}"
    host = f"contact {contact.name} ({contact.external_id}) is QuickBooks customer {qbo_id}"
    state = f"{qbo.get('SyncToken')}|{stated.event_id}"
    if survivor is not None:
        into, name = survivor
        report.findings.append(Finding(
            "customer_merged", subject, host,
            f"customer {qbo_id} ({qbo.get('DisplayName')}) was merged into customer {into}"
            f"{f' ({name})' if name else ''}: it is inactive and its invoices are {into}'s now",
            f"link the contact to customer {into}, the one kept, and bring it up to date "
            "(no customer is created)", True, qbo_id, state,
            detail={"key": key, "from": qbo_id, "into": into,
                    "contact": contact.model_dump(mode="json", exclude_none=True)}))
        return
    report.findings.append(Finding(
        "customer_inactive", subject, host,
        f"customer {qbo_id} ({qbo.get('DisplayName')}) was made inactive",
        f"make customer {qbo_id} active again with the host's details (no customer is "
        "created)", True, qbo_id, state,
        detail={"key": key, "contact": contact.model_dump(mode="json", exclude_none=True)}))


def _invoice(report: Report, stated: HostStatement, invoice: Invoice, link: dict[str, Any],
             qbo: dict[str, Any] | None, customer_id: str | None,
             merged: dict[str, str], standing: list[dict[str, Any]]) -> None:
    """``standing``: the hub's payments for this invoice that stand unapplied, as credit."""
    subject = f"invoice:{invoice.external_id}"
    qbo_id = str(link["qbo_id"])
    host = f"{_named(invoice)}, {invoice.status}" + (
        f", {invoice.paid} paid" if invoice.paid else "")
    credit = sum((payments.unapplied(p) for p in standing), Decimal(0))
    theirs = ", ".join(f"Payment {p['Id']} ({payments.unapplied(p)})" for p in standing)
    left = (f"; the hub's {theirs} for it stands unapplied, as credit on the customer"
            if standing else "")
    if qbo is None:
        if invoice.status == "void":
            # Void in the host, gone from QuickBooks: nothing is owed either way.
            _left_over(report, subject, host, qbo_id, stated, standing, safe=False)
            return
        report.findings.append(Finding(
            "invoice_missing", subject, host,
            f"invoice {qbo_id} is not in QuickBooks: it was deleted there{left}",
            "create it again in QuickBooks (with the hub's marker, so it is found, not "
            "doubled)" + ("; the hub's payment is applied to it again, not recorded twice"
                          if standing else ""), True, qbo_id, f"missing|{stated.event_id}",
            detail={"deleted": qbo_id}))
        return
    token = f"{qbo.get('SyncToken')}|{stated.event_id}"
    total = money(qbo.get("TotalAmt"))
    if voided(qbo, invoice.computed_total):
        _left_over(report, subject, host, qbo_id, stated, standing, safe=False)
        if invoice.status == "void":
            return
        by = ("voided by the hub (an undo, or the host voided it before)"
              if link.get("voided_at") is not None else "voided in QuickBooks")
        report.findings.append(Finding(
            "invoice_voided", subject, host, f"invoice {qbo_id} was {by}: it is zeroed",
            "tell the host it is void in QuickBooks (invoice.payment_updated, status void); "
            "the hub never un-voids an invoice", True, qbo_id, token))
        return
    if invoice.status == "void":
        _left_over(report, subject, host, qbo_id, stated, standing, safe=False)
        report.findings.append(Finding(
            "invoice_differs", subject, f"{_named(invoice)}, void",
            f"invoice {qbo_id} stands in QuickBooks, {total} owed {money(qbo.get('Balance'))}",
            "void it in QuickBooks, as the host says", True, qbo_id, token))
        return
    changed = _differences(invoice, qbo, customer_id, merged)
    tax = money((qbo.get("TxnTaxDetail") or {}).get("TotalTax"))
    host_total = invoice.computed_total
    if total != host_total and not changed and (total - tax) in (
            host_total, host_total - invoice.tax_amount):
        report.findings.append(Finding(
            "tax_drift", subject, f"{host} (tax {invoice.tax_amount})",
            f"invoice {qbo_id} totals {total}, tax {tax}: QuickBooks worked out the tax "
            "again (automated sales tax)",
            "put back the host's version (its tax as the host worked it out)", True, qbo_id,
            token, accept="accept QuickBooks' total and tell the host "
            "(invoice.changed_in_quickbooks)"))
    elif total != host_total or changed:
        if total != host_total:
            changed.append(f"total {total} (the host's {host_total})")
        report.findings.append(Finding(
            "invoice_differs", subject, host,
            f"invoice {qbo_id} was changed in QuickBooks: " + "; ".join(changed),
            "put back the host's version", True, qbo_id, token,
            accept="accept QuickBooks' version and tell the host "
            "(invoice.changed_in_quickbooks)"))
    if total != host_total:
        return  # the put-back settles what is paid, the hub's standing payments first
    paid_in_qbo = total - money(qbo.get("Balance"))
    if paid_in_qbo < invoice.paid:
        missing = invoice.paid - paid_in_qbo
        fix = (f"apply the hub's {theirs} to it again" if standing else "")
        if missing > credit:
            fix += (", then " if fix else "") + (
                f"record the missing payment of {missing - credit}")
        report.findings.append(Finding(
            "payment_missing", subject, host,
            f"invoice {qbo_id} shows {paid_in_qbo} paid{left}", fix, True, qbo_id, token))
        return
    if paid_in_qbo > invoice.paid:
        report.findings.append(Finding(
            "payment_extra", subject, host,
            f"invoice {qbo_id} shows {paid_in_qbo} paid, {paid_in_qbo - invoice.paid} "
            "more than the host knows of",
            "tell the host what QuickBooks shows (invoice.payment_updated); the hub never "
            "deletes money it did not write", True, qbo_id, token))
    _left_over(report, subject, host, qbo_id, stated, standing, safe=True)


def _left_over(report: Report, subject: str, host: str, qbo_id: str, stated: HostStatement,
               standing: list[dict[str, Any]], *, safe: bool) -> None:
    """The hub's payments left as credit where the invoice needs none of them: paid without
    them (safe to delete: the hub's own money, recorded twice), or void (a refund, or credit
    for another invoice, is the operator's call)."""
    if not standing:
        return
    # Only a payment applied to nothing at all is the hub's to delete.
    safe = safe and not any(payments.invoices_paid(p) for p in standing)
    credit = sum((payments.unapplied(p) for p in standing), Decimal(0))
    theirs = ", ".join(f"Payment {p['Id']} ({payments.unapplied(p)})" for p in standing)
    report.findings.append(Finding(
        "payment_unapplied", subject, host,
        f"the hub's {theirs} for invoice {qbo_id} stands unapplied: {credit} of credit on the "
        "customer" + (", though the invoice is paid without it" if safe else ""),
        "delete the hub's left-over payment (applied to nothing, recorded by the hub)" if safe
        else "apply it to another invoice, or refund it, in QuickBooks by hand", safe, qbo_id,
        "|".join([stated.event_id, *(f"{p['Id']}:{p.get('SyncToken')}" for p in standing)]),
        detail={"payments": [{"id": str(p["Id"]), "sync_token": str(p.get("SyncToken"))}
                             for p in standing]}))


def _differences(invoice: Invoice, qbo: dict[str, Any], customer_id: str | None,
                 merged: dict[str, str]) -> list[str]:
    out = []
    ref = str((qbo.get("CustomerRef") or {}).get("value"))
    if customer_id and ref != customer_id and merged.get(customer_id) != ref:
        out.append(f"customer {ref} (the host's is customer {customer_id})")
    if str(qbo.get("TxnDate") or "") != invoice.issue_date.isoformat():
        out.append(f"date {qbo.get('TxnDate')} (the host's {invoice.issue_date})")
    if invoice.due_date and str(qbo.get("DueDate") or "") != invoice.due_date.isoformat():
        out.append(f"due {qbo.get('DueDate')} (the host's {invoice.due_date})")
    if invoice.number and str(qbo.get("DocNumber") or "") != invoice.number:
        out.append(f"number {qbo.get('DocNumber')} (the host's {invoice.number})")
    items = [line for line in qbo.get("Line") or []
             if line.get("DetailType") == "SalesItemLineDetail"]
    theirs = [(str(line.get("Description") or ""),
               Decimal(str((line.get("SalesItemLineDetail") or {}).get("Qty", 1))))
              for line in items]
    ours = [((line.description or "")[:4000], line.quantity) for line in invoice.lines]
    if len(theirs) != len(ours):
        out.append(f"{len(theirs)} lines (the host's {len(ours)})")
    elif theirs != ours:
        changed = [str(n) for n, (a, b) in enumerate(zip(theirs, ours, strict=True), 1)
                   if a != b]
        out.append(f"line {', '.join(changed)} (description or quantity)")
    return out


def _receipt(report: Report, stated: HostStatement, payment: Payment, link: dict[str, Any],
             qbo: dict[str, Any] | None) -> None:
    subject = f"payment:{payment.external_id}"
    qbo_id = str(link["qbo_id"])
    host = (f"payment {payment.external_id} of {payment.amount} from {payment.contact.name}, "
            f"recorded as sales receipt {qbo_id}")
    if qbo is None:
        report.findings.append(Finding(
            "payment_missing", subject, host,
            f"sales receipt {qbo_id} is not in QuickBooks: it was deleted there",
            "record it again as a new sales receipt", True, qbo_id,
            f"missing|{stated.event_id}", detail={"deleted": qbo_id}))
        return
    total = money(qbo.get("TotalAmt"))
    if total < payment.amount:
        report.findings.append(Finding(
            "payment_missing", subject, host,
            f"sales receipt {qbo_id} comes to {total}"
            + (" (voided)" if total == 0 else ""),
            "fix it in QuickBooks by hand: the hub does not change a receipt someone edited",
            False, qbo_id, f"{qbo.get('SyncToken')}|{stated.event_id}"))
    elif total > payment.amount:
        report.findings.append(Finding(
            "payment_extra", subject, host, f"sales receipt {qbo_id} comes to {total}",
            "fix it in QuickBooks by hand: the hub never takes money off a receipt", False,
            qbo_id, f"{qbo.get('SyncToken')}|{stated.event_id}"))


def _told(ctx: Context) -> set[str]:
    """Findings already settled without a write: told to the host, or QuickBooks' version
    accepted (their ids change when QuickBooks or the host changes the object)."""
    from hub.builtin.quickbooks.reconcile_store import FIXES

    with ctx.reading() as conn:
        rows = conn.execute(select(FIXES.c.finding_id, FIXES.c.kind, FIXES.c.action).where(
            FIXES.c.status == "done")).all()
    return {row.finding_id for row in rows
            if row.action == "accept" or row.kind in TELLS_HOST}


def lines(report: Report) -> list[str]:
    """The report as the command prints it."""
    checked = report.checked
    out = [f"checked {checked.get('invoices', 0)} invoices, {checked.get('contacts', 0)} "
           f"contacts and {checked.get('payments', 0)} payments"
           + (f" the host stated since {report.since}" if report.since else "")
           + f": {report.reads} QuickBooks reads in {report.calls} calls"]
    if not report.findings:
        out.append("QuickBooks agrees with the host: nothing to fix")
    for f in report.findings:
        out += [f"{f.kind}  {f.subject}", f"  host:       {f.host_says}",
                f"  QuickBooks: {f.quickbooks_says}",
                f"  fix:        {f.fix}" + ("" if f.safe else " (not applied by --fix)")]
        if f.accept:
            out.append(f"  or:         {f.accept}")
    return out


def dumps(report: Report) -> str:
    return json.dumps(report.as_json(), default=str)
