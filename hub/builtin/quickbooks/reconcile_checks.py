"""Reconcile's comparisons: one linked object as the host last stated it against what
QuickBooks holds, adding a finding for each difference. Nothing is read or written here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.builtin.quickbooks import payments
from hub.builtin.quickbooks.reconcile_findings import Finding, Report, money, voided
from hub.events import Contact, HostStatement, Invoice, Payment


def _named(invoice: Invoice) -> str:
    number = f"#{invoice.number} " if invoice.number else ""
    return (f"invoice {number}({invoice.external_id}) of {invoice.computed_total} for "
            f"{invoice.contact.name}")


def customer(report: Report, key: str, stated: HostStatement, contact: Contact,
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


def invoice(report: Report, stated: HostStatement, invoice: Invoice, link: dict[str, Any],
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
        if invoice.status == "void" or link.get("voided_at") is not None:
            # Voided by the hub while the host says it stands: the operator's undo (the host's
            # own void would say void), which the operator chose; ``hub events retry`` syncs
            # the invoice again. Nothing to tell the host of what the hub itself did.
            return
        report.findings.append(Finding(
            "invoice_voided", subject, host, f"invoice {qbo_id} was voided in QuickBooks: it "
            "is zeroed",
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


def receipt(report: Report, stated: HostStatement, payment: Payment, link: dict[str, Any],
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
